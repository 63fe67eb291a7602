/**
 * Content hashes of input files (oracle dumps, candidate graphs) for the report. Files are read
 * in fixed-size pieces, so a multi-GB dump is hashed in constant memory and with no size limit.
 */
import { createHash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { NumgateError } from "../errors/numgate-error.ts";

/** Large enough that syscall overhead vanishes, small enough to stay in cache. */
export const HASH_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Hex SHA-256 of the file's bytes, read asynchronously so it runs while the event loop waits on
 * inference (a run starts hashing its inputs before its first rung and collects the hashes after
 * its last: at real size the weights take tens of seconds to hash). Stops at the next piece once
 * `signal` aborts. Rejects with NumgateError (file_not_found, file_unreadable).
 */
export async function sha256File(path: string, signal?: AbortSignal, chunkBytes = HASH_CHUNK_BYTES): Promise<string> {
  const hash = createHash("sha256");
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, "r");
    const chunk = new Uint8Array(Math.max(1, Math.min(chunkBytes, (await fh.stat()).size)));
    for (let got = (await fh.read(chunk, 0, chunk.length, null)).bytesRead; got > 0; got = (await fh.read(chunk, 0, chunk.length, null)).bytesRead) {
      signal?.throwIfAborted();
      hash.update(chunk.subarray(0, got));
    }
  } catch (e) {
    if (signal?.aborted === true) throw e;
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    throw code === "ENOENT"
      ? new NumgateError("file_not_found", "cannot hash: file not found", { file: path, cause: e })
      : new NumgateError("file_unreadable", `cannot hash file (${code ?? String(e)})`, { file: path, cause: e });
  } finally {
    await fh?.close();
  }
  return hash.digest("hex");
}
