import { describe, expect, it } from "vitest";
import { countNonFinite, firstNonFinite } from "../../src/metrics/index.ts";
import { readSafetensorsSync } from "../../src/tensor/safetensors.ts";
import { REFERENCE_PATH } from "../fixtures/core/expected.ts";

describe("firstNonFinite", () => {
  it("finds NaN and ±Infinity, -1 when all finite", () => {
    expect(firstNonFinite([1, 2, 3])).toBe(-1);
    expect(firstNonFinite([])).toBe(-1);
    expect(firstNonFinite([0, -0, 1e308, Number.MIN_VALUE])).toBe(-1);
    expect(firstNonFinite(Float32Array.of(1, Infinity, NaN))).toBe(1);
    expect(firstNonFinite(Float64Array.of(1, 2, -Infinity))).toBe(2);
    expect(firstNonFinite([NaN])).toBe(0);
    expect(countNonFinite([NaN, 1, Infinity, -Infinity])).toBe(3);
  });

  it("on decoded f16 data from the reference file (inf, -inf, nan at 6, 7, 8)", () => {
    const v = readSafetensorsSync(REFERENCE_PATH).get("f16_vals").toFloat64();
    expect(firstNonFinite(v)).toBe(6);
    expect(countNonFinite(v)).toBe(3);
    expect(firstNonFinite(v.subarray(0, 6))).toBe(-1);
  });
});
