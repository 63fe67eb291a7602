/** The repeat gate kind: the same candidate from a fresh start R times, tokens identical (see gate.ts). */
import type { GateUnit } from "../unit.ts";
import { RepeatEvidenceSchema, type RepeatEvidence } from "./evidence.ts";
import { repeatGate } from "./gate.ts";
import { repeatRendering } from "./render.ts";
import { RepeatOptionsSchema, RepeatThresholdsSchema } from "./settings.ts";

export const repeatUnit: GateUnit<RepeatEvidence> = {
  kind: "repeat",
  thresholds: RepeatThresholdsSchema,
  options: RepeatOptionsSchema,
  impossible: (s) =>
    typeof s.options["runs"] === "number" && (s.thresholds["max_differing"] ?? 0) >= s.options["runs"]
      ? [{ section: "thresholds", key: "max_differing", message: `max_differing ${s.thresholds["max_differing"]} lets every one of the ${s.options["runs"]} runs differ: the rung could never fail`, involves: [{ section: "options", key: "runs" }] }]
      : [],
  evidence: RepeatEvidenceSchema,
  gate: repeatGate,
  requires: [],
  reads: [],
  render: repeatRendering,
  diff: {
    compare(rec, base, head) {
      rec.metric("summary", "differing", base?.differing, head?.differing);
      rec.metric("summary", "flakiness", base?.flakiness, head?.flakiness);
    },
  },
  calibrate: { none: "a repeat rung must be exact: runs of one build may not differ, whatever a reference build shows" },
  tokenIds: (ev) => (ev.first_split === undefined ? [] : ev.first_split.tokens),
};
