/**
 * A dense, row-major tensor: a dtype, a shape and the typed array that stores it. Deliberately
 * thin: views (rowView, reshape) share storage so that slicing a multi-GB oracle dump costs
 * nothing, and every numeric conversion is explicit (toFloat64 etc.) so precision loss is visible.
 */
import { NumgateError } from "../errors/numgate-error.ts";
import { DTYPES, f16DecodeTable, bf16ToF32, type DType, type StorageFor } from "./dtype.ts";

/** Where a tensor came from, so that errors raised far from the reader still name file and tensor. */
export interface TensorOrigin {
  readonly file: string;
  readonly name: string;
}

export class Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: StorageFor<D>;
  readonly origin: TensorOrigin | undefined;

  private constructor(dtype: D, shape: readonly number[], data: StorageFor<D>, origin: TensorOrigin | undefined) {
    this.dtype = dtype;
    this.shape = shape;
    this.data = data;
    this.origin = origin;
  }

  /** Validates that `data` is the storage type of `dtype` and holds exactly prod(shape) elements. */
  static from<D extends DType>(dtype: D, shape: readonly number[], data: StorageFor<D>, origin?: TensorOrigin): Tensor<D> {
    const info = DTYPES[dtype];
    if (info === undefined) throw new NumgateError("dtype_unsupported", `unknown dtype ${JSON.stringify(dtype)}`, where(origin));
    const n = elementCount(shape, origin);
    if (!(data instanceof info.storage)) {
      throw new NumgateError(
        "tensor_shape",
        `dtype ${dtype} is stored in ${info.storage.name}, got ${Object.prototype.toString.call(data).slice(8, -1)}`,
        where(origin),
      );
    }
    if (data.length !== n) {
      throw new NumgateError("tensor_shape", `shape [${shape.join(",")}] needs ${n} elements, data has ${data.length}`, where(origin));
    }
    return new Tensor(dtype, Object.freeze([...shape]), data, origin);
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** "f32[3,1,40]": the compact form used in messages and reports. */
  describe(): string {
    return `${this.dtype}[${this.shape.join(",")}]`;
  }

  /**
   * Values as float64. Exact for every dtype except i64 beyond ±2^53, which throws rather than
   * silently rounding a token id or position. Returns `data` itself when already f64: treat the
   * result as read-only.
   */
  toFloat64(): Float64Array {
    const d = this.data;
    if (this.dtype === "f64") return d as Float64Array;
    const out = new Float64Array(d.length);
    this.decodeInto(out);
    return out;
  }

  /**
   * Values as float32. Lossy for f64 and for integers beyond 2^24 (that is the point of asking
   * for f32). Returns `data` itself when already f32: treat the result as read-only.
   */
  toFloat32(): Float32Array {
    const d = this.data;
    if (this.dtype === "f32") return d as Float32Array;
    const out = new Float32Array(d.length);
    this.decodeInto(out);
    return out;
  }

  /** Integer or bool tensor as Int32Array; throws if a value does not fit in int32. */
  toInt32Array(): Int32Array {
    this.requireInteger("toInt32Array");
    const d = this.data;
    if (this.dtype === "i32") return d as Int32Array;
    const out = new Int32Array(d.length);
    if (this.dtype === "i64") {
      const src = d as BigInt64Array;
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        if (v < -2147483648n || v > 2147483647n) {
          throw new NumgateError("tensor_shape", `value ${v} at flat index ${i} does not fit in int32`, where(this.origin));
        }
        out[i] = Number(v);
      }
    } else {
      out.set(d as Exclude<StorageFor<DType>, BigInt64Array>);
    }
    return out;
  }

  /** Integer or bool tensor as plain numbers (token ids, positions); i64 must be safe integers. */
  toNumbers(): number[] {
    this.requireInteger("toNumbers");
    if (this.dtype === "i64") {
      const src = this.data as BigInt64Array;
      const out = new Array<number>(src.length);
      for (let i = 0; i < src.length; i++) out[i] = safeNumber(src[i]!, i, this.origin);
      return out;
    }
    return Array.from(this.data as Exclude<StorageFor<DType>, BigInt64Array>);
  }

  /**
   * The i-th slice along dimension 0, shape = shape.slice(1), sharing storage (no copy).
   * For logits [seq, vocab] this is the logits row of position i. Requires rank >= 2.
   */
  rowView(i: number): Tensor<D> {
    if (this.shape.length < 2) {
      throw new NumgateError("tensor_shape", `rowView needs rank >= 2, tensor is ${this.describe()}`, where(this.origin));
    }
    const rows = this.shape[0]!;
    if (!Number.isInteger(i) || i < 0 || i >= rows) {
      throw new NumgateError("tensor_shape", `row ${i} out of range for ${this.describe()}`, where(this.origin));
    }
    const inner = this.shape.slice(1);
    const len = inner.reduce((a, b) => a * b, 1);
    const view = this.data.subarray(i * len, (i + 1) * len) as StorageFor<D>;
    return new Tensor(this.dtype, Object.freeze(inner), view, this.origin);
  }

  /** Same storage, new shape; one dimension may be -1 and is inferred. */
  reshape(shape: readonly number[]): Tensor<D> {
    const inferAt = shape.indexOf(-1);
    let resolved = shape;
    if (inferAt !== -1) {
      const rest = shape.filter((_, k) => k !== inferAt);
      const known = elementCount(rest, this.origin);
      if (known === 0 || this.size % known !== 0 || shape.indexOf(-1, inferAt + 1) !== -1) {
        throw new NumgateError("tensor_shape", `cannot reshape ${this.describe()} to [${shape.join(",")}]`, where(this.origin));
      }
      resolved = shape.map((s, k) => (k === inferAt ? this.size / known : s));
    }
    if (elementCount(resolved, this.origin) !== this.size) {
      throw new NumgateError("tensor_shape", `cannot reshape ${this.describe()} to [${shape.join(",")}]`, where(this.origin));
    }
    return new Tensor(this.dtype, Object.freeze([...resolved]), this.data, this.origin);
  }

  private requireInteger(op: string): void {
    if (DTYPES[this.dtype].kind === "float") {
      throw new NumgateError("dtype_unsupported", `${op} needs an integer or bool tensor, got ${this.describe()}`, where(this.origin));
    }
  }

  private decodeInto(out: Float64Array | Float32Array): void {
    const n = out.length;
    switch (this.dtype) {
      case "f16": {
        const src = this.data as Uint16Array;
        const table = f16DecodeTable();
        for (let i = 0; i < n; i++) out[i] = table[src[i]!]!;
        return;
      }
      case "bf16": {
        const src = this.data as Uint16Array;
        for (let i = 0; i < n; i++) out[i] = bf16ToF32(src[i]!);
        return;
      }
      case "i64": {
        const src = this.data as BigInt64Array;
        for (let i = 0; i < n; i++) out[i] = safeNumber(src[i]!, i, this.origin);
        return;
      }
      default:
        out.set(this.data as Exclude<StorageFor<DType>, BigInt64Array>);
    }
  }
}

function safeNumber(v: bigint, i: number, origin: TensorOrigin | undefined): number {
  const x = Number(v);
  if (!Number.isSafeInteger(x)) {
    throw new NumgateError("tensor_shape", `i64 value ${v} at flat index ${i} is not a safe integer (|v| > 2^53-1)`, where(origin));
  }
  return x;
}

/** prod(shape), validating every dimension is a non-negative integer and the product is safe. */
export function elementCount(shape: readonly number[], origin?: TensorOrigin): number {
  let n = 1;
  for (const s of shape) {
    if (!Number.isSafeInteger(s) || s < 0) {
      throw new NumgateError("tensor_shape", `invalid shape [${shape.join(",")}]: dimensions must be non-negative integers`, where(origin));
    }
    n *= s;
  }
  if (!Number.isSafeInteger(n)) {
    throw new NumgateError("tensor_shape", `shape [${shape.join(",")}] has too many elements`, where(origin));
  }
  return n;
}

function where(origin: TensorOrigin | undefined): { file?: string; field?: string } {
  return origin === undefined ? {} : { file: origin.file, field: origin.name };
}
