/**
 * The work behind `numgate gate`: gate runs, then report sets per model. Its own module, imported
 * only when the command runs, so that `--help` and usage errors do not load the whole pipeline.
 *
 * SIGINT / SIGTERM: during the gate run, numgate exits at once (130 / 143) and the previous report
 * sets stay as they were; while reports are being written, a set still being staged is dropped
 * (temporary files removed) and one already renaming is finished. Either way stderr says, per
 * report directory, which set it holds.
 */
import { join } from "node:path";
import { NumgateError } from "../errors/numgate-error.ts";
import { createProgress, printReport } from "../report/console.ts";
import { emitGithub } from "../report/github.ts";
import { shardOf } from "../report/shard.ts";
import type { Run } from "../report/schema.ts";
import { consistentRunId, writeReportSet } from "../report/write.ts";
import { buildReport } from "../report/build.ts";
import { knownModels, resolveSpec, type ResolvedSpec } from "../run/resolve.ts";
import { runGate, type GateRunTimings } from "../run/run-gate.ts";
import { DEFAULT_MODEL, type GateCommandOptions } from "./gate-command.ts";

export interface GateCommandResult {
  exitCode: number;
  reportDirs: string[];
  runs: Run[];
  timings: GateRunTimings[];
  reportSeconds: number;
}

/**
 * Each model's spec, read, parsed and validated once per command (the work list, the progress
 * label and the run all need it); undefined when it does not resolve, and the run says why.
 */
function specResolver(root: string): (model: string) => ResolvedSpec | undefined {
  const specs = new Map<string, ResolvedSpec | undefined>();
  return (model) => {
    if (!specs.has(model)) {
      try {
        specs.set(model, resolveSpec(root, model));
      } catch {
        specs.set(model, undefined);
      }
    }
    return specs.get(model);
  };
}

/** The (model, candidate) work items, before sharding. */
function workItems(root: string, models: string[], opts: GateCommandOptions, specOf: (model: string) => ResolvedSpec | undefined): { model: string; candidate: string | undefined }[] {
  const items: { model: string; candidate: string | undefined }[] = [];
  for (const model of models) {
    if (opts.allCandidates === true) {
      // A spec that does not resolve is resolved again here to throw its error.
      const spec = (specOf(model) ?? resolveSpec(root, model)).spec;
      for (const c of Object.keys(spec.candidates)) items.push({ model, candidate: c });
    } else if (opts.candidate !== undefined && opts.candidate.length > 0) {
      for (const c of opts.candidate) items.push({ model, candidate: c });
    } else {
      items.push({ model, candidate: undefined });
    }
  }
  return items;
}

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type HandledSignal = keyof typeof SIGNAL_EXIT_CODES;

function previousSetNote(dir: string): string {
  const id = consistentRunId(dir);
  return id === undefined ? `kept the previous report set in ${dir} (no consistent set there)` : `kept the previous report set (run id ${id}) in ${dir}`;
}

/**
 * Turns SIGINT / SIGTERM into an orderly stop. Until `startWriting`, a signal exits immediately:
 * no report has been touched. After it, the signal aborts `signal` and the report loop stops at a
 * safe point (see writeReportSet).
 */
class Interrupts {
  private readonly controller = new AbortController();
  private writing = false;
  received: HandledSignal | undefined;

  constructor(private readonly reportDirs: readonly string[]) {
    process.on("SIGINT", this.handle);
    process.on("SIGTERM", this.handle);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  startWriting(): void {
    this.writing = true;
  }

  dispose(): void {
    process.off("SIGINT", this.handle);
    process.off("SIGTERM", this.handle);
  }

  private readonly handle = (sig: NodeJS.Signals): void => {
    if (this.received !== undefined) return; // already stopping
    this.received = sig === "SIGTERM" ? "SIGTERM" : "SIGINT";
    if (this.writing) {
      this.controller.abort();
      return;
    }
    for (const dir of this.reportDirs) process.stderr.write(`numgate: interrupted (${this.received}) during the gate run; ${previousSetNote(dir)}\n`);
    process.exit(SIGNAL_EXIT_CODES[this.received]);
  };
}

export async function gateCommand(root: string, models: string[], opts: GateCommandOptions): Promise<GateCommandResult> {
  const chosen = models.length === 0 ? [DEFAULT_MODEL] : models;
  const known = knownModels(root);
  for (const m of chosen) {
    if (!known.includes(m)) {
      throw new NumgateError("unknown_model", `unknown model "${m}"; known models (gates/*.yaml): ${known.join(", ") || "none"}`);
    }
  }
  const specOf = specResolver(root);
  let items = workItems(root, chosen, opts, specOf);
  if (opts.shard !== undefined) items = shardOf(items, opts.shard);
  const reportDirOf = (model: string): string => opts.reportDir ?? join(root, "reports", model);
  const interrupts = new Interrupts([...new Set(items.map((i) => reportDirOf(i.model)))]);
  try {
    return await gateAndReport(root, items, opts, reportDirOf, interrupts, specOf);
  } finally {
    interrupts.dispose();
  }
}

async function gateAndReport(
  root: string,
  items: { model: string; candidate: string | undefined }[],
  opts: GateCommandOptions,
  reportDirOf: (model: string) => string,
  interrupts: Interrupts,
  specOf: (model: string) => ResolvedSpec | undefined,
): Promise<GateCommandResult> {
  const progress = createProgress(process.stderr);
  const runs: Run[] = [];
  const timings: GateRunTimings[] = [];
  for (const item of items) {
    const spec = specOf(item.model);
    // "default" until the spec loads: the run itself reports why it does not.
    let runId = `${item.model}/${item.candidate ?? spec?.spec.default_candidate ?? "default"}`;
    const r = await runGate({
      root,
      model: item.model,
      ...(spec === undefined ? {} : { spec }),
      ...(item.candidate === undefined ? {} : { candidate: item.candidate }),
      keepGoing: opts.keepGoing === true,
      ...(opts.ep === undefined ? {} : { executionProvider: opts.ep }),
      ...(opts.threads === undefined ? {} : { threads: opts.threads }),
      ...(opts.rung === undefined || opts.rung.length === 0 ? {} : { only: opts.rung }),
      onRungStart: (rung, i, total) => {
        if (opts.quiet !== true) progress.start({ run: runId, rung: rung.id, kind: rung.kind, index: i + 1, total });
      },
      onRungDone: (rung, i, total) => {
        if (opts.quiet !== true) progress.done({ run: runId, rung: rung.id, kind: rung.kind, index: i + 1, total, verdict: rung.verdict, duration_s: rung.duration_s, message: rung.message });
      },
    });
    runId = r.run.id;
    // Setup failures (bad spec, missing oracle, unloadable graph) are printed in full, even with
    // --quiet: the spec error's file:line:col and suggestions do not fit in a rung line.
    if (r.setupError !== undefined) process.stderr.write(`numgate: ${r.run.id}: ${r.setupError.code}: ${r.setupError.message}\n`);
    runs.push(r.run);
    timings.push(r.timings);
  }
  // Reports: one per model (or all in --report-dir), written even when runs failed or erred.
  interrupts.startWriting();
  const t0 = performance.now();
  const groups = new Map<string, Run[]>();
  for (const run of runs) {
    const dir = reportDirOf(run.model);
    groups.set(dir, [...(groups.get(dir) ?? []), run]);
  }
  for (const [dir, group] of groups) {
    const report = buildReport(group);
    const outcome = interrupts.signal.aborted ? { written: false as const } : await writeReportSet(report, dir, { signal: interrupts.signal });
    const sig = interrupts.received;
    if (sig !== undefined) {
      const note = outcome.written ? `wrote the new report set (run id ${outcome.set.runId ?? "none"}) in ${dir}` : previousSetNote(dir);
      process.stderr.write(`numgate: interrupted (${sig}) while writing reports; ${note}\n`);
      continue; // the remaining directories keep their previous sets, each said so
    }
    if (opts.quiet !== true && outcome.written) {
      printReport(report, process.stdout);
      emitGithub(report);
      process.stdout.write(`reports: ${join(dir, "report.json")}, ${join(dir, "junit.xml")}, ${join(dir, "report.html")} (run id ${outcome.set.runId ?? "none"})\n`);
    }
  }
  const reportSeconds = (performance.now() - t0) / 1000;
  if (interrupts.received !== undefined) {
    return { exitCode: SIGNAL_EXIT_CODES[interrupts.received], reportDirs: [...groups.keys()], runs, timings, reportSeconds };
  }
  const ok = runs.length > 0 && runs.every((r) => r.verdict === "pass");
  return { exitCode: ok ? 0 : 1, reportDirs: [...groups.keys()], runs, timings, reportSeconds };
}

