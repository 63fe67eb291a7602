/**
 * A directory of small cache entries, one file each (the parsed-YAML and file-hash caches): written
 * atomically, bounded in number, and never a reason for a run to fail.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Writes each entry (a file name in `dir` and its text) by a temporary file and a rename, so a
 * reader never sees half of one; then keeps the directory to `maxEntries` entries. Failures are
 * ignored: a read-only install runs without the cache, only slower.
 */
export function writeCacheEntries(dir: string, entries: readonly { name: string; text: string }[], maxEntries: number): void {
  if (entries.length === 0) return;
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    return;
  }
  for (const { name, text } of entries) {
    const target = join(dir, name);
    const temporary = `${target}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, text);
      renameSync(temporary, target);
    } catch {
      rmSync(temporary, { force: true });
    }
  }
  try {
    prune(dir, maxEntries);
  } catch {
    // Another process pruning at the same time; the next write prunes again.
  }
}

/**
 * FNV-1a (32 bits) of a string, as 8 hex digits: a cheap name for an entry whose content says what
 * it is for, so a clash is a miss, never a wrong answer. node:crypto would cost `--version`, which
 * loads the caches' modules, a twentieth of its time.
 */
export function fnv1a32Hex(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

function prune(dir: string, maxEntries: number): void {
  const all = readdirSync(dir);
  // A run killed between writing and renaming leaves its temporary file; a minute on, it is no one's.
  for (const n of all.filter((x) => x.endsWith(".tmp"))) {
    const written = statSync(join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
    if (written < Date.now() - 60_000) rmSync(join(dir, n), { force: true });
  }
  const names = all.filter((n) => n.endsWith(".json"));
  if (names.length <= maxEntries) return;
  const byAge = names.map((n) => ({ n, t: statSync(join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 })).sort((a, b) => a.t - b.t);
  for (const { n } of byAge.slice(0, names.length - Math.floor(maxEntries / 2))) rmSync(join(dir, n), { force: true });
}
