/** Settings of the teacher-forced rung. */
import { z } from "../../schema/zod.ts";
import { matchCount, matchesWithinSteps, stepCount, topK } from "../settings.ts";
import type { RungSettings, SettingFault } from "../unit.ts";

/** Decode steps compared when the spec does not say (the oracle records at least this many). */
export const TEACHER_FORCED_DEFAULT_STEPS = 16;

export const TeacherForcedThresholdsSchema = z.strictObject({
  /** Steps whose top-1 must match the oracle's, waived near-ties counted as matches (default: every step). */
  min_matches: z.optional(matchCount()),
  /** An oracle top-2 margin below this (logits) makes a flip a near-tie (default 0.1). */
  near_tie_margin: z.optional(z.number().check(z.nonnegative())),
  /** Largest KL(oracle || candidate) at any step, in nats (default: not checked). */
  max_kl: z.optional(z.number().check(z.nonnegative())),
  /** k of the per-step top-k overlap (default 5). */
  top_k: z.optional(topK()),
});

export const TeacherForcedOptionsSchema = z.strictObject({
  /** Near-tie flips pass instead of failing; they are still reported (default false). */
  waive_near_ties: z.optional(z.boolean()),
  /** Decode steps to compare (default 16); the oracle must have recorded at least as many. */
  steps: z.optional(stepCount()),
});

export function teacherForcedSettingFaults(s: RungSettings): SettingFault[] {
  return matchesWithinSteps("teacher_forced", s, TEACHER_FORCED_DEFAULT_STEPS);
}
