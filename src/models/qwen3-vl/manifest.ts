/** Qwen3-VL's parts of the oracle and candidate manifests. */
import { z } from "zod";
import { OracleManifestSchema, OraclePromptSchema } from "../../oracle/manifest.ts";

const int = () => z.number().int();

export const Qwen3VLPromptSchema = OraclePromptSchema.extend({
  image_tokens: int().nonnegative(),
  rope_delta: int(),
  image_grid_thw: z.array(z.tuple([int(), int(), int()])).optional(),
});

export const Qwen3VLOracleManifestSchema = OracleManifestSchema.extend({
  family: z.literal("qwen3-vl"),
  text: z.object({
    num_layers: int().positive(),
    hidden_size: int().positive(),
    num_heads: int().positive(),
    num_kv_heads: int().positive(),
    head_dim: int().positive(),
    vocab_size: int().positive(),
    rope_theta: z.number().positive(),
    mrope_section: z.array(int().nonnegative()).length(3),
    mrope_interleaved: z.boolean(),
    tied_head: z.boolean(),
    deepstack_levels: int().nonnegative(),
  }),
  vision: z.object({
    patch_size: int().positive(),
    temporal_patch_size: int().positive(),
    spatial_merge_size: int().positive(),
    depth: int().positive(),
    deepstack_visual_indexes: z.array(int().nonnegative()),
  }),
  tokens: z.looseObject({
    image_token_id: int().nonnegative(),
    video_token_id: int().nonnegative(),
    vision_start_token_id: int().nonnegative(),
    vision_end_token_id: int().nonnegative(),
    names: z.array(z.string()).optional(),
  }),
  prompts: z.array(Qwen3VLPromptSchema).min(1),
});
export type Qwen3VLOracleManifest = z.infer<typeof Qwen3VLOracleManifestSchema>;

/** How the candidate's host runtime behaves (positions, decode, cache), as a porter's host does. */
export const Qwen3VLRuntimeSchema = z.strictObject({
  /** Where prefill positions come from: the engine's in-graph formula, or transformers' get_rope_index. */
  positions: z.enum(["engine-formula", "get-rope-index"]).default("get-rope-index"),
  /** Added to the host-set text shift amount after an image (0 for a correct host; engine-formula only). */
  text_shift_bias: z.number().int().default(0),
  /** Decode-step position: cache index plus the rope delta (correct), or the bare cache index. */
  decode_positions: z.enum(["rope-delta", "cache-index"]).default("rope-delta"),
  /** Decode step whose new KV entry the host fails to keep (a stale cache), or null. */
  stale_kv_step: z.number().int().nonnegative().nullable().default(null),
});
export type Qwen3VLRuntime = z.infer<typeof Qwen3VLRuntimeSchema>;

export const Qwen3VLCandidateSchema = z.looseObject({
  /** The one (t, h, w) patch grid the exported vision tower was traced for, if it is fixed-grid. */
  vision_grid: z.tuple([int(), int(), int()]).optional(),
  runtime: Qwen3VLRuntimeSchema.default({
    positions: "get-rope-index",
    text_shift_bias: 0,
    decode_positions: "rope-delta",
    stale_kv_step: null,
  }),
});
export type Qwen3VLCandidate = z.infer<typeof Qwen3VLCandidateSchema>;
