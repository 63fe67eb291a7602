/**
 * The report.json schema: the source of truth every other rendering (JUnit, HTML, console,
 * GitHub summary, diff) is derived from.
 *
 * Conventions:
 * - Key order in serialized output is the order of the shapes below (zod emits parsed objects in
 *   shape order); `thresholds` and `units` records are emitted with sorted keys, `files` sorted by
 *   path (see `canonicalReport` in json.ts).
 * - Numbers are finite JSON numbers. Metric fields that can be undefined (NaN/Infinity in the
 *   candidate) are `number | null`; everything else must be finite.
 * - Objects are strict: an unknown key is a schema violation. Additive changes bump
 *   `REPORT_SCHEMA_VERSION`.
 */
import { z } from "zod";

export const REPORT_SCHEMA_ID = "numgate.report" as const;
/**
 * The version numgate writes. 2 added the top-level `run_id`; a version 1 report is a version 2
 * report without it, so 1 is still accepted on input (parseReport reads it as 2).
 */
export const REPORT_SCHEMA_VERSION = 2 as const;

/** 16 lowercase hex digits; see `reportRunId` in json.ts. */
export const RUN_ID_PATTERN = /^[0-9a-f]{16}$/;

/** A finite JSON number (zod 4's `z.number()` already rejects NaN and +/-Infinity). */
const num = () => z.number();
/** A metric that is undefined when the candidate produced NaN/Infinity: written as null. */
const metric = () => z.number().nullable();
const count = () => z.number().int().nonnegative();
const seconds = () => z.number().nonnegative();

export const VerdictSchema = z.enum(["pass", "fail", "error", "skipped"]);
export type Verdict = z.infer<typeof VerdictSchema>;

export const RunVerdictSchema = z.enum(["pass", "fail", "error"]);
export type RunVerdict = z.infer<typeof RunVerdictSchema>;

export const RungKindSchema = z.enum(["positions", "vision", "layers", "seeded_decode", "teacher_forced", "greedy"]);
export type RungKind = z.infer<typeof RungKindSchema>;
export const RUNG_KINDS: readonly RungKind[] = RungKindSchema.options;

export const PlaneSchema = z.enum(["t", "h", "w"]);
export type Plane = z.infer<typeof PlaneSchema>;

const Triple = z.tuple([num(), num(), num()]);

// ---------------------------------------------------------------------------------------------
// Evidence

export const PositionsRowSchema = z.strictObject({
  token: count(),
  token_id: z.number().int(),
  expected: Triple,
  actual: Triple,
});
export type PositionsRow = z.infer<typeof PositionsRowSchema>;

export const POSITIONS_MAX_ROWS = 32;

export const PositionsCheckSchema = z.strictObject({
  /** "prefill" | "decode" | "engine-formula" | "rope-tables" (open set). */
  name: z.string(),
  compared: count(),
  mismatches: count(),
  expressible: z.boolean(),
  note: z.string().optional(),
  first: z
    .strictObject({
      token: count(),
      plane: PlaneSchema,
      expected: num(),
      actual: num(),
    })
    .optional(),
  /** At most 32 mismatch rows, in token order. */
  rows: z.array(PositionsRowSchema).max(POSITIONS_MAX_ROWS),
});
export type PositionsCheck = z.infer<typeof PositionsCheckSchema>;

export const PositionsEvidenceSchema = z.strictObject({
  kind: z.literal("positions"),
  checks: z.array(PositionsCheckSchema),
});
export type PositionsEvidence = z.infer<typeof PositionsEvidenceSchema>;

export const VisionTensorSchema = z.strictObject({
  name: z.string(),
  rows: count(),
  cos: metric(),
  cos_worst_row: metric(),
  worst_row: count(),
  max_abs: metric(),
  rel_l2: metric(),
  verdict: VerdictSchema,
});
export type VisionTensor = z.infer<typeof VisionTensorSchema>;

export const VisionEvidenceSchema = z.strictObject({
  kind: z.literal("vision"),
  tensors: z.array(VisionTensorSchema),
});
export type VisionEvidence = z.infer<typeof VisionEvidenceSchema>;

export const LayerRowSchema = z.strictObject({
  layer: count(),
  cos: metric(),
  cos_worst_row: metric(),
  worst_token: count(),
  max_abs: metric(),
  rel_l2: metric(),
  isolated_cos: metric().optional(),
  verdict: VerdictSchema,
});
export type LayerRow = z.infer<typeof LayerRowSchema>;

export const FirstFailingLayerSchema = z.strictObject({
  layer: count(),
  token: count(),
  cos: metric(),
});
export type FirstFailingLayer = z.infer<typeof FirstFailingLayerSchema>;

export const LayersEvidenceSchema = z.strictObject({
  kind: z.literal("layers"),
  mode: z.enum(["cumulative", "isolated"]),
  layers: z.array(LayerRowSchema),
  first_failing: FirstFailingLayerSchema.optional(),
  first_failing_isolated: FirstFailingLayerSchema.optional(),
});
export type LayersEvidence = z.infer<typeof LayersEvidenceSchema>;

/** One decode step run from the oracle's own prefill KV cache: decode isolated from prefill. */
export const SeededDecodeEvidenceSchema = z.strictObject({
  kind: z.literal("seeded_decode"),
  /** Tokens in the oracle cache the candidate was seeded with. */
  cache_length: count(),
  fed_token: z.number().int(),
  /** Position the candidate's host gave the fed token (T, H, W). */
  position: Triple,
  logits_cos: metric(),
  kl: metric(),
  oracle_top1: z.number().int(),
  candidate_top1: z.number().int(),
  match: z.boolean(),
  /** Oracle top-1 minus top-2 at this step, in logits. */
  oracle_margin: metric(),
});
export type SeededDecodeEvidence = z.infer<typeof SeededDecodeEvidenceSchema>;

export const TeacherForcedStepSchema = z.strictObject({
  step: count(),
  oracle_token: z.number().int(),
  candidate_token: z.number().int(),
  /** Oracle top-1 minus top-2 logit, in logits. */
  oracle_margin: metric(),
  kl: metric(),
  topk_overlap: metric(),
  match: z.boolean(),
  near_tie: z.boolean(),
  waived: z.boolean(),
});
export type TeacherForcedStep = z.infer<typeof TeacherForcedStepSchema>;

export const TeacherForcedEvidenceSchema = z.strictObject({
  kind: z.literal("teacher_forced"),
  steps: z.array(TeacherForcedStepSchema),
  matches: count(),
  total: count(),
  near_tie_flips: count(),
  min_oracle_margin: metric(),
  k: count(),
});
export type TeacherForcedEvidence = z.infer<typeof TeacherForcedEvidenceSchema>;

export const GreedyEvidenceSchema = z.strictObject({
  kind: z.literal("greedy"),
  oracle_tokens: z.array(z.number().int()),
  candidate_tokens: z.array(z.number().int()),
  matches: count(),
  total: count(),
  first_divergence: z
    .strictObject({
      step: count(),
      oracle_token: z.number().int(),
      candidate_token: z.number().int(),
      oracle_margin: metric(),
    })
    .optional(),
  tolerance: z.enum(["exact", "topk"]).optional(),
  k: count().optional(),
});
export type GreedyEvidence = z.infer<typeof GreedyEvidenceSchema>;

export const ErrorEvidenceSchema = z.strictObject({
  kind: z.literal("error"),
  tensor: z.string().optional(),
  layer: count().optional(),
  detail: z.string(),
});
export type ErrorEvidence = z.infer<typeof ErrorEvidenceSchema>;

export const EvidenceSchema = z.discriminatedUnion("kind", [
  PositionsEvidenceSchema,
  VisionEvidenceSchema,
  LayersEvidenceSchema,
  SeededDecodeEvidenceSchema,
  TeacherForcedEvidenceSchema,
  GreedyEvidenceSchema,
  ErrorEvidenceSchema,
]);
export type Evidence = z.infer<typeof EvidenceSchema>;
export type EvidenceKind = Evidence["kind"];

// ---------------------------------------------------------------------------------------------
// Prompt, rung, run, report

export const PromptResultSchema = z.strictObject({
  prompt: z.string(),
  verdict: VerdictSchema,
  message: z.string(),
  evidence: EvidenceSchema,
});
export type PromptResult = z.infer<typeof PromptResultSchema>;

export const RungErrorSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  file: z.string().optional(),
  field: z.string().optional(),
});
export type RungError = z.infer<typeof RungErrorSchema>;

export const RungSchema = z
  .strictObject({
    id: z.string().min(1),
    kind: RungKindSchema,
    title: z.string(),
    verdict: VerdictSchema,
    /** One line; for a failure it names the first divergence (layer, token, plane, step). */
    message: z.string(),
    duration_s: seconds(),
    depends_on: z.array(z.string()),
    /** Sorted keys, e.g. {"min_cos": 0.99999}. */
    thresholds: z.record(z.string(), num()),
    /** Unit of each metric that has one, e.g. {"margin": "logits"}. */
    units: z.record(z.string(), z.string()),
    skip_reason: z.string().optional(),
    /** For a rung skipped because these rungs did not pass; absent when it had nothing to check. */
    blocked_by: z.array(z.string()).optional(),
    error: RungErrorSchema.optional(),
    prompts: z.array(PromptResultSchema),
  })
  .superRefine((rung, ctx) => {
    rung.prompts.forEach((p, i) => {
      if (p.evidence.kind !== rung.kind && p.evidence.kind !== "error") {
        ctx.addIssue({
          code: "custom",
          path: ["prompts", i, "evidence", "kind"],
          message: `evidence kind "${p.evidence.kind}" does not match rung kind "${rung.kind}" (or "error")`,
        });
      }
    });
  });
export type Rung = z.infer<typeof RungSchema>;

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

export const RunSchema = z
  .strictObject({
    /** `${model}/${candidate}`, unique within a report. */
    id: z.string().min(1),
    model: z.string().min(1),
    candidate: z.string().min(1),
    spec_file: z.string(),
    ladder: z.string(),
    ladder_file: z.string(),
    oracle: OracleInfoSchema,
    /** Sorted by path. */
    files: z.array(FileHashSchema),
    verdict: RunVerdictSchema,
    duration_s: seconds(),
    /** Why the ladder could not start (bad spec, missing oracle, unloadable graph); verdict is then "error". */
    error: RungErrorSchema.optional(),
    /** Vocabulary names of the token ids in this run's evidence, when the oracle records them. */
    token_names: z.record(z.string().regex(/^\d+$/), z.string()).optional(),
    /** In ladder order. */
    rungs: z.array(RungSchema),
  })
  .superRefine((run, ctx) => {
    if (run.id !== `${run.model}/${run.candidate}`) {
      ctx.addIssue({ code: "custom", path: ["id"], message: `run id must be "${run.model}/${run.candidate}"` });
    }
    const seen = new Set<string>();
    run.rungs.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: "custom", path: ["rungs", i, "id"], message: `duplicate rung id "${r.id}"` });
      seen.add(r.id);
    });
    run.rungs.forEach((r, i) => {
      r.depends_on.forEach((d, j) => {
        if (!seen.has(d)) {
          ctx.addIssue({ code: "custom", path: ["rungs", i, "depends_on", j], message: `unknown rung "${d}"` });
        }
      });
    });
  });
export type Run = z.infer<typeof RunSchema>;

export const EnvironmentSchema = z.strictObject({
  numgate: z.string(),
  node: z.string(),
  onnxruntime: z.string().nullable(),
  platform: z.string(),
});
export type Environment = z.infer<typeof EnvironmentSchema>;

export const ReportSchema = z
  .strictObject({
    schema: z.literal(REPORT_SCHEMA_ID),
    version: z.union([z.literal(1), z.literal(REPORT_SCHEMA_VERSION)]),
    /**
     * Identifies one report set: report.json, junit.xml and report.html written together carry the
     * same run_id, so a reader can tell a consistent set from a mixed one. Derived from the content
     * (`reportRunId`): identical reports have identical ids. Optional in memory; `serializeReport`
     * always writes it. Not to be confused with `runs[].id` (model/candidate).
     */
    run_id: z.string().regex(RUN_ID_PATTERN).optional(),
    /** ISO 8601, UTC; pinned from SOURCE_DATE_EPOCH when set (see `reportTimestamp`). */
    generated_at: z.iso.datetime(),
    environment: EnvironmentSchema,
    /** In ladder order. */
    runs: z.array(RunSchema),
  })
  .superRefine((report, ctx) => {
    const seen = new Set<string>();
    report.runs.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: "custom", path: ["runs", i, "id"], message: `duplicate run id "${r.id}"` });
      seen.add(r.id);
    });
  });
export type Report = z.infer<typeof ReportSchema>;

/** The JSON Schema (draft 2020-12) published as src/report/report.schema.json. */
export function reportJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ReportSchema, { target: "draft-2020-12", io: "output" }) as Record<string, unknown>;
  return {
    $schema: schema["$schema"],
    title: "numgate report.json",
    description: `numgate report, schema "${REPORT_SCHEMA_ID}" version ${REPORT_SCHEMA_VERSION}. Generated from src/report/schema.ts by z.toJSONSchema; do not edit.`,
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== "$schema")),
  };
}
