/**
 * The engine_vs_reference rung's core: the same build on two runtimes (an engine and numgate's
 * ONNX backend, or one engine on cuda and on cpu), compared with each other rather than with the
 * oracle: greedy tokens N/N and teacher-forced top-1, with the first divergence and both sides'
 * top-1 minus top-2 margins there (unit: logits). Pure functions over DecodeRuns.
 */
import type { DecodeRun } from "../../models/session.ts";

export interface SideMargins {
  step: number;
  candidate_token: number;
  reference_token: number;
  /** Each side's own top-1 minus top-2 logit at that step (null where its logits were not kept). */
  candidate_margin: number | null;
  reference_margin: number | null;
}

export interface RunAgreement {
  matches: number;
  total: number;
  first_divergence?: SideMargins;
}

export function topTwoMargin(logits: Float32Array | undefined): number | null {
  if (logits === undefined || logits.length < 2) return null;
  let a = -Infinity;
  let b = -Infinity;
  for (const x of logits) {
    if (x > a) {
      b = a;
      a = x;
    } else if (x > b) b = x;
  }
  return Number.isFinite(a - b) ? a - b : null;
}

/** Greedy: tokens equal up to the first divergence (after it the two continue from different text). */
export function compareGreedy(candidate: DecodeRun, reference: DecodeRun): RunAgreement {
  const total = Math.min(candidate.tokens.length, reference.tokens.length);
  let d = 0;
  while (d < total && candidate.tokens[d] === reference.tokens[d]) d++;
  const out: RunAgreement = { matches: d, total };
  if (d < total) out.first_divergence = divergence(candidate, reference, d);
  return out;
}

/** Teacher-forced: both fed the same tokens, so every step counts, not just a prefix. */
export function compareTeacherForced(candidate: DecodeRun, reference: DecodeRun): RunAgreement {
  const total = Math.min(candidate.tokens.length, reference.tokens.length);
  let matches = 0;
  let first: number | undefined;
  for (let i = 0; i < total; i++) {
    if (candidate.tokens[i] === reference.tokens[i]) matches++;
    else first ??= i;
  }
  const out: RunAgreement = { matches, total };
  if (first !== undefined) out.first_divergence = divergence(candidate, reference, first);
  return out;
}

function divergence(c: DecodeRun, r: DecodeRun, step: number): SideMargins {
  return {
    step,
    candidate_token: c.tokens[step] ?? -1,
    reference_token: r.tokens[step] ?? -1,
    candidate_margin: topTwoMargin(c.logits[step]),
    reference_margin: topTwoMargin(r.logits[step]),
  };
}
