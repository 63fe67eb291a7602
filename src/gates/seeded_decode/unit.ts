/** The seeded-decode gate kind: one decode step from the oracle's own KV cache (see gate.ts). */
import { NumgateError } from "../../errors/numgate-error.ts";
import { cosThreshold } from "../calibration.ts";
import type { GateUnit } from "../unit.ts";
import { SeededDecodeEvidenceSchema, type SeededDecodeEvidence } from "./evidence.ts";
import { seededDecodeGate } from "./gate.ts";
import { seededDecodeRendering } from "./render.ts";
import { SeededDecodeOptionsSchema, SeededDecodeThresholdsSchema } from "./settings.ts";

export const seededDecodeUnit: GateUnit<SeededDecodeEvidence> = {
  kind: "seeded_decode",
  thresholds: SeededDecodeThresholdsSchema,
  options: SeededDecodeOptionsSchema,
  impossible: () => [],
  evidence: SeededDecodeEvidenceSchema,
  gate: seededDecodeGate,
  requires: ["seeded_state"],
  reads: [],
  render: seededDecodeRendering,
  diff: {
    compare(rec, base, head) {
      rec.metric("summary", "logits_cos", base?.logits_cos, head?.logits_cos);
      rec.metric("summary", "candidate_top1", base?.candidate_top1, head?.candidate_top1);
    },
  },
  calibrate: {
    derive(evidence, reference, headroom) {
      const cos = Math.min(...evidence.map((e) => e.logits_cos ?? -1));
      if (evidence.some((e) => !e.match)) {
        throw new NumgateError("candidate_invalid", `the reference ${reference} changes the top-1 of the cache-seeded decode step; a healthy reference must not`);
      }
      return { thresholds: { min_logit_cos: cosThreshold(cos, headroom) }, floor: { logits_cos: cos } };
    },
  },
  tokenIds: () => [],
};
