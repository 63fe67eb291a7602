/**
 * Random access to the bytes of a container file, so readers can look at a header and then
 * fetch only the ranges they need, without ever holding the whole file. Two sources: a file
 * on disk (positioned reads, no size ceiling) and bytes already in memory (views, no copy).
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { NumgateError } from "../errors/numgate-error.ts";
import { identityOf, sameIdentity, type FileIdentity } from "../files/identity.ts";

/** A run of bytes inside an ArrayBuffer; unlike a Uint8Array it may be longer than 4 GiB. */
export interface ByteRange {
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
  readonly byteLength: number;
}

export interface ByteSource {
  /** Names the source in error messages. */
  readonly path: string;
  /** Total size in bytes (a file's size when it was opened). */
  readonly size: number;
  /**
   * Bytes [position, position + length), placed so that `byteOffset` is a multiple of
   * `alignment` (a typed array of that element size can view them in place). `what` names
   * the range in errors. Throws NumgateError only.
   */
  read(position: number, length: number, alignment: number, what: string): ByteRange;
}

/** fs.readSync takes at most 2^31 - 1 bytes per call; larger ranges are read in pieces. */
export const MAX_READ_CHUNK = 1 << 30;

/**
 * A file read by positioned reads. It opens the file for each read and closes it before
 * returning, so no descriptor outlives a call: a reader that is never closed (Oracle keeps its
 * dumps for the whole run) leaks nothing, and there is no GC-timed cleanup to reason about.
 * The price is an open+fstat+close per tensor (microseconds next to the read itself). Each
 * read checks that the file is still the one whose header was validated (its identity, as the
 * hash cache holds files to it: src/files/identity.ts), so a dump rewritten underneath a run
 * fails loudly instead of mixing two recordings.
 */
export class FileByteSource implements ByteSource {
  readonly size: number;
  private readonly identity: FileIdentity;

  constructor(readonly path: string) {
    this.identity = withFile(path, "open", (fd) => {
      const st = fstatSync(fd, { bigint: true });
      if (!st.isFile()) throw new NumgateError("file_unreadable", "not a regular file", { file: path });
      return identityOf(st);
    });
    this.size = Number(this.identity.size);
  }

  read(position: number, length: number, _alignment: number, what: string): ByteRange {
    checkRange(this, position, length, what);
    return withFile(this.path, what, (fd) => {
      if (!sameIdentity(identityOf(fstatSync(fd, { bigint: true })), this.identity)) {
        throw new NumgateError("file_unreadable", "the file changed since it was opened (its size, inode, or modification or change time differ); open it again", {
          file: this.path,
          field: what,
        });
      }
      // A fresh ArrayBuffer starts at offset 0, which every element size divides: the caller's
      // typed array views it directly, so the read is the only copy.
      const buffer = allocate(length, this.path, what);
      readFully(fd, buffer, position, length, this.path, what);
      return { buffer, byteOffset: 0, byteLength: length };
    });
  }
}

/** Bytes already in memory: ranges are views when aligned, aligned copies otherwise. */
export class MemoryByteSource implements ByteSource {
  readonly size: number;

  constructor(
    private readonly bytes: Uint8Array,
    readonly path: string,
  ) {
    this.size = bytes.byteLength;
  }

  read(position: number, length: number, alignment: number, what: string): ByteRange {
    checkRange(this, position, length, what);
    const byteOffset = this.bytes.byteOffset + position;
    if (byteOffset % alignment === 0) return { buffer: this.bytes.buffer, byteOffset, byteLength: length };
    // A typed array view must start at a multiple of its element size, and the format does
    // not promise alignment, so misaligned data is copied into a fresh (aligned) buffer.
    const buffer = allocate(length, this.path, what);
    new Uint8Array(buffer).set(this.bytes.subarray(position, position + length));
    return { buffer, byteOffset: 0, byteLength: length };
  }
}

/**
 * Read exactly `length` bytes at `position` into `buffer`, `chunk` bytes per call at most.
 * A read that returns 0 early means the file got shorter than its header promised.
 */
export function readFully(fd: number, buffer: ArrayBufferLike, position: number, length: number, path: string, what: string, chunk = MAX_READ_CHUNK): void {
  let done = 0;
  while (done < length) {
    const want = Math.min(chunk, length - done);
    let got: number;
    try {
      got = readSync(fd, new Uint8Array(buffer, done, want), 0, want, position + done);
    } catch (e) {
      throw fsError(e, path, what);
    }
    if (got === 0) {
      throw new NumgateError("file_unreadable", `file ended at byte ${position + done} while reading bytes ${position}..${position + length} (truncated?)`, {
        file: path,
        field: what,
      });
    }
    done += got;
  }
}

function withFile<T>(path: string, what: string, use: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw fsError(e, path, what);
  }
  try {
    return use(fd);
  } catch (e) {
    if (e instanceof NumgateError) throw e;
    throw fsError(e, path, what);
  } finally {
    closeSync(fd);
  }
}

function checkRange(source: ByteSource, position: number, length: number, what: string): void {
  if (!Number.isSafeInteger(position) || !Number.isSafeInteger(length) || position < 0 || length < 0 || position + length > source.size) {
    throw new NumgateError("internal", `byte range ${position}+${length} is outside the ${source.size}-byte source`, { file: source.path, field: what });
  }
}

function allocate(length: number, path: string, what: string): ArrayBuffer {
  try {
    return new ArrayBuffer(length);
  } catch (e) {
    // RangeError: larger than this runtime's ArrayBuffer limit, or out of memory.
    throw new NumgateError("file_unreadable", `cannot allocate ${length} bytes to read ${what} (${(e as Error).message})`, { file: path, field: what, cause: e });
  }
}

function fsError(e: unknown, path: string, what: string): NumgateError {
  if (e instanceof NumgateError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT"
    ? new NumgateError("file_not_found", "file not found", { file: path, cause: e })
    : new NumgateError("file_unreadable", `cannot read ${what} (${code ?? String(e)})`, { file: path, cause: e });
}
