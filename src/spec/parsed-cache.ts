/**
 * A cache of YAML files already parsed, keyed by their text: what `.pyc` files are to Python
 * sources. yaml builds a CST and a Document before the plain data a spec is validated from, and
 * on a tiny gate run that was ~60 ms of ~600 (a 18 KB spec and its ladder, mostly cold code); the
 * cached data is one JSON.parse (~0.2 ms).
 *
 * Off unless a directory is configured, which only the built CLI does (src/cli/bundle-loader.ts:
 * dist/cli/.parsed-cache/, beside its V8 code cache). An entry holds the text it was parsed from
 * and the bundle that parsed it, and is used only when both are this text and this bundle, so a
 * spec edit or a new build (a new yaml) never meets an old entry; its file name is a short hash
 * (see entryPath: a clash is a miss, never a wrong answer; node:crypto would cost `--version`, which
 * loads this module, a twentieth of its time). Only a document yaml parsed without errors or warnings is
 * stored, and only when JSON gives back exactly its data (no .inf, .nan or -0); validation still
 * runs on every load, and a fault is still located by parsing the text again. An unreadable or
 * corrupt entry is a miss.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

interface CacheConfig {
  dir: string;
  /** What parses: the bundle's file name, which carries its content hash. */
  parser: string;
}

let config: CacheConfig | undefined;

/** Where parsed documents are kept (undefined: nowhere, the default). */
export function configureParsedCache(next: CacheConfig | undefined): void {
  config = next;
}

/** Entries kept before the oldest half is removed: a spec edited often leaves one per version. */
const MAX_ENTRIES = 256;

interface Entry {
  parser: string;
  text: string;
  data: unknown;
}

/**
 * A file name for the text: its length and an FNV-1a (32 bits) of the parser's name and of the
 * text's first and last 512 characters. Hashing all of an 18 KB spec in JavaScript cost 3 ms of
 * cold code; two texts that agree in length, head and tail share a name, and each then only
 * replaces the other's entry (a miss, never a wrong answer: the entry holds its text).
 */
function entryPath(c: CacheConfig, text: string): string {
  let h = 0x811c9dc5;
  const key = `${c.parser}\0${text.length > 1024 ? text.slice(0, 512) + text.slice(-512) : text}`;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return join(c.dir, `${(h >>> 0).toString(16).padStart(8, "0")}-${text.length}.json`);
}

/** The data cached for `text`, or undefined (no cache, no entry, another text's entry, or one that does not parse). */
export function cachedParse(text: string): { data: unknown } | undefined {
  if (config === undefined) return undefined;
  let entry: Partial<Entry>;
  try {
    entry = JSON.parse(readFileSync(entryPath(config, text), "utf8")) as Partial<Entry>;
  } catch {
    return undefined;
  }
  return entry.parser === config.parser && entry.text === text && "data" in entry ? { data: entry.data } : undefined;
}

/** Stores `data` as what `text` parses to, when JSON can carry it exactly; failures are ignored. */
export function storeParse(text: string, data: unknown): void {
  if (config === undefined || !jsonExact(data)) return;
  const path = entryPath(config, text);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(config.dir, { recursive: true });
    const entry: Entry = { parser: config.parser, text, data };
    writeFileSync(temporary, JSON.stringify(entry));
    renameSync(temporary, path);
    prune(config.dir);
  } catch {
    // A read-only install parses every time; it is only slower.
    rmSync(temporary, { force: true });
  }
}

function prune(dir: string): void {
  const all = readdirSync(dir);
  // A run killed between writing and renaming leaves its temporary file; a minute on, it is no one's.
  for (const n of all.filter((x) => x.endsWith(".tmp"))) {
    const written = statSync(join(dir, n), { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
    if (written < Date.now() - 60_000) rmSync(join(dir, n), { force: true });
  }
  const names = all.filter((n) => n.endsWith(".json"));
  if (names.length <= MAX_ENTRIES) return;
  const byAge = names.map((n) => ({ n, t: statSync(join(dir, n)).mtimeMs })).sort((a, b) => a.t - b.t);
  for (const { n } of byAge.slice(0, names.length - MAX_ENTRIES / 2)) rmSync(join(dir, n), { force: true });
}

/** True when JSON.parse(JSON.stringify(value)) is `value` again: plain data, finite numbers, no -0. */
export function jsonExact(value: unknown, depth = 0): boolean {
  if (depth > 256) return false;
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every((v) => jsonExact(v, depth + 1));
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    // "__proto__" would come back from JSON.parse as an own key but was never one in yaml's output.
    return Object.entries(value).every(([k, v]) => k !== "__proto__" && jsonExact(v, depth + 1));
  }
  return false;
}
