/**
 * Setting schemas that several gate kinds share. A threshold or option name means the same thing
 * in every kind that has it (the registry test holds the units to that), which is what lets a
 * gate spec be checked for typos before its ladder is known.
 */
import { z } from "../schema/zod.ts";
import type { RungSettings, SettingFault } from "./unit.ts";

// Shared instances (schemas are immutable), as in src/verdicts/numbers.ts.
const COSINE_BOUND = z.number().check(z.minimum(-1), z.maximum(1));
const NON_NEGATIVE_INT = z.number().check(z.int(), z.nonnegative());
const POSITIVE_INT = z.number().check(z.int(), z.positive());

/** A cosine threshold: a cosine lies in [-1, 1], so a bound outside it can never be met or never fail. */
export const cosineBound = () => COSINE_BOUND;
/** How many compared steps must match; at most the number of steps compared (see `matchesWithinSteps`). */
export const matchCount = () => NON_NEGATIVE_INT;
/** The k of a top-k comparison: at least 1. */
export const topK = () => POSITIVE_INT;
/** How many decode steps to compare: at least 1. */
export const stepCount = () => POSITIVE_INT;

/** `min_matches` above the number of steps compared is a threshold no candidate can meet. */
export function matchesWithinSteps(kind: string, s: RungSettings, defaultSteps: number): SettingFault[] {
  const steps = typeof s.options["steps"] === "number" ? s.options["steps"] : defaultSteps;
  const min = s.thresholds["min_matches"];
  if (min === undefined || min <= steps) return [];
  return [
    {
      section: "thresholds",
      key: "min_matches",
      message: `min_matches ${min} can never be met: a ${kind} rung compares ${steps} steps (options.steps${typeof s.options["steps"] === "number" ? "" : `, default ${defaultSteps}`})`,
      involves: [{ section: "options", key: "steps" }],
    },
  ];
}

/** A threshold the gate cannot run without. */
export function required(kind: string, s: RungSettings, key: string): SettingFault[] {
  return s.thresholds[key] === undefined ? [{ section: "thresholds", key, message: `a ${kind} rung needs thresholds.${key} (it has no default)` }] : [];
}
