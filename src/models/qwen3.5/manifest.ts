/** Qwen3.5's parts of the oracle and candidate manifests (written by oracles/record/record_qwen35.py). */
import { z } from "zod";
import { OracleManifestSchema, OraclePromptSchema } from "../../oracle/manifest.ts";

const int = () => z.number().int();

export const LAYER_TYPES = ["linear_attention", "full_attention"] as const;
export type LayerType = (typeof LAYER_TYPES)[number];

export const Qwen35PromptSchema = OraclePromptSchema.extend({
  image_tokens: int().nonnegative(),
  rope_delta: int(),
  image_grid_thw: z.array(z.tuple([int(), int(), int()])).optional(),
});

export const Qwen35OracleManifestSchema = OracleManifestSchema.extend({
  family: z.literal("qwen3.5"),
  text: z.object({
    num_layers: int().positive(),
    hidden_size: int().positive(),
    num_heads: int().positive(),
    num_kv_heads: int().positive(),
    head_dim: int().positive(),
    vocab_size: int().positive(),
    rope_theta: z.number().positive(),
    partial_rotary_factor: z.number().positive().max(1),
    /** head_dim x partial_rotary_factor: only these dims of a head are rotated. */
    rotary_dim: int().positive(),
    mrope_section: z.array(int().nonnegative()).length(3),
    mrope_interleaved: z.boolean(),
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
  vision: z.object({
    patch_size: int().positive(),
    temporal_patch_size: int().positive(),
    spatial_merge_size: int().positive(),
    depth: int().positive(),
  }),
  tokens: z.looseObject({
    image_token_id: int().nonnegative(),
    video_token_id: int().nonnegative(),
    vision_start_token_id: int().nonnegative(),
    vision_end_token_id: int().nonnegative(),
    names: z.array(z.string()).optional(),
  }),
  prompts: z.array(Qwen35PromptSchema).min(1),
});
export type Qwen35OracleManifest = z.infer<typeof Qwen35OracleManifestSchema>;

/** How the candidate's host runtime behaves. */
export const Qwen35RuntimeSchema = z.strictObject({
  /** Prefill positions from transformers' get_rope_index (Qwen3.5 shares Qwen3-VL's). */
  positions: z.enum(["get-rope-index"]).default("get-rope-index"),
  /** Decode-step position: cache index plus the rope delta (correct), or the bare cache index. */
  decode_positions: z.enum(["rope-delta", "cache-index"]).default("rope-delta"),
});
export type Qwen35Runtime = z.infer<typeof Qwen35RuntimeSchema>;

export const Qwen35CandidateSchema = z.looseObject({
  /** The one (t, h, w) patch grid the exported vision tower was traced for, if it is fixed-grid. */
  vision_grid: z.tuple([int(), int(), int()]).optional(),
  runtime: Qwen35RuntimeSchema.default({ positions: "get-rope-index", decode_positions: "rope-delta" }),
});
export type Qwen35Candidate = z.infer<typeof Qwen35CandidateSchema>;
