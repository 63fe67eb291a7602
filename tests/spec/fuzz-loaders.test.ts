/**
 * A quick, deterministic run of the loader fuzzing (bench/fuzz/loader-fuzz.ts): every spec and
 * manifest loader returns a value or throws a NumgateError, whatever the text. The nightly-sized run
 * is `npx tsx bench/fuzz/loaders.ts --runs 10000`.
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { loaderTargets } from "../../bench/fuzz/loader-fuzz.ts";

/** Cases per loader: a few hundred in all, a few seconds. */
const RUNS: Record<string, number> = {
  "gate-spec": 50,
  ladder: 60,
  "candidate-manifest": 100,
  "oracle-manifest": 40,
  "strict-json-check": 200,
};

describe("loader fuzzing", () => {
  for (const target of loaderTargets()) {
    it(`${target.name}: ${target.claim}`, () => {
      fc.assert(
        fc.property(target.arbitrary, (text) => {
          target.check(text);
        }),
        { numRuns: RUNS[target.name] ?? 100, seed: 20_261_123 },
      );
    });
  }
});
