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
 * (see entryName: a clash is a miss, never a wrong answer). Only a document yaml parsed without
 * errors or warnings is stored, and only when JSON gives back exactly its data (no .inf, .nan or -0); validation still
 * runs on every load, and a fault is still located by parsing the text again. An unreadable or
 * corrupt entry is a miss.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fnv1a32Hex, writeCacheEntries } from "../files/cache-dir.ts";

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
function entryName(c: CacheConfig, text: string): string {
  return `${fnv1a32Hex(`${c.parser}\0${text.length > 1024 ? text.slice(0, 512) + text.slice(-512) : text}`)}-${text.length}.json`;
}

/** The data cached for `text`, or undefined (no cache, no entry, another text's entry, or one that does not parse). */
export function cachedParse(text: string): { data: unknown } | undefined {
  if (config === undefined) return undefined;
  let entry: Partial<Entry>;
  try {
    entry = JSON.parse(readFileSync(join(config.dir, entryName(config, text)), "utf8")) as Partial<Entry>;
  } catch {
    return undefined;
  }
  return entry.parser === config.parser && entry.text === text && "data" in entry ? { data: entry.data } : undefined;
}

/** Stores `data` as what `text` parses to, when JSON can carry it exactly; failures are ignored. */
export function storeParse(text: string, data: unknown): void {
  if (config === undefined || !jsonExact(data)) return;
  const entry: Entry = { parser: config.parser, text, data };
  writeCacheEntries(config.dir, [{ name: entryName(config, text), text: JSON.stringify(entry) }], MAX_ENTRIES);
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
