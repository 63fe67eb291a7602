/**
 * The Qwen3-VL family: a decoder with attention K/V in every layer, M-RoPE over three planes,
 * and DeepStack features from the vision tower added after the first decoder layers.
 */
import type { ModelShape } from "../../backends/backend.ts";
import type { Family } from "../family.ts";
import { qwen3vlEstimate } from "./estimate.ts";
import { Qwen3VLCandidateSchema, Qwen3VLOracleManifestSchema, type Qwen3VLCandidate, type Qwen3VLOracleManifest } from "./manifest.ts";
import { Qwen3VLSession } from "./session.ts";

export function qwen3vlShape(m: Qwen3VLOracleManifest): ModelShape {
  const t = m.text;
  return {
    family: "qwen3-vl",
    layers: t.num_layers,
    hidden: t.hidden_size,
    positionPlanes: 3,
    state: Array.from({ length: t.num_layers }, (_, i) => [
      { name: `past.${i}.key`, layer: i, role: "key" as const, emptyShape: [1, t.num_kv_heads, 0, t.head_dim] },
      { name: `past.${i}.value`, layer: i, role: "value" as const, emptyShape: [1, t.num_kv_heads, 0, t.head_dim] },
    ]).flat(),
    extraInputs: [{ name: "deepstack", shape: [t.deepstack_levels, 1, -1, t.hidden_size] }],
  };
}

export const qwen3vl: Family<Qwen3VLOracleManifest, Qwen3VLCandidate> = {
  name: "qwen3-vl",
  oracleSchema: Qwen3VLOracleManifestSchema,
  candidateSchema: Qwen3VLCandidateSchema,
  shape: qwen3vlShape,
  openSession: (backend, oracle, candidate) => new Qwen3VLSession(backend, oracle, candidate),
  estimate: qwen3vlEstimate,
};
