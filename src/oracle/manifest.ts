/**
 * The oracle manifest written by oracles/record/record.py (format documented in oracles/README.md):
 * the part every family shares. A family extends it with its model description (its own schema
 * in src/models/<family>/manifest.ts); free-form provenance (training log, config) passes through
 * so that a newer recorder can add detail without breaking older numgate releases.
 */
import { z } from "zod";

// One instance for every integer field (zod schemas are immutable; .positive() and such return new ones).
const INT = z.number().int();
const int = () => INT;

export const OraclePromptSchema = z.looseObject({
  name: z.string().min(1),
  kind: z.enum(["multimodal", "text"]),
  file: z.string().min(1),
  text: z.string(),
  description: z.string().optional(),
  sequence_length: int().positive(),
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

export const OracleManifestSchema = z.looseObject({
  format: z.literal("numgate.oracle"),
  version: z.literal(1),
  model: z.string().min(1),
  /** Which family's schema and session read the rest (src/models/registry.ts). */
  family: z.string().min(1),
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
  tokens: z.looseObject({
    names: z.array(z.string()).optional(),
  }),
  conventions: z.record(z.string(), z.string()).optional(),
  prompts: z.array(OraclePromptSchema).min(1),
  positions_batches: z.array(OraclePositionsBatchSchema).default([]),
});
export type OracleManifest = z.infer<typeof OracleManifestSchema>;
