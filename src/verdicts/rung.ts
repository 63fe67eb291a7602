/**
 * The generic shapes of a rung's result and of a run (one model/candidate through its ladder).
 * They are generic in the rung kinds and the evidence: the gate registry supplies both, and
 * report/schema.ts composes the published schema from them.
 */
import { z } from "zod";
import { seconds } from "./numbers.ts";
import { promptResultSchema } from "./prompt-result.ts";
import { RunVerdictSchema, VerdictSchema } from "./verdict.ts";

/** Why a rung or a run could not be evaluated: a NumgateError's code, message, file and field. */
export const RungErrorSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  file: z.string().optional(),
  field: z.string().optional(),
});
export type RungError = z.infer<typeof RungErrorSchema>;

export function rungSchema<K extends z.ZodType<string>, E extends z.ZodType<{ kind: string }>>(kind: K, evidence: E) {
  return z
    .strictObject({
      id: z.string().min(1),
      kind,
      title: z.string(),
      verdict: VerdictSchema,
      /** One line; for a failure it names the first divergence (layer, token, plane, step). */
      message: z.string(),
      duration_s: seconds(),
      depends_on: z.array(z.string()),
      /** Sorted keys, e.g. {"min_cos": 0.99999}. */
      thresholds: z.record(z.string(), z.number()),
      /** Unit of each metric that has one, e.g. {"margin": "logits"}. */
      units: z.record(z.string(), z.string()),
      skip_reason: z.string().optional(),
      /** For a rung skipped because these rungs did not pass; absent when it had nothing to check. */
      blocked_by: z.array(z.string()).optional(),
      error: RungErrorSchema.optional(),
      prompts: z.array(promptResultSchema(evidence)),
    })
    .superRefine((value, ctx) => {
      const rung = value as unknown as { kind: string; prompts: { evidence: { kind: string } }[] };
      rung.prompts.forEach((p, i) => {
        const evidenceKind = p.evidence.kind;
        const rungKind = rung.kind;
        if (evidenceKind !== rungKind && evidenceKind !== "error") {
          ctx.addIssue({
            code: "custom",
            path: ["prompts", i, "evidence", "kind"],
            message: `evidence kind "${evidenceKind}" does not match rung kind "${rungKind}" (or "error")`,
          });
        }
      });
    });
}
/** A rung's result, for rung kinds `K` and evidence `E` (which includes the error evidence). */
export type Rung<K extends string, E extends { kind: string }> = z.output<ReturnType<typeof rungSchema<z.ZodType<K>, z.ZodType<E>>>>;

export const FileRoleSchema = z.enum(["spec", "ladder", "oracle", "candidate"]);
export type FileRole = z.infer<typeof FileRoleSchema>;

export const FileHashSchema = z.strictObject({
  path: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "sha256 must be 64 lowercase hex digits"),
  role: FileRoleSchema,
});
export type FileHash = z.infer<typeof FileHashSchema>;

export const OracleInfoSchema = z.strictObject({
  dir: z.string(),
  transformers: z.string(),
  torch: z.string(),
  /** e.g. "config:qwen3-vl-tiny.json seed 0", or a Hugging Face model id. */
  source: z.string(),
});
export type OracleInfo = z.infer<typeof OracleInfoSchema>;

export function runSchema<R extends z.ZodType<{ id: string; depends_on: string[] }>>(rung: R) {
  return z
    .strictObject({
      /** `${model}/${candidate}`, unique within a report. */
      id: z.string().min(1),
      model: z.string().min(1),
      candidate: z.string().min(1),
      spec_file: z.string(),
      ladder: z.string(),
      ladder_file: z.string(),
      oracle: OracleInfoSchema,
      /** What ran the candidate: runtime, layout, execution provider and threads where not the default. */
      backend: z.string().optional(),
      /** Sorted by path. */
      files: z.array(FileHashSchema),
      verdict: RunVerdictSchema,
      duration_s: seconds(),
      /** Why the ladder could not start (bad spec, missing oracle, unloadable graph); verdict is then "error". */
      error: RungErrorSchema.optional(),
      /** Vocabulary names of the token ids in this run's evidence, when the oracle records them. */
      token_names: z.record(z.string().regex(/^\d+$/), z.string()).optional(),
      /** In ladder order. */
      rungs: z.array(rung),
    })
    .superRefine((run, ctx) => {
      if (run.id !== `${run.model}/${run.candidate}`) {
        ctx.addIssue({ code: "custom", path: ["id"], message: `run id must be "${run.model}/${run.candidate}"` });
      }
      const rungs = run.rungs as { id: string; depends_on: string[] }[];
      const seen = new Set<string>();
      rungs.forEach((r, i) => {
        if (seen.has(r.id)) ctx.addIssue({ code: "custom", path: ["rungs", i, "id"], message: `duplicate rung id "${r.id}"` });
        seen.add(r.id);
      });
      rungs.forEach((r, i) => {
        r.depends_on.forEach((d, j) => {
          if (!seen.has(d)) {
            ctx.addIssue({ code: "custom", path: ["rungs", i, "depends_on", j], message: `unknown rung "${d}"` });
          }
        });
      });
    });
}
/** A run whose rungs are `Rung<K, E>`. */
export type Run<K extends string, E extends { kind: string }> = z.output<ReturnType<typeof runSchema<z.ZodType<Rung<K, E>>>>>;
