import { describe, expect, it } from "vitest";
import { NumgateError } from "../../src/errors/numgate-error.ts";
import { cosine, maxAbsDiff, relativeL2, rowCosines, snrDb } from "../../src/metrics/index.ts";
import { readSafetensorsSync } from "../../src/tensor/safetensors.ts";
import { REFERENCE_PATH, expected } from "../fixtures/core/expected.ts";

const file = readSafetensorsSync(REFERENCE_PATH);
const a = file.get("f32_a").data as Float32Array;
const b = file.get("f32_b").data as Float32Array;
const exp = expected.similarity;

describe("similarity metrics against numpy float64 (correctly rounded sums)", () => {
  it("cosine", () => {
    expect(cosine(a, b)).toBeCloseTo(exp.cosine, 14);
    expect(cosine(Array.from(a), Float64Array.from(b))).toBeCloseTo(exp.cosine, 14); // any ArrayLike<number>
  });

  it("rowCosines", () => {
    const r = rowCosines(a, b, 6);
    expect(r.perRow.length).toBe(4);
    r.perRow.forEach((c, i) => expect(c).toBeCloseTo(exp.rowCosines.perRow[i]!, 14));
    expect(r.mean).toBeCloseTo(exp.rowCosines.mean, 14);
    expect(r.worst).toBe(exp.rowCosines.worst); // exactly -1: the row is negated, and cosine is clamped
    expect(r.worstRow).toBe(exp.rowCosines.worstRow);
  });

  it("maxAbsDiff, relativeL2, snrDb", () => {
    expect(maxAbsDiff(a, b)).toEqual(exp.maxAbsDiff);
    expect(relativeL2(a, b)).toBeCloseTo(exp.relativeL2, 14);
    expect(snrDb(a, b)).toBeCloseTo(exp.snrDb, 12);
  });
});

describe("similarity edge cases", () => {
  it("zero-vector conventions: both zero = 1, one zero = 0", () => {
    expect(cosine([0, 0, 0], [0, 0, 0])).toBe(1);
    expect(cosine([0, 0, 0], [0, 1, 0])).toBe(0);
    expect(cosine([1, 0], [0, 0])).toBe(0);
    expect(cosine([], [])).toBe(1);
    expect(cosine([1, 2, 3], [-1, -2, -3])).toBe(-1);
    expect(cosine([1, NaN], [1, 2])).toBeNaN();
    expect(cosine([1e150, 1e150], [1e150, 1e150])).toBe(1); // norms 2e300: their product would overflow
  });

  it("length mismatch is tensor_shape, naming the caller's file and field", () => {
    let err: unknown;
    try {
      cosine([1, 2], [1, 2, 3], { file: "oracles/m.safetensors", field: "hidden.3" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NumgateError);
    expect((err as NumgateError).code).toBe("tensor_shape");
    expect((err as NumgateError).message).toContain("oracles/m.safetensors: hidden.3:");
    for (const f of [maxAbsDiff, relativeL2, snrDb]) expect(() => f([1], [1, 2])).toThrow(NumgateError);
  });

  it("rowCosines rejects a row length that does not divide the data, and ranks NaN rows worst", () => {
    expect(() => rowCosines([1, 2, 3], [1, 2, 3], 2)).toThrow(/rows of 2/);
    expect(() => rowCosines([], [], 2)).toThrow(NumgateError);
    const r = rowCosines([1, 0, 1, 0, 1, 0], [1, 0, NaN, 0, -1, 0], 2);
    expect(r.worstRow).toBe(1);
    expect(r.worst).toBeNaN();
  });

  it("maxAbsDiff: first index on ties, NaN wins, empty is {0, -1}", () => {
    expect(maxAbsDiff([1, 2, 3], [1, 2, 3])).toEqual({ value: 0, index: 0 });
    expect(maxAbsDiff([0, 5, 0, 5], [0, 0, 0, 0])).toEqual({ value: 5, index: 1 });
    expect(maxAbsDiff([0, 5, 0], [0, 0, NaN])).toEqual({ value: NaN, index: 2 });
    expect(maxAbsDiff([], [])).toEqual({ value: 0, index: -1 });
  });

  it("relativeL2 and snrDb with zero reference or zero error", () => {
    expect(relativeL2([0, 0], [0, 0])).toBe(0);
    expect(relativeL2([0, 0], [0, 1])).toBe(Infinity);
    expect(relativeL2([3, 4], [3, 4])).toBe(0);
    expect(relativeL2([3, 4], [0, 0])).toBe(1);
    expect(snrDb([3, 4], [3, 4])).toBe(Infinity);
    expect(snrDb([0, 0], [0, 1])).toBe(-Infinity);
    expect(snrDb([10, 0], [9, 0])).toBeCloseTo(20, 12);
  });
});
