/** The layers gate kind: every decoder layer's hidden state against the oracle's (see gate.ts). */
import { pairBy } from "../../render/pair.ts";
import { cosThreshold } from "../calibration.ts";
import type { GateUnit } from "../unit.ts";
import { LayersEvidenceSchema, type LayersEvidence } from "./evidence.ts";
import { layersGate } from "./gate.ts";
import { layersRendering } from "./render.ts";
import { LayersOptionsSchema, LayersThresholdsSchema, layersSettingFaults } from "./settings.ts";

export const layersUnit: GateUnit<LayersEvidence> = {
  kind: "layers",
  thresholds: LayersThresholdsSchema,
  options: LayersOptionsSchema,
  impossible: layersSettingFaults,
  evidence: LayersEvidenceSchema,
  gate: layersGate,
  // Isolated layers run only where the backend can feed one layer; cumulative needs nothing more.
  requires: ["layer_outputs"],
  reads: ["layer_outputs"],
  render: layersRendering,
  diff: {
    compare(rec, base, head) {
      for (const p of pairBy(base?.layers ?? [], head?.layers ?? [], (l) => String(l.layer))) {
        const layer = (p.head ?? p.base)?.layer ?? -1;
        for (const m of ["cos", "cos_worst_row", "isolated_cos"] as const) {
          rec.layer(layer, m, p.base === undefined ? undefined : { value: p.base[m], verdict: p.base.verdict }, p.head === undefined ? undefined : { value: p.head[m] ?? null, verdict: p.head.verdict });
        }
      }
      rec.metric("summary", "first_failing_layer", base?.first_failing?.layer, head?.first_failing?.layer);
      rec.metric("summary", "first_failing_isolated_layer", base?.first_failing_isolated?.layer, head?.first_failing_isolated?.layer);
    },
  },
  calibrate: {
    derive(evidence, _reference, headroom) {
      const cos = Math.min(...evidence.flatMap((e) => e.layers.map((l) => l.cos ?? -1)));
      const worst = Math.min(...evidence.flatMap((e) => e.layers.map((l) => l.cos_worst_row ?? -1)));
      return { thresholds: { min_cos: cosThreshold(cos, headroom), min_cos_worst_row: cosThreshold(worst, headroom) }, floor: { cos, cos_worst_row: worst } };
    },
  },
  tokenIds: () => [],
};
