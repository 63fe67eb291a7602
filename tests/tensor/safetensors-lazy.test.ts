import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NumgateError, type NumgateErrorCode } from "../../src/errors/numgate-error.ts";
import { readFully } from "../../src/tensor/byte-source.ts";
import { jsonNestingDepth, previewJson } from "../../src/tensor/json-limits.ts";
import { parseSafetensors, readSafetensorsSync, writeSafetensorsSync } from "../../src/tensor/safetensors.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import { REFERENCE_PATH } from "../fixtures/core/expected.ts";

const tmp = mkdtempSync(join(tmpdir(), "numgate-lazy-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const BAD = "hostile/bad.safetensors";

function expectError(fn: () => unknown, code: NumgateErrorCode, ...mentions: string[]): NumgateError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, "expected a NumgateError").toBeInstanceOf(NumgateError);
  const e = err as NumgateError;
  expect(e.code, e.message).toBe(code);
  for (const m of mentions) expect(e.message).toContain(m);
  return e;
}

function rawFile(header: string, data = 0): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

describe("lazy reading from disk", () => {
  it("reads tensors on demand, equal to the in-memory parse", () => {
    const f = readSafetensorsSync(REFERENCE_PATH);
    const m = parseSafetensors(readFileSync(REFERENCE_PATH), REFERENCE_PATH);
    expect(f.names()).toEqual(m.names());
    expect(f.dataStart).toBe(m.dataStart);
    for (const name of f.names()) expect(Array.from(f.get(name).data as ArrayLike<unknown>), name).toEqual(Array.from(m.get(name).data as ArrayLike<unknown>));
    f.close();
    expectError(() => f.get("f32_a"), "internal", REFERENCE_PATH, "after close");
  });

  it("a truncated file fails at open, naming the file and the last tensor", () => {
    const path = join(tmp, "truncated.safetensors");
    const bytes = readFileSync(REFERENCE_PATH);
    writeFileSync(path, bytes.subarray(0, bytes.length - 3));
    const last = parseSafetensors(bytes, REFERENCE_PATH).names().at(-1)!;
    const e = expectError(() => readSafetensorsSync(path), "safetensors_invalid", path, last, "truncated");
    expect(e.field).toBe(last);
  });

  it("a file rewritten after open fails loudly on the next read", () => {
    const path = join(tmp, "rewritten.safetensors");
    writeSafetensorsSync(path, { a: Tensor.from("f32", [2], Float32Array.of(1, 2)), b: Tensor.from("f32", [1], Float32Array.of(3)) });
    const f = readSafetensorsSync(path);
    expect(Array.from(f.get("a").data as Float32Array)).toEqual([1, 2]);
    truncateSync(path, 10);
    expectError(() => f.get("b"), "file_unreadable", path, "b", "changed since it was opened");
  });

  it("a file that only changed mtime is also refused (the bytes may differ)", () => {
    const path = join(tmp, "touched.safetensors");
    writeSafetensorsSync(path, { a: Tensor.from("u8", [1], Uint8Array.of(1)) });
    const f = readSafetensorsSync(path);
    utimesSync(path, new Date(2000, 1, 1), new Date(2000, 1, 1));
    expectError(() => f.get("a"), "file_unreadable", "changed");
  });

  it("a file rewritten in place with its size and modification time put back is refused too (its change time moved)", async () => {
    const path = join(tmp, "restored.safetensors");
    const write = (b: number) => writeSafetensorsSync(path, { a: Tensor.from("f32", [1], Float32Array.of(1)), b: Tensor.from("f32", [1], Float32Array.of(b)) });
    write(2);
    utimesSync(path, 1_000_000_000, 1_000_000_000);
    const f = readSafetensorsSync(path);
    expect(Array.from(f.get("a").data as Float32Array)).toEqual([1]);
    // Past the file system's timestamp tick (a jiffy at most), so the rewrite's ctime differs.
    await new Promise((r) => setTimeout(r, 30));
    write(3);
    utimesSync(path, 1_000_000_000, 1_000_000_000);
    expectError(() => f.get("b"), "file_unreadable", path, "b", "changed since it was opened");
  });

  it("holds no file descriptor between reads, so an unclosed reader leaks nothing", () => {
    const probe = (): number => {
      const fd = openSync(REFERENCE_PATH, "r");
      closeSync(fd);
      return fd;
    };
    const before = probe();
    const files = Array.from({ length: 50 }, () => readSafetensorsSync(REFERENCE_PATH));
    for (const f of files) f.get("f32_a");
    expect(probe()).toBe(before);
  });

  it("reads a range in chunks of any size", () => {
    const bytes = readFileSync(REFERENCE_PATH);
    const fd = openSync(REFERENCE_PATH, "r");
    try {
      for (const chunk of [1, 3, 64, 1 << 20]) {
        const buf = new ArrayBuffer(100);
        readFully(fd, buf, 17, 100, REFERENCE_PATH, "range", chunk);
        expect(Buffer.from(buf).equals(bytes.subarray(17, 117)), `chunk ${chunk}`).toBe(true);
      }
      expectError(() => readFully(fd, new ArrayBuffer(16), bytes.length - 8, 16, REFERENCE_PATH, "tail"), "file_unreadable", "tail", "truncated");
    } finally {
      closeSync(fd);
    }
  });

  it("a directory or a missing path is a NumgateError", () => {
    expectError(() => readSafetensorsSync(tmp), "file_unreadable", tmp);
    expectError(() => readSafetensorsSync(join(tmp, "absent.safetensors")), "file_not_found");
  });

  it("the writer streams the same bytes as before (byte-identical to Python)", () => {
    const original = readFileSync(REFERENCE_PATH);
    const f = readSafetensorsSync(REFERENCE_PATH);
    const path = join(tmp, "copy.safetensors");
    writeSafetensorsSync(path, Object.fromEntries(f.names().map((n) => [n, f.get(n)])), f.metadata);
    expect(readFileSync(path).equals(original)).toBe(true);
  });
});

describe("hostile headers end in safetensors_invalid, never a RangeError", () => {
  it("deep nesting in shape, in an extra field, and at top level", () => {
    const deep = "[".repeat(5000) + "]".repeat(5000);
    expectError(() => parseSafetensors(rawFile(`{"w":{"dtype":"U8","shape":${deep},"data_offsets":[0,0]}}`), BAD), "safetensors_invalid", BAD, "nests deeper than 32 levels");
    expectError(() => parseSafetensors(rawFile(`{"w":{"dtype":"U8","shape":[0],"data_offsets":[0,0],"x":${deep}}}`), BAD), "safetensors_invalid", "nests deeper");
    expectError(() => parseSafetensors(rawFile("{".repeat(100000)), BAD), "safetensors_invalid", "nests deeper");
    // Brackets inside strings are not nesting.
    expect(parseSafetensors(rawFile(`{"__metadata__":{"k":"${"[".repeat(100)}"}}`), BAD).metadata["k"]).toHaveLength(100);
  });

  it("moderate nesting within the bound still gets a clear, short message", () => {
    const e = expectError(() => parseSafetensors(rawFile(`{"w":{"dtype":"U8","shape":${"[".repeat(20)}${"]".repeat(20)},"data_offsets":[0,0]}}`), BAD), "safetensors_invalid", "shape");
    expect(e.message.length).toBeLessThan(300);
  });

  it("rank, element count overflow hidden by a zero, and huge offsets", () => {
    const rank = Array(65).fill(1);
    expectError(() => parseSafetensors(rawFile(`{"w":{"dtype":"U8","shape":${JSON.stringify(rank)},"data_offsets":[0,1]}}`, 1), BAD), "safetensors_invalid", "rank 65");
    const hidden = `{"w":{"dtype":"U8","shape":[1073741824,1073741824,0],"data_offsets":[0,0]}}`;
    expectError(() => parseSafetensors(rawFile(hidden), BAD), "safetensors_invalid", "2^53");
    const huge = `{"w":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4398046511104]}}`;
    expectError(() => parseSafetensors(rawFile(huge, 4), BAD), "safetensors_invalid", "w", "truncated");
    const beyond = `{"w":{"dtype":"U8","shape":[1],"data_offsets":[9007199254740992,9007199254740993]}}`;
    expectError(() => parseSafetensors(rawFile(beyond, 1), BAD), "safetensors_invalid", "data_offsets");
  });

  it("very long shapes and names are previewed, not dumped into the message", () => {
    const long = Array(100000).fill(-1);
    const e = expectError(() => parseSafetensors(rawFile(`{"w":{"dtype":"U8","shape":${JSON.stringify(long)},"data_offsets":[0,0]}}`), BAD), "safetensors_invalid", "100000 items");
    expect(e.message.length).toBeLessThan(300);
  });
});

describe("json limits", () => {
  it("measures nesting outside strings, stopping past the limit", () => {
    expect(jsonNestingDepth('{"a":[1,{"b":"[[[["}]}')).toBe(3);
    expect(jsonNestingDepth('"\\"[" [')).toBe(1);
    expect(jsonNestingDepth("[".repeat(1000), 10)).toBe(11);
  });

  it("previews values in one bounded line", () => {
    expect(previewJson([1, [2, 3], { a: 1 }, "x", null])).toBe('[1,[...2 items],{...},"x",null]');
    expect(previewJson({ a: [1], b: "y".repeat(100) })).toBe(`{"a":[...1 items],"b":"${"y".repeat(40)}..."}`);
    expect(previewJson(Array(20).fill(0), 2)).toBe("[0,0,... (20 items)]");
  });
});
