/**
 * Content hashes of input files (oracle dumps, candidate graphs) for the report. Files are read in
 * fixed-size pieces, so a multi-GB dump is hashed in constant memory and with no size limit.
 *
 * Large inputs are hashed on a worker thread: onnxruntime-node loads graphs and runs them
 * synchronously on the main thread, so hashing there, even with asynchronous reads, only ran
 * between runs and added its whole time to a gate run (Qwen3-VL-4B on the GPU machine: 68.6 s
 * against the raw script's 49.3 s, ~19 s of it hashing 19 GB).
 *
 * Small inputs are hashed on the calling thread, at once: starting a worker (a Node environment
 * of its own) costs ~30 ms of CPU (`node -e` with and without an idle worker, 2 cores here), while
 * sha256 runs at ~1.9 GB/s, so the tiny model's 4 MB cost ~2 ms. On a 2-core machine that worker's
 * start also slowed the graph load it was meant to overlap: the tiny model's three sessions took
 * ~100-115 ms to create beside it against ~70 ms without it (the raw script's own time).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { runInThisContext } from "node:vm";
import { Worker } from "node:worker_threads";
import { NumgateError } from "../errors/numgate-error.ts";
import { lookupHash, rememberHashes, wallClockNs, type HashedFile } from "./hash-cache.ts";

/** Large enough that syscall overhead vanishes, small enough to stay in cache. */
export const HASH_CHUNK_BYTES = 4 * 1024 * 1024;

/** Inputs of at most this many bytes in all are hashed on the calling thread (see above). */
export const INLINE_HASH_BYTES = 16 * 1024 * 1024;

export interface FileHasherOptions {
  chunkBytes?: number;
  inlineBytes?: number;
}

/**
 * SHA-256 of each file, in order, one message per file to `emit`; it stops at the first file it
 * cannot read. Plain JavaScript as text, so that one copy runs both on a worker thread and on the
 * calling thread, from the bundled CLI and from the sources (tests, `npm run dev`) alike, with no
 * file of its own to find.
 */
const HASH_FILES = `(paths, chunkBytes, emit, require) => {
  const { createHash } = require("node:crypto");
  const { closeSync, fstatSync, openSync, readSync } = require("node:fs");
  for (const path of paths) {
    let fd;
    try {
      fd = openSync(path, "r");
      const chunk = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, fstatSync(fd).size)));
      const hash = createHash("sha256");
      for (let n = readSync(fd, chunk, 0, chunk.length, null); n > 0; n = readSync(fd, chunk, 0, chunk.length, null)) hash.update(chunk.subarray(0, n));
      emit({ sha256: hash.digest("hex") });
    } catch (e) {
      emit({ errno: e && e.code ? String(e.code) : String(e) });
      break;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}`;

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
(${HASH_FILES})(workerData.paths, workerData.chunkBytes, (m) => parentPort.postMessage(m), require);
`;

type HashMessage = { sha256: string } | { errno: string };
type HashFiles = (paths: readonly string[], chunkBytes: number, emit: (m: HashMessage) => void, require: (id: string) => unknown) => void;

let compiled: HashFiles | undefined;
/** HASH_FILES compiled on this thread (once). */
function hashFilesHere(): HashFiles {
  compiled ??= runInThisContext(HASH_FILES) as HashFiles;
  return compiled;
}

/** The modules HASH_FILES requires, as this thread has them. */
function requireHere(id: string): unknown {
  if (id === "node:crypto") return crypto;
  if (id === "node:fs") return fs;
  throw new Error(`HASH_FILES requires ${id}, which requireHere does not give`);
}

/**
 * Hex SHA-256 of files, hashed one after another from construction: on a worker thread, or at once
 * on the calling thread when they are `inlineBytes` or fewer in all. Files whose hash the configured
 * cache remembers for their current identity are not read at all (./hash-cache.ts).
 */
export class FileHasher {
  private readonly worker: Worker | undefined;
  private readonly done: Promise<string[]>;

  constructor(allPaths: readonly string[], options: FileHasherOptions = {}) {
    const startedNs = wallClockNs();
    const looked = allPaths.map(lookupHash);
    const paths = allPaths.filter((_, i) => looked[i]?.sha256 === undefined);
    // Bytes to read: the regular files among them (hashing names any other as the file it cannot read).
    const bytes = looked.reduce((sum, l) => sum + (l.sha256 === undefined && l.identity !== undefined ? Number(l.identity.size) : 0), 0);
    const chunkBytes = options.chunkBytes ?? HASH_CHUNK_BYTES;
    const out: string[] = [];
    let resolve!: (hashes: string[]) => void;
    let reject!: (e: unknown) => void;
    this.done = new Promise<string[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Collected (and its error thrown) by result(); until then a failure must not count as unhandled.
    this.done.catch(() => undefined);
    const receive = (m: HashMessage): void => {
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
      if (out.length === paths.length) resolve(merged());
    };
    // Every path's hash in the order given: remembered ones, and the ones just computed (which are
    // remembered now).
    const merged = (): string[] => {
      let next = 0;
      const hashed: HashedFile[] = [];
      const all = allPaths.map((path, i) => {
        const known = looked[i];
        if (known?.sha256 !== undefined) return known.sha256;
        const sha256 = out[next++] ?? "";
        if (known?.identity !== undefined) hashed.push({ path, sha256, before: known.identity });
        return sha256;
      });
      rememberHashes(hashed, startedNs);
      return all;
    };
    if (bytes <= (options.inlineBytes ?? INLINE_HASH_BYTES)) {
      this.worker = undefined;
      if (paths.length === 0) resolve(merged());
      else hashFilesHere()(paths, chunkBytes, receive, requireHere);
      return;
    }
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { paths: [...paths], chunkBytes } });
    this.worker = worker;
    worker.on("message", receive);
    worker.on("error", (e) => reject(new NumgateError("internal", `the hashing worker failed: ${e.message}`, { cause: e })));
    // After the last file or a fault this changes nothing; before them it is a cancel().
    worker.on("exit", () => reject(new DOMException("hashing was cancelled", "AbortError")));
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
