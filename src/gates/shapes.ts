/**
 * Shape agreement between a candidate's tensor and the oracle's, checked by a gate before any
 * metric runs. The metrics only see flat buffers, so a hidden width or sequence length that
 * differs would surface as "rowCosines: length mismatch" with no file, tensor or layer; here it
 * is a `tensor_shape` error naming both sides: the oracle dump and tensor, the candidate (its
 * manifest and backend) and the layer.
 */
import { NumgateError } from "../errors/numgate-error.ts";
import type { GateContext } from "./gate.ts";

export interface ShapePair {
  /** The oracle dump (cwd-relative) and its tensor. */
  oracleFile: string;
  oracleKey: string;
  oracleShape: readonly number[];
  /** What the candidate produced, e.g. "hidden_states of layer 3" or "logits of step 2". */
  candidateLabel: string;
  candidateShape: readonly number[];
  /** Names for the dimensions, outermost first (compared from the innermost), e.g. ["sequence length", "hidden width"]. */
  dims: readonly string[];
}

const show = (s: readonly number[]): string => `[${s.join(", ")}]`;

/**
 * Throws `tensor_shape` unless the shapes agree on every named dimension, compared from the
 * innermost (so a candidate's [1, S, H] matches an oracle's [S, H]), and hold as many elements.
 */
export function requireSameShape(ctx: GateContext, p: ShapePair): void {
  const differ: string[] = [];
  p.dims.forEach((dim, k) => {
    const o = p.oracleShape[p.oracleShape.length - p.dims.length + k];
    const c = p.candidateShape[p.candidateShape.length - p.dims.length + k];
    if (o !== c) differ.push(`${dim} ${String(c)} vs ${String(o)}`);
  });
  const count = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  if (differ.length === 0 && count(p.oracleShape) === count(p.candidateShape)) return;
  const why = differ.length === 0 ? `${count(p.candidateShape)} vs ${count(p.oracleShape)} elements` : differ.join(", ");
  throw new NumgateError(
    "tensor_shape",
    `the candidate's ${p.candidateLabel} has shape ${show(p.candidateShape)} but the oracle's ${p.oracleKey} has ${show(p.oracleShape)} (${why}, candidate vs oracle); candidate: ${ctx.producer ?? ctx.candidate}`,
    { file: p.oracleFile, field: p.oracleKey },
  );
}
