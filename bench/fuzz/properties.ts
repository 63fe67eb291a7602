/**
 * Property-based fuzzing of numgate's two binary readers, shared by the quick runs in `npm test`
 * (tests/tensor/fuzz-safetensors.test.ts, tests/backends/wire-fuzz.test.ts) and the nightly
 * run (bench/fuzz/readers.ts).
 *
 * The property for both: any input either parses (and every tensor read then succeeds or
 * throws a NumgateError) or is refused with a NumgateError. Any other exception is a bug.
 * Inputs are random bytes, real dumps and valid frames with bytes flipped, inserted and
 * deleted, headers rewritten with random or hostile JSON (deep nesting, huge offsets), and for
 * the wire, arbitrary chunking (which must not change the outcome).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { isNumgateError } from "../../src/errors/numgate-error.ts";
import { encodeMessage, MessageReader, type WireMessage } from "../../src/backends/engine/wire.ts";
import { ALL_DTYPES, DTYPES, type DType } from "../../src/tensor/dtype.ts";
import { parseSafetensors, readSafetensorsSync, serializeSafetensors } from "../../src/tensor/safetensors.ts";
import { Tensor } from "../../src/tensor/tensor.ts";

const ROOT = join(import.meta.dirname, "..", "..");

/** Small real dumps written by Python safetensors (the mutation seeds). */
export const SEED_DUMPS: readonly { readonly name: string; readonly bytes: Uint8Array }[] = [
  "tests/fixtures/core/reference.safetensors",
  "tests/fixtures/core/misaligned.safetensors",
  "tests/fixtures/oracle-hf-smoke/prompts/batch-left-padded.safetensors",
  "oracles/qwen3-vl-tiny/prompts/batch-left-padded.safetensors",
].map((p) => ({ name: p, bytes: new Uint8Array(readFileSync(join(ROOT, p))) }));

// --- shared generators -----------------------------------------------------------------------

export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; count: number }
  | { kind: "truncate"; at: number }
  | { kind: "token"; at: number; text: string };

const JSON_TOKENS = ['"', "{", "}", "[", "]", ",", ":", "-1", "1e999", "\\u0000", "null", "9007199254740993", "[[[[[[[[", '"shape"', "\\"];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("token" as const), at: fc.nat(), text: fc.constantFrom(...JSON_TOKENS) }),
);

/** 1-4 mutations, half of them aimed at the first `focus` bytes (the header, where parsing happens). */
const mutations = fc.array(fc.tuple(mutation, fc.boolean()), { minLength: 1, maxLength: 4 });

export function applyMutations(bytes: Uint8Array, muts: readonly (readonly [Mutation, boolean])[], focus: number): Uint8Array {
  let b: Uint8Array = Uint8Array.from(bytes);
  for (const [m, inHeader] of muts) {
    const span = Math.max(1, inHeader ? Math.min(focus, b.length) : b.length);
    const at = m.at % span;
    switch (m.kind) {
      case "flip":
        if (b.length > 0) b[at % b.length]! ^= 1 << m.bit;
        break;
      case "set":
        if (b.length > 0) b[at % b.length] = m.value;
        break;
      case "insert":
        b = concat(b.subarray(0, at), m.bytes, b.subarray(at));
        break;
      case "delete":
        b = concat(b.subarray(0, at), b.subarray(at + m.count));
        break;
      case "truncate":
        b = b.slice(0, at);
        break;
      case "token":
        b = concat(b.subarray(0, at), new TextEncoder().encode(m.text), b.subarray(at));
        break;
    }
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Numbers that sit on the boundaries readers get wrong. */
const edgyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 4, 7, 8, -1, 0.5, -0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1, 2 ** 53, 2 ** 64, 1e308),
  fc.nat({ max: 64 }),
  fc.integer(),
  fc.double(),
);

/** "[[[...]]]" or "{"a":{"a":...}}", from just past the bound to far past it. */
const deepJson: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 20, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) => (arrays ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth)));

const edgyValue: fc.Arbitrary<string> = fc.oneof(
  edgyNumber.map((n) => JSON.stringify(n)),
  fc.array(edgyNumber, { maxLength: 6 }).map((a) => JSON.stringify(a)),
  fc.array(edgyNumber, { minLength: 60, maxLength: 200 }).map((a) => JSON.stringify(a)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.constantFrom(...ALL_DTYPES.map((d) => JSON.stringify(DTYPES[d].safetensors)), '"F8_E4M3"', '"f32"', '""', "null", "true", "{}", "[]"),
  deepJson,
);

/** Random small tensors of every dtype (the valid inputs). */
const tensor: fc.Arbitrary<Tensor> = fc
  .tuple(fc.constantFrom(...ALL_DTYPES), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), fc.uint8Array({ maxLength: 512 }))
  .map(([dtype, shape, seed]) => {
    const d = DTYPES[dtype as DType];
    const count = shape.reduce((a, b) => a * b, 1);
    const bytes = new Uint8Array(count * d.byteWidth);
    for (let i = 0; i < bytes.length; i++) bytes[i] = seed.length === 0 ? i : seed[i % seed.length]!;
    return Tensor.from(dtype, shape, new d.storage(bytes.buffer, 0, count) as never);
  });

const tensorName = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("logits", "hidden_states", "a", "ü", ""));

// --- safetensors -----------------------------------------------------------------------------

export interface SafetensorsCase {
  readonly how: string;
  readonly bytes: Uint8Array;
  /** Also open it from disk (slower; a fraction of the cases). */
  readonly viaFile: boolean;
}

function withHeader(header: string, data: Uint8Array, lengthOverride?: bigint): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function splitDump(bytes: Uint8Array): { header: string; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: new TextDecoder().decode(bytes.subarray(8, 8 + n)), data: bytes.subarray(8 + n) };
}

const seedDump = fc.constantFrom(...SEED_DUMPS);

const mutatedDump = fc.tuple(seedDump, mutations).map(([seed, muts]) => {
  const headerEnd = 8 + Number(new DataView(seed.bytes.buffer, seed.bytes.byteOffset).getBigUint64(0, true));
  return { how: `mutated ${seed.name}`, bytes: applyMutations(seed.bytes, muts, headerEnd) };
});

/** One field of one entry of a real header replaced by an edgy value (structure kept, so deeper checks run). */
const editedHeader = fc
  .tuple(seedDump, fc.nat(), fc.constantFrom("dtype", "shape", "data_offsets", "extra", "entry", "__metadata__", "duplicate"), edgyValue, fc.integer({ min: -8, max: 8 }))
  .map(([seed, pick, field, value, dataDelta]) => {
    const { header, data } = splitDump(seed.bytes);
    const parsed = JSON.parse(header) as Record<string, Record<string, unknown>>;
    const names = Object.keys(parsed).filter((k) => k !== "__metadata__");
    const name = names[pick % Math.max(1, names.length)] ?? "w";
    let text: string;
    if (field === "__metadata__") {
      text = `{"__metadata__":${value}${names.length > 0 ? "," : ""}${names.map((n) => `${JSON.stringify(n)}:${JSON.stringify(parsed[n])}`).join(",")}}`;
    } else if (field === "duplicate") {
      text = `{${[...Object.keys(parsed), name].map((n) => `${JSON.stringify(n)}:${JSON.stringify(parsed[n] ?? {})}`).join(",")}}`;
    } else {
      const parts = Object.keys(parsed).map((n) => {
        if (n !== name) return `${JSON.stringify(n)}:${JSON.stringify(parsed[n])}`;
        if (field === "entry") return `${JSON.stringify(n)}:${value}`;
        const entry = Object.entries(parsed[n] ?? {}).map(([k, v]) => `${JSON.stringify(k)}:${k === field ? value : JSON.stringify(v)}`);
        if (field === "extra") entry.push(`"extra":${value}`);
        return `${JSON.stringify(n)}:{${entry.join(",")}}`;
      });
      text = `{${parts.join(",")}}`;
    }
    const newData = dataDelta >= 0 ? concat(data, new Uint8Array(dataDelta)) : data.subarray(0, Math.max(0, data.length + dataDelta));
    return { how: `${field} of ${JSON.stringify(name)} in ${seed.name} set to ${value.slice(0, 60)}`, bytes: withHeader(text, newData) };
  });

/** A header of random JSON, or of entries with random fields, over random data. */
const randomHeader = fc
  .tuple(
    fc.oneof(
      fc.json({ maxDepth: 4 }),
      deepJson,
      fc
        .array(fc.tuple(tensorName, fc.constantFrom("dtype", "shape", "data_offsets"), edgyValue), { maxLength: 4 })
        .map((fields) => `{${fields.map(([n, k, v]) => `${JSON.stringify(n)}:{${JSON.stringify(k)}:${v}}`).join(",")}}`),
      fc
        .array(fc.tuple(tensorName, edgyValue, edgyValue, edgyValue), { maxLength: 4 })
        .map((es) => `{${es.map(([n, d, s, o]) => `${JSON.stringify(n)}:{"dtype":${d},"shape":${s},"data_offsets":${o}}`).join(",")}}`),
    ),
    fc.uint8Array({ maxLength: 64 }),
    fc.option(fc.constantFrom(0n, 1n, 7n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 99_999_999n, 100_000_001n), { nil: undefined }),
  )
  .map(([header, data, len]) => ({ how: `header ${header.slice(0, 80)}`, bytes: withHeader(header, data, len) }));

/** Valid files of random tensors, sometimes mutated. */
const writtenFile = fc
  .tuple(fc.dictionary(tensorName, tensor, { maxKeys: 5 }), fc.oneof(fc.constant(undefined), mutations))
  .filter(([tensors]) => !Object.hasOwn(tensors, "__metadata__"))
  .map(([tensors, muts]) => {
    const bytes = serializeSafetensors(tensors);
    return { how: muts === undefined ? "written" : "written then mutated", bytes: muts === undefined ? bytes : applyMutations(bytes, muts, bytes.length) };
  });

const randomBytes = fc.uint8Array({ maxLength: 256 }).map((bytes) => ({ how: "random bytes", bytes }));

export const safetensorsCase: fc.Arbitrary<SafetensorsCase> = fc
  .tuple(fc.oneof(mutatedDump, editedHeader, randomHeader, writtenFile, randomBytes), fc.integer({ min: 0, max: 9 }))
  .map(([c, k]) => ({ ...c, viaFile: k === 0 }));

let scratchDir: string | undefined;
/** A temp dir for the from-disk cases; removed by cleanupFuzzFiles(). */
function scratchPath(): string {
  scratchDir ??= mkdtempSync(join(tmpdir(), "numgate-fuzz-"));
  return join(scratchDir, "case.safetensors");
}
export function cleanupFuzzFiles(): void {
  if (scratchDir !== undefined) rmSync(scratchDir, { recursive: true, force: true });
  scratchDir = undefined;
}

export type Outcome = "accepted" | "rejected";

/**
 * Opens the case and reads every tensor. Returns whether the file was accepted; throws (a
 * non-NumgateError, or an Error describing a broken invariant) when the property fails.
 */
export function checkSafetensorsCase(c: SafetensorsCase): Outcome {
  const outcome = openAndReadAll(() => parseSafetensors(c.bytes, "fuzz.safetensors"), c.bytes);
  if (c.viaFile) {
    const path = scratchPath();
    writeFileSync(path, c.bytes);
    const fromDisk = openAndReadAll(() => readSafetensorsSync(path), c.bytes);
    if (fromDisk !== outcome) throw new Error(`in memory the file was ${outcome}, from disk ${fromDisk}`);
  }
  return outcome;
}

function openAndReadAll(open: () => ReturnType<typeof parseSafetensors>, bytes: Uint8Array): Outcome {
  let f: ReturnType<typeof parseSafetensors>;
  try {
    f = open();
  } catch (e) {
    if (isNumgateError(e)) return "rejected";
    throw e;
  }
  for (const name of f.names()) {
    const info = f.info(name);
    let t: Tensor;
    try {
      t = f.get(name);
    } catch (e) {
      if (isNumgateError(e)) continue;
      throw e;
    }
    // An accepted tensor must be exactly the bytes the header points at.
    const begin = f.dataStart + info.dataOffsets[0];
    const got = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (t.dtype !== info.dtype || got.length !== info.byteLength || !Buffer.from(got).equals(bytes.subarray(begin, begin + info.byteLength))) {
      throw new Error(`tensor ${JSON.stringify(name)} does not hold the bytes its header points at`);
    }
  }
  f.close();
  return "accepted";
}

// --- engine wire -----------------------------------------------------------------------------

export interface WireCase {
  readonly how: string;
  readonly bytes: Uint8Array;
  /** Cut points (taken modulo the length) at which the stream is split into pushes. */
  readonly cuts: readonly number[];
  /** For untouched valid frames: the tensors each message must deliver. */
  readonly expected: readonly ReadonlyMap<string, Tensor>[] | undefined;
}

const frameHeader = fc.dictionary(
  fc.constantFrom("id", "op", "ok", "error", "cache", "protocol", "x"),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 4 },
);
const validFrames = fc.array(fc.tuple(frameHeader, fc.dictionary(tensorName, tensor, { maxKeys: 3 })), { minLength: 1, maxLength: 3 }).map((frames) => {
  const messages = frames.map(([h, t]) => ({ header: h, tensors: t }));
  const bytes = concat(...messages.map((m) => new Uint8Array(encodeMessage(m.header, m.tensors))));
  return { bytes, messages };
});

function frame(header: string, payload: Uint8Array, lengthOverride?: number): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(4 + h.length + payload.length);
  new DataView(out.buffer).setUint32(0, lengthOverride ?? h.length, true);
  out.set(h, 4);
  out.set(payload, 4 + h.length);
  return out;
}

const wireInput: fc.Arbitrary<Omit<WireCase, "cuts">> = fc.oneof(
  validFrames.map(({ bytes }) => ({ how: "valid frames", bytes, expected: undefined })),
  validFrames.map(({ bytes, messages }) => ({
    how: "valid frames (checked)",
    bytes,
    expected: messages.map((m) => new Map(Object.entries(m.tensors))),
  })),
  fc.tuple(validFrames, mutations).map(([{ bytes }, muts]) => ({ how: "mutated frames", bytes: applyMutations(bytes, muts, 64), expected: undefined })),
  fc
    .tuple(
      fc.oneof(
        fc.json({ maxDepth: 4 }),
        deepJson,
        fc.array(fc.tuple(edgyValue, edgyValue, edgyValue), { maxLength: 4 }).map((ts) => `{"id":1,"tensors":[${ts.map(([n, d, s]) => `{"name":${n},"dtype":${d},"shape":${s}}`).join(",")}]}`),
        fc
          .array(fc.tuple(tensorName, fc.constantFrom(...ALL_DTYPES), fc.array(edgyNumber, { maxLength: 4 })), { maxLength: 3 })
          .map((ts) => JSON.stringify({ id: 1, tensors: ts.map(([name, dtype, shape]) => ({ name, dtype, shape })) })),
        fc.constantFrom("null", "[]", '"x"', "1", '{"tensors":{}}', '{"tensors":null}', '{"tensors":[null]}', '{"tensors":"abc"}'),
      ),
      fc.uint8Array({ maxLength: 128 }),
      fc.option(fc.constantFrom(0, 1, 3, 2 ** 24, 2 ** 24 + 1, 2 ** 31, 2 ** 32 - 1), { nil: undefined }),
    )
    .map(([header, payload, len]) => ({ how: `frame with header ${header.slice(0, 80)}`, bytes: frame(header, payload, len), expected: undefined })),
  fc.uint8Array({ maxLength: 256 }).map((bytes) => ({ how: "random bytes", bytes, expected: undefined })),
);

export const wireCase: fc.Arbitrary<WireCase> = fc
  .tuple(wireInput, fc.array(fc.nat(), { maxLength: 8 }))
  .map(([input, cuts]) => ({ ...input, cuts }));

type WireResult = { messages: WireMessage[]; error: string | undefined };

function decode(bytes: Uint8Array, cuts: readonly number[]): WireResult {
  const reader = new MessageReader("fuzz engine");
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(Buffer.from(bytes.subarray(last, p)));
    last = p;
  }
  const messages: WireMessage[] = [];
  for (const chunk of chunks) {
    try {
      messages.push(...reader.push(chunk));
    } catch (e) {
      if (!isNumgateError(e)) throw e;
      if (e.code !== "backend_failed") throw new Error(`wire error has code ${e.code}, not backend_failed: ${e.message}`);
      // The stream has lost its framing: the reader must keep refusing it.
      let again: unknown;
      try {
        reader.push(Buffer.from([0, 0, 0, 0]));
      } catch (e2) {
        again = e2;
      }
      if (again !== e) throw new Error("the reader accepted bytes after a malformed frame");
      return { messages, error: e.message };
    }
  }
  return { messages, error: undefined };
}

function sameTensor(a: Tensor, b: Tensor): boolean {
  const bytes = (t: Tensor): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return a.dtype === b.dtype && JSON.stringify(a.shape) === JSON.stringify(b.shape) && bytes(a).equals(bytes(b));
}

/** Decodes in one push and in the case's chunks: same outcome either way, NumgateErrors only. */
export function checkWireCase(c: WireCase): Outcome {
  const whole = decode(c.bytes, []);
  const chunked = decode(c.bytes, c.cuts);
  if (whole.error !== chunked.error) throw new Error(`chunking changed the outcome: ${whole.error ?? "ok"} vs ${chunked.error ?? "ok"}`);
  if (whole.error === undefined && chunked.messages.length !== whole.messages.length) throw new Error("chunking changed the number of messages");
  for (const [i, m] of chunked.messages.entries()) {
    const w = whole.messages[i];
    if (w !== undefined && (JSON.stringify(w.header) !== JSON.stringify(m.header) || ![...w.tensors].every(([n, t]) => m.tensors.has(n) && sameTensor(t, m.tensors.get(n)!)))) {
      throw new Error(`chunking changed message ${i + 1}`);
    }
  }
  if (c.expected !== undefined) {
    if (chunked.error !== undefined) throw new Error(`valid frames were refused: ${chunked.error}`);
    if (chunked.messages.length !== c.expected.length) throw new Error(`${c.expected.length} frames sent, ${chunked.messages.length} decoded`);
    for (const [i, want] of c.expected.entries()) {
      const got = chunked.messages[i]!;
      if (got.tensors.size !== want.size || ![...want].every(([n, t]) => got.tensors.has(n) && sameTensor(t, got.tensors.get(n)!))) {
        throw new Error(`frame ${i + 1} did not round-trip its tensors`);
      }
    }
  }
  return whole.error === undefined ? "accepted" : "rejected";
}
