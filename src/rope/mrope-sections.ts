/**
 * Which position plane (T, H or W) each rotary frequency takes under M-RoPE, and the angles a candidate's
 * cos/sin tables should hold.
 *
 * - "interleaved" (Qwen3-VL / Qwen3.5, `Qwen3VLTextRotaryEmbedding.recomposition_frequencies`): frequency j takes
 *   H when j % 3 == 1 and j < 3 * section[1], W when j % 3 == 2 and j < 3 * section[2], T otherwise.
 * - "chunked" (Qwen2-VL / Qwen2.5-VL, `freq.split(mrope_section)`): the first section[0] frequencies take T, the
 *   next section[1] take H, the rest W.
 *
 * The full cos/sin table is the half table twice (`cat((freqs, freqs), -1)`), so plane j also serves j + headDim/2.
 */
import { NumgateError } from "../errors/numgate-error.ts";

export type RopePlane = "T" | "H" | "W";
export type MropeStyle = "interleaved" | "chunked";

function invalid(message: string, field: string): never {
  throw new NumgateError("positions_invalid", message, { field });
}

/** Plane of each of the `headDim / 2` rotary frequencies. Throws unless sum(section) == headDim / 2. */
export function mropeFrequencyPlanes(mropeSection: readonly number[], headDim: number, style: MropeStyle): RopePlane[] {
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0)
    invalid(`head_dim must be a positive even integer, got ${String(headDim)}`, "head_dim");
  if (mropeSection.length !== 3) invalid(`mrope_section must have 3 entries, got ${mropeSection.length}`, "mrope_section");
  const [s0, s1, s2] = mropeSection as [number, number, number];
  for (const [i, s] of [s0, s1, s2].entries()) {
    if (!Number.isInteger(s) || s < 0) invalid(`mrope_section[${i}] = ${String(s)} must be a non-negative integer`, "mrope_section");
  }
  const half = headDim / 2;
  if (s0 + s1 + s2 !== half)
    invalid(`sum(mrope_section) = ${s0 + s1 + s2} (${s0}+${s1}+${s2}) but head_dim / 2 = ${half}`, "mrope_section");
  const planes: RopePlane[] = new Array<RopePlane>(half);
  for (let j = 0; j < half; j++) {
    if (style === "interleaved") {
      planes[j] = j % 3 === 1 && j < 3 * s1 ? "H" : j % 3 === 2 && j < 3 * s2 ? "W" : "T";
    } else if (style === "chunked") {
      planes[j] = j < s0 ? "T" : j < s0 + s1 ? "H" : "W";
    } else {
      invalid(`unknown M-RoPE style "${String(style)}" (interleaved | chunked)`, "style");
    }
  }
  return planes;
}

/** `1 / theta^(2i / rotaryDim)` for i < rotaryDim / 2, in float64 (transformers computes it in float32). */
export function ropeInvFreq(theta: number, rotaryDim: number): Float64Array {
  if (!(theta > 0) || !Number.isFinite(theta)) invalid(`rope_theta must be positive, got ${String(theta)}`, "rope_theta");
  if (!Number.isInteger(rotaryDim) || rotaryDim < 2 || rotaryDim % 2 !== 0)
    invalid(`rotary dim must be a positive even integer, got ${String(rotaryDim)}`, "head_dim");
  const half = rotaryDim / 2;
  const out = new Float64Array(half);
  for (let i = 0; i < half; i++) out[i] = 1 / Math.pow(theta, (2 * i) / rotaryDim);
  return out;
}

export interface TokenPositions3 {
  t: number;
  h: number;
  w: number;
}

export interface SequencePositions3 {
  t: ArrayLike<number>;
  h: ArrayLike<number>;
  w: ArrayLike<number>;
}

/**
 * Rotary angles `position[plane_j] * invFreq[j]` for one token (length headDim/2), or for a sequence
 * (row-major `[S][headDim/2]`). cos/sin of these, duplicated over both halves, is the table a candidate should use.
 */
export function expectedRopeAngles(positions3: TokenPositions3, invFreq: ArrayLike<number>, planes: readonly RopePlane[]): Float64Array;
export function expectedRopeAngles(positions3: SequencePositions3, invFreq: ArrayLike<number>, planes: readonly RopePlane[]): Float64Array;
export function expectedRopeAngles(
  positions3: TokenPositions3 | SequencePositions3,
  invFreq: ArrayLike<number>,
  planes: readonly RopePlane[],
): Float64Array {
  const half = planes.length;
  if (invFreq.length !== half)
    invalid(`inv_freq has ${invFreq.length} entries but the plane map has ${half}`, "inv_freq");
  const { t, h, w } = positions3;
  if (typeof t === "number" && typeof h === "number" && typeof w === "number") {
    const out = new Float64Array(half);
    for (let j = 0; j < half; j++) {
      const p = planes[j] === "T" ? t : planes[j] === "H" ? h : w;
      out[j] = p * invFreq[j]!;
    }
    return out;
  }
  if (typeof t === "number" || typeof h === "number" || typeof w === "number")
    invalid("positions3 must be all numbers or all arrays", "positions");
  const ta = t as ArrayLike<number>;
  const ha = h as ArrayLike<number>;
  const wa = w as ArrayLike<number>;
  const S = ta.length;
  if (ha.length !== S || wa.length !== S) invalid(`position planes differ in length: ${S}, ${ha.length}, ${wa.length}`, "positions");
  const out = new Float64Array(S * half);
  for (let s = 0; s < S; s++) {
    for (let j = 0; j < half; j++) {
      const pl = planes[j];
      const p = pl === "T" ? ta[s]! : pl === "H" ? ha[s]! : wa[s]!;
      out[s * half + j] = p * invFreq[j]!;
    }
  }
  return out;
}
