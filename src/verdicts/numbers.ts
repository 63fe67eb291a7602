/**
 * The number conventions of every schema in report.json: numbers are finite; a metric that is
 * undefined because the candidate produced NaN/Infinity is written as null.
 */
import { z } from "zod";

/** A finite JSON number (zod 4's `z.number()` already rejects NaN and +/-Infinity). */
export const num = () => z.number();
/** A metric that is undefined when the candidate produced NaN/Infinity: written as null. */
export const metric = () => z.number().nullable();
export const count = () => z.number().int().nonnegative();
export const seconds = () => z.number().nonnegative();

/** null for NaN/Infinity, so report.json stays valid JSON. */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
