/** Non-finite detection: a single NaN or inf invalidates every other metric, so gates check this first. */

/** Index of the first NaN or ±Infinity, or -1 if all values are finite. */
export function firstNonFinite(arr: ArrayLike<number>): number {
  const n = arr.length;
  for (let i = 0; i < n; i++) {
    const v = arr[i]!;
    // v - v is 0 for every finite v and NaN for NaN and ±Infinity: one branch, no calls.
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Number of NaN / ±Infinity values (for reports: "3 of 4096 logits are NaN"). */
export function countNonFinite(arr: ArrayLike<number>): number {
  const n = arr.length;
  let c = 0;
  for (let i = 0; i < n; i++) {
    const v = arr[i]!;
    if (v - v !== 0) c++;
  }
  return c;
}
