/**
 * Recorded engine frames: every request numgate sent an engine and the answer it got, keyed by a
 * hash of the request (op, fields and tensor bytes; not the request id), so that a run made on
 * hardware CI does not have (a GPU, a Mac) can be re-made anywhere by the replay engine.
 *
 * One file per answer: <dir>/<op>-<key>.<n>.bin.gz, n counting repeats of an identical request
 * (a determinism probe sends the same request twice and may get two answers).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import type { Tensor } from "../../tensor/tensor.ts";
import { encodeMessage, MessageReader, type WireMessage } from "./wire.ts";

/** Canonical JSON: sorted keys, so field order never changes a key. */
function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(",")}]`;
  if (x !== null && typeof x === "object") {
    return `{${Object.keys(x as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((x as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(x);
}

export function requestKey(header: Record<string, unknown>, tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>): string {
  const h = createHash("sha256");
  const { id: _id, tensors: _infos, ...fields } = header;
  h.update(canonical(fields));
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of entries) {
    h.update(`\n${name}:${t.dtype}:${t.shape.join("x")}\n`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest("hex").slice(0, 32);
}

const fileName = (op: string, key: string, n: number) => `${op}-${key}.${n}.bin.gz`;

export class FrameRecorder {
  private readonly seen = new Map<string, number>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  add(op: string, key: string, answer: WireMessage): void {
    const n = this.seen.get(key) ?? 0;
    this.seen.set(key, n + 1);
    const { id: _id, tensors: _infos, ...fields } = answer.header;
    // mtime 0 in the gzip header keeps re-recordings byte-identical.
    writeFileSync(join(this.dir, fileName(op, key, n)), gzipSync(encodeMessage(fields, Object.fromEntries(answer.tensors)), { level: 9 }));
  }
}

export class FrameStore {
  private readonly files = new Map<string, string[]>();
  private readonly served = new Map<string, number>();

  constructor(readonly dir: string) {
    for (const f of readdirSync(dir).sort()) {
      const m = /^[a-z_]+-([0-9a-f]{32})\.(\d+)\.bin\.gz$/.exec(f);
      if (m === null) continue;
      const list = this.files.get(m[1] ?? "") ?? [];
      list[Number(m[2])] = join(dir, f);
      this.files.set(m[1] ?? "", list);
    }
  }

  get size(): number {
    return this.files.size;
  }

  /** The recorded answer to this request (repeats served in order, the last one again after), or undefined. */
  answer(key: string): WireMessage | undefined {
    const list = this.files.get(key);
    if (list === undefined || list.length === 0) return undefined;
    const i = Math.min(this.served.get(key) ?? 0, list.length - 1);
    this.served.set(key, i + 1);
    const file = list[i];
    if (file === undefined) return undefined;
    const [m] = new MessageReader(`recorded frame ${file}`).push(gunzipSync(readFileSync(file)));
    return m;
  }
}
