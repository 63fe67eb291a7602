/**
 * SHA-256 of input files remembered by file identity (./identity.ts), as git's index remembers a
 * file's content: a file whose device, inode, size, modification and status-change times
 * (nanoseconds) are all what they were when it was hashed is not read again. An oracle is
 * recorded once and gated many times; at Qwen3-VL-4B size each run re-read 19 GB to hash it, and
 * on the tiny model hashing was ~6 ms of cold start-up (reading and hashing 4 MB).
 *
 * Trust: any write to a file changes its status-change time (ctime), which no program sets by
 * hand, and replacing it changes its inode. A file changed within the same timestamp tick as its
 * hashing could keep all of them (git's "racy" case), so an entry is stored only for a file whose
 * ctime is RACY_MARGIN_NS older than the hashing and whose identity is the same after it as before.
 *
 * Off unless a directory is configured, which only the built CLI does (src/cli/bundle-loader.ts:
 * dist/cli/.hash-cache/, beside its code cache). One small entry per file, named for its path; an
 * unreadable, corrupt or other path's entry is a miss, and a failure to write one is ignored.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fnv1a32Hex, writeCacheEntries } from "./cache-dir.ts";
import { fileIdentity, sameIdentity, type FileIdentity } from "./identity.ts";

/** Older than the coarsest file timestamps in use (FAT's 2 s): no write can hide in the same tick. */
export const RACY_MARGIN_NS = 2_000_000_000n;

/** Entries kept before the oldest half is removed. */
const MAX_ENTRIES = 4096;

let cacheDir: string | undefined;

/** Where hashes are remembered (undefined: nowhere, the default). */
export function configureHashCache(dir: string | undefined): void {
  cacheDir = dir;
}

interface Entry extends FileIdentity {
  path: string;
  sha256: string;
}

/** An entry's file name, from the absolute path (which the entry holds: a clash is a miss). */
function entryName(absolute: string): string {
  return `${fnv1a32Hex(absolute)}-${absolute.length}.json`;
}

/** A file's identity now, and its remembered hash when that identity is the one it was hashed with. */
export function lookupHash(path: string): { identity: FileIdentity | undefined; sha256: string | undefined } {
  const identity = fileIdentity(path);
  if (cacheDir === undefined || identity === undefined) return { identity, sha256: undefined };
  const absolute = resolve(path);
  let entry: Partial<Entry>;
  try {
    entry = JSON.parse(readFileSync(join(cacheDir, entryName(absolute)), "utf8")) as Partial<Entry>;
  } catch {
    return { identity, sha256: undefined };
  }
  const held =
    entry.path === absolute &&
    typeof entry.sha256 === "string" &&
    /^[0-9a-f]{64}$/.test(entry.sha256) &&
    sameIdentity(identity, entry as FileIdentity);
  return { identity, sha256: held ? entry.sha256 : undefined };
}

/** A file just hashed: its hash, and its identity when hashing began. */
export interface HashedFile {
  readonly path: string;
  readonly sha256: string;
  readonly before: FileIdentity;
}

/**
 * Remembers the hash of each file hashed since `startedNs` (wall-clock nanoseconds, taken before
 * their identities were), unless the file has changed since, or was changed too close to the
 * hashing to tell (see the module doc).
 */
export function rememberHashes(files: readonly HashedFile[], startedNs: bigint): void {
  if (cacheDir === undefined) return;
  const entries: { name: string; text: string }[] = [];
  for (const { path, sha256, before } of files) {
    const now = fileIdentity(path);
    if (now === undefined || !sameIdentity(now, before) || BigInt(before.ctimeNs) > startedNs - RACY_MARGIN_NS) continue;
    const absolute = resolve(path);
    const entry: Entry = { path: absolute, sha256, ...before };
    entries.push({ name: entryName(absolute), text: JSON.stringify(entry) });
  }
  writeCacheEntries(cacheDir, entries, MAX_ENTRIES);
}

/** Wall-clock nanoseconds, the clock file times are in. */
export function wallClockNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
