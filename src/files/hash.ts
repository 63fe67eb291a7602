/**
 * Content hashes of input files (oracle dumps, candidate graphs) for the report. Files are read
 * in fixed-size pieces, so a multi-GB dump is hashed in constant memory and with no size limit.
 */
import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { NumgateError } from "../errors/numgate-error.ts";

/** Large enough that syscall overhead vanishes, small enough to stay in cache. */
export const HASH_CHUNK_BYTES = 4 * 1024 * 1024;

/** Hex SHA-256 of the file's bytes. Throws NumgateError (file_not_found, file_unreadable). */
export function sha256File(path: string, chunkBytes = HASH_CHUNK_BYTES): string {
  const hash = createHash("sha256");
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    // No bigger than the file: hashing many small files should not allocate 4 MiB each time.
    const chunk = new Uint8Array(Math.max(1, Math.min(chunkBytes, fstatSync(fd).size)));
    // Sequential reads (position null) go on until end of file, whatever the size was at open.
    for (let got = readSync(fd, chunk, 0, chunk.length, null); got > 0; got = readSync(fd, chunk, 0, chunk.length, null)) {
      hash.update(chunk.subarray(0, got));
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    throw code === "ENOENT"
      ? new NumgateError("file_not_found", "cannot hash: file not found", { file: path, cause: e })
      : new NumgateError("file_unreadable", `cannot hash file (${code ?? String(e)})`, { file: path, cause: e });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return hash.digest("hex");
}
