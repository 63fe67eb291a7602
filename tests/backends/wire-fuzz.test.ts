import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkWireCase, wireCase } from "../../bench/fuzz/properties.ts";

// A quick pass on every run; bench/fuzz/readers.ts runs the same property at 10,000+ cases.
describe("engine frame parser under fuzzing", () => {
  it("decodes or refuses any stream with backend_failed, whatever the chunking", () => {
    const outcomes = { accepted: 0, rejected: 0 };
    fc.assert(
      fc.property(wireCase, (c) => {
        outcomes[checkWireCase(c)]++;
      }),
      { numRuns: 400 },
    );
    expect(outcomes.accepted).toBeGreaterThan(50);
    expect(outcomes.rejected).toBeGreaterThan(50);
  });
});
