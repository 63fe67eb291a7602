/** Small conversions between numgate's Tensor and onnxruntime's, and graph-contract checks. */
import * as ort from "onnxruntime-node";
import { NumgateError } from "../../errors/numgate-error.ts";
import { Tensor } from "../../tensor/tensor.ts";
import type { OnnxRunner } from "./runner.ts";

/** A float32 output as a Tensor (zero-copy), or a candidate_invalid error naming graph and tensor. */
export function floatTensor(t: ort.Tensor | undefined, file: string, name: string): Tensor {
  if (t === undefined) throw new NumgateError("candidate_invalid", `graph returned no "${name}"`, { file, field: name });
  if (!(t.data instanceof Float32Array)) throw new NumgateError("candidate_invalid", `graph output "${name}" is ${t.type}, not float32`, { file, field: name });
  return Tensor.from("f32", t.dims.map(Number), t.data);
}

export function toOrt(t: Tensor): ort.Tensor {
  if (t.dtype === "i64") return new ort.Tensor("int64", t.data as BigInt64Array, [...t.shape]);
  return new ort.Tensor("float32", t.toFloat32(), [...t.shape]);
}

/** Every name in `expected` must be an input of the graph; the error names graph, tensor and layout. */
export function requireInputs(runner: OnnxRunner, role: string, expected: readonly string[], layout: string): void {
  const have = runner.inputNames(role);
  for (const name of expected) {
    if (!have.includes(name)) {
      throw new NumgateError("candidate_invalid", `the ${role} graph does not fit the ${layout} layout: it has no input "${name}" (inputs: ${have.join(", ")})`, {
        file: runner.file(role),
        field: name,
      });
    }
  }
}
