/**
 * Reader and writer for the safetensors format (https://github.com/huggingface/safetensors):
 *   u64 little-endian N | N bytes of JSON header | data buffer
 * where the header maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets
 * relative to the data buffer) plus an optional "__metadata__": {string: string}.
 *
 * Oracle dumps are the ground truth of every gate, so the reader is strict: anything the
 * reference Rust implementation would reject, or that could make two readers disagree
 * (duplicate keys, overlapping or gapped offsets, trailing bytes), is an error here.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { endianness } from "node:os";
import { NumgateError } from "../errors/numgate-error.ts";
import { DTYPES, dtypeFromSafetensors, type DType, type StorageFor } from "./dtype.ts";
import { Tensor, type TensorOrigin } from "./tensor.ts";

/** Same bound as the reference implementation: a larger header is a corrupt or hostile file. */
export const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = "__metadata__";

// Typed arrays use host byte order and the format is little-endian. Every platform Node ships
// on that matters here is little-endian; refuse loudly rather than decode garbage elsewhere.
if (endianness() !== "LE") {
  throw new NumgateError("internal", "numgate's safetensors reader requires a little-endian host");
}

export interface SafetensorsTensorInfo {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly byteLength: number;
  /** [begin, end) relative to the start of the data buffer, as in the header. */
  readonly dataOffsets: readonly [number, number];
}

export interface SafetensorsFile {
  readonly path: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** The whole file. Aligned tensors returned by get() are views into it. */
  readonly buffer: Uint8Array;
  /** Byte offset of the data buffer inside `buffer` (8 + header length). */
  readonly dataStart: number;
  /** Tensor names in file (data offset) order. */
  names(): string[];
  has(name: string): boolean;
  info(name: string): SafetensorsTensorInfo;
  /** Decoded on first access and cached. */
  get(name: string): Tensor;
}

export type SafetensorsMetadata = Readonly<Record<string, string>>;

// --- reading ---------------------------------------------------------------------------------

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let buf: Uint8Array;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw fsError(e, path, "read");
  }
  return parseSafetensors(buf, path);
}

export function readSafetensorsSync(path: string): SafetensorsFile {
  let buf: Uint8Array;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw fsError(e, path, "read");
  }
  return parseSafetensors(buf, path);
}

/** Parse an in-memory file. `pathForMessages` is only used to name the file in errors. */
export function parseSafetensors(buffer: Uint8Array, pathForMessages: string): SafetensorsFile {
  const file = pathForMessages;
  const bad = (message: string, field = "header"): NumgateError =>
    new NumgateError("safetensors_invalid", message, { file, field });

  if (buffer.length < 8) throw bad(`file is ${buffer.length} bytes, shorter than the 8-byte header length prefix`);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw bad(`header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > buffer.length) throw bad(`header length ${n} runs past the end of the file (${buffer.length} bytes)`);

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(buffer.subarray(8, 8 + n));
  } catch (e) {
    throw new NumgateError("safetensors_invalid", "header is not valid UTF-8", { file, field: "header", cause: e });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new NumgateError("safetensors_invalid", `header is not valid JSON (${(e as Error).message})`, { file, field: "header", cause: e });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw bad("header JSON must be an object");
  }
  const dup = findDuplicateKey(text);
  if (dup !== undefined) throw bad(`duplicate key ${JSON.stringify(dup.key)} at ${dup.path}`, dup.topLevelKey);

  const header = parsed as Record<string, unknown>;
  let metadata: Record<string, string> = {};
  const entries: Array<[string, SafetensorsTensorInfo]> = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      metadata = parseMetadata(raw, bad);
      continue;
    }
    entries.push([name, parseTensorInfo(name, raw, file)]);
  }

  // Offsets must tile the data buffer exactly: a gap hides bytes no tensor owns, an overlap
  // lets two tensors alias, and trailing bytes mean the header and data disagree.
  const dataStart = 8 + n;
  const dataLength = buffer.length - dataStart;
  entries.sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
  let cursor = 0;
  for (const [name, info] of entries) {
    const [begin, end] = info.dataOffsets;
    if (begin > cursor) throw bad(`data_offsets [${begin},${end}] leave a gap: bytes ${cursor}..${begin} belong to no tensor`, name);
    if (begin < cursor) throw bad(`data_offsets [${begin},${end}] overlap the previous tensor, which ends at ${cursor}`, name);
    cursor = end;
  }
  if (cursor !== dataLength) {
    const last = entries.at(-1)?.[0] ?? "header";
    throw cursor > dataLength
      ? bad(`data_offsets end at ${cursor} but the data buffer is only ${dataLength} bytes (file truncated?)`, last)
      : bad(`data buffer has ${dataLength - cursor} trailing bytes after the last tensor (ends at ${cursor}, buffer is ${dataLength})`, last);
  }

  return new ParsedSafetensors(file, Object.freeze(metadata), buffer, dataStart, new Map(entries));
}

class ParsedSafetensors implements SafetensorsFile {
  private readonly cache = new Map<string, Tensor>();

  constructor(
    readonly path: string,
    readonly metadata: SafetensorsMetadata,
    readonly buffer: Uint8Array,
    readonly dataStart: number,
    private readonly infos: ReadonlyMap<string, SafetensorsTensorInfo>,
  ) {}

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
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    const info = this.info(name);
    const t = decode(this.buffer, this.dataStart, info, { file: this.path, name });
    this.cache.set(name, t);
    return t;
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

function decode(buffer: Uint8Array, dataStart: number, info: SafetensorsTensorInfo, origin: TensorOrigin): Tensor {
  const d = DTYPES[info.dtype];
  const count = info.byteLength / d.byteWidth;
  const abs = buffer.byteOffset + dataStart + info.dataOffsets[0];
  // A typed array view must start at a multiple of its element size, so aligned data is viewed
  // in place (no copy of a multi-GB dump). The format itself does not promise alignment (the
  // header length is free, and hand-written files may pack an odd-length f16 before an f32), so
  // misaligned data is copied into a fresh, aligned buffer. (Not buffer.slice(): on a Node
  // Buffer that is a view, not a copy.)
  let data: StorageFor<DType>;
  if (abs % d.byteWidth === 0) {
    data = new d.storage(buffer.buffer, abs, count);
  } else {
    const rel = dataStart + info.dataOffsets[0];
    const copy = new Uint8Array(info.byteLength);
    copy.set(buffer.subarray(rel, rel + info.byteLength));
    data = new d.storage(copy.buffer, 0, count);
  }
  return Tensor.from(info.dtype, info.shape, data, origin);
}

function parseMetadata(raw: unknown, bad: (m: string, f?: string) => NumgateError): Record<string, string> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw bad("__metadata__ must be an object of strings", METADATA_KEY);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== "string") throw bad(`__metadata__.${k} must be a string, got ${typeof v}`, METADATA_KEY);
    out[k] = v;
  }
  return out;
}

function parseTensorInfo(name: string, raw: unknown, file: string): SafetensorsTensorInfo {
  const bad = (message: string): NumgateError => new NumgateError("safetensors_invalid", message, { file, field: name });
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw bad("entry must be an object {dtype, shape, data_offsets}");
  const { dtype: rawDtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;

  if (typeof rawDtype !== "string") throw bad("dtype must be a string");
  const dtype = dtypeFromSafetensors(rawDtype);
  if (dtype === undefined) {
    throw new NumgateError(
      "dtype_unsupported",
      `dtype ${JSON.stringify(rawDtype)} is not supported (supported: ${Object.values(DTYPES).map((d) => d.safetensors).join(", ")})`,
      { file, field: name },
    );
  }
  if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
    throw bad(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw bad(`data_offsets must be [begin, end] with integers 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
  }
  const begin = offsets[0] as number;
  const end = offsets[1] as number;
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  const expected = count * DTYPES[dtype].byteWidth;
  if (!Number.isSafeInteger(expected) || expected !== end - begin) {
    throw bad(
      `data_offsets [${begin},${end}] span ${end - begin} bytes, but ${rawDtype}[${(shape as number[]).join(",")}] needs ${expected}`,
    );
  }
  return Object.freeze({ dtype, shape: Object.freeze([...(shape as number[])]), byteLength: expected, dataOffsets: Object.freeze([begin, end] as const) });
}

/**
 * JSON.parse silently keeps the last of duplicate keys, so a header could show one tensor to us
 * and another to a different reader. This scans the (already syntax-checked) text once and
 * reports the first key repeated within any single object.
 */
export function findDuplicateKey(json: string): { key: string; path: string; topLevelKey: string } | undefined {
  interface Frame { readonly isObject: boolean; readonly keys: Set<string>; readonly path: string; expectKey: boolean; lastKey: string }
  const stack: Frame[] = [];
  let topLevelKey = "";
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < json.length) {
        const cj = json.charCodeAt(j);
        if (cj === 0x5c /* \ */) j += 2;
        else if (cj === 0x22) break;
        else j++;
      }
      const top = stack.at(-1);
      if (top !== undefined && top.isObject && top.expectKey) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (stack.length === 1) topLevelKey = key;
        if (top.keys.has(key)) {
          return { key, path: top.path === "" ? "top level" : top.path, topLevelKey: stack.length === 1 ? key : topLevelKey };
        }
        top.keys.add(key);
        top.lastKey = key;
        top.expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const parent = stack.at(-1);
      const path = parent === undefined ? "" : parent.isObject ? `${parent.path}/${parent.lastKey}` : `${parent.path}/[]`;
      stack.push({ isObject: c === 0x7b, keys: new Set(), path, expectKey: true, lastKey: "" });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack.at(-1);
      if (top !== undefined && top.isObject) top.expectKey = true;
    }
  }
  return undefined;
}

// --- writing ---------------------------------------------------------------------------------

/**
 * Serialize tensors to safetensors bytes, laid out exactly as the Python/Rust library does:
 * tensors ordered by dtype (widest first, the library's Dtype order) then by name (UTF-8 byte
 * order), compact JSON with "__metadata__" first, header padded with spaces to a multiple of 8.
 * Widest-first plus the padding keeps every tensor aligned to its element width, so our reader
 * can view it without copying, and the output is deterministic and byte-identical to
 * `safetensors.numpy.save` for the same tensors and (single-key or sorted) metadata.
 */
export function serializeSafetensors(tensors: Readonly<Record<string, Tensor>>, metadata?: SafetensorsMetadata, pathForMessages = "<memory>"): Uint8Array {
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
  for (const name of names) {
    const t = tensors[name]!;
    const len = t.data.byteLength;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${DTYPES[t.dtype].safetensors}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${offset + len}]}`,
    );
    offset += len;
  }
  const headerRaw = utf8.encode(`{${parts.join(",")}}`);
  const headerLen = Math.ceil(headerRaw.length / 8) * 8;

  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(headerRaw, 8);
  out.fill(0x20, 8 + headerRaw.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const name of names) {
    const d = tensors[name]!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

export async function writeSafetensors(path: string, tensors: Readonly<Record<string, Tensor>>, metadata?: SafetensorsMetadata): Promise<void> {
  const bytes = serializeSafetensors(tensors, metadata, path);
  try {
    await writeFile(path, bytes);
  } catch (e) {
    throw fsError(e, path, "write");
  }
}

export function writeSafetensorsSync(path: string, tensors: Readonly<Record<string, Tensor>>, metadata?: SafetensorsMetadata): void {
  const bytes = serializeSafetensors(tensors, metadata, path);
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw fsError(e, path, "write");
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function fsError(e: unknown, path: string, op: "read" | "write"): NumgateError {
  const code = (e as NodeJS.ErrnoException).code;
  // numgate has no "file_unwritable" code; a failed write is reported as file_unreadable.
  return code === "ENOENT" && op === "read"
    ? new NumgateError("file_not_found", "safetensors file not found", { file: path, cause: e })
    : new NumgateError("file_unreadable", `cannot ${op} safetensors file (${code ?? String(e)})`, { file: path, cause: e });
}
