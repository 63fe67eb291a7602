/** Verdicts and results: what every gate produces and report/ renders. Nothing here knows a gate kind. */
export { count, finiteOrNull, metric, num, seconds } from "./numbers.ts";
export { VerdictSchema, RunVerdictSchema, combineVerdicts, type Verdict, type RunVerdict } from "./verdict.ts";
export { ErrorEvidenceSchema, promptResultSchema, rungMessage, type ErrorEvidence, type PromptResult } from "./prompt-result.ts";
export {
  FileHashSchema,
  FileRoleSchema,
  OracleInfoSchema,
  RungErrorSchema,
  rungSchema,
  runSchema,
  type FileHash,
  type FileRole,
  type OracleInfo,
  type Rung,
  type RungError,
  type Run,
} from "./rung.ts";
