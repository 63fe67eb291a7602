/** Settings of the repeat rung. */
import { z } from "../../schema/zod.ts";
import { stepCount } from "../settings.ts";

/** Greedy tokens compared across runs when the spec does not say. */
export const REPEAT_DEFAULT_STEPS = 24;

export const RepeatThresholdsSchema = z.strictObject({
  /** Runs allowed to differ from the others (default 0: a build must be deterministic). */
  max_differing: z.optional(z.number().check(z.int(), z.nonnegative())),
});

export const RepeatOptionsSchema = z.strictObject({
  /** Fresh runs of the candidate (the seeds use 3, and 8 for the 2B); below 2 the rung is skipped. */
  runs: z.optional(z.number().check(z.int(), z.positive())),
  /** Greedy tokens per run (default 24). */
  steps: z.optional(stepCount()),
});
