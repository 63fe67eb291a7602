/**
 * The repeat rung's core: the same candidate run R times from a fresh start, tokens compared
 * across runs. Pure functions over token sequences (DecodeRun.tokens), so the rung can move into
 * the gate-unit registry without change.
 *
 * The reference sequence is the one most runs produced (ties: the earliest run's); a run
 * "differs" when its tokens are not that sequence. Flakiness = differing runs / R.
 */
export interface RepeatSplit {
  /** First step at which two runs produced different tokens. */
  step: number;
  /** The two runs (0-based) and their tokens there. */
  runs: [number, number];
  tokens: [number, number];
}

export interface RepeatComparison {
  runs: number;
  differing: number;
  /** differing / runs. */
  flakiness: number;
  /** Per run: the step where it leaves the reference sequence, or null when identical. */
  splits: (number | null)[];
  first_split?: RepeatSplit;
}

const key = (t: readonly number[]) => t.join(",");

export function compareRepeats(runs: readonly (readonly number[])[]): RepeatComparison {
  const counts = new Map<string, { n: number; first: number }>();
  runs.forEach((t, i) => {
    const c = counts.get(key(t));
    if (c === undefined) counts.set(key(t), { n: 1, first: i });
    else c.n++;
  });
  let best = { n: 0, first: 0 };
  for (const c of counts.values()) if (c.n > best.n || (c.n === best.n && c.first < best.first)) best = c;
  const ref = runs[best.first] ?? [];
  const splits = runs.map((t) => {
    if (key(t) === key(ref)) return null;
    let d = 0;
    while (d < Math.min(t.length, ref.length) && t[d] === ref[d]) d++;
    return d;
  });
  const out: RepeatComparison = { runs: runs.length, differing: splits.filter((s) => s !== null).length, flakiness: 0, splits };
  out.flakiness = runs.length === 0 ? 0 : out.differing / runs.length;
  let first: RepeatSplit | undefined;
  for (let a = 0; a < runs.length; a++) {
    for (let b = a + 1; b < runs.length; b++) {
      const x = runs[a] ?? [];
      const y = runs[b] ?? [];
      let d = 0;
      while (d < Math.min(x.length, y.length) && x[d] === y[d]) d++;
      if (d === x.length && d === y.length) continue;
      if (first === undefined || d < first.step) first = { step: d, runs: [a, b], tokens: [x[d] ?? -1, y[d] ?? -1] };
    }
  }
  if (first !== undefined) out.first_split = first;
  return out;
}
