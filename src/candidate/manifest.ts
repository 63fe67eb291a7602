/**
 * A candidate: the converted model under test, as files plus how its host runtime behaves.
 * Written by the recorder for the embedded fixtures; a porter writes one for their own build.
 */
import { z } from "zod";

export const CandidateRuntimeSchema = z.strictObject({
  /** Where prefill positions come from: the engine's in-graph formula, or transformers' get_rope_index. */
  positions: z.enum(["engine-formula", "get-rope-index"]).default("get-rope-index"),
  /** Added to the host-set text shift amount after an image (0 for a correct host; engine-formula only). */
  text_shift_bias: z.number().int().default(0),
  /** Decode-step position: cache index plus the rope delta (correct), or the bare cache index. */
  decode_positions: z.enum(["rope-delta", "cache-index"]).default("rope-delta"),
  /** Decode step whose new KV entry the host fails to keep (a stale cache), or null. */
  stale_kv_step: z.number().int().nonnegative().nullable().default(null),
});
export type CandidateRuntime = z.infer<typeof CandidateRuntimeSchema>;

export const CandidateManifestSchema = z.looseObject({
  format: z.literal("numgate.candidate"),
  version: z.literal(1),
  name: z.string().min(1),
  model: z.string().min(1),
  /** "onnx": graphs run in-process by onnxruntime-node; "engine": an external process speaking numgate-engine/1. */
  backend: z.enum(["onnx", "engine"]),
  description: z.string().default(""),
  healthy: z.boolean().optional(),
  fault: z.looseObject({ kind: z.string() }).nullable().optional(),
  /** The ONNX graphs (required for "onnx"; for "engine", the files it serves, hashed into the report). */
  files: z
    .strictObject({
      embed: z.string().min(1),
      vision: z.string().min(1),
      decoder: z.string().min(1),
    })
    .optional(),
  /**
   * How to start the engine: argv, run from the project root. "{root}" and "{candidate_dir}" in
   * an argument are replaced by those folders; "node" is the Node running numgate.
   */
  engine: z
    .strictObject({
      command: z.array(z.string().min(1)).min(1),
      timeout_s: z.number().positive().default(120),
    })
    .optional(),
  /** The one (t, h, w) patch grid the exported vision tower was traced for. */
  vision_grid: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  runtime: CandidateRuntimeSchema.default({
    positions: "get-rope-index",
    text_shift_bias: 0,
    decode_positions: "rope-delta",
    stale_kv_step: null,
  }),
}).superRefine((c, ctx) => {
  if (c.backend === "onnx" && c.files === undefined) ctx.addIssue({ code: "custom", path: ["files"], message: 'an "onnx" candidate needs files: {embed, vision, decoder}' });
  if (c.backend === "engine" && c.engine === undefined) ctx.addIssue({ code: "custom", path: ["engine"], message: 'an "engine" candidate needs engine: {command: [...]}' });
});
export type CandidateManifest = z.infer<typeof CandidateManifestSchema>;
