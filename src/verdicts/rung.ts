/**
 * The generic shapes of a rung's result and of a run (one model/candidate through its ladder).
 * They are generic in the rung kinds and the evidence: the gate registry supplies both, and
 * report/schema.ts composes the published schema from them.
 */
import { z } from "../schema/zod.ts";
import { seconds } from "./numbers.ts";
import { promptResultSchema } from "./prompt-result.ts";
import { RunVerdictSchema, VerdictSchema } from "./verdict.ts";

/** Why a rung or a run could not be evaluated: a NumgateError's code, message, file and field. */
export const RungErrorSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  file: z.optional(z.string()),
  field: z.optional(z.string()),
});
export type RungError = z.infer<typeof RungErrorSchema>;

export function rungSchema<K extends z.ZodMiniType<string>, E extends z.ZodMiniType<{ kind: string }>>(kind: K, evidence: E) {
  return z
    .strictObject({
      id: z.string().check(z.minLength(1)),
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
      skip_reason: z.optional(z.string()),
      /** For a rung skipped because these rungs did not pass; absent when it had nothing to check. */
      blocked_by: z.optional(z.array(z.string())),
      error: z.optional(RungErrorSchema),
      prompts: z.array(promptResultSchema(evidence)),
    })
    .check(z.superRefine((value, ctx) => {
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
    }));
}
/** A rung's result, for rung kinds `K` and evidence `E` (which includes the error evidence). */
export type Rung<K extends string, E extends { kind: string }> = z.output<ReturnType<typeof rungSchema<z.ZodMiniType<K>, z.ZodMiniType<E>>>>;

export const FileRoleSchema = z.enum(["spec", "ladder", "oracle", "candidate"]);
export type FileRole = z.infer<typeof FileRoleSchema>;

export const FileHashSchema = z.strictObject({
  path: z.string(),
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/, "sha256 must be 64 lowercase hex digits")),
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

export function runSchema<R extends z.ZodMiniType<{ id: string; depends_on: string[] }>>(rung: R) {
  return z
    .strictObject({
      /** `${model}/${candidate}`, unique within a report. */
      id: z.string().check(z.minLength(1)),
      model: z.string().check(z.minLength(1)),
      candidate: z.string().check(z.minLength(1)),
      spec_file: z.string(),
      ladder: z.string(),
      ladder_file: z.string(),
      oracle: OracleInfoSchema,
      /** What ran the candidate: runtime, layout, execution provider and threads where not the default. */
      backend: z.optional(z.string()),
      /** Sorted by path. */
      files: z.array(FileHashSchema),
      verdict: RunVerdictSchema,
      duration_s: seconds(),
      /** Why the ladder could not start (bad spec, missing oracle, unloadable graph); verdict is then "error". */
      error: z.optional(RungErrorSchema),
      /** Vocabulary names of the token ids in this run's evidence, when the oracle records them. */
      token_names: z.optional(z.record(z.string().check(z.regex(/^\d+$/)), z.string())),
      /** In ladder order. */
      rungs: z.array(rung),
    })
    .check(z.superRefine((run, ctx) => {
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
    }));
}
/** A run whose rungs are `Rung<K, E>`. */
export type Run<K extends string, E extends { kind: string }> = z.output<ReturnType<typeof runSchema<z.ZodMiniType<Rung<K, E>>>>>;
