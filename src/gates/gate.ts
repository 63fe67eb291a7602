/**
 * The contract every gate kind implements: oracle + candidate session in, one verdict per prompt
 * with evidence out. Gates never throw across this boundary for bad candidate numbers (NaN, Inf):
 * those become `error` verdicts naming the tensor. A thrown NumgateError (missing tensor, backend
 * crash) is turned into an `error` rung by the ladder runner.
 */
import type { Oracle } from "../oracle/oracle.ts";
import type { ModelSession } from "../models/session.ts";
import type { PromptResult, Verdict } from "../report/schema.ts";

export interface GateContext {
  session: ModelSession;
  oracle: Oracle;
  /** Resolved thresholds for this rung (ladder defaults, then spec overrides). */
  thresholds: Readonly<Record<string, number>>;
  options: Readonly<Record<string, unknown>>;
  /** Names of the oracle prompts to gate. */
  prompts: readonly string[];
}

export interface GateOutcome {
  verdict: Verdict;
  message: string;
  prompts: PromptResult[];
  units: Record<string, string>;
}

export type Gate = (ctx: GateContext) => Promise<GateOutcome>;

/** error beats fail beats pass; all-skipped is skipped. */
export function combineVerdicts(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes("error")) return "error";
  if (verdicts.includes("fail")) return "fail";
  if (verdicts.includes("pass")) return "pass";
  return "skipped";
}

/**
 * The rung message: the first non-passing prompt's message; else the first prompt that passed
 * only through a waiver or tolerance (a pass must never hide one); else the pass summary.
 */
export function rungMessage(prompts: readonly PromptResult[], passSummary: string, passedWithNote: (p: PromptResult) => boolean = () => false): string {
  const bad = prompts.find((p) => p.verdict === "error") ?? prompts.find((p) => p.verdict === "fail") ?? prompts.find(passedWithNote);
  return bad === undefined ? passSummary : `${bad.prompt}: ${bad.message}`;
}

export function threshold(ctx: GateContext, name: string, fallback?: number): number {
  const v = ctx.thresholds[name] ?? fallback;
  if (v === undefined) throw new Error(`internal: threshold "${name}" has no value and no default`);
  return v;
}

/** null for NaN/Infinity, so report.json stays valid JSON. */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

export function fmt(x: number | null, digits = 7): string {
  return x === null ? "NaN" : x.toFixed(digits);
}
