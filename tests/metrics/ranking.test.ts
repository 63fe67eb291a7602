import { describe, expect, it } from "vitest";
import { NumgateError } from "../../src/errors/numgate-error.ts";
import { argmax, klDivergence, logSoftmax, logSumExp, top2Margin, topK, topKOverlap } from "../../src/metrics/index.ts";
import { readSafetensorsSync } from "../../src/tensor/safetensors.ts";
import { REFERENCE_PATH, expected, nums } from "../fixtures/core/expected.ts";

const file = readSafetensorsSync(REFERENCE_PATH);
const ref = file.get("logits_ref");
const cand = file.get("logits_cand");

describe("ranking metrics against numpy float64", () => {
  expected.ranking.forEach((e, r) => {
    it(`logits row ${r}`, () => {
      const p = ref.rowView(r).data as Float32Array;
      const q = cand.rowView(r).data as Float32Array;
      expect(argmax(p)).toBe(e.argmax);
      expect(topK(p, 5)).toEqual(e.top5);
      const m = top2Margin(p);
      expect(m).toMatchObject({ top1: e.top2Margin.top1, top2: e.top2Margin.top2, top1Value: e.top2Margin.top1Value, top2Value: e.top2Margin.top2Value });
      expect(m.margin).toBe(e.top2Margin.margin); // difference of two f32 values is exact in f64
      expect(klDivergence(p, q)).toBeCloseTo(e.kl, 14);
      expect(Math.abs(klDivergence(p, q) - e.kl) / e.kl).toBeLessThan(1e-10);
      expect(topKOverlap(p, q, 5)).toBe(e.top5Overlap);
      if (e.logSoftmax !== null) {
        const ls = logSoftmax(p);
        nums(e.logSoftmax).forEach((v, i) => expect(ls[i]).toBeCloseTo(v, 13));
      }
    });
  });
});

describe("ranking edge cases", () => {
  it("ties go to the lower index; NaN ranks first (as numpy.argmax)", () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(topK([1, 3, 3, 2, 3], 4)).toEqual([1, 2, 4, 3]);
    expect(argmax([1, NaN, 5])).toBe(1);
    expect(topK([1, NaN, 5], 2)).toEqual([1, 2]);
    expect(topK([2, 1], 5)).toEqual([0, 1]); // k clamped
    expect(topK([2, 1], 0)).toEqual([]);
    expect(() => argmax([])).toThrow(NumgateError);
    expect(() => topK([1], -1)).toThrow(NumgateError);
  });

  it("large k (sorted path) agrees with small k (buffer path)", () => {
    const row = Float32Array.from({ length: 5000 }, (_, i) => Math.round(Math.sin(i * 12.9898) * 50)); // many ties
    const big = topK(row, 200);
    expect(big.slice(0, 64)).toEqual(topK(row, 64));
    for (let i = 1; i < big.length; i++) {
      const [x, y] = [row[big[i - 1]!]!, row[big[i]!]!];
      expect(x > y || (x === y && big[i - 1]! < big[i]!)).toBe(true);
    }
    expect(topK(row, 5000).length).toBe(5000);
  });

  it("small k keeps the order of the sorted path with NaNs and ties", () => {
    const row = Float32Array.from({ length: 700 }, (_, i) => (i % 97 === 5 ? NaN : Math.round(Math.cos(i * 7.31) * 20)));
    const sorted = topK(row, 100);
    for (const k of [1, 2, 5, 17, 64]) expect(topK(row, k)).toEqual(sorted.slice(0, k));
    expect(sorted.slice(0, 8)).toEqual([5, 102, 199, 296, 393, 490, 587, 684]); // every NaN first, by index
  });

  it("top2Margin needs two values", () => {
    expect(top2Margin([1, 4, 2])).toEqual({ top1: 1, top2: 2, top1Value: 4, top2Value: 2, margin: 2 });
    expect(() => top2Margin([1])).toThrow(NumgateError);
  });

  it("log-sum-exp is stable for huge logits and handles masked (-inf) entries", () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.LN2, 12);
    const ls = logSoftmax([1e4, 0, -Infinity]);
    expect(ls[0]).toBe(0);
    expect(ls[1]).toBe(-1e4);
    expect(ls[2]).toBe(-Infinity);
    expect(Array.from(logSoftmax([1, Infinity]))).toEqual([NaN, NaN]);
  });

  it("KL: zero for identical or shifted logits, infinite where the candidate masks a live token", () => {
    expect(klDivergence([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(klDivergence([1, 2, 3], [101, 102, 103])).toBeLessThan(1e-14); // shift-invariant, up to rounding
    expect(klDivergence([0, -Infinity], [0, 0])).toBeCloseTo(Math.LN2, 15); // the p=0 term contributes 0, not NaN
    expect(klDivergence([0, 0], [0, -Infinity])).toBe(Infinity);
    expect(klDivergence([0, Math.log(3)], [0, 0])).toBeCloseTo(0.75 * Math.log(1.5) + 0.25 * Math.log(0.5), 15);
    expect(() => klDivergence([1, 2], [1])).toThrow(NumgateError);
  });

  it("KL has no distribution to compare (NaN) when either row holds NaN or +Infinity or is fully masked", () => {
    for (const bad of [[0, NaN, 1], [0, Infinity, 1], [-Infinity, -Infinity, -Infinity]]) {
      expect(klDivergence(bad, [0, 1, 2])).toBeNaN();
      expect(klDivergence([0, 1, 2], bad)).toBeNaN();
    }
  });

  it("KL is, bit for bit, the sum over p of (log p - log q) with logSumExp's normalisers", () => {
    // klDivergence computes both rows' log-sum-exps in shared passes; this is the plain definition.
    const plain = (p: ArrayLike<number>, q: ArrayLike<number>) => {
      const [lp, lq] = [logSumExp(p), logSumExp(q)];
      let kl = 0;
      for (let i = 0; i < p.length; i++) {
        const a = p[i]! - lp;
        if (Math.exp(a) !== 0) kl += Math.exp(a) * (a - (q[i]! - lq));
      }
      return kl < 0 ? 0 : kl;
    };
    for (let r = 0; r < expected.ranking.length; r++) {
      const p = ref.rowView(r).data as Float32Array;
      const q = cand.rowView(r).data as Float32Array;
      expect(klDivergence(p, q)).toBe(plain(p, q));
      expect(klDivergence(q, p)).toBe(plain(q, p));
    }
    expect(klDivergence([3, -Infinity, 1e4, 2], [1, 2, 3, -5])).toBe(plain([3, -Infinity, 1e4, 2], [1, 2, 3, -5]));
  });

  it("topKOverlap", () => {
    expect(topKOverlap([5, 4, 3, 2, 1], [1, 2, 3, 4, 5], 2)).toBe(0);
    expect(topKOverlap([5, 4, 3, 2, 1], [4, 5, 1, 2, 3], 2)).toBe(1);
    expect(topKOverlap([5, 4, 3, 2, 1], [5, 1, 4, 2, 3], 3)).toBeCloseTo(2 / 3, 15);
  });
});
