import { describe, expect, it } from "vitest";
import {
  ALL_DTYPES,
  DTYPES,
  bf16ToF32,
  dtypeFromOrt,
  dtypeFromSafetensors,
  f16ToF32,
  f32ToF16,
  isDType,
  ortTypeOf,
  safetensorsName,
} from "../../src/tensor/dtype.ts";
import { expected, num } from "../fixtures/core/expected.ts";

describe("dtype table", () => {
  it("storage element size matches byte width for every dtype", () => {
    for (const d of ALL_DTYPES) expect(DTYPES[d].storage.BYTES_PER_ELEMENT, d).toBe(DTYPES[d].byteWidth);
  });

  it("maps safetensors names both ways", () => {
    for (const d of ALL_DTYPES) expect(dtypeFromSafetensors(safetensorsName(d))).toBe(d);
    expect(safetensorsName("bf16")).toBe("BF16");
    expect(safetensorsName("bool")).toBe("BOOL");
    expect(dtypeFromSafetensors("F8_E4M3")).toBeUndefined();
    expect(dtypeFromSafetensors("f32")).toBeUndefined();
  });

  it("maps onnxruntime type strings both ways; bf16 has none", () => {
    expect(ortTypeOf("f32")).toBe("float32");
    expect(ortTypeOf("f16")).toBe("float16");
    expect(ortTypeOf("i64")).toBe("int64");
    expect(ortTypeOf("u8")).toBe("uint8");
    expect(ortTypeOf("bool")).toBe("bool");
    expect(ortTypeOf("bf16")).toBeUndefined();
    for (const d of ALL_DTYPES) {
      const o = ortTypeOf(d);
      if (o !== undefined) expect(dtypeFromOrt(o)).toBe(d);
    }
    expect(isDType("f32")).toBe(true);
    expect(isDType("toString")).toBe(false);
  });
});

describe("half-precision codecs", () => {
  it("decodes f16 edge bit patterns exactly as numpy does", () => {
    for (const [bits, value] of expected.f16Decode) expect(f16ToF32(bits), `0x${bits.toString(16)}`).toBe(num(value));
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
  });

  it("round-trips all 63488 non-NaN f16 values through f32", () => {
    for (let h = 0; h < 65536; h++) {
      const v = f16ToF32(h);
      if (Number.isNaN(v)) {
        expect((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0).toBe(true);
        continue;
      }
      if (f32ToF16(v) !== h) expect(f32ToF16(v), `0x${h.toString(16)}`).toBe(h);
    }
  });

  it("encodes f32 to f16 bit-identically to numpy (round to nearest even, subnormals, overflow)", () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    let mismatches = 0;
    for (const [f32bits, f16bits] of expected.f32ToF16) {
      u[0] = f32bits;
      if (f32ToF16(f[0]!) !== f16bits) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(expected.f32ToF16.length).toBeGreaterThan(200);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(f32ToF16(65520)).toBe(0x7c00);
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal -> 0
    expect(f32ToF16(NaN) & 0x7fff).toBeGreaterThan(0x7c00);
  });

  it("decodes bf16 bit patterns exactly", () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc049)).toBe(-3.140625);
    expect(bf16ToF32(0x0001)).toBe(2 ** -133);
    expect(bf16ToF32(0x7f80)).toBe(Infinity);
    expect(bf16ToF32(0xff80)).toBe(-Infinity);
    expect(bf16ToF32(0x7fc0)).toBeNaN();
    expect(Object.is(bf16ToF32(0x8000), -0)).toBe(true);
    if (expected.bits["bf16_vals"] !== undefined) {
      const vals = expected.values["bf16_vals"]!.map(num);
      expected.bits["bf16_vals"].forEach((b, i) => expect(bf16ToF32(b)).toBe(vals[i]));
    }
  });
});
