/**
 * The run's input files hashed for report.json, in the background: started before the ladder and
 * collected after it, so at real size (tens of GB of weights) hashing overlaps the inference
 * instead of following it. One file at a time: reading two large files at once would only make the
 * disk seek between them.
 */
import { sha256File } from "../files/hash.ts";
import type { FileHash, FileRole } from "../verdicts/rung.ts";
import { rel } from "./resolve.ts";

export class InputHashes {
  private readonly abort = new AbortController();
  private readonly pending: Promise<FileHash[]>;
  private waitedSeconds = 0;

  constructor(entries: readonly (readonly [string, FileRole])[]) {
    const seen = new Map<string, { path: string; role: FileRole }>();
    for (const [p, role] of entries) if (!seen.has(rel(p))) seen.set(rel(p), { path: p, role });
    const files = [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.pending = (async () => {
      const out: FileHash[] = [];
      for (const [path, f] of files) out.push({ path, sha256: await sha256File(f.path, this.abort.signal), role: f.role });
      return out;
    })();
    // Collected (and its error thrown) by result(); until then a failure must not count as unhandled.
    this.pending.catch(() => undefined);
  }

  /** The hashes, sorted by path; waits for the files not hashed yet. */
  async result(): Promise<FileHash[]> {
    const t0 = performance.now();
    try {
      return await this.pending;
    } finally {
      this.waitedSeconds = (performance.now() - t0) / 1000;
    }
  }

  /** Seconds result() waited: the hashing the ladder did not hide. */
  get waited(): number {
    return this.waitedSeconds;
  }

  /** Stops reading (a run that ends before it collects the hashes). */
  cancel(): void {
    this.abort.abort();
  }
}
