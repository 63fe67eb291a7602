import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { checkSafetensorsCase, cleanupFuzzFiles, safetensorsCase } from "../../bench/fuzz/properties.ts";

afterAll(cleanupFuzzFiles);

// A quick pass on every run; bench/fuzz/readers.ts runs the same property at 10,000+ cases.
describe("safetensors reader under fuzzing", () => {
  it("opens or refuses any input with a NumgateError, and reads exactly the bytes the header names", () => {
    const outcomes = { accepted: 0, rejected: 0 };
    fc.assert(
      fc.property(safetensorsCase, (c) => {
        outcomes[checkSafetensorsCase(c)]++;
      }),
      { numRuns: 400 },
    );
    // The generators must reach both sides, or the property says little.
    expect(outcomes.accepted).toBeGreaterThan(20);
    expect(outcomes.rejected).toBeGreaterThan(100);
  });
});
