/**
 * Metrics over logits rows: what the model would pick, and how sure it is. Ordering is total
 * and deterministic so that reports are reproducible: larger value first, ties broken by lower
 * index, and NaN ranks above everything (as numpy's argmax does), so a NaN logit is never
 * silently skipped. Probability math runs in float64 with a max-shifted log-sum-exp.
 */
import { NumgateError } from "../errors/numgate-error.ts";
import { details, requireNonEmpty, requireSameLength, type MetricContext } from "./shape.ts";

/** x ranks strictly before y: larger, or NaN against a number. */
function above(x: number, y: number): boolean {
  return x > y || (x !== x && y === y);
}

/** Index of the largest value (first on ties; first NaN if any). Throws on an empty row. */
export function argmax(row: ArrayLike<number>, ctx?: MetricContext): number {
  requireNonEmpty("argmax", row, ctx);
  let best = 0;
  let bestValue = row[0]!;
  if (bestValue !== bestValue) return 0;
  const n = row.length;
  for (let i = 1; i < n; i++) {
    const v = row[i]!;
    if (v !== v) return i;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/**
 * Indices of the k largest values, best first, ties by lower index. k is clamped to the row
 * length. Small k (the usual top-5/top-10) keeps a sorted buffer of k entries, O(n·k) worst case
 * but one comparison per element in practice; large k sorts an index array.
 */
export function topK(row: ArrayLike<number>, k: number, ctx?: MetricContext): number[] {
  if (!Number.isSafeInteger(k) || k < 0) throw new NumgateError("tensor_shape", `topK: k must be a non-negative integer, got ${k}`, details(ctx));
  const n = row.length;
  const kk = Math.min(k, n);
  if (kk === 0) return [];
  if (kk > 64) {
    const idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    idx.sort((i, j) => (above(row[i]!, row[j]!) ? -1 : above(row[j]!, row[i]!) ? 1 : i - j));
    return Array.from(idx.subarray(0, kk));
  }
  const idx = new Int32Array(kk);
  const val = new Float64Array(kk);
  let filled = 0;
  // The k-th best so far, once there are k: most elements stop at one comparison with it, written
  // out rather than through above() because a row is often scanned before V8 optimises this loop,
  // and there a call per element cost more than the comparison (cold teacher forcing, 45 x 512).
  let floor = NaN;
  for (let i = 0; i < n; i++) {
    const v = row[i]!;
    // Equal values never displace earlier ones, which keeps lower indices first on ties.
    if (filled === kk && !(v > floor || (v !== v && floor === floor))) continue;
    let p = filled < kk ? filled++ : kk - 1;
    while (p > 0 && above(v, val[p - 1]!)) {
      val[p] = val[p - 1]!;
      idx[p] = idx[p - 1]!;
      p--;
    }
    val[p] = v;
    idx[p] = i;
    floor = val[kk - 1]!;
  }
  return Array.from(idx);
}

export interface Top2Margin {
  readonly top1: number;
  readonly top2: number;
  readonly top1Value: number;
  readonly top2Value: number;
  /** top1Value - top2Value, in logits: how far the candidate is from flipping the greedy token. */
  readonly margin: number;
}

/** The two best entries of a row and the logit gap between them. Needs at least 2 entries. */
export function top2Margin(row: ArrayLike<number>, ctx?: MetricContext): Top2Margin {
  if (row.length < 2) throw new NumgateError("tensor_shape", `top2Margin: need at least 2 values, got ${row.length}`, details(ctx));
  const [top1, top2] = topK(row, 2) as [number, number];
  const top1Value = row[top1]!;
  const top2Value = row[top2]!;
  return { top1, top2, top1Value, top2Value, margin: top1Value - top2Value };
}

/** log(sum(exp(row))) in float64, shifted by the max so that large logits cannot overflow. */
export function logSumExp(row: ArrayLike<number>): number {
  const n = row.length;
  let m = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = row[i]!;
    if (v > m || v !== v) m = v;
    if (m !== m) return NaN;
  }
  if (m === -Infinity || m === Infinity) return m; // all masked, or an infinite logit
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(row[i]! - m);
  return m + Math.log(s);
}

/**
 * log softmax in float64. -Infinity logits (masked) stay -Infinity; a row with NaN or +Infinity,
 * or with every entry masked, has no distribution and gives all NaN.
 */
export function logSoftmax(row: ArrayLike<number>, ctx?: MetricContext): Float64Array {
  requireNonEmpty("logSoftmax", row, ctx);
  const lse = logSumExp(row);
  const n = row.length;
  const out = new Float64Array(n);
  if (lse === Infinity) {
    out.fill(NaN);
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = row[i]! - lse;
  return out;
}

/**
 * KL(P_ref || P_cand) in nats, from two logits rows, in float64 without allocating:
 * sum_i p_i (log p_i - log q_i). Terms with p_i = 0 contribute 0 (the 0 log 0 = 0 convention);
 * p_i > 0 where q_i = 0 gives +Infinity. The sum is mathematically >= 0; rounding can make it
 * a few ulp negative, which is clamped to 0. NaN when either row has no distribution (see logSoftmax).
 */
export function klDivergence(refLogits: ArrayLike<number>, candLogits: ArrayLike<number>, ctx?: MetricContext): number {
  requireSameLength("klDivergence", refLogits, candLogits, ctx);
  requireNonEmpty("klDivergence", refLogits, ctx);
  // Both rows' log-sum-exps side by side: the maxima in one pass and the shifted sums in another,
  // the same terms added in the same order as logSumExp (so the same bits), in two loops instead
  // of four; a logits row is often scanned before V8 optimises these loops, where each pass costs.
  const n = refLogits.length;
  let mP = -Infinity;
  let mQ = -Infinity;
  for (let i = 0; i < n; i++) {
    const p = refLogits[i]!;
    const q = candLogits[i]!;
    if (p > mP || p !== p) mP = p;
    if (q > mQ || q !== q) mQ = q;
  }
  // NaN anywhere, an infinite logit or a fully masked row: logSumExp is NaN or infinite, no distribution.
  if (mP !== mP || mQ !== mQ || mP === Infinity || mQ === Infinity || mP === -Infinity || mQ === -Infinity) return NaN;
  let sP = 0;
  let sQ = 0;
  for (let i = 0; i < n; i++) {
    sP += Math.exp(refLogits[i]! - mP);
    sQ += Math.exp(candLogits[i]! - mQ);
  }
  const lseP = mP + Math.log(sP);
  const lseQ = mQ + Math.log(sQ);
  if (lseP === Infinity || lseQ === Infinity) return NaN;
  let kl = 0;
  for (let i = 0; i < n; i++) {
    const lp = refLogits[i]! - lseP;
    const p = Math.exp(lp);
    if (p === 0) continue;
    kl += p * (lp - (candLogits[i]! - lseQ));
  }
  return kl < 0 ? 0 : kl;
}

/** |topK(a) ∩ topK(b)| / k, with k clamped to the row length: 1 means the same candidate set. */
export function topKOverlap(a: ArrayLike<number>, b: ArrayLike<number>, k: number, ctx?: MetricContext): number {
  requireSameLength("topKOverlap", a, b, ctx);
  const ta = topK(a, k, ctx);
  const tb = topK(b, k, ctx);
  if (ta.length === 0) return 1;
  const inA = new Set(ta);
  let shared = 0;
  for (const i of tb) if (inA.has(i)) shared++;
  return shared / ta.length;
}
