/**
 * The oracle manifest written by oracles/record/record.py (format documented in oracles/README.md):
 * the part every family shares. A family extends it with its model description (its own schema
 * in src/models/<family>/manifest.ts); free-form provenance (training log, config) passes through
 * so that a newer recorder can add detail without breaking older numgate releases.
 */
import { z } from "../schema/zod.ts";

// One instance for every integer field (zod schemas are immutable; .check() and z.optional() return new ones).
const INT = z.number().check(z.int());
const int = () => INT;

export const OraclePromptSchema = z.looseObject({
  name: z.string().check(z.minLength(1)),
  kind: z.enum(["multimodal", "text"]),
  file: z.string().check(z.minLength(1)),
  text: z.string(),
  description: z.optional(z.string()),
  sequence_length: int().check(z.positive()),
  greedy_tokens: z.array(int()),
  min_margin_teacher_forced: z.number(),
  min_margin_greedy: z.number(),
});
export type OraclePrompt = z.infer<typeof OraclePromptSchema>;

export const OraclePositionsBatchSchema = z.object({
  name: z.string().check(z.minLength(1)),
  file: z.string().check(z.minLength(1)),
  batch: int().check(z.positive()),
  sequence_length: int().check(z.positive()),
  rows: z.array(z.string()),
  rope_deltas: z.array(int()),
});
export type OraclePositionsBatch = z.infer<typeof OraclePositionsBatchSchema>;

export const OracleManifestSchema = z.looseObject({
  format: z.literal("numgate.oracle"),
  version: z.literal(1),
  model: z.string().check(z.minLength(1)),
  /** Which family's schema and session read the rest (src/models/registry.ts). */
  family: z.string().check(z.minLength(1)),
  source: z.looseObject({
    kind: z.enum(["config", "hf"]),
    config_file: z.optional(z.nullable(z.string())),
    seed: z.optional(z.nullable(int())),
    hf_id: z.optional(z.nullable(z.string())),
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
    names: z.optional(z.array(z.string())),
  }),
  conventions: z.optional(z.record(z.string(), z.string())),
  prompts: z.array(OraclePromptSchema).check(z.minLength(1)),
  positions_batches: z._default(z.array(OraclePositionsBatchSchema), []),
});
export type OracleManifest = z.infer<typeof OracleManifestSchema>;
