/** The vision gate kind: the vision encoder's outputs against the oracle's (see gate.ts). */
import { pairBy } from "../../render/pair.ts";
import { cosThreshold } from "../calibration.ts";
import type { GateUnit } from "../unit.ts";
import { VisionEvidenceSchema, type VisionEvidence } from "./evidence.ts";
import { visionGate } from "./gate.ts";
import { visionRendering } from "./render.ts";
import { VisionOptionsSchema, VisionThresholdsSchema, visionSettingFaults } from "./settings.ts";

export const visionUnit: GateUnit<VisionEvidence> = {
  kind: "vision",
  thresholds: VisionThresholdsSchema,
  options: VisionOptionsSchema,
  impossible: visionSettingFaults,
  evidence: VisionEvidenceSchema,
  gate: visionGate,
  requires: ["vision"],
  reads: ["vision"],
  render: visionRendering,
  diff: {
    compare(rec, base, head) {
      for (const p of pairBy(base?.tensors ?? [], head?.tensors ?? [], (t) => t.name)) {
        for (const m of ["cos", "cos_worst_row", "max_abs", "rel_l2"] as const) {
          rec.metric((p.head ?? p.base)?.name ?? p.key, m, p.base === undefined ? undefined : p.base[m], p.head?.[m]);
        }
      }
    },
  },
  calibrate: {
    derive(evidence, _reference, headroom) {
      const cos = Math.min(...evidence.flatMap((e) => e.tensors.map((t) => t.cos ?? -1)));
      const worst = Math.min(...evidence.flatMap((e) => e.tensors.map((t) => t.cos_worst_row ?? -1)));
      // No image among the gated prompts: nothing was measured.
      if (!Number.isFinite(cos)) return undefined;
      return { thresholds: { min_cos: cosThreshold(cos, headroom), min_cos_worst_row: cosThreshold(worst, headroom) }, floor: { cos, cos_worst_row: worst } };
    },
  },
  tokenIds: () => [],
};
