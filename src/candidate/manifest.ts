/**
 * A candidate: the converted model under test, as files plus how its host runtime behaves.
 * Written by the recorder for the embedded fixtures; a porter writes one for their own build.
 *
 * This schema holds what every candidate has. What a family adds (e.g. Qwen3-VL's `runtime`
 * and `vision_grid`) is validated by that family's own schema (src/models/<family>/), and which
 * runtime runs it (`backend`, `layout`) is checked against the backend registry when it opens.
 */
import { z } from "../schema/zod.ts";

export const CandidateManifestSchema = z.looseObject({
  format: z.literal("numgate.candidate"),
  version: z.literal(1),
  name: z.string().check(z.minLength(1)),
  model: z.string().check(z.minLength(1)),
  /** Which backend runs it: "onnx" (onnxruntime-node in-process), "engine" (an external process). */
  backend: z.string().check(z.minLength(1)),
  /** How the ONNX graphs are laid out (onnx backend): "numgate" unless named. */
  layout: z.optional(z.string().check(z.minLength(1))),
  /** Which of the layout's graph variants (transformers.js dtype: fp32, fp16, q8, q4, q4f16). */
  variant: z.optional(z.string().check(z.minLength(1))),
  /** Execution provider: cpu, cuda, coreml, webgpu (where the installed runtime has it); `--ep` overrides. */
  execution_provider: z.optional(z.string().check(z.minLength(1))),
  /** Decoder tensor holding the residual after each layer, by layer index, where node naming cannot find it. */
  layer_outputs: z.optional(z.record(z.string(), z.string().check(z.minLength(1)))),
  description: z._default(z.string(), ""),
  healthy: z.optional(z.boolean()),
  fault: z.optional(z.nullable(z.looseObject({ kind: z.string() }))),
  /**
   * Graph files by role, relative to the manifest (for "engine": the files it serves, hashed into
   * the report); or `folder`: a model folder laid out as a runtime ships it (onnx-community, genai).
   */
  files: z.optional(z.record(z.string(), z.string().check(z.minLength(1)))),
  /**
   * How to start the engine: argv, run from the project root. "{root}" and "{candidate_dir}" in
   * an argument are replaced by those folders, "{python}" by $NUMGATE_PYTHON (else python3);
   * "node" is the Node running numgate.
   */
  engine: z.optional(
    z.strictObject({
      command: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
      timeout_s: z._default(z.number().check(z.positive()), 30),
    }),
  ),
});
export type CandidateManifest = z.infer<typeof CandidateManifestSchema>;
