/**
 * Shared argument checks for the metrics. Metrics are pure and know nothing about files, so
 * callers pass the file/tensor they are comparing and shape errors still name them.
 */
import { NumgateError } from "../errors/numgate-error.ts";

/** Optional file and field (tensor name) to put into a shape error. */
export interface MetricContext {
  readonly file?: string;
  readonly field?: string;
}

export function details(ctx: MetricContext | undefined): { file?: string; field?: string } {
  if (ctx === undefined) return {};
  return { ...(ctx.file === undefined ? {} : { file: ctx.file }), ...(ctx.field === undefined ? {} : { field: ctx.field }) };
}

export function requireSameLength(op: string, a: ArrayLike<unknown>, b: ArrayLike<unknown>, ctx: MetricContext | undefined): void {
  if (a.length !== b.length) {
    throw new NumgateError("tensor_shape", `${op}: length mismatch, reference has ${a.length} elements, candidate ${b.length}`, details(ctx));
  }
}

export function requireNonEmpty(op: string, a: ArrayLike<unknown>, ctx: MetricContext | undefined): void {
  if (a.length === 0) throw new NumgateError("tensor_shape", `${op}: empty input`, details(ctx));
}
