/**
 * The Qwen3.5 family: a hybrid decoder (GatedDeltaNet linear attention in three of every four
 * layers, gated full attention in the fourth), M-RoPE over three planes on a quarter of each head,
 * and a vision tower without DeepStack.
 */
import type { ModelShape } from "../../backends/backend.ts";
import type { Family } from "../family.ts";
import { qwen35Estimate } from "./estimate.ts";
import { Qwen35CandidateSchema, Qwen35OracleManifestSchema, type Qwen35Candidate, type Qwen35OracleManifest } from "./manifest.ts";
import { Qwen35Session } from "./session.ts";
import { qwen35StateSpecs } from "./state.ts";

export function qwen35Shape(m: Qwen35OracleManifest): ModelShape {
  return {
    family: "qwen3.5",
    layers: m.text.num_layers,
    hidden: m.text.hidden_size,
    positionPlanes: 3,
    state: qwen35StateSpecs(m),
    extraInputs: [],
  };
}

export const qwen35: Family<Qwen35OracleManifest, Qwen35Candidate> = {
  name: "qwen3.5",
  oracleSchema: Qwen35OracleManifestSchema,
  candidateSchema: Qwen35CandidateSchema,
  shape: qwen35Shape,
  openSession: (backend, oracle, candidate) => new Qwen35Session(backend, oracle, candidate),
  estimate: qwen35Estimate,
};
