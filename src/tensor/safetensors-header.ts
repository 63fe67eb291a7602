/**
 * The safetensors header, validated from the header bytes and the file size alone:
 *   u64 little-endian N | N bytes of JSON header | data buffer
 * where the header maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets
 * relative to the data buffer) plus an optional "__metadata__": {string: string}.
 *
 * Oracle dumps are the ground truth of every gate, so this is strict: anything the reference
 * Rust implementation would reject, or that could make two readers disagree (duplicate keys,
 * overlapping or gapped offsets, trailing bytes), is an error. Every size and count is bounded
 * before anything is allocated for it, and nothing recurses on the header's structure, so a
 * hostile header ends in a NumgateError and never in a RangeError or an out-of-memory.
 */
import { NumgateError } from "../errors/numgate-error.ts";
import type { ByteSource } from "./byte-source.ts";
import { DTYPES, dtypeFromSafetensors, type DType } from "./dtype.ts";
import { MAX_JSON_NESTING, jsonNestingDepth, jsonShape, previewJson } from "./json-limits.ts";

/** Same bound as the reference implementation: a larger header is a corrupt or hostile file. */
export const MAX_HEADER_BYTES = 100_000_000;
/** More tensors than any checkpoint or dump has; bounds the sort and the name index. */
export const MAX_TENSORS = 1_000_000;
/** numpy's own limit (NPY_MAXDIMS in numpy 2). */
export const MAX_RANK = 64;
export const METADATA_KEY = "__metadata__";

export interface SafetensorsTensorInfo {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly byteLength: number;
  /** [begin, end) relative to the start of the data buffer, as in the header. */
  readonly dataOffsets: readonly [number, number];
}

export type SafetensorsMetadata = Readonly<Record<string, string>>;

export interface SafetensorsLayout {
  readonly metadata: SafetensorsMetadata;
  /** Byte offset of the data buffer in the file (8 + header length). */
  readonly dataStart: number;
  /** Tensors in data-offset order. */
  readonly tensors: ReadonlyMap<string, SafetensorsTensorInfo>;
}

/** Read and validate the header of `source`; the tensors' bytes are not touched. */
export function readSafetensorsLayout(source: ByteSource): SafetensorsLayout {
  const file = source.path;
  const bad = (message: string, field = "header"): NumgateError => new NumgateError("safetensors_invalid", message, { file, field });
  const size = source.size;

  if (size < 8) throw bad(`file is ${size} bytes, shorter than the 8-byte header length prefix`);
  const prefix = source.read(0, 8, 1, "header length");
  const n64 = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw bad(`header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > size) throw bad(`header length ${n} runs past the end of the file (${size} bytes)`);

  const raw = source.read(8, n, 1, "header");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
  } catch (e) {
    throw new NumgateError("safetensors_invalid", "header is not valid UTF-8", { file, field: "header", cause: e });
  }
  const depth = jsonNestingDepth(text);
  if (depth > MAX_JSON_NESTING) throw bad(`header nests deeper than ${MAX_JSON_NESTING} levels`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new NumgateError("safetensors_invalid", `header is not valid JSON (${(e as Error).message})`, { file, field: "header", cause: e });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw bad("header JSON must be an object");
  }
  // jsonShape says whether a key repeats; findDuplicateKey, a slower scan, names it.
  const dup = jsonShape(text, parsed).distinctKeys ? undefined : findDuplicateKey(text);
  if (dup !== undefined) throw bad(`duplicate key ${previewJson(dup.key)} at ${dup.path.slice(0, 200)}`, dup.topLevelKey);

  const header = parsed as Record<string, unknown>;
  const keys = Object.keys(header);
  if (keys.length > MAX_TENSORS + 1) throw bad(`header lists ${keys.length} entries, more than the limit of ${MAX_TENSORS} tensors`);
  let metadata: Record<string, string> = {};
  const entries: Array<[string, SafetensorsTensorInfo]> = [];
  for (const name of keys) {
    if (name === METADATA_KEY) {
      metadata = parseMetadata(header[name], bad);
      continue;
    }
    entries.push([name, parseTensorInfo(name, header[name], file)]);
  }

  // Offsets must tile the data buffer exactly: a gap hides bytes no tensor owns, an overlap
  // lets two tensors alias, and trailing bytes mean the header and data disagree. This also
  // bounds every tensor by the file size, so a truncated file fails here, at open.
  const dataStart = 8 + n;
  const dataLength = size - dataStart;
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
  return { metadata: Object.freeze(metadata), dataStart, tensors: new Map(entries) };
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
      `dtype ${previewJson(rawDtype)} is not supported (supported: ${Object.values(DTYPES).map((d) => d.safetensors).join(", ")})`,
      { file, field: name },
    );
  }
  if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
    throw bad(`shape must be an array of non-negative integers, got ${previewJson(shape)}`);
  }
  if (shape.length > MAX_RANK) throw bad(`shape has rank ${shape.length}, more than the limit of ${MAX_RANK}`);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw bad(`data_offsets must be [begin, end] with integers 0 <= begin <= end, got ${previewJson(offsets)}`);
  }
  const dims = shape as number[];
  const begin = offsets[0] as number;
  const end = offsets[1] as number;
  // Checked product, as the reference implementation's checked_mul: a zero dimension must not
  // hide an overflow earlier in the shape.
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (!Number.isSafeInteger(count)) throw bad(`shape ${previewJson(dims)} has more than 2^53 elements`);
  }
  const expected = count * DTYPES[dtype].byteWidth;
  if (!Number.isSafeInteger(expected) || expected !== end - begin) {
    throw bad(`data_offsets [${begin},${end}] span ${end - begin} bytes, but ${rawDtype}${previewJson(dims)} needs ${expected}`);
  }
  return Object.freeze({ dtype, shape: Object.freeze([...dims]), byteLength: expected, dataOffsets: Object.freeze([begin, end] as const) });
}

/**
 * JSON.parse silently keeps the last of duplicate keys, so a header could show one tensor to us
 * and another to a different reader. This scans the (already syntax-checked) text once and
 * reports the first key repeated within any single object (readSafetensorsLayout asks only when
 * jsonShape has found that one repeats).
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
