/**
 * numgate's engine wire format (protocol "numgate-engine/2"), shared by the client backend and
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
import { Tensor } from "../../tensor/tensor.ts";

export const PROTOCOL = "numgate-engine/2";
/** Upper bound on one header, so a garbled stream fails fast instead of allocating gigabytes. */
export const MAX_HEADER = 16 * 1024 * 1024;
/** Upper bound on one message's tensor bytes: a frame declaring more is refused before any wait. */
export const MAX_PAYLOAD = 2 * 1024 * 1024 * 1024;

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

function byteLength(info: WireTensorInfo): number {
  return info.shape.reduce((a, b) => a * b, 1) * dtypeInfo(info.dtype).byteWidth;
}

/**
 * Incremental decoder: feed it chunks from a stream, get whole messages out. Throws a
 * NumgateError ("backend_failed") on a malformed stream, naming what was wrong.
 */
export class MessageReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly who: string) {}

  push(chunk: Buffer): WireMessage[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: WireMessage[] = [];
    for (;;) {
      if (this.buf.length < 4) return out;
      const hlen = this.buf.readUInt32LE(0);
      if (hlen === 0 || hlen > MAX_HEADER) throw this.fault(`header length ${hlen} is out of range (the stream is not ${PROTOCOL})`);
      if (this.buf.length < 4 + hlen) return out;
      let header: WireMessage["header"];
      try {
        header = JSON.parse(this.buf.subarray(4, 4 + hlen).toString("utf8")) as WireMessage["header"];
      } catch (e) {
        throw this.fault(`header is not JSON: ${(e as Error).message}`);
      }
      const infos = Array.isArray(header.tensors) ? header.tensors : [];
      for (const [i, t] of infos.entries()) {
        if (typeof t?.name !== "string" || !isDType(String(t.dtype)) || !Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
          throw this.fault(`tensors[${i}] is not {name, dtype, shape}: ${JSON.stringify(t).slice(0, 200)}`);
        }
      }
      const total = infos.reduce((a, t) => a + byteLength(t), 0);
      if (total > MAX_PAYLOAD) throw this.fault(`payload of ${total} bytes exceeds the ${MAX_PAYLOAD}-byte limit`);
      if (this.buf.length < 4 + hlen + total) return out;
      const tensors = new Map<string, Tensor>();
      let off = 4 + hlen;
      for (const t of infos) {
        const n = byteLength(t);
        // Copy out of the stream buffer: it is reused, and typed arrays need aligned offsets.
        const bytes = new Uint8Array(n);
        bytes.set(this.buf.subarray(off, off + n));
        const Ctor = dtypeInfo(t.dtype).storage;
        tensors.set(t.name, Tensor.from(t.dtype, t.shape, new Ctor(bytes.buffer, 0, n / dtypeInfo(t.dtype).byteWidth) as never));
        off += n;
      }
      this.buf = this.buf.subarray(off);
      out.push({ header, tensors });
    }
  }

  private fault(what: string): NumgateError {
    return new NumgateError("backend_failed", `${this.who}: ${what}`);
  }
}
