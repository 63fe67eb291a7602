/** Qwen3.5's parts of the oracle and candidate manifests (written by oracles/record/record_qwen35.py). */
import { z } from "../../schema/zod.ts";
import { OracleManifestSchema } from "../../oracle/manifest.ts";
import { decodePositions, decoderDimensions, fixedVisionGrid, imagePromptSchema, int, mropeSections, visionPatching, visionTokensSchema } from "../manifest-parts.ts";

export const LAYER_TYPES = ["linear_attention", "full_attention"] as const;
export type LayerType = (typeof LAYER_TYPES)[number];

export const Qwen35OracleManifestSchema = z.extend(OracleManifestSchema, {
  family: z.literal("qwen3.5"),
  text: z.object({
    ...decoderDimensions(),
    partial_rotary_factor: z.number().check(z.positive(), z.maximum(1)),
    /** head_dim x partial_rotary_factor: only these dims of a head are rotated. */
    rotary_dim: int().check(z.positive()),
    ...mropeSections(),
    tied_head: z.boolean(),
    layer_types: z.array(z.enum(LAYER_TYPES)).check(z.minLength(1)),
    linear: z.object({
      num_key_heads: int().check(z.positive()),
      num_value_heads: int().check(z.positive()),
      key_head_dim: int().check(z.positive()),
      value_head_dim: int().check(z.positive()),
      conv_kernel: int().check(z.positive()),
      conv_dim: int().check(z.positive()),
    }),
  }),
  vision: z.object(visionPatching()),
  tokens: visionTokensSchema(),
  prompts: z.array(imagePromptSchema()).check(z.minLength(1)),
});
export type Qwen35OracleManifest = z.infer<typeof Qwen35OracleManifestSchema>;

/** How the candidate's host runtime behaves. */
export const Qwen35RuntimeSchema = z.strictObject({
  /** Prefill positions from transformers' get_rope_index (Qwen3.5 shares Qwen3-VL's). */
  positions: z._default(z.enum(["get-rope-index"]), "get-rope-index"),
  ...decodePositions(),
});
export type Qwen35Runtime = z.infer<typeof Qwen35RuntimeSchema>;

export const Qwen35CandidateSchema = z.looseObject({
  ...fixedVisionGrid(),
  runtime: z._default(Qwen35RuntimeSchema, { positions: "get-rope-index", decode_positions: "rope-delta" }),
});
export type Qwen35Candidate = z.infer<typeof Qwen35CandidateSchema>;
