import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NumgateError, type NumgateErrorCode } from "../../src/errors/numgate-error.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import {
  parseSafetensors,
  readSafetensors,
  readSafetensorsSync,
  serializeSafetensors,
  writeSafetensors,
  writeSafetensorsSync,
} from "../../src/tensor/safetensors.ts";
import { MISALIGNED_PATH, REFERENCE_PATH, expected, nums } from "../fixtures/core/expected.ts";

const tmp = mkdtempSync(join(tmpdir(), "numgate-safetensors-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Assert a NumgateError with `code` whose message names every string in `mentions`. */
function expectError(fn: () => unknown, code: NumgateErrorCode, ...mentions: string[]): NumgateError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, "expected a throw").toBeInstanceOf(NumgateError);
  const e = err as NumgateError;
  expect(e.code, e.message).toBe(code);
  for (const m of mentions) expect(e.message).toContain(m);
  return e;
}

/** A file from a raw header string (so duplicate keys survive) and a data buffer. */
function rawFile(header: string, data: Uint8Array | number = 0, headerLengthOverride?: bigint): Uint8Array {
  const h = new TextEncoder().encode(header);
  const d = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, headerLengthOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

const BAD = "corrupt/bad.safetensors";
/** Elements of any storage array (bigint ones included) as a plain array, for toEqual. */
const list = (data: ArrayLike<unknown>): unknown[] => Array.from(data);
const entry = (dtype: string, shape: number[], begin: number, end: number): string =>
  JSON.stringify({ dtype, shape, data_offsets: [begin, end] });

describe("reading the reference file written by Python safetensors", () => {
  const bytes = readFileSync(REFERENCE_PATH);
  const f = parseSafetensors(bytes, REFERENCE_PATH);

  it("lists names, shapes, dtypes and metadata", () => {
    expect(f.metadata).toEqual(expected.metadata);
    expect(new Set(f.names())).toEqual(new Set(Object.keys(expected.shapes)));
    for (const [name, shape] of Object.entries(expected.shapes)) expect(f.info(name).shape, name).toEqual(shape);
    expect(f.info("f16_vals")).toMatchObject({ dtype: "f16", byteLength: 18 });
    expect(f.info("i64_ids").dtype).toBe("i64");
    expect(f.has("f32_a")).toBe(true);
    expect(f.has("nope")).toBe(false);
  });

  it("gives the exact values numpy wrote, raw bits included", () => {
    expect(Array.from(f.get("f32_a").data as Float32Array)).toEqual(nums(expected.values["f32_a"]!));
    expect(list(f.get("f16_vals").data)).toEqual(expected.bits["f16_vals"]);
    expect(Array.from(f.get("i64_ids").data as BigInt64Array, String)).toEqual(expected.values["i64_ids"]);
    expect(list(f.get("bool_mask").data)).toEqual([1, 0, 1, 1, 0]);
    expect(f.get("empty").size).toBe(0);
    if (f.has("bf16_vals")) expect(list(f.get("bf16_vals").data)).toEqual(expected.bits["bf16_vals"]);
  });

  it("returns zero-copy views into the file buffer for aligned tensors, cached per name", () => {
    for (const name of f.names()) {
      const t = f.get(name);
      expect(t.data.buffer, name).toBe(bytes.buffer);
      expect(t.data.byteOffset % t.data.BYTES_PER_ELEMENT).toBe(0);
    }
    expect(f.get("f32_a")).toBe(f.get("f32_a"));
    expect(f.get("f32_a").origin).toEqual({ file: REFERENCE_PATH, name: "f32_a" });
  });

  it("copies misaligned tensors (the reference reader accepts the file; a view would be illegal)", () => {
    const mbytes = readFileSync(MISALIGNED_PATH);
    const m = parseSafetensors(mbytes, MISALIGNED_PATH);
    const b = m.get("b_f32");
    expect((mbytes.byteOffset + m.dataStart + 6) % 4).not.toBe(0);
    expect(b.data.buffer).not.toBe(mbytes.buffer);
    expect(Array.from(b.data as Float32Array)).toEqual(nums(expected.misaligned.b_f32));
    expect(m.get("a_f16").data.buffer).toBe(mbytes.buffer); // offset 0 is aligned
    expect(Array.from(m.get("a_f16").toFloat64())).toEqual(nums(expected.misaligned.a_f16));
    expect(list(m.get("c_u8").data)).toEqual(expected.misaligned.c_u8);
  });

  it("get of a missing name lists available names", () => {
    expectError(() => f.get("f32_c"), "tensor_missing", REFERENCE_PATH, "f32_c", '"f32_a"', '"f32_b"');
  });
});

describe("writer", () => {
  it("is byte-identical to safetensors.numpy.save_file for the same tensors", () => {
    const original = readFileSync(REFERENCE_PATH);
    const f = parseSafetensors(original, REFERENCE_PATH);
    const tensors = Object.fromEntries(f.names().map((n) => [n, f.get(n)]));
    const out = serializeSafetensors(tensors, f.metadata);
    expect(Buffer.from(out).equals(original)).toBe(true);
  });

  it("round-trips every dtype, pads the header to 8 and keeps every tensor aligned", async () => {
    const tensors: Record<string, Tensor> = {
      z_u8: Tensor.from("u8", [3], Uint8Array.of(1, 2, 3)), // odd length, sorts last by dtype
      a_f16: Tensor.from("f16", [1, 3], Uint16Array.of(0x3c00, 0x8001, 0x7c00)),
      b_bf16: Tensor.from("bf16", [1], Uint16Array.of(0x3f80)),
      c_f32: Tensor.from("f32", [2, 2], Float32Array.of(1, -2, 3.5, Math.fround(0.1))),
      d_f64: Tensor.from("f64", [2], Float64Array.of(Math.PI, -0)),
      e_i64: Tensor.from("i64", [2], BigInt64Array.of(-(2n ** 62n), 7n)),
      f_i32: Tensor.from("i32", [1], Int32Array.of(-7)),
      g_i16: Tensor.from("i16", [1], Int16Array.of(-300)),
      h_i8: Tensor.from("i8", [1], Int8Array.of(-1)),
      i_bool: Tensor.from("bool", [2], Uint8Array.of(1, 0)),
      j_empty: Tensor.from("f32", [0, 5], new Float32Array(0)),
      "ünï": Tensor.from("f32", [1], Float32Array.of(9)),
    };
    const path = join(tmp, "roundtrip.safetensors");
    await writeSafetensors(path, tensors, { b: "2", a: "1" });
    const bytes = readFileSync(path);
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + n))).toMatch(/^\{"__metadata__":\{"a":"1","b":"2"\},"e_i64".*\} *$/);

    const back = await readSafetensors(path);
    expect(back.metadata).toEqual({ a: "1", b: "2" });
    expect(new Set(back.names())).toEqual(new Set(Object.keys(tensors)));
    for (const [name, t] of Object.entries(tensors)) {
      const r = back.get(name);
      expect(r.dtype, name).toBe(t.dtype);
      expect(r.shape, name).toEqual(t.shape);
      expect(Array.from(r.data as ArrayLike<unknown>), name).toEqual(Array.from(t.data as ArrayLike<unknown>));
      // Read from disk into a buffer of its own, which the typed array views in place.
      expect(r.data.byteOffset, `${name} zero-copy`).toBe(0);
      expect(r.data.buffer.byteLength, `${name} zero-copy`).toBe(r.data.byteLength);
    }
    expect(Object.is(back.get("d_f64").data[1], -0)).toBe(true);
    // Deterministic: same input, same bytes, regardless of key insertion order.
    const reversed = Object.fromEntries(Object.entries(tensors).reverse());
    expect(Buffer.from(serializeSafetensors(reversed, { a: "1", b: "2" })).equals(bytes)).toBe(true);
  });

  it("writes views (subarrays) correctly and the sync variants agree", () => {
    const big = Float32Array.from({ length: 12 }, (_, i) => i);
    const row = Tensor.from("f32", [3, 4], big).rowView(2);
    const path = join(tmp, "view.safetensors");
    writeSafetensorsSync(path, { row });
    expect(list(readSafetensorsSync(path).get("row").data)).toEqual([8, 9, 10, 11]);
  });

  it("rejects the reserved __metadata__ name", () => {
    expectError(() => serializeSafetensors({ __metadata__: Tensor.from("u8", [1], new Uint8Array(1)) }), "safetensors_invalid", "__metadata__");
  });
});

describe("validation: every corruption is a NumgateError naming file and field", () => {
  const good = readFileSync(REFERENCE_PATH);

  it("file shorter than 8 bytes", () => {
    expectError(() => parseSafetensors(good.subarray(0, 5), BAD), "safetensors_invalid", BAD, "shorter than");
  });

  it("truncated data: offsets run past the end, naming the last tensor", () => {
    const f = parseSafetensors(good, REFERENCE_PATH);
    const last = f.names().at(-1)!;
    expectError(() => parseSafetensors(good.subarray(0, good.length - 3), BAD), "safetensors_invalid", BAD, last, "truncated");
  });

  it("header length past EOF", () => {
    const h = `{"w":${entry("F32", [1], 0, 4)}}`;
    expectError(() => parseSafetensors(rawFile(h, 4, 10_000n), BAD), "safetensors_invalid", BAD, "header", "past the end");
  });

  it("header length above the 100 MB bound", () => {
    expectError(() => parseSafetensors(rawFile("{}", 0, 2n ** 63n), BAD), "safetensors_invalid", BAD, "limit");
  });

  it("header not UTF-8, not JSON, or not an object", () => {
    const notUtf8 = rawFile("{}");
    notUtf8[8] = 0xff;
    expectError(() => parseSafetensors(notUtf8, BAD), "safetensors_invalid", BAD, "UTF-8");
    expectError(() => parseSafetensors(rawFile("{not json"), BAD), "safetensors_invalid", BAD, "not valid JSON");
    expectError(() => parseSafetensors(rawFile("[1,2]"), BAD), "safetensors_invalid", BAD, "must be an object");
  });

  it("duplicate top-level key (JSON.parse would silently keep the last)", () => {
    const h = `{"w":${entry("F32", [1], 0, 4)},"v":${entry("F32", [1], 4, 8)},"w":${entry("F32", [1], 0, 4)}}`;
    const e = expectError(() => parseSafetensors(rawFile(h, 8), BAD), "safetensors_invalid", BAD, 'duplicate key "w"');
    expect(e.field).toBe("w");
  });

  it("duplicate key inside a tensor entry", () => {
    const h = `{"w":{"dtype":"F32","shape":[1],"dtype":"I32","data_offsets":[0,4]}}`;
    const e = expectError(() => parseSafetensors(rawFile(h, 4), BAD), "safetensors_invalid", BAD, "w", 'duplicate key "dtype"');
    expect(e.field).toBe("w");
    // An escaped quote inside a string must not confuse the scan.
    const ok = `{"__metadata__":{"k":"a\\"b,\\"k\\":"},"w":${entry("F32", [1], 0, 4)}}`;
    expect(parseSafetensors(rawFile(ok, 4), BAD).metadata).toEqual({ k: 'a"b,"k":' });
  });

  it("unknown dtype", () => {
    const h = `{"w":${entry("F8_E4M3", [4], 0, 4)}}`;
    const e = expectError(() => parseSafetensors(rawFile(h, 4), BAD), "dtype_unsupported", BAD, "w", "F8_E4M3");
    expect(e.field).toBe("w");
  });

  it("shape not an array of non-negative integers", () => {
    for (const shape of ["[-1]", "[1.5]", '"3"', "[null]"]) {
      const h = `{"w":{"dtype":"U8","shape":${shape},"data_offsets":[0,1]}}`;
      expectError(() => parseSafetensors(rawFile(h, 1), BAD), "safetensors_invalid", BAD, "w", "shape");
    }
  });

  it("data_offsets not [begin, end] integers with begin <= end", () => {
    for (const offs of ["[4,0]", "[0]", "[0,1,2]", "[0,1.5]", '"0,4"']) {
      const h = `{"w":{"dtype":"U8","shape":[4],"data_offsets":${offs}}}`;
      expectError(() => parseSafetensors(rawFile(h, 4), BAD), "safetensors_invalid", BAD, "w", "data_offsets");
    }
  });

  it("byte length differs from element count x width", () => {
    const h = `{"w":${entry("F32", [2, 2], 0, 12)}}`;
    expectError(() => parseSafetensors(rawFile(h, 12), BAD), "safetensors_invalid", BAD, "w", "needs 16");
  });

  it("gap between offsets", () => {
    const h = `{"a":${entry("F32", [1], 0, 4)},"b":${entry("F32", [1], 8, 12)}}`;
    const e = expectError(() => parseSafetensors(rawFile(h, 12), BAD), "safetensors_invalid", BAD, "b", "gap");
    expect(e.field).toBe("b");
  });

  it("overlapping offsets", () => {
    const h = `{"a":${entry("F32", [2], 0, 8)},"b":${entry("F32", [1], 4, 8)}}`;
    expectError(() => parseSafetensors(rawFile(h, 8), BAD), "safetensors_invalid", BAD, "b", "overlap");
  });

  it("trailing bytes after the last tensor", () => {
    const h = `{"a":${entry("F32", [1], 0, 4)}}`;
    expectError(() => parseSafetensors(rawFile(h, 6), BAD), "safetensors_invalid", BAD, "a", "trailing");
  });

  it("metadata values must be strings", () => {
    const h = `{"__metadata__":{"n":3},"a":${entry("F32", [1], 0, 4)}}`;
    expectError(() => parseSafetensors(rawFile(h, 4), BAD), "safetensors_invalid", BAD, "__metadata__");
  });

  it("a corrupted copy on disk is reported with its path; a missing file is file_not_found", async () => {
    const path = join(tmp, "gap.safetensors");
    writeFileSync(path, rawFile(`{"a":${entry("U8", [1], 0, 1)},"b":${entry("U8", [1], 2, 3)}}`, 3));
    await expect(readSafetensors(path)).rejects.toMatchObject({ code: "safetensors_invalid", field: "b", file: path });
    await expect(readSafetensors(join(tmp, "absent.safetensors"))).rejects.toMatchObject({ code: "file_not_found" });
  });

  it("accepts a file with no tensors and zero-size tensors sharing an offset", () => {
    expect(parseSafetensors(rawFile("{}"), BAD).names()).toEqual([]);
    const h = `{"a":${entry("F32", [0], 0, 0)},"b":${entry("F32", [1], 0, 4)},"c":${entry("F16", [0, 3], 4, 4)}}`;
    expect(parseSafetensors(rawFile(h, 4), BAD).get("c").shape).toEqual([0, 3]);
  });
});
