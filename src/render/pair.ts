/** Pairs the items of two lists by key, for comparing a baseline with a new result. */

/** For duplicate keys the nth occurrence matches the nth. Base order first, then new head items. */
export function pairBy<T>(base: readonly T[], head: readonly T[], key: (t: T) => string): { key: string; base?: T; head?: T }[] {
  const tag = (xs: readonly T[]): [string, T][] => {
    const seen = new Map<string, number>();
    return xs.map((x) => {
      const k = key(x);
      const n = seen.get(k) ?? 0;
      seen.set(k, n + 1);
      return [n === 0 ? k : `${k}\u0000${n}`, x];
    });
  };
  const hb = new Map(tag(head));
  const out: { key: string; base?: T; head?: T }[] = [];
  const used = new Set<string>();
  for (const [k, b] of tag(base)) {
    const hh = hb.get(k);
    used.add(k);
    out.push(hh === undefined ? { key: k, base: b } : { key: k, base: b, head: hh });
  }
  for (const [k, hh] of hb) if (!used.has(k)) out.push({ key: k, head: hh });
  return out;
}
