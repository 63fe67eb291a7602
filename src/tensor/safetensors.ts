/**
 * Reader and writer for the safetensors format (https://github.com/huggingface/safetensors).
 * The header and its validation live in safetensors-header.ts; this module turns a validated
 * layout into tensors, lazily, and writes files.
 *
 * Reading never holds the whole file: opening reads and validates the header alone (against
 * the file size), and each tensor is fetched by a positioned read when first asked for, into
 * a buffer of its own that the typed array views without a further copy. Offsets are plain
 * numbers (exact to 2^53), so there is no 2 GiB ceiling on files or tensors.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { endianness } from "node:os";
import { NumgateError } from "../errors/numgate-error.ts";
import { FileByteSource, MAX_READ_CHUNK, MemoryByteSource, type ByteRange, type ByteSource } from "./byte-source.ts";
import { DTYPES, type DType, type StorageFor } from "./dtype.ts";
import {
  METADATA_KEY,
  readSafetensorsLayout,
  type SafetensorsLayout,
  type SafetensorsMetadata,
  type SafetensorsTensorInfo,
} from "./safetensors-header.ts";
import { Tensor } from "./tensor.ts";

export { MAX_HEADER_BYTES, findDuplicateKey, type SafetensorsMetadata, type SafetensorsTensorInfo } from "./safetensors-header.ts";

// Typed arrays use host byte order and the format is little-endian. Every platform Node ships
// on that matters here is little-endian; refuse loudly rather than decode garbage elsewhere.
if (endianness() !== "LE") {
  throw new NumgateError("internal", "numgate's safetensors reader requires a little-endian host");
}

export interface SafetensorsFile {
  readonly path: string;
  readonly metadata: SafetensorsMetadata;
  /** Byte offset of the data buffer in the file (8 + header length). */
  readonly dataStart: number;
  /** Tensor names in file (data offset) order. */
  names(): string[];
  has(name: string): boolean;
  info(name: string): SafetensorsTensorInfo;
  /**
   * Reads the tensor's bytes now (or returns the tensor still held from an earlier get).
   * Throws NumgateError only: tensor_missing, or file_unreadable if the file changed since open.
   */
  get(name: string): Tensor;
  /** Later get() calls fail. Optional for files from disk (they hold no descriptor between reads). */
  close(): void;
  /** Seconds spent reading tensor data so far (for the bench's split). */
  readonly readSeconds: number;
}

// --- reading ---------------------------------------------------------------------------------

/** Open a dump on disk: reads and validates the header only. */
export function readSafetensorsSync(path: string): SafetensorsFile {
  const source = new FileByteSource(path);
  return new LazySafetensors(source, readSafetensorsLayout(source));
}

/** Same as readSafetensorsSync (opening reads only the header, so there is nothing large to await). */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return readSafetensorsSync(path);
}

/** A file already in memory; aligned tensors are views into `buffer`. `pathForMessages` names it in errors. */
export function parseSafetensors(buffer: Uint8Array, pathForMessages: string): SafetensorsFile {
  const source = new MemoryByteSource(buffer, pathForMessages);
  return new LazySafetensors(source, readSafetensorsLayout(source));
}

class LazySafetensors implements SafetensorsFile {
  readonly path: string;
  readonly metadata: SafetensorsMetadata;
  readonly dataStart: number;
  private readonly infos: ReadonlyMap<string, SafetensorsTensorInfo>;
  // Weak, so that a long run (Oracle keeps every dump open) holds a tensor only while some
  // caller does, yet repeated get()s of a tensor in use return it without reading again.
  private readonly held = new Map<string, WeakRef<Tensor>>();
  private closed = false;
  readSeconds = 0;

  constructor(
    private readonly source: ByteSource,
    layout: SafetensorsLayout,
  ) {
    this.path = source.path;
    this.metadata = layout.metadata;
    this.dataStart = layout.dataStart;
    this.infos = layout.tensors;
  }

  names(): string[] {
    return [...this.infos.keys()];
  }

  has(name: string): boolean {
    return this.infos.has(name);
  }

  info(name: string): SafetensorsTensorInfo {
    const info = this.infos.get(name);
    if (info === undefined) throw this.missing(name);
    return info;
  }

  get(name: string): Tensor {
    if (this.closed) throw new NumgateError("internal", "get() after close()", { file: this.path, field: name });
    const held = this.held.get(name)?.deref();
    if (held !== undefined) return held;
    const info = this.info(name);
    const t0 = performance.now();
    const bytes = this.source.read(this.dataStart + info.dataOffsets[0], info.byteLength, DTYPES[info.dtype].byteWidth, name);
    this.readSeconds += (performance.now() - t0) / 1000;
    const t = Tensor.from(info.dtype, info.shape, storageOver(bytes, info.dtype, this.path, name), { file: this.path, name });
    this.held.set(name, new WeakRef(t));
    return t;
  }

  close(): void {
    this.closed = true;
    this.held.clear();
  }

  private missing(name: string): NumgateError {
    const names = [...this.infos.keys()].sort();
    const shown = names.slice(0, 8).map((s) => JSON.stringify(s)).join(", ");
    const more = names.length > 8 ? `, ... (${names.length} in all)` : "";
    return new NumgateError(
      "tensor_missing",
      `no tensor named ${JSON.stringify(name)}; available: ${names.length === 0 ? "(none)" : shown + more}`,
      { file: this.path, field: name },
    );
  }
}

/** The dtype's typed array over `bytes`, in place (the source already aligned them). */
function storageOver(bytes: ByteRange, dtype: DType, file: string, name: string): StorageFor<DType> {
  const d = DTYPES[dtype];
  try {
    return new d.storage(bytes.buffer, bytes.byteOffset, bytes.byteLength / d.byteWidth);
  } catch (e) {
    // RangeError: more elements than this runtime's typed arrays hold (2^32 on Node 20).
    throw new NumgateError("tensor_shape", `${bytes.byteLength / d.byteWidth} ${dtype} elements do not fit in one typed array on this runtime (${(e as Error).message})`, {
      file,
      field: name,
      cause: e,
    });
  }
}

// --- writing ---------------------------------------------------------------------------------

/** What a file consists of, in order: the length prefix and padded header, then each tensor's bytes. */
interface FileLayout {
  readonly head: Uint8Array;
  readonly pieces: readonly ByteRange[];
  readonly byteLength: number;
}

/**
 * Lay tensors out exactly as the Python/Rust library does: tensors ordered by dtype (widest
 * first, the library's Dtype order) then by name (UTF-8 byte order), compact JSON with
 * "__metadata__" first, header padded with spaces to a multiple of 8. Widest-first plus the
 * padding keeps every tensor aligned to its element width, so readers can view it without
 * copying, and the output is deterministic and byte-identical to `safetensors.numpy.save` for
 * the same tensors and (single-key or sorted) metadata.
 */
function layOut(tensors: Readonly<Record<string, Tensor>>, metadata: SafetensorsMetadata | undefined, pathForMessages: string): FileLayout {
  const names = Object.keys(tensors);
  for (const name of names) {
    if (name === METADATA_KEY) {
      throw new NumgateError("safetensors_invalid", `"${METADATA_KEY}" is reserved and cannot name a tensor`, { file: pathForMessages, field: name });
    }
  }
  const utf8 = new TextEncoder();
  const keyBytes = new Map(names.map((n) => [n, utf8.encode(n)]));
  names.sort((a, b) => {
    const ra = DTYPES[tensors[a]!.dtype].safetensorsRank;
    const rb = DTYPES[tensors[b]!.dtype].safetensorsRank;
    return rb - ra || compareBytes(keyBytes.get(a)!, keyBytes.get(b)!);
  });

  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort();
    const body = keys.map((k) => {
      const v = metadata[k];
      if (typeof v !== "string") {
        throw new NumgateError("safetensors_invalid", `__metadata__.${k} must be a string`, { file: pathForMessages, field: METADATA_KEY });
      }
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"${METADATA_KEY}":{${body.join(",")}}`);
  }
  let offset = 0;
  const pieces: ByteRange[] = [];
  for (const name of names) {
    const t = tensors[name]!;
    const len = t.data.byteLength;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${DTYPES[t.dtype].safetensors}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${offset + len}]}`,
    );
    pieces.push({ buffer: t.data.buffer, byteOffset: t.data.byteOffset, byteLength: len });
    offset += len;
  }
  const headerRaw = utf8.encode(`{${parts.join(",")}}`);
  const headerLen = Math.ceil(headerRaw.length / 8) * 8;
  const head = new Uint8Array(8 + headerLen);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLen), true);
  head.set(headerRaw, 8);
  head.fill(0x20, 8 + headerRaw.length);
  return { head, pieces, byteLength: head.length + offset };
}

/** The whole file in one buffer (small files and tests; writers stream instead). */
export function serializeSafetensors(tensors: Readonly<Record<string, Tensor>>, metadata?: SafetensorsMetadata, pathForMessages = "<memory>"): Uint8Array {
  const { head, pieces, byteLength } = layOut(tensors, metadata, pathForMessages);
  const out = new Uint8Array(byteLength);
  out.set(head, 0);
  let pos = head.length;
  for (const p of pieces) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), pos);
    pos += p.byteLength;
  }
  return out;
}

/** Writes the header, then each tensor's bytes straight from its storage: no whole-file buffer. */
export function writeSafetensorsSync(path: string, tensors: Readonly<Record<string, Tensor>>, metadata?: SafetensorsMetadata): void {
  const { head, pieces } = layOut(tensors, metadata, path);
  let fd: number | undefined;
  try {
    fd = openSync(path, "w");
    for (const piece of [asRange(head), ...pieces]) {
      for (const chunk of chunks(piece)) {
        for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done, chunk.length - done);
      }
    }
  } catch (e) {
    throw fsError(e, path);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export async function writeSafetensors(path: string, tensors: Readonly<Record<string, Tensor>>, metadata?: SafetensorsMetadata): Promise<void> {
  const { head, pieces } = layOut(tensors, metadata, path);
  try {
    const file = await open(path, "w");
    try {
      for (const piece of [asRange(head), ...pieces]) {
        for (const chunk of chunks(piece)) {
          for (let done = 0; done < chunk.length; ) done += (await file.write(chunk, done, chunk.length - done)).bytesWritten;
        }
      }
    } finally {
      await file.close();
    }
  } catch (e) {
    throw fsError(e, path);
  }
}

function asRange(bytes: Uint8Array): ByteRange {
  return { buffer: bytes.buffer, byteOffset: bytes.byteOffset, byteLength: bytes.byteLength };
}

/** A range as Uint8Arrays of at most MAX_READ_CHUNK bytes (the fs calls take at most 2^31 - 1). */
function* chunks(range: ByteRange): Generator<Uint8Array> {
  for (let done = 0; done < range.byteLength; done += MAX_READ_CHUNK) {
    yield new Uint8Array(range.buffer, range.byteOffset + done, Math.min(MAX_READ_CHUNK, range.byteLength - done));
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function fsError(e: unknown, path: string): NumgateError {
  if (e instanceof NumgateError) return e;
  // numgate has no "file_unwritable" code; a failed write is reported as file_unreadable.
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return new NumgateError("file_unreadable", `cannot write safetensors file (${code ?? String(e)})`, { file: path, cause: e });
}
