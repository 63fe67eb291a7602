/**
 * The contract every gate kind implements: oracle + candidate session in, one verdict per prompt
 * with evidence out. Gates never throw across this boundary for bad candidate numbers (NaN, Inf):
 * those become `error` verdicts naming the tensor. A thrown NumgateError (missing tensor, backend
 * crash) is turned into an `error` rung by the ladder runner.
 */
import { NumgateError } from "../errors/numgate-error.ts";
import type { Oracle, OracleDump } from "../oracle/oracle.ts";
import type { ModelSession, SessionOpener } from "../models/session.ts";
import type { PromptResult } from "../verdicts/prompt-result.ts";
import type { Verdict } from "../verdicts/verdict.ts";

export { finiteOrNull } from "../verdicts/numbers.ts";

export interface GateContext {
  session: ModelSession;
  oracle: Oracle;
  /** Resolved thresholds for this rung (ladder defaults, then spec overrides). */
  thresholds: Readonly<Record<string, number>>;
  options: Readonly<Record<string, unknown>>;
  /** Names of the oracle prompts to gate. */
  prompts: readonly string[];
  /** The candidate under test, as the spec names it (or its manifest's path). */
  candidate: string;
  /** Opens candidates afresh, for rungs that compare runs (absent: those rungs are skipped). */
  openSession?: SessionOpener;
  /** Who produced the candidate's tensors (manifest and backend), named in shape errors. */
  producer?: string;
}

export interface GateOutcome<E = unknown> {
  verdict: Verdict;
  message: string;
  prompts: PromptResult<E>[];
  units: Record<string, string>;
}

export type Gate<E = unknown> = (ctx: GateContext) => Promise<GateOutcome<E>>;

export function threshold(ctx: GateContext, name: string, fallback?: number): number {
  const v = ctx.thresholds[name] ?? fallback;
  if (v === undefined) throw new Error(`internal: threshold "${name}" has no value and no default`);
  return v;
}

export function fmt(x: number | null, digits = 7): string {
  return x === null ? "NaN" : x.toFixed(digits);
}

/**
 * The rung's `steps` option, checked against what the oracle recorded: a prompt with fewer
 * recorded steps is an error naming the dump and tensor, never a silently shorter comparison.
 */
export function recordedSteps(ctx: GateContext, defaultSteps: number, dump: OracleDump, tensor: string, recorded: number): number {
  const steps = typeof ctx.options["steps"] === "number" ? ctx.options["steps"] : defaultSteps;
  if (recorded < steps) {
    throw new NumgateError("tensor_shape", `the oracle records ${recorded} steps in ${tensor}, but the rung compares ${steps} (options.steps); record more steps or lower it`, {
      file: dump.file,
      field: tensor,
    });
  }
  return steps;
}
