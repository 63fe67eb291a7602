/** Settings of the repeat rung. */
import { z } from "zod";
import { stepCount } from "../settings.ts";

/** Greedy tokens compared across runs when the spec does not say. */
export const REPEAT_DEFAULT_STEPS = 24;

export const RepeatThresholdsSchema = z.strictObject({
  /** Runs allowed to differ from the others (default 0: a build must be deterministic). */
  max_differing: z.number().int().nonnegative().optional(),
});

export const RepeatOptionsSchema = z.strictObject({
  /** Fresh runs of the candidate (the seeds use 3, and 8 for the 2B); below 2 the rung is skipped. */
  runs: z.number().int().positive().optional(),
  /** Greedy tokens per run (default 24). */
  steps: stepCount().optional(),
});
