import { describe, expect, it } from "vitest";
import { NumgateError } from "../../src/errors/numgate-error.ts";
import { encodeMessage, MAX_HEADER_BYTES, MessageReader } from "../../src/backends/engine/wire.ts";
import { Tensor } from "../../src/tensor/tensor.ts";

function frame(header: string, payload: Uint8Array = new Uint8Array(0), length?: number): Buffer {
  const h = Buffer.from(header, "utf8");
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(length ?? h.length, 0);
  return Buffer.concat([prefix, h, payload]);
}

function refusal(bytes: Buffer): NumgateError {
  let err: unknown;
  try {
    new MessageReader("test engine").push(bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(NumgateError);
  expect((err as NumgateError).code).toBe("backend_failed");
  expect((err as NumgateError).message).toContain("test engine: message 1:");
  return err as NumgateError;
}

describe("malformed engine frames are backend_failed, never another exception", () => {
  it("header length, encoding, JSON and shape of the header", () => {
    expect(refusal(frame("{}", undefined, 0)).message).toContain("out of range");
    expect(refusal(frame("{}", undefined, MAX_HEADER_BYTES + 1)).message).toContain("out of range");
    expect(refusal(Buffer.concat([frame("{}").subarray(0, 4), Buffer.from([0xff, 0xfe])])).message).toMatch(/out of range|UTF-8/);
    const badUtf8 = frame("{}");
    badUtf8[4] = 0xff;
    expect(refusal(badUtf8).message).toContain("not valid UTF-8");
    expect(refusal(frame("{nope")).message).toContain("not JSON");
    for (const h of ["null", "[]", "1", '"x"']) expect(refusal(frame(h)).message).toContain("must be a JSON object");
  });

  it("deep nesting, anywhere in the header", () => {
    const deep = "[".repeat(50_000) + "]".repeat(50_000);
    expect(refusal(frame(deep)).message).toContain("nests deeper than 32 levels");
    expect(refusal(frame(`{"tensors":[{"name":${deep}}]}`)).message).toContain("nests deeper");
  });

  it("tensor lists: not an array, bad entries, duplicates, rank and sizes", () => {
    expect(refusal(frame('{"tensors":{}}')).message).toContain("must be an array");
    expect(refusal(frame('{"tensors":[null]}')).message).toContain("tensors[0] is not {name, dtype, shape}");
    expect(refusal(frame('{"tensors":[{"name":1,"dtype":"f32","shape":[]}]}')).message).toContain("no string name");
    expect(refusal(frame('{"tensors":[{"name":"a","dtype":"F32","shape":[]}]}')).message).toContain("no known dtype");
    expect(refusal(frame('{"tensors":[{"name":"a","dtype":"f32","shape":[-1]}]}')).message).toContain("non-negative integers");
    const twice = '{"tensors":[{"name":"a","dtype":"u8","shape":[1]},{"name":"a","dtype":"u8","shape":[1]}]}';
    expect(refusal(frame(twice)).message).toContain('repeats the name "a"');
    expect(refusal(frame(`{"tensors":[{"name":"a","dtype":"u8","shape":${JSON.stringify(Array(65).fill(1))}}]}`)).message).toContain("rank 65");
    expect(refusal(frame('{"tensors":[{"name":"a","dtype":"f32","shape":[1073741824,2]}]}')).message).toContain("limit per tensor");
    // A zero dimension does not hide an oversized prefix of the shape.
    expect(refusal(frame('{"tensors":[{"name":"a","dtype":"f32","shape":[9007199254740991,4,0]}]}')).message).toContain("limit per tensor");
    const many = Array.from({ length: 5 }, (_, i) => `{"name":"t${i}","dtype":"f64","shape":[536870912]}`).join(",");
    expect(refusal(frame(`{"tensors":[${many}]}`)).message).toContain("past the 17179869184-byte limit");
    expect(refusal(frame(`{"tensors":[${Array(4097).fill('{"name":"x","dtype":"u8","shape":[0]}').join(",")}]}`)).message).toContain("4097 tensors");
  });

  it("after a malformed frame the reader keeps refusing (the framing is lost)", () => {
    const reader = new MessageReader("test engine");
    let first: unknown;
    try {
      reader.push(frame("null"));
    } catch (e) {
      first = e;
    }
    expect(first).toBeInstanceOf(NumgateError);
    expect(() => reader.push(encodeMessage({ id: 1 }))).toThrow(first as Error);
  });
});

describe("payloads", () => {
  it("a large message in small chunks is decoded with one copy per byte (no re-concatenation)", () => {
    const big = Tensor.from("f32", [1 << 20], Float32Array.from({ length: 1 << 20 }, (_, i) => i));
    const bytes = encodeMessage({ id: 1 }, { big, empty: Tensor.from("f16", [0], new Uint16Array(0)) });
    const reader = new MessageReader("test");
    const got = [];
    const t0 = performance.now();
    for (let i = 0; i < bytes.length; i += 4096) got.push(...reader.push(bytes.subarray(i, i + 4096)));
    expect(performance.now() - t0).toBeLessThan(2000); // re-concatenating per chunk would copy ~2 GB here
    expect(got).toHaveLength(1);
    const t = got[0]!.tensors.get("big")!;
    expect(t.data.byteOffset).toBe(0);
    expect((t.data as Float32Array)[(1 << 20) - 1]).toBe((1 << 20) - 1);
    expect(got[0]!.tensors.get("empty")!.shape).toEqual([0]);
  });

  it("messages with no tensors, and several messages in one chunk", () => {
    const reader = new MessageReader("test");
    const msgs = reader.push(Buffer.concat([encodeMessage({ id: 1 }), encodeMessage({ id: 2 }, { a: Tensor.from("u8", [2], Uint8Array.of(1, 2)) }), encodeMessage({ id: 3 })]));
    expect(msgs.map((m) => m.header["id"])).toEqual([1, 2, 3]);
  });
});
