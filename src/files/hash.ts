/**
 * Content hashes of input files (oracle dumps, candidate graphs) for the report, computed on a
 * worker thread. Files are read in fixed-size pieces, so a multi-GB dump is hashed in constant
 * memory and with no size limit.
 *
 * Why a worker: onnxruntime-node loads graphs and runs them synchronously on the main thread, so
 * hashing there, even with asynchronous reads, only ran between runs and added its whole time to a
 * gate run (Qwen3-VL-4B on the GPU machine: 68.6 s against the raw script's 49.3 s, ~19 s of it
 * hashing 19 GB).
 */
import { Worker } from "node:worker_threads";
import { NumgateError } from "../errors/numgate-error.ts";

/** Large enough that syscall overhead vanishes, small enough to stay in cache. */
export const HASH_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * The worker: SHA-256 of each file in `workerData.paths`, in order, one message per file; it stops
 * at the first file it cannot read. Plain JavaScript as text, so that it runs the same from the
 * bundled CLI and from the sources (tests, `npm run dev`) with no file of its own to find.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { closeSync, fstatSync, openSync, readSync } = require("node:fs");
for (const path of workerData.paths) {
  let fd;
  try {
    fd = openSync(path, "r");
    const chunk = Buffer.allocUnsafe(Math.max(1, Math.min(workerData.chunkBytes, fstatSync(fd).size)));
    const hash = createHash("sha256");
    for (let n = readSync(fd, chunk, 0, chunk.length, null); n > 0; n = readSync(fd, chunk, 0, chunk.length, null)) hash.update(chunk.subarray(0, n));
    parentPort.postMessage({ sha256: hash.digest("hex") });
  } catch (e) {
    parentPort.postMessage({ errno: e && e.code ? String(e.code) : String(e) });
    break;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
`;

/** Hex SHA-256 of files, hashed one after another on a worker thread started at construction. */
export class FileHasher {
  private readonly worker: Worker | undefined;
  private readonly done: Promise<string[]>;

  constructor(paths: readonly string[], chunkBytes = HASH_CHUNK_BYTES) {
    if (paths.length === 0) {
      this.worker = undefined;
      this.done = Promise.resolve([]);
      return;
    }
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { paths: [...paths], chunkBytes } });
    this.worker = worker;
    this.done = new Promise<string[]>((resolve, reject) => {
      const out: string[] = [];
      worker.on("message", (m: { sha256: string } | { errno: string }) => {
        const path = paths[out.length] ?? "?";
        if ("errno" in m) {
          reject(
            m.errno === "ENOENT"
              ? new NumgateError("file_not_found", "cannot hash: file not found", { file: path })
              : new NumgateError("file_unreadable", `cannot hash file (${m.errno})`, { file: path }),
          );
          return;
        }
        out.push(m.sha256);
        if (out.length === paths.length) resolve(out);
      });
      worker.on("error", (e) => reject(new NumgateError("internal", `the hashing worker failed: ${e.message}`, { cause: e })));
      // After the last file or a fault this changes nothing; before them it is a cancel().
      worker.on("exit", () => reject(new DOMException("hashing was cancelled", "AbortError")));
    });
    // Collected (and its error thrown) by result(); until then a failure must not count as unhandled.
    this.done.catch(() => undefined);
    void this.done.finally(() => this.worker?.terminate()).catch(() => undefined);
  }

  /** The hashes, in the order of the paths given; rejects with the first file that cannot be read. */
  result(): Promise<string[]> {
    return this.done;
  }

  /** Stops hashing; result() then rejects with an AbortError unless it had already settled. */
  cancel(): void {
    void this.worker?.terminate();
  }
}
