/**
 * The report.json schema: the source of truth every other rendering (JUnit, HTML, console,
 * GitHub summary, diff) is derived from. It is composed, not written out: the result shapes come
 * from src/verdicts/, the rung kinds and their evidence from the gate registry (src/gates/), so a
 * new gate kind needs no edit here.
 *
 * Conventions:
 * - Key order in serialized output is the order of the shapes (zod emits parsed objects in
 *   shape order); `thresholds` and `units` records are emitted with sorted keys, `files` sorted by
 *   path (see `canonicalReport` in json.ts).
 * - Numbers are finite JSON numbers. Metric fields that can be undefined (NaN/Infinity in the
 *   candidate) are `number | null`; everything else must be finite.
 * - Objects are strict: an unknown key is a schema violation. Additive changes bump
 *   `REPORT_SCHEMA_VERSION`.
 */
import { z } from "../schema/zod.ts";
import { EvidenceSchema, GATE_KINDS, GateKindSchema, type Evidence, type EvidenceKind, type GateKind } from "../gates/registry.ts";
import { promptResultSchema, type PromptResult as GenericPromptResult } from "../verdicts/prompt-result.ts";
import { rungSchema, runSchema } from "../verdicts/rung.ts";

export { VerdictSchema, RunVerdictSchema, type Verdict, type RunVerdict } from "../verdicts/verdict.ts";
export { ErrorEvidenceSchema, type ErrorEvidence } from "../verdicts/prompt-result.ts";
export { FileHashSchema, FileRoleSchema, OracleInfoSchema, RungErrorSchema, type FileHash, type FileRole, type OracleInfo, type RungError } from "../verdicts/rung.ts";
export { EvidenceSchema, type Evidence, type EvidenceKind };

export const REPORT_SCHEMA_ID = "numgate.report" as const;
/**
 * The version numgate writes. 2 added the top-level `run_id`; a version 1 report is a version 2
 * report without it, so 1 is still accepted on input (parseReport reads it as 2).
 */
export const REPORT_SCHEMA_VERSION = 2 as const;

/** 16 lowercase hex digits; see `reportRunId` in json.ts. */
export const RUN_ID_PATTERN = /^[0-9a-f]{16}$/;

export const RungKindSchema = GateKindSchema;
export type RungKind = GateKind;
export const RUNG_KINDS: readonly RungKind[] = GATE_KINDS;

export const PromptResultSchema = promptResultSchema(EvidenceSchema);
export type PromptResult = GenericPromptResult<Evidence>;

export const RungSchema = rungSchema(RungKindSchema, EvidenceSchema);
export type Rung = z.infer<typeof RungSchema>;

export const RunSchema = runSchema(RungSchema);
export type Run = z.infer<typeof RunSchema>;

export const EnvironmentSchema = z.strictObject({
  numgate: z.string(),
  node: z.string(),
  onnxruntime: z.nullable(z.string()),
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
    run_id: z.optional(z.string().check(z.regex(RUN_ID_PATTERN))),
    /** ISO 8601, UTC; pinned from SOURCE_DATE_EPOCH when set (see `reportTimestamp`). */
    generated_at: z.iso.datetime(),
    environment: EnvironmentSchema,
    /** In ladder order. */
    runs: z.array(RunSchema),
  })
  .check(z.superRefine((report, ctx) => {
    const seen = new Set<string>();
    report.runs.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: "custom", path: ["runs", i, "id"], message: `duplicate run id "${r.id}"` });
      seen.add(r.id);
    });
  }));
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
