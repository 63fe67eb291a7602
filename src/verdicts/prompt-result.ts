/**
 * One prompt's result on one rung: its verdict, a one-line message and the evidence behind it.
 * The evidence is the gate kind's own (see src/gates/<kind>/evidence.ts) or, when the candidate's
 * numbers could not be evaluated (NaN, Inf), an error naming the tensor.
 */
import { z } from "../schema/zod.ts";
import { VerdictSchema, type Verdict } from "./verdict.ts";

export const ErrorEvidenceSchema = z.strictObject({
  kind: z.literal("error"),
  tensor: z.optional(z.string()),
  layer: z.optional(z.number().check(z.int(), z.nonnegative())),
  detail: z.string(),
});
export type ErrorEvidence = z.infer<typeof ErrorEvidenceSchema>;

/** `evidence` is the full evidence schema: a kind's own, or the union of every kind and "error". */
export function promptResultSchema<E extends z.ZodMiniType>(evidence: E) {
  return z.strictObject({
    prompt: z.string(),
    verdict: VerdictSchema,
    message: z.string(),
    evidence,
  });
}

/** A prompt result whose evidence is `E` or an error. */
export interface PromptResult<E> {
  prompt: string;
  verdict: Verdict;
  message: string;
  evidence: E | ErrorEvidence;
}

/**
 * The rung message: the first non-passing prompt's message; else the first prompt that passed
 * only through a waiver or tolerance (a pass must never hide one); else the pass summary.
 */
export function rungMessage<E>(prompts: readonly PromptResult<E>[], passSummary: string, passedWithNote: (p: PromptResult<E>) => boolean = () => false): string {
  const bad = prompts.find((p) => p.verdict === "error") ?? prompts.find((p) => p.verdict === "fail") ?? prompts.find(passedWithNote);
  return bad === undefined ? passSummary : `${bad.prompt}: ${bad.message}`;
}
