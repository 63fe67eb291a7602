/**
 * The number conventions of every schema in report.json: numbers are finite; a metric that is
 * undefined because the candidate produced NaN/Infinity is written as null.
 */
import { z } from "../schema/zod.ts";

// One instance of each, shared by every field that uses it: zod schemas are immutable (a method
// such as .check() returns a new schema), and building a fresh chain per field made the report
// schemas several hundred instances, each built at start-up by cold code.
const NUM = z.number();
const METRIC = z.nullable(z.number());
const COUNT = z.number().check(z.int(), z.nonnegative());
const SECONDS = z.number().check(z.nonnegative());

/** A finite JSON number (zod 4's `z.number()` already rejects NaN and +/-Infinity). */
export const num = () => NUM;
/** A metric that is undefined when the candidate produced NaN/Infinity: written as null. */
export const metric = () => METRIC;
export const count = () => COUNT;
export const seconds = () => SECONDS;

/** null for NaN/Infinity, so report.json stays valid JSON. */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
