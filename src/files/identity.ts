/**
 * A file's identity: what must stay the same for its bytes to be the ones seen before, without
 * reading them again, as git's index tells a file is unchanged. Device and inode (the same file,
 * not a replacement), size, and the modification and status-change times in nanoseconds: any
 * write changes the status-change time (ctime), which no program sets by hand, even one that puts
 * the modification time and size back.
 *
 * Two readers hold a file to it: the hash cache (./hash-cache.ts: a remembered SHA-256 holds only
 * for the identity it was hashed with) and a dump read tensor by tensor (src/tensor/byte-source.ts:
 * each read checks the file is the one whose header was validated).
 */
import { statSync, type BigIntStats } from "node:fs";

export interface FileIdentity {
  readonly dev: string;
  readonly ino: string;
  readonly size: string;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
}

/** Strings, so an identity is written to and read from JSON as it is (the nanoseconds pass 2^53). */
export function identityOf(st: BigIntStats): FileIdentity {
  return { dev: String(st.dev), ino: String(st.ino), size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) };
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** The identity of a regular file, or undefined (missing, not a file, unreadable). */
export function fileIdentity(path: string): FileIdentity | undefined {
  let st: BigIntStats | undefined;
  try {
    st = statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
  if (st === undefined || !st.isFile()) return undefined;
  return identityOf(st);
}
