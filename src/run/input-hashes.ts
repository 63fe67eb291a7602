/**
 * The run's input files hashed for report.json (src/files/hash.ts: large inputs on a worker
 * thread, small ones at once, remembered ones not read): started before the backend loads and
 * collected after the last rung, so at real size (tens of GB of weights) hashing overlaps loading
 * and inference instead of following them. One file at a time: reading two large files at once would only make the disk seek between
 * them.
 */
import { FileHasher } from "../files/hash.ts";
import type { FileHash, FileRole } from "../verdicts/rung.ts";
import { rel } from "./resolve.ts";

export class InputHashes {
  private readonly hasher: FileHasher;
  private readonly files: readonly (readonly [string, { path: string; role: FileRole }])[];
  private waitedSeconds = 0;

  constructor(entries: readonly (readonly [string, FileRole])[]) {
    const seen = new Map<string, { path: string; role: FileRole }>();
    for (const [p, role] of entries) if (!seen.has(rel(p))) seen.set(rel(p), { path: p, role });
    this.files = [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.hasher = new FileHasher(this.files.map(([, f]) => f.path));
  }

  /** The hashes, sorted by path; waits for the files not hashed yet. */
  async result(): Promise<FileHash[]> {
    const t0 = performance.now();
    try {
      const hashes = await this.hasher.result();
      return this.files.map(([path, f], i) => ({ path, sha256: hashes[i] ?? "", role: f.role }));
    } finally {
      this.waitedSeconds = (performance.now() - t0) / 1000;
    }
  }

  /** Seconds result() waited: the hashing the ladder did not hide. */
  get waited(): number {
    return this.waitedSeconds;
  }

  /** Stops hashing (a run that ends before it collects the hashes). */
  cancel(): void {
    this.hasher.cancel();
  }
}
