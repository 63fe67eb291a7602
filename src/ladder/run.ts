/**
 * Runs one (model, candidate) through its ladder: rungs in order, a failed rung marking its
 * dependants skipped (unless keepGoing), each rung timed, thrown errors turned into `error`
 * rungs with their code. Produces the Run object of report.json; it never writes files.
 */
import { NumgateError, isNumgateError } from "../errors/numgate-error.ts";
import type { GateContext } from "../gates/gate.ts";
import { gateUnit, type GateRung as Rung } from "../gates/registry.ts";
import type { ModelSession, SessionOpener, SessionOutput } from "../models/session.ts";
import type { Oracle } from "../oracle/oracle.ts";
import type { Ladder, RungSpec } from "../spec/ladder.ts";
import { reportDuration } from "../verdicts/timing.ts";
import type { Verdict } from "../verdicts/verdict.ts";

export interface RungPlan {
  spec: RungSpec;
  thresholds: Record<string, number>;
  options: Record<string, unknown>;
}

export interface LadderRunOptions {
  keepGoing: boolean;
  /** Run only these rung ids (dependencies are not enforced for a selected rung). */
  only?: readonly string[];
  prompts: readonly string[];
  /** The candidate under test (its spec name, or its manifest's path), for rungs that reopen it. */
  candidate: string;
  /** Opens candidates afresh (repeat, engine_vs_reference); without it those rungs are skipped. */
  openSession?: SessionOpener;
  /** The candidate's manifest and backend, for messages (GateContext.producer). */
  producer?: string;
  onRungStart?: (rung: RungSpec, index: number, total: number) => void;
  onRungDone?: (rung: Rung, index: number, total: number) => void;
}

export interface LadderRunResult {
  rungs: Rung[];
  /** Seconds spent in gate metric code, excluding backend inference (for the bench split). */
  metricSeconds: number;
}

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export async function runLadder(
  ladder: Ladder,
  plans: readonly RungPlan[],
  session: ModelSession,
  oracle: Oracle,
  opts: LadderRunOptions,
): Promise<LadderRunResult> {
  const verdicts = new Map<string, Verdict>();
  const blocked = new Set<string>();
  const rungs: Rung[] = [];
  let metricSeconds = 0;
  const selected = plans.filter((p) => opts.only === undefined || opts.only.includes(p.spec.id));
  // A rung run alone cannot point at rungs that are not in the run (report.json rejects that).
  const selectedIds = new Set(selected.map((p) => p.spec.id));
  const readsOf = (ps: readonly RungPlan[]) => new Set<SessionOutput>(ps.flatMap((p) => gateUnit(p.spec.kind).reads));
  for (const [i, plan] of selected.entries()) {
    const r = plan.spec;
    const base = {
      id: r.id,
      kind: r.kind,
      title: r.title,
      depends_on: r.depends_on.filter((d) => selectedIds.has(d)),
      thresholds: sortedRecord(plan.thresholds),
    };
    opts.onRungStart?.(r, i, selected.length);
    // A dependency holds when it passed or had nothing to check; failed, erred or blocked ones block.
    const holds = (d: string) => verdicts.get(d) === "pass" || (verdicts.get(d) === "skipped" && !blocked.has(d));
    const blocking = opts.only === undefined && !opts.keepGoing ? r.depends_on.filter((d) => !holds(d)) : [];
    // A capability the session lacks (a backend without per-layer outputs, say) skips the rung
    // with the session's reason; nothing was checked, so it neither passes nor blocks dependants.
    const lacking = gateUnit(r.kind).requires.flatMap((c) => {
      const why = session.missing[c];
      return why === undefined ? [] : [`${c}: ${why}`];
    });
    const runs = lacking.length === 0 && blocking.length === 0;
    // What the session may let go of: what neither this rung (when it runs) nor any later one reads.
    session.retain?.(runs ? readsOf([plan]) : new Set(), readsOf(selected.slice(i + 1)));
    let rung: Rung;
    if (lacking.length > 0 && blocking.length === 0) {
      const reason = `the candidate's session lacks ${lacking.join("; ")}`;
      rung = { ...base, verdict: "skipped", message: `skipped: ${reason}`, duration_s: 0, units: {}, skip_reason: reason, prompts: [] };
    } else if (blocking.length > 0) {
      const reason = blocking.map((d) => `${d} ${verdicts.get(d) === "skipped" ? "was skipped" : verdicts.get(d) === "error" ? "could not be evaluated" : "failed"}`).join(", ");
      rung = { ...base, verdict: "skipped", message: `skipped: ${reason}`, duration_s: 0, units: {}, skip_reason: `${reason} (use --keep-going to run it anyway)`, blocked_by: blocking, prompts: [] };
    } else {
      const t0 = performance.now();
      const inf0 = session.inferenceSeconds;
      const ctx: GateContext = {
        session,
        oracle,
        thresholds: plan.thresholds,
        options: plan.options,
        prompts: opts.prompts,
        candidate: opts.candidate,
        ...(opts.openSession === undefined ? {} : { openSession: opts.openSession }),
        ...(opts.producer === undefined ? {} : { producer: opts.producer }),
      };
      try {
        const out = await gateUnit(r.kind).gate(ctx);
        const elapsed = (performance.now() - t0) / 1000;
        metricSeconds += Math.max(0, elapsed - (session.inferenceSeconds - inf0));
        rung = {
          ...base,
          verdict: out.verdict,
          message: out.message,
          duration_s: reportDuration(elapsed),
          units: sortedRecord(out.units),
          ...(out.verdict === "skipped" ? { skip_reason: out.message } : {}),
          prompts: out.prompts,
        };
      } catch (e) {
        const err = isNumgateError(e) ? e : new NumgateError("internal", `unexpected failure in the ${r.kind} gate: ${(e as Error).stack ?? String(e)}`);
        rung = {
          ...base,
          verdict: "error",
          message: err.message.split("\n")[0] ?? err.message,
          duration_s: reportDuration((performance.now() - t0) / 1000),
          units: {},
          error: err.toJSON(),
          prompts: [],
        };
      }
    }
    verdicts.set(r.id, rung.verdict);
    if (rung.blocked_by !== undefined) blocked.add(r.id);
    rungs.push(rung);
    opts.onRungDone?.(rung, i, selected.length);
  }
  session.retain?.(new Set(), new Set());
  return { rungs, metricSeconds };
}

/**
 * error beats fail beats pass. A rung skipped because a rung it depends on did not pass fails
 * the run (it was never shown healthy); a rung with nothing to check (no image among the gated
 * prompts, a backend without the capability) is skipped with its reason and does not.
 */
export function runVerdict(rungs: readonly Rung[]): "pass" | "fail" | "error" {
  if (rungs.length === 0) return "error";
  if (rungs.some((r) => r.verdict === "error")) return "error";
  if (rungs.some((r) => r.verdict === "fail" || (r.verdict === "skipped" && r.blocked_by !== undefined))) return "fail";
  return "pass";
}
