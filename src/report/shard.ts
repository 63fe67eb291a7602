/**
 * `--shard i/n`: which slice of a work list one CI job runs. Its own module so that the gate
 * command can check the option while arguments are parsed without loading the report code.
 */
import { NumgateError } from "../errors/numgate-error.ts";

export interface Shard {
  /** 1-based */
  index: number;
  count: number;
}

/** Parses "i/n" (1 <= i <= n); NumgateError "schema_violation" naming `--shard` otherwise. */
export function parseShard(spec: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(i) || !Number.isSafeInteger(n) || n < 1 || i < 1 || i > n) {
    throw new NumgateError("schema_violation", `expected "i/n" with 1 <= i <= n (e.g. "2/4"), got "${spec}"`, { field: "--shard" });
  }
  return { index: i, count: n };
}

/** The items shard `i/n` runs: item k (0-based, in input order) goes to shard (k mod n) + 1. */
export function shardOf<T>(items: readonly T[], spec: string): T[] {
  const { index, count } = parseShard(spec);
  return items.filter((_, k) => k % count === index - 1);
}
