/** Settings of the engine_vs_reference rung. */
import { z } from "../../schema/zod.ts";
import { matchCount, stepCount } from "../settings.ts";

export const ENGINE_VS_REFERENCE_GREEDY_STEPS = 24;
export const ENGINE_VS_REFERENCE_TEACHER_STEPS = 16;

export const EngineVsReferenceThresholdsSchema = z.strictObject({
  /** Greedy tokens the two builds must share before they part (default: every step). */
  min_matches: z.optional(matchCount()),
  /** Teacher-forced steps whose top-1 must agree (default: every step). */
  min_teacher_matches: z.optional(matchCount()),
});

export const EngineVsReferenceOptionsSchema = z.strictObject({
  /** The other build, a candidate of the same spec (without one the rung is skipped). */
  reference: z.optional(z.string().check(z.minLength(1))),
  /** Greedy tokens compared (default 24). */
  steps: z.optional(stepCount()),
  /** Teacher-forced steps compared (default 16). */
  teacher_steps: z.optional(stepCount()),
});
