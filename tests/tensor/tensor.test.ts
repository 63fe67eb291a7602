import { describe, expect, it } from "vitest";
import { NumgateError } from "../../src/errors/numgate-error.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import { readSafetensorsSync } from "../../src/tensor/safetensors.ts";
import { REFERENCE_PATH, expected, nums } from "../fixtures/core/expected.ts";

function thrown(fn: () => unknown): NumgateError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NumgateError);
    return e as NumgateError;
  }
  throw new Error("expected a NumgateError");
}

describe("Tensor", () => {
  it("validates length, storage type and shape", () => {
    const t = Tensor.from("f32", [3, 1, 40], new Float32Array(120));
    expect(t.size).toBe(120);
    expect(t.rank).toBe(3);
    expect(t.describe()).toBe("f32[3,1,40]");
    expect(thrown(() => Tensor.from("f32", [2, 3], new Float32Array(5))).code).toBe("tensor_shape");
    expect(thrown(() => Tensor.from("f16", [2], new Float32Array(2) as unknown as Uint16Array)).code).toBe("tensor_shape");
    expect(thrown(() => Tensor.from("f32", [-1, 2], new Float32Array(2))).code).toBe("tensor_shape");
    expect(thrown(() => Tensor.from("f32", [1.5], new Float32Array(1))).code).toBe("tensor_shape");
    expect(Tensor.from("f32", [], new Float32Array(1)).size).toBe(1); // scalar
  });

  it("decodes every dtype of the reference file to float64 as numpy does", () => {
    const f = readSafetensorsSync(REFERENCE_PATH);
    for (const name of ["f32_a", "f64_vec", "f16_vals", "bf16_vals", "i32_vals", "i16_vals", "i8_vals", "u8_vals", "bool_mask", "i64_ids"]) {
      if (!f.has(name)) continue; // bf16 only when the generator had ml_dtypes
      expect(Array.from(f.get(name).toFloat64()), name).toEqual(nums(expected.values[name]!));
    }
  });

  it("toFloat32 decodes f16 and returns f32 storage as is", () => {
    const f = readSafetensorsSync(REFERENCE_PATH);
    const h = f.get("f16_vals");
    expect(Array.from(h.toFloat32())).toEqual(nums(expected.values["f16_vals"]!));
    const a = f.get("f32_a");
    expect(a.toFloat32()).toBe(a.data);
  });

  it("refuses i64 values beyond 2^53, naming file and tensor", () => {
    const f = readSafetensorsSync(REFERENCE_PATH);
    const e = thrown(() => f.get("i64_unsafe").toFloat64());
    expect(e.code).toBe("tensor_shape");
    expect(e.message).toContain(REFERENCE_PATH);
    expect(e.message).toContain("i64_unsafe");
    expect(e.message).toContain("9007199254740993");
    expect(thrown(() => f.get("i64_unsafe").toNumbers()).code).toBe("tensor_shape");
  });

  it("converts integer tensors with toNumbers / toInt32Array", () => {
    const f = readSafetensorsSync(REFERENCE_PATH);
    expect(f.get("i64_ids").toNumbers()).toEqual(expected.values["i64_ids"]!.map(Number));
    expect(Array.from(f.get("i32_vals").toInt32Array())).toEqual([-(2 ** 31), 2 ** 31 - 1, 3]);
    expect(Array.from(f.get("u8_vals").toInt32Array())).toEqual([0, 1, 128, 255]);
    expect(f.get("bool_mask").toNumbers()).toEqual([1, 0, 1, 1, 0]);
    expect(thrown(() => f.get("i64_ids").toInt32Array()).code).toBe("tensor_shape"); // 2^53-1
    expect(thrown(() => f.get("f32_a").toNumbers()).code).toBe("dtype_unsupported");
  });

  it("rowView is a no-copy slice along dim 0", () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i);
    const t = Tensor.from("f32", [2, 3, 4], data);
    const r = t.rowView(1);
    expect(r.shape).toEqual([3, 4]);
    expect(r.data.buffer).toBe(data.buffer);
    expect(Array.from(r.data)).toEqual(Array.from({ length: 12 }, (_, i) => 12 + i));
    expect(r.rowView(2).data[0]).toBe(20);
    expect(thrown(() => t.rowView(2)).code).toBe("tensor_shape");
    expect(thrown(() => Tensor.from("f32", [3], new Float32Array(3)).rowView(0)).code).toBe("tensor_shape");
  });

  it("reshape shares storage and infers one -1", () => {
    const t = Tensor.from("i32", [2, 6], new Int32Array(12));
    expect(t.reshape([3, -1]).shape).toEqual([3, 4]);
    expect(t.reshape([12]).data).toBe(t.data);
    expect(thrown(() => t.reshape([5, -1])).code).toBe("tensor_shape");
    expect(thrown(() => t.reshape([5, 2])).code).toBe("tensor_shape");
    expect(thrown(() => t.reshape([-1, -1])).code).toBe("tensor_shape");
  });
});
