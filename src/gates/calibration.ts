/**
 * Threshold derivation for the units' calibration hooks. A threshold sits one decade of headroom
 * below the worst a healthy build showed, rounded outwards to a power of ten, so normal run-to-run
 * and machine-to-machine jitter never trips it while a real fault (orders of magnitude worse) does.
 */

/** 1 - 10^ceil(log10(headroom x (1 - worst))), never above 1 - minGap. */
export function cosThreshold(worst: number, headroom = 10, minGap = 1e-6): number {
  const gap = Math.max(headroom * (1 - worst), minGap);
  const decade = Math.pow(10, Math.ceil(Math.log10(gap)));
  return Number((1 - decade).toPrecision(12));
}

export function upperThreshold(worst: number, headroom = 10, minValue = 1e-9): number {
  const v = Math.max(headroom * worst, minValue);
  return Number(Math.pow(10, Math.ceil(Math.log10(v))).toPrecision(6));
}
