/**
 * Why every reduction is float64: an fp16 candidate of a 1e6-element activation has
 * 1 - cosine ~ 1.7e-8, far below what float32 accumulation over 1e6 terms can resolve.
 * The data come from an integer LCG reproduced bit for bit by make_core_fixtures.py, whose
 * expected values use numpy's float16 cast and correctly rounded sums (math.fsum).
 */
import { describe, expect, it } from "vitest";
import { cosine, relativeL2 } from "../../src/metrics/index.ts";
import { f16ToF32, f32ToF16 } from "../../src/tensor/dtype.ts";
import { expected } from "../fixtures/core/expected.ts";

const L = expected.large;
const x = new Float32Array(L.n);
const h = new Uint16Array(L.n);
const y = new Float32Array(L.n);
let s = L.seed;
for (let i = 0; i < L.n; i++) {
  s = (Math.imul(1664525, s) + 1013904223) >>> 0;
  x[i] = ((s >>> 8) - 2 ** 23) / 2 ** 24;
  h[i] = f32ToF16(x[i]!);
  y[i] = f16ToF32(h[i]!);
}

/** What a float32 implementation would compute: every product and sum rounded to f32. */
function naiveF32Cosine(a: Float32Array, b: Float32Array): number {
  const f = Math.fround;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot = f(dot + f(a[i]! * b[i]!));
    na = f(na + f(a[i]! * a[i]!));
    nb = f(nb + f(b[i]! * b[i]!));
  }
  return f(dot / f(f(Math.sqrt(na)) * f(Math.sqrt(nb))));
}

describe("float64 accumulation over 1e6 elements", () => {
  it("reproduces the generator's data and numpy's f16 rounding bit for bit", () => {
    let sum = 0;
    let bits = 0;
    let weighted = 0;
    for (let i = 0; i < L.n; i++) {
      sum += x[i]!;
      bits += h[i]!;
      weighted += h[i]! * ((i % 1000) + 1);
    }
    expect(sum).toBe(L.sumX); // exact: every partial sum fits in 53 bits
    expect(bits).toBe(L.f16BitsSum);
    expect(weighted).toBe(L.f16BitsWeighted);
  });

  it("self-cosine is 1 within 1e-12", () => {
    expect(Math.abs(cosine(x, x) - 1)).toBeLessThan(1e-12);
    expect(Math.abs(naiveF32Cosine(x, x) - 1)).toBeGreaterThan(1e-8); // float32 cannot even do this
  });

  it("resolves 1 - cosine ~ 1.7e-8 of an fp16 candidate; float32 accumulation cannot", () => {
    const c = cosine(x, y);
    expect(Math.abs(c - L.cosine)).toBeLessThan(1e-13);
    expect(Math.abs(1 - c - L.oneMinusCosine) / L.oneMinusCosine).toBeLessThan(1e-5);
    const naive = naiveF32Cosine(x, y);
    // The float32 error (~7e-6) is 400x the quantity being measured, and lands above 1.
    expect(Math.abs(naive - L.cosine)).toBeGreaterThan(100 * L.oneMinusCosine);
    expect(Math.abs(relativeL2(x, y) - L.relativeL2) / L.relativeL2).toBeLessThan(1e-12);
  });
});
