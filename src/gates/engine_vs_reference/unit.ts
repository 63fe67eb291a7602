/** The engine_vs_reference gate kind: one build against another of the same model (see gate.ts). */
import type { GateUnit } from "../unit.ts";
import { EngineVsReferenceEvidenceSchema, type EngineVsReferenceEvidence } from "./evidence.ts";
import { engineVsReferenceGate } from "./gate.ts";
import { engineVsReferenceRendering } from "./render.ts";
import { ENGINE_VS_REFERENCE_GREEDY_STEPS, ENGINE_VS_REFERENCE_TEACHER_STEPS, EngineVsReferenceOptionsSchema, EngineVsReferenceThresholdsSchema } from "./settings.ts";
import { matchesWithinSteps } from "../settings.ts";

export const engineVsReferenceUnit: GateUnit<EngineVsReferenceEvidence> = {
  kind: "engine_vs_reference",
  thresholds: EngineVsReferenceThresholdsSchema,
  options: EngineVsReferenceOptionsSchema,
  impossible: (s) => {
    const teacherSteps = typeof s.options["teacher_steps"] === "number" ? s.options["teacher_steps"] : ENGINE_VS_REFERENCE_TEACHER_STEPS;
    const teacherMin = s.thresholds["min_teacher_matches"];
    return [
      ...matchesWithinSteps("engine_vs_reference", s, ENGINE_VS_REFERENCE_GREEDY_STEPS),
      ...(teacherMin !== undefined && teacherMin > teacherSteps
        ? [{ section: "thresholds" as const, key: "min_teacher_matches", message: `min_teacher_matches ${teacherMin} can never be met: the rung compares ${teacherSteps} teacher-forced steps`, involves: [{ section: "options" as const, key: "teacher_steps" }] }]
        : []),
    ];
  },
  evidence: EngineVsReferenceEvidenceSchema,
  gate: engineVsReferenceGate,
  requires: [],
  reads: ["decode", "teacher_forced", "greedy"],
  render: engineVsReferenceRendering,
  diff: {
    compare(rec, base, head) {
      rec.metric("summary", "greedy_matches", base?.greedy.matches, head?.greedy.matches);
      rec.metric("summary", "teacher_matches", base?.teacher_forced.matches, head?.teacher_forced.matches);
    },
  },
  calibrate: { none: "the thresholds are token counts between two builds, not a noise floor against the oracle" },
  tokenIds: (ev) =>
    [ev.greedy, ev.teacher_forced].flatMap((a) => (a.first_divergence === undefined ? [] : [a.first_divergence.candidate_token, a.first_divergence.reference_token])),
};
