/**
 * The oracle manifest written by oracles/record/record.py (format documented in oracles/README.md).
 * Fields numgate relies on are strict; free-form provenance (training log, config) is passthrough
 * so that a newer recorder can add detail without breaking older numgate releases.
 */
import { z } from "zod";

const int = () => z.number().int();

export const OraclePromptSchema = z.object({
  name: z.string().min(1),
  kind: z.enum(["multimodal", "text"]),
  file: z.string().min(1),
  text: z.string(),
  description: z.string().optional(),
  sequence_length: int().positive(),
  image_tokens: int().nonnegative(),
  rope_delta: int(),
  image_grid_thw: z.array(z.tuple([int(), int(), int()])).optional(),
  greedy_tokens: z.array(int()),
  min_margin_teacher_forced: z.number(),
  min_margin_greedy: z.number(),
});
export type OraclePrompt = z.infer<typeof OraclePromptSchema>;

export const OraclePositionsBatchSchema = z.object({
  name: z.string().min(1),
  file: z.string().min(1),
  batch: int().positive(),
  sequence_length: int().positive(),
  rows: z.array(z.string()),
  rope_deltas: z.array(int()),
});
export type OraclePositionsBatch = z.infer<typeof OraclePositionsBatchSchema>;

export const OracleManifestSchema = z.object({
  format: z.literal("numgate.oracle"),
  version: z.literal(1),
  model: z.string().min(1),
  family: z.enum(["qwen3-vl"]),
  source: z.looseObject({
    kind: z.enum(["config", "hf"]),
    config_file: z.string().nullable().optional(),
    seed: int().nullable().optional(),
    hf_id: z.string().nullable().optional(),
  }),
  recorder: z.looseObject({
    script: z.string(),
    transformers: z.string(),
    torch: z.string(),
    python: z.string(),
    device: z.string(),
  }),
  dtype: z.literal("float32"),
  attn_implementation: z.string(),
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
  tokens: z.object({
    image_token_id: int().nonnegative(),
    video_token_id: int().nonnegative(),
    vision_start_token_id: int().nonnegative(),
    vision_end_token_id: int().nonnegative(),
    names: z.array(z.string()).optional(),
  }),
  conventions: z.record(z.string(), z.string()).optional(),
  prompts: z.array(OraclePromptSchema).min(1),
  positions_batches: z.array(OraclePositionsBatchSchema).default([]),
});
export type OracleManifest = z.infer<typeof OracleManifestSchema>;
