/**
 * Console rendering: a short summary (one line per rung with verdict and message, then a final
 * line), coloured with chalk when the stream is a TTY and plain otherwise; plus per-rung progress
 * helpers the ladder runner calls while it works.
 *
 * Colour follows the stream: `isTTY` and not NO_COLOR, or FORCE_COLOR set (>0).
 */
import { Chalk, type ChalkInstance } from "chalk";
import type { Report, Run, Rung, RungKind, Verdict } from "./schema.ts";
import { formatSeconds, oneLine } from "./text.ts";

export interface ConsoleOptions {
  color?: boolean;
  /** Lines for prompts under each rung that is not a pass (default true). */
  promptDetail?: boolean;
}

export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Whether to colour output written to `stream`. */
export function useColor(stream: OutStream, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env["FORCE_COLOR"];
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") return false;
  return stream.isTTY === true;
}

function chalkFor(color: boolean): ChalkInstance {
  return new Chalk({ level: color ? 1 : 0 });
}

const LABEL: Record<Verdict, string> = { pass: "PASS", fail: "FAIL", error: "ERROR", skipped: "SKIP" };

function paint(c: ChalkInstance, v: Verdict, s: string): string {
  switch (v) {
    case "pass":
      return c.green(s);
    case "fail":
      return c.red.bold(s);
    case "error":
      return c.yellow.bold(s);
    case "skipped":
      return c.gray(s);
  }
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + " ".repeat(n - s.length));

function rungLine(c: ChalkInstance, rung: Rung, idWidth: number): string {
  const msg = oneLine(rung.verdict === "skipped" && rung.skip_reason !== undefined ? rung.skip_reason : rung.message);
  return `  ${paint(c, rung.verdict, pad(LABEL[rung.verdict], 5))}  ${pad(oneLine(rung.id), idWidth)}  ${c.dim(`${formatSeconds(rung.duration_s)}s`)}  ${msg}`;
}

/** The summary text (ends with a newline). */
export function renderConsole(report: Report, opts: ConsoleOptions = {}): string {
  const c = chalkFor(opts.color ?? false);
  const detail = opts.promptDetail ?? true;
  const lines: string[] = [];
  for (const run of report.runs) {
    lines.push(`${paint(c, run.verdict, LABEL[run.verdict])} ${c.bold(oneLine(run.id))} ${c.dim(`(${oneLine(run.spec_file)}, ${formatSeconds(run.duration_s)}s)`)}`);
    if (run.error !== undefined) lines.push(`  ${paint(c, "error", LABEL.error)}  ${c.dim(run.error.code)}  ${oneLine(run.error.message)}`);
    const w = Math.max(0, ...run.rungs.map((r) => oneLine(r.id).length));
    for (const rung of run.rungs) {
      lines.push(rungLine(c, rung, w));
      if (detail && rung.verdict !== "pass" && rung.prompts.length > 1) {
        for (const p of rung.prompts) {
          if (p.verdict === "pass") continue;
          lines.push(`  ${" ".repeat(5)}  ${" ".repeat(w)}    ${paint(c, p.verdict, LABEL[p.verdict].toLowerCase())} [${oneLine(p.prompt)}] ${oneLine(p.message)}`);
        }
      }
    }
  }
  lines.push(finalLine(report, c));
  return `${lines.join("\n")}\n`;
}

function finalLine(report: Report, c: ChalkInstance): string {
  const n = { pass: 0, fail: 0, error: 0 };
  const r = { pass: 0, fail: 0, error: 0, skipped: 0 };
  for (const run of report.runs) {
    n[run.verdict]++;
    for (const g of run.rungs) r[g.verdict]++;
  }
  const overall: Verdict = n.error > 0 ? "error" : n.fail > 0 ? "fail" : "pass";
  const word = overall === "pass" ? "numgate: all gates passed" : overall === "fail" ? "numgate: gates FAILED" : "numgate: gates could not be evaluated (ERROR)";
  const counts = `${report.runs.length} run(s) (${n.pass} pass, ${n.fail} fail, ${n.error} error); rungs: ${r.pass} pass, ${r.fail} fail, ${r.error} error, ${r.skipped} skipped`;
  return `${paint(c, overall, word)} — ${counts}`;
}

/** Writes the summary to `stream`, coloured when it is a TTY. */
export function printReport(report: Report, stream: OutStream = process.stdout, env: NodeJS.ProcessEnv = process.env): void {
  stream.write(renderConsole(report, { color: useColor(stream, env) }));
}

// ---------------------------------------------------------------------------------------------
// Progress

export interface ProgressStart {
  run: string;
  rung: string;
  kind?: RungKind;
  /** 1-based position of this rung in the ladder, and the ladder length. */
  index: number;
  total: number;
}

export interface ProgressDone extends ProgressStart {
  verdict: Verdict;
  duration_s: number;
  message: string;
}

/** `[2/5] qwen3-vl-tiny/int8 layers …` */
export function progressStartLine(ev: ProgressStart, opts: { color?: boolean } = {}): string {
  const c = chalkFor(opts.color ?? false);
  return `${c.dim(`[${ev.index}/${ev.total}]`)} ${oneLine(ev.run)} ${c.bold(oneLine(ev.rung))} …`;
}

/** `[2/5] qwen3-vl-tiny/int8 layers FAIL 0.812s layer 5 token 17: cos …` */
export function progressLine(ev: ProgressDone, opts: { color?: boolean } = {}): string {
  const c = chalkFor(opts.color ?? false);
  return `${c.dim(`[${ev.index}/${ev.total}]`)} ${oneLine(ev.run)} ${c.bold(oneLine(ev.rung))} ${paint(c, ev.verdict, LABEL[ev.verdict])} ${c.dim(`${formatSeconds(ev.duration_s)}s`)} ${oneLine(ev.message)}`;
}

export interface Progress {
  start(ev: ProgressStart): void;
  done(ev: ProgressDone): void;
}

/**
 * Per-rung progress on `stream`. On a TTY the "running" line is rewritten in place by the result
 * line; otherwise only result lines are written (no carriage returns in CI logs).
 */
export function createProgress(stream: OutStream = process.stderr, env: NodeJS.ProcessEnv = process.env): Progress {
  const tty = stream.isTTY === true;
  const color = useColor(stream, env);
  return {
    start(ev) {
      if (tty) stream.write(`\r\u001b[2K${progressStartLine(ev, { color })}`);
    },
    done(ev) {
      stream.write(`${tty ? "\r\u001b[2K" : ""}${progressLine(ev, { color })}\n`);
    },
  };
}

/** For callers that only have a Run: the progress totals of its ladder. */
export function progressOf(run: Run, rungIndex: number): ProgressStart {
  const rung = run.rungs[rungIndex];
  return { run: run.id, rung: rung?.id ?? "?", ...(rung ? { kind: rung.kind } : {}), index: rungIndex + 1, total: run.rungs.length };
}
