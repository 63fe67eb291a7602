/**
 * numgate's engine wire format (protocol "numgate-engine/1"), shared by the client backend and
 * any engine written in TypeScript. One message, in either direction:
 *
 *   u32 little-endian  length of the JSON header in bytes
 *   header             UTF-8 JSON: { id, op | ok/error, ..., tensors: [{ name, dtype, shape }] }
 *   payload            every tensor's raw little-endian bytes, in header order, back to back
 *
 * Binary payloads keep float32 bit-exact and avoid base64 on the hot path; the header stays
 * human-readable for debugging an engine with a hex dump.
 */
import { NumgateError } from "../../errors/numgate-error.ts";
import { dtypeInfo, isDType, type DType } from "../../tensor/dtype.ts";
import { MAX_JSON_NESTING, jsonNestingDepth, previewJson } from "../../tensor/json-limits.ts";
import { Tensor } from "../../tensor/tensor.ts";

export const PROTOCOL = "numgate-engine/2";

// Bounds checked before anything is allocated, so a garbled stream fails fast and clearly
// instead of allocating gigabytes or waiting forever for bytes that will never come.
/** One header. */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** Tensors in one message (a decode answer carries a handful). */
export const MAX_TENSORS = 4096;
export const MAX_RANK = 64;
/** One tensor: 2^32 bytes is the largest typed array Node 20 makes, far above any activation compared. */
export const MAX_TENSOR_BYTES = 2 ** 32;
/** All tensors of one message together. */
export const MAX_PAYLOAD_BYTES = 2 ** 34;

export interface WireTensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
}

export interface WireMessage {
  header: Record<string, unknown> & { tensors?: WireTensorInfo[] };
  tensors: Map<string, Tensor>;
}

export function encodeMessage(header: Record<string, unknown>, tensors: Record<string, Tensor> = {}): Buffer {
  const entries = Object.entries(tensors);
  const infos: WireTensorInfo[] = entries.map(([name, t]) => ({ name, dtype: t.dtype, shape: [...t.shape] }));
  const json = Buffer.from(JSON.stringify({ ...header, tensors: infos }), "utf8");
  const parts: Buffer[] = [Buffer.alloc(4), json];
  parts[0]!.writeUInt32LE(json.length, 0);
  for (const [, t] of entries) parts.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return Buffer.concat(parts);
}

interface ExpectedTensor {
  readonly info: WireTensorInfo;
  readonly byteLength: number;
}

/** A message whose header has been read and whose tensors are arriving. */
interface PartialMessage {
  readonly header: WireMessage["header"];
  readonly expected: readonly ExpectedTensor[];
  readonly tensors: Map<string, Tensor>;
  /** Storage of expected[tensors.size], allocated when its first byte arrives. */
  current: ArrayBuffer | undefined;
  filled: number;
}

/**
 * Incremental decoder: feed it chunks from a stream, get whole messages out. Throws a
 * NumgateError ("backend_failed") on a malformed stream, naming what was wrong; after that the
 * stream has lost its framing, so every later push throws the same error.
 *
 * Tensor bytes are copied once, from the chunks straight into each tensor's own (aligned)
 * storage: a multi-GB answer is never re-concatenated as its chunks arrive.
 */
export class MessageReader {
  /** Chunks of the next message's length prefix and header, not yet complete. */
  private headChunks: Buffer[] = [];
  private headBytes = 0;
  /** 4 + header length, once the prefix has been read. */
  private headNeeded: number | undefined;
  private message: PartialMessage | undefined;
  private messagesRead = 0;
  private failure: NumgateError | undefined;

  constructor(private readonly who: string) {}

  push(chunk: Buffer): WireMessage[] {
    if (this.failure !== undefined) throw this.failure;
    try {
      return this.consume(chunk);
    } catch (e) {
      if (e instanceof NumgateError) this.failure = e;
      throw e;
    }
  }

  private consume(chunk: Buffer): WireMessage[] {
    const out: WireMessage[] = [];
    let input = chunk;
    for (;;) {
      if (this.message === undefined) {
        if (input.length === 0) return out;
        const rest = this.takeHead(input);
        if (rest === undefined) return out;
        input = rest;
      }
      const message = this.message;
      if (message === undefined) return out;
      input = this.fill(message, input);
      if (message.tensors.size < message.expected.length) return out;
      out.push({ header: message.header, tensors: message.tensors });
      this.message = undefined;
      this.messagesRead++;
    }
  }

  /** Collects prefix and header; once complete, starts this.message and returns the bytes after it. */
  private takeHead(input: Buffer): Buffer | undefined {
    this.headChunks.push(input);
    this.headBytes += input.length;
    if (this.headNeeded === undefined) {
      if (this.headBytes < 4) return undefined;
      const hlen = this.joinHead().readUInt32LE(0);
      if (hlen === 0 || hlen > MAX_HEADER_BYTES) {
        throw this.fault(`header length ${hlen} is out of range 1..${MAX_HEADER_BYTES} (the stream is not ${PROTOCOL})`);
      }
      this.headNeeded = 4 + hlen;
    }
    if (this.headBytes < this.headNeeded) return undefined;
    const all = this.joinHead();
    this.message = this.startMessage(all.subarray(4, this.headNeeded));
    const rest = all.subarray(this.headNeeded);
    this.headChunks = [];
    this.headBytes = 0;
    this.headNeeded = undefined;
    return rest;
  }

  private joinHead(): Buffer {
    if (this.headChunks.length > 1) this.headChunks = [Buffer.concat(this.headChunks)];
    return this.headChunks[0]!;
  }

  private startMessage(headerBytes: Buffer): PartialMessage {
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
    } catch {
      throw this.fault("header is not valid UTF-8");
    }
    if (jsonNestingDepth(text) > MAX_JSON_NESTING) throw this.fault(`header nests deeper than ${MAX_JSON_NESTING} levels`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw this.fault(`header is not JSON: ${(e as Error).message}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw this.fault(`header must be a JSON object, got ${previewJson(parsed)}`);
    const header = parsed as WireMessage["header"];
    const expected = this.expectedTensors(header.tensors as unknown);
    return { header, expected, tensors: new Map(), current: undefined, filled: 0 };
  }

  private expectedTensors(raw: unknown): ExpectedTensor[] {
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) throw this.fault(`header.tensors must be an array, got ${previewJson(raw)}`);
    if (raw.length > MAX_TENSORS) throw this.fault(`header lists ${raw.length} tensors, more than the limit of ${MAX_TENSORS}`);
    const names = new Set<string>();
    let total = 0;
    return raw.map((t: unknown, i): ExpectedTensor => {
      const bad = (what: string): NumgateError => this.fault(`tensors[${i}] ${what}: ${previewJson(t)}`);
      if (t === null || typeof t !== "object" || Array.isArray(t)) throw bad("is not {name, dtype, shape}");
      const { name, dtype, shape } = t as Record<string, unknown>;
      if (typeof name !== "string") throw bad("has no string name");
      if (names.has(name)) throw bad(`repeats the name ${previewJson(name)}`);
      names.add(name);
      if (typeof dtype !== "string" || !isDType(dtype)) throw bad("has no known dtype");
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad("shape is not an array of non-negative integers");
      if (shape.length > MAX_RANK) throw bad(`has rank ${shape.length}, more than the limit of ${MAX_RANK}`);
      let byteLength = dtypeInfo(dtype).byteWidth;
      for (const d of shape as number[]) {
        byteLength *= d;
        if (byteLength > MAX_TENSOR_BYTES) throw bad(`is larger than the ${MAX_TENSOR_BYTES}-byte limit per tensor`);
      }
      total += byteLength;
      if (total > MAX_PAYLOAD_BYTES) throw bad(`takes the message past the ${MAX_PAYLOAD_BYTES}-byte limit`);
      return { info: { name, dtype, shape: shape as number[] }, byteLength };
    });
  }

  /** Copies payload bytes into the message's tensors; returns what is left of `input`. */
  private fill(message: PartialMessage, input: Buffer): Buffer {
    let rest = input;
    for (;;) {
      const next = message.expected[message.tensors.size];
      if (next === undefined) return rest;
      if (next.byteLength > 0 && rest.length === 0) return rest;
      if (message.current === undefined) {
        // A fresh buffer per tensor: offset 0 suits every element size, so the typed array
        // views it in place, and the tensor does not pin the stream's chunks in memory.
        try {
          message.current = new ArrayBuffer(next.byteLength);
        } catch (e) {
          throw this.fault(`cannot allocate ${next.byteLength} bytes for tensor ${previewJson(next.info.name)} (${(e as Error).message})`);
        }
        message.filled = 0;
      }
      const n = Math.min(next.byteLength - message.filled, rest.length);
      new Uint8Array(message.current, message.filled, n).set(rest.subarray(0, n));
      message.filled += n;
      rest = rest.subarray(n);
      if (message.filled < next.byteLength) return rest;
      const { name, dtype, shape } = next.info;
      const d = dtypeInfo(dtype);
      message.tensors.set(name, Tensor.from(dtype, shape, new d.storage(message.current, 0, next.byteLength / d.byteWidth) as never));
      message.current = undefined;
    }
  }

  private fault(what: string): NumgateError {
    return new NumgateError("backend_failed", `${this.who}: message ${this.messagesRead + 1}: ${what}`);
  }
}
