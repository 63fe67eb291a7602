/**
 * The element types numgate understands, and how each one maps onto storage, the safetensors
 * format and onnxruntime. Modelled on onnxruntime's js/common tensor-impl-type-mapping: one
 * table is the single source of truth, so a dtype cannot be half-supported.
 */

export type DType = "f64" | "f32" | "f16" | "bf16" | "i64" | "i32" | "i16" | "i8" | "u8" | "bool";

/** Storage per dtype. JS has no half-precision array on Node 20, so f16/bf16 keep their raw bits. */
export interface StorageMap {
  f64: Float64Array;
  f32: Float32Array;
  f16: Uint16Array;
  bf16: Uint16Array;
  i64: BigInt64Array;
  i32: Int32Array;
  i16: Int16Array;
  i8: Int8Array;
  u8: Uint8Array;
  bool: Uint8Array;
}
export type StorageFor<D extends DType> = StorageMap[D];
export type StorageArray = StorageMap[DType];

export type SafetensorsDTypeName = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";
export type OrtTensorType = "float64" | "float32" | "float16" | "int64" | "int32" | "int16" | "int8" | "uint8" | "bool";

export interface TypedArrayConstructorFor<A> {
  new (length: number): A;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): A;
  readonly BYTES_PER_ELEMENT: number;
}

export interface DTypeInfo<D extends DType = DType> {
  readonly dtype: D;
  readonly byteWidth: number;
  readonly storage: TypedArrayConstructorFor<StorageFor<D>>;
  readonly safetensors: SafetensorsDTypeName;
  /** undefined where onnxruntime has no tensor type (bf16). */
  readonly ort: OrtTensorType | undefined;
  readonly kind: "float" | "int" | "bool";
  /**
   * Position in the Python/Rust safetensors library's `Dtype` enum. That library writes tensors
   * sorted by (rank descending, name), which puts wide dtypes first and so keeps every tensor
   * aligned to its element width; our writer uses the same rule to stay byte-identical with it.
   */
  readonly safetensorsRank: number;
}

type DTypeTable = { readonly [D in DType]: DTypeInfo<D> };

export const DTYPES: DTypeTable = {
  f64: { dtype: "f64", byteWidth: 8, storage: Float64Array, safetensors: "F64", ort: "float64", kind: "float", safetensorsRank: 17 },
  f32: { dtype: "f32", byteWidth: 4, storage: Float32Array, safetensors: "F32", ort: "float32", kind: "float", safetensorsRank: 15 },
  f16: { dtype: "f16", byteWidth: 2, storage: Uint16Array, safetensors: "F16", ort: "float16", kind: "float", safetensorsRank: 11 },
  bf16: { dtype: "bf16", byteWidth: 2, storage: Uint16Array, safetensors: "BF16", ort: undefined, kind: "float", safetensorsRank: 12 },
  i64: { dtype: "i64", byteWidth: 8, storage: BigInt64Array, safetensors: "I64", ort: "int64", kind: "int", safetensorsRank: 18 },
  i32: { dtype: "i32", byteWidth: 4, storage: Int32Array, safetensors: "I32", ort: "int32", kind: "int", safetensorsRank: 13 },
  i16: { dtype: "i16", byteWidth: 2, storage: Int16Array, safetensors: "I16", ort: "int16", kind: "int", safetensorsRank: 9 },
  i8: { dtype: "i8", byteWidth: 1, storage: Int8Array, safetensors: "I8", ort: "int8", kind: "int", safetensorsRank: 5 },
  u8: { dtype: "u8", byteWidth: 1, storage: Uint8Array, safetensors: "U8", ort: "uint8", kind: "int", safetensorsRank: 4 },
  bool: { dtype: "bool", byteWidth: 1, storage: Uint8Array, safetensors: "BOOL", ort: "bool", kind: "bool", safetensorsRank: 0 },
};

export const ALL_DTYPES: readonly DType[] = Object.keys(DTYPES) as DType[];

export function isDType(s: string): s is DType {
  return Object.hasOwn(DTYPES, s);
}

export function dtypeInfo<D extends DType>(d: D): DTypeInfo<D> {
  return DTYPES[d] as DTypeInfo<D>;
}

const FROM_SAFETENSORS = new Map<string, DType>(ALL_DTYPES.map((d) => [DTYPES[d].safetensors, d]));
const FROM_ORT = new Map<string, DType>(
  ALL_DTYPES.flatMap((d) => {
    const o = DTYPES[d].ort;
    return o === undefined ? [] : [[o, d] as const];
  }),
);

/** undefined for names numgate does not support (including valid safetensors ones such as U16 or F8_E4M3). */
export function dtypeFromSafetensors(name: string): DType | undefined {
  return FROM_SAFETENSORS.get(name);
}
export function safetensorsName(d: DType): SafetensorsDTypeName {
  return DTYPES[d].safetensors;
}
export function ortTypeOf(d: DType): OrtTensorType | undefined {
  return DTYPES[d].ort;
}
export function dtypeFromOrt(t: string): DType | undefined {
  return FROM_ORT.get(t);
}

// --- half-precision codecs -------------------------------------------------------------------

// Shared scratch for bit casts; bf16 is exactly the top half of an f32, so casting is bit exact.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** bf16 bits -> value. Bit exact (bf16 is a truncated f32). */
export function bf16ToF32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0]!;
}

// A 64K-entry table (256 KiB) built once: decoding millions of f16 values then costs one load
// each instead of a branchy bit decode.
let f16Table: Float32Array | undefined;

function decodeF16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals: no implicit leading 1
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15); // exact: 11 significant bits fit in f32
}

export function f16DecodeTable(): Float32Array {
  if (f16Table === undefined) {
    const t = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) t[h] = decodeF16Bits(h);
    f16Table = t;
  }
  return f16Table;
}

/** IEEE binary16 bits -> value. Bit exact, including subnormals, ±0, ±inf and NaN. */
export function f16ToF32(bits: number): number {
  return f16DecodeTable()[bits & 0xffff]!;
}

/**
 * value -> IEEE binary16 bits, rounding to nearest, ties to even (numpy's npy_floatbits_to_halfbits).
 * The input is first rounded to f32 (Math.fround): this is an f32 -> f16 conversion, and doing it
 * from f64 directly would give a different (double-rounding-free) answer than every f32 pipeline.
 * Overflow goes to ±inf; NaN stays a quiet NaN with the top payload bits kept.
 */
export function f32ToF16(value: number): number {
  scratchF32[0] = value;
  const f = scratchU32[0]!;
  const sign = (f >>> 16) & 0x8000;
  const fExp = f & 0x7f800000;
  // Exponent too large for f16: inf/NaN input or overflow.
  if (fExp >= 0x47800000) {
    if (fExp === 0x7f800000) {
      const fSig = f & 0x007fffff;
      if (fSig !== 0) {
        let ret = 0x7c00 + (fSig >>> 13);
        if (ret === 0x7c00) ret++; // payload lived only in the dropped bits: keep it a NaN
        return sign + ret;
      }
      return sign | 0x7c00;
    }
    return sign | 0x7c00;
  }
  // Exponent too small: f16 subnormal or underflow to signed zero.
  if (fExp <= 0x38000000) {
    if (fExp < 0x33000000) return sign; // below half the smallest subnormal
    const e = fExp >>> 23;
    let fSig = 0x00800000 + (f & 0x007fffff);
    // The shift can drop up to 11 bits; the tie test below also looks at them in `f`.
    fSig = fSig >>> (113 - e);
    if ((fSig & 0x3fff) !== 0x1000 || (f & 0x7ff) !== 0) fSig += 0x1000;
    return sign + (fSig >>> 13);
  }
  // Normal range. A rounding carry into the exponent is the correct result (up to inf).
  const hExp = (fExp - 0x38000000) >>> 13;
  let fSig = f & 0x007fffff;
  if ((fSig & 0x3fff) !== 0x1000) fSig += 0x1000;
  return sign + hExp + (fSig >>> 13);
}
