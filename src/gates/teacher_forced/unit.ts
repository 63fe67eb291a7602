/** The teacher-forced gate kind: top-1 per decode step on the oracle's tokens (see gate.ts). */
import { NumgateError } from "../../errors/numgate-error.ts";
import { upperThreshold } from "../calibration.ts";
import type { GateUnit, TokenSequence } from "../unit.ts";
import { TeacherForcedEvidenceSchema, type TeacherForcedEvidence } from "./evidence.ts";
import { teacherForcedGate } from "./gate.ts";
import { teacherForcedRendering } from "./render.ts";
import { TeacherForcedOptionsSchema, TeacherForcedThresholdsSchema, teacherForcedSettingFaults } from "./settings.ts";

function sequence(ev: TeacherForcedEvidence | undefined): TokenSequence | undefined {
  if (ev === undefined) return undefined;
  const first = ev.steps.find((s) => !s.match);
  return { oracle: ev.steps.map((s) => s.oracle_token), candidate: ev.steps.map((s) => s.candidate_token), firstDivergence: first?.step ?? null };
}

export const teacherForcedUnit: GateUnit<TeacherForcedEvidence> = {
  kind: "teacher_forced",
  thresholds: TeacherForcedThresholdsSchema,
  options: TeacherForcedOptionsSchema,
  impossible: teacherForcedSettingFaults,
  evidence: TeacherForcedEvidenceSchema,
  gate: teacherForcedGate,
  requires: [],
  reads: ["decode", "teacher_forced"],
  render: teacherForcedRendering,
  diff: {
    compare(rec, base, head) {
      rec.metric("summary", "matches", base?.matches, head?.matches);
      rec.metric("summary", "near_tie_flips", base?.near_tie_flips, head?.near_tie_flips);
      rec.metric("summary", "min_oracle_margin", base?.min_oracle_margin, head?.min_oracle_margin);
      rec.tokens(sequence(base), sequence(head));
    },
  },
  calibrate: {
    derive(evidence, reference, headroom) {
      const kl = Math.max(...evidence.flatMap((e) => e.steps.map((s) => s.kl ?? Infinity)));
      const matches = Math.min(...evidence.map((e) => e.matches));
      const total = Math.min(...evidence.map((e) => e.total));
      if (matches < total) {
        throw new NumgateError("candidate_invalid", `the reference ${reference} flips ${total - matches} teacher-forced step(s); a healthy reference must match every step`);
      }
      return { thresholds: { min_matches: total, max_kl: upperThreshold(kl, headroom) }, floor: { max_kl: kl, matches } };
    },
  },
  tokenIds: (ev) => ev.steps.flatMap((s) => [s.oracle_token, s.candidate_token]),
};
