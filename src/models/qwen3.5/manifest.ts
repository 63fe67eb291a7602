/** Qwen3.5's parts of the oracle and candidate manifests (written by oracles/record/record_qwen35.py). */
import { z } from "zod";
import { OracleManifestSchema } from "../../oracle/manifest.ts";
import { decodePositions, decoderDimensions, fixedVisionGrid, imagePromptSchema, int, mropeSections, visionPatching, visionTokensSchema } from "../manifest-parts.ts";

export const LAYER_TYPES = ["linear_attention", "full_attention"] as const;
export type LayerType = (typeof LAYER_TYPES)[number];

export const Qwen35OracleManifestSchema = OracleManifestSchema.extend({
  family: z.literal("qwen3.5"),
  text: z.object({
    ...decoderDimensions(),
    partial_rotary_factor: z.number().positive().max(1),
    /** head_dim x partial_rotary_factor: only these dims of a head are rotated. */
    rotary_dim: int().positive(),
    ...mropeSections(),
    tied_head: z.boolean(),
    layer_types: z.array(z.enum(LAYER_TYPES)).min(1),
    linear: z.object({
      num_key_heads: int().positive(),
      num_value_heads: int().positive(),
      key_head_dim: int().positive(),
      value_head_dim: int().positive(),
      conv_kernel: int().positive(),
      conv_dim: int().positive(),
    }),
  }),
  vision: z.object(visionPatching()),
  tokens: visionTokensSchema(),
  prompts: z.array(imagePromptSchema()).min(1),
});
export type Qwen35OracleManifest = z.infer<typeof Qwen35OracleManifestSchema>;

/** How the candidate's host runtime behaves. */
export const Qwen35RuntimeSchema = z.strictObject({
  /** Prefill positions from transformers' get_rope_index (Qwen3.5 shares Qwen3-VL's). */
  positions: z.enum(["get-rope-index"]).default("get-rope-index"),
  ...decodePositions(),
});
export type Qwen35Runtime = z.infer<typeof Qwen35RuntimeSchema>;

export const Qwen35CandidateSchema = z.looseObject({
  ...fixedVisionGrid(),
  runtime: Qwen35RuntimeSchema.default({ positions: "get-rope-index", decode_positions: "rope-delta" }),
});
export type Qwen35Candidate = z.infer<typeof Qwen35CandidateSchema>;
