/** What a gate decides, at prompt, rung and run level, and how verdicts combine. */
import { z } from "../schema/zod.ts";

export const VerdictSchema = z.enum(["pass", "fail", "error", "skipped"]);
export type Verdict = z.infer<typeof VerdictSchema>;

export const RunVerdictSchema = z.enum(["pass", "fail", "error"]);
export type RunVerdict = z.infer<typeof RunVerdictSchema>;

/** error beats fail beats pass; all-skipped is skipped. */
export function combineVerdicts(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes("error")) return "error";
  if (verdicts.includes("fail")) return "fail";
  if (verdicts.includes("pass")) return "pass";
  return "skipped";
}
