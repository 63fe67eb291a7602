/** Settings of the greedy rung. */
import { z } from "../../schema/zod.ts";
import { matchCount, matchesWithinSteps, stepCount, topK } from "../settings.ts";
import type { RungSettings, SettingFault } from "../unit.ts";

/** Tokens rolled out when the spec does not say (the oracle records at least this many). */
export const GREEDY_DEFAULT_STEPS = 24;

export const GreedyThresholdsSchema = z.strictObject({
  /** Tokens identical to the oracle's before the first divergence (default: every step). */
  min_matches: z.optional(matchCount()),
  /** k of the top-k tolerance (default 5). */
  top_k: z.optional(topK()),
});

export const GreedyOptionsSchema = z.strictObject({
  /** "exact", or "topk": a divergence passes when each side's token is in the other's top-k (default "exact"). */
  tolerance: z.optional(z.enum(["exact", "topk"])),
  /** Tokens to roll out (default 24); the oracle must have recorded at least as many. */
  steps: z.optional(stepCount()),
});

export function greedySettingFaults(s: RungSettings): SettingFault[] {
  return matchesWithinSteps("greedy", s, GREEDY_DEFAULT_STEPS);
}
