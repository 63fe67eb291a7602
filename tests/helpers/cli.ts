/**
 * Helpers for the end-to-end CLI tests (tests/cli/): spawn the real `numgate` CLI as a subprocess
 * (one node process with tsx's loader over the sources; `npm run gate` runs the same code bundled,
 * which tests/cli/startup.test.ts runs too) and build throw-away project roots to break.
 *
 * Nothing here mocks anything: the child process loads the real spec, oracle and ONNX graphs.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse as parseYaml } from "yaml";

/** The repository root (the checkout these tests live in). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const MAIN = join(REPO, "src", "cli", "main.ts");
/**
 * node's arguments that run the CLI from its sources: tsx's loader in the numgate process itself,
 * not tsx's CLI. That CLI starts a second node and relays a signal to it, SIGKILLing it when it
 * does not confirm within 30 ms, which a loaded CI machine missed (exit 143 with no word from
 * numgate); the published bin runs in-process too, so signals reach numgate as they do here.
 */
export const SOURCES_CLI: readonly string[] = ["--import", pathToFileURL(join(REPO, "node_modules", "tsx", "dist", "loader.mjs")).href, MAIN];

export const MODEL = "qwen3-vl-tiny";
/** Paths relative to a project root (the repo or a temp root). */
export const SPEC_REL = `gates/${MODEL}.yaml`;
export const LADDER_REL = "ladders/qwen3-vl.yaml";
export const ORACLE_REL = `oracles/${MODEL}`;
export const MANIFEST_REL = `${ORACLE_REL}/manifest.json`;
export const PROMPTS_REL = `${ORACLE_REL}/prompts`;
export const CANDIDATES_REL = `${ORACLE_REL}/candidates`;
/** The ladder's rungs a candidate runs by default, in order. */
export const RUNG_IDS = ["positions", "vision", "layers", "seeded_decode", "teacher_forced", "greedy"] as const;
/** Every rung of the ladder, the opt-in ones (that compare builds) included. */
export const LADDER_RUNG_IDS = [...RUNG_IDS, "engine_vs_reference", "repeat"] as const;
export const REPORT_FILES = ["report.json", "junit.xml", "report.html"] as const;
export type ReportFile = (typeof REPORT_FILES)[number];

/** Candidate files of the healthy fp32 build (what the default `gate` runs). */
export const FP32_FILES = ["fp32.json", "embed.onnx", "vision-fp32.onnx", "decoder-fp32.onnx"] as const;
/** Candidate files of the int8 build. */
export const INT8_FILES = ["int8.json", "embed.onnx", "vision-fp16.onnx", "decoder-int8.onnx"] as const;

// ---------------------------------------------------------------------------------------------
// Spawning the CLI

export interface CliOptions {
  /** Working directory of the child (default: the repo). Report paths are relative to it. */
  cwd?: string;
  /** NUMGATE_ROOT for the child; unset means the child's cwd is the project root. */
  root?: string;
  /** Extra environment (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** Kill the child (and its process group) after this long; default 60 s. */
  timeoutMs?: number;
}

export interface CliResult {
  args: readonly string[];
  cwd: string;
  /** Exit code; null when the child was killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  seconds: number;
  /** Everything above as one text, for assertion messages. */
  transcript: string;
}

// A small semaphore so a file that starts many runs at once does not oversubscribe the CPUs.
const MAX_PARALLEL = Math.max(2, availableParallelism());
let active = 0;
const waiting: (() => void)[] = [];
function acquire(): Promise<void> {
  if (active < MAX_PARALLEL) {
    active++;
    return Promise.resolve();
  }
  return new Promise((resolve) => waiting.push(resolve));
}
function release(): void {
  const next = waiting.shift();
  if (next !== undefined) next(); // hand the slot over
  else active--;
}

function childEnv(opts: CliOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Deterministic, plain console output; never touch a real CI job summary from a test.
  delete env["FORCE_COLOR"];
  delete env["GITHUB_ACTIONS"];
  delete env["GITHUB_STEP_SUMMARY"];
  delete env["NUMGATE_ROOT"];
  env["NO_COLOR"] = "1";
  if (opts.root !== undefined) env["NUMGATE_ROOT"] = opts.root;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs `numgate <args>` as `node --import <tsx's loader> src/cli/main.ts <args>`. */
export async function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  await acquire();
  try {
    return await spawnCli(args, opts);
  } finally {
    release();
  }
}

function spawnCli(args: readonly string[], opts: CliOptions): Promise<CliResult> {
  const cwd = opts.cwd ?? REPO;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    // detached: its own process group, so a timeout stops any engine process it started too.
    const child = spawn(process.execPath, [...SOURCES_CLI, ...args], { cwd, env: childEnv(opts), stdio: ["ignore", "pipe", "pipe"], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      const seconds = (performance.now() - t0) / 1000;
      const head = `$ (cd ${cwd}${opts.root === undefined ? "" : ` && NUMGATE_ROOT=${opts.root}`} && numgate ${args.join(" ")})`;
      const status = timedOut ? `timed out after ${timeoutMs} ms` : signal !== null ? `killed by ${signal}` : `exit ${String(code)}`;
      resolve({
        args: [...args],
        cwd,
        code,
        signal,
        stdout,
        stderr,
        timedOut,
        seconds,
        transcript: `${head}\n${status} in ${seconds.toFixed(2)} s\n--- stdout\n${stdout}--- stderr\n${stderr}`,
      });
    });
  });
}

/**
 * Starts async work now and returns its promise, marked as handled so that a rejection before a
 * test awaits it is not reported as an unhandled rejection (the awaiting test still sees it).
 */
export function background<T>(work: () => Promise<T>): Promise<T> {
  const p = work();
  p.catch(() => undefined);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Temp directories and project roots

const made: string[] = [];

/** A fresh empty temp directory, removed by `removeTempDirs()` (kept when NUMGATE_KEEP_TMP=1). */
export function tempDir(prefix = "numgate-cli-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  if (process.env["NUMGATE_KEEP_TMP"] === "1") return;
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface TempRoot {
  dir: string;
  /** Absolute path of `rel` inside the root. */
  path(rel: string): string;
  spec: string;
  manifest: string;
  /** Where to point --report-dir (not created). */
  out: string;
}

/**
 * A project root in a fresh temp dir: gates/, ladders/, the oracle's manifest.json and prompts/
 * (not the model/ directory), and only the named files of oracles/qwen3-vl-tiny/candidates/.
 */
export function makeTempRoot(candidateFiles: readonly string[]): TempRoot {
  const dir = tempDir("numgate-root-");
  cpSync(join(REPO, "gates"), join(dir, "gates"), { recursive: true });
  cpSync(join(REPO, "ladders"), join(dir, "ladders"), { recursive: true });
  cpSync(join(REPO, MANIFEST_REL), join(dir, MANIFEST_REL));
  cpSync(join(REPO, PROMPTS_REL), join(dir, PROMPTS_REL), { recursive: true });
  mkdirSync(join(dir, CANDIDATES_REL), { recursive: true });
  for (const f of candidateFiles) cpSync(join(REPO, CANDIDATES_REL, f), join(dir, CANDIDATES_REL, f));
  const path = (rel: string): string => join(dir, rel);
  return { dir, path, spec: path(SPEC_REL), manifest: path(MANIFEST_REL), out: path("out") };
}

/** Rewrites a text file; throws when the edit changes nothing (the fixture drifted from the test). */
export function editFile(path: string, edit: (text: string) => string): string {
  const before = readFileSync(path, "utf8");
  const after = edit(before);
  if (after === before) throw new Error(`test setup: the edit of ${path} changed nothing`);
  writeFileSync(path, after, "utf8");
  return after;
}

/** Replaces exactly one occurrence of `from`; throws unless it occurs exactly once. */
export function replaceOnce(text: string, from: string, to: string): string {
  const i = text.indexOf(from);
  if (i < 0 || text.indexOf(from, i + 1) >= 0) throw new Error(`test setup: expected exactly one ${JSON.stringify(from)}`);
  return text.slice(0, i) + to + text.slice(i + from.length);
}

/**
 * Replaces the first `from` after the `anchors`, each looked for after the previous one (e.g.
 * `["\n  int8:\n", "\n      layers:\n"]` to reach a key inside one candidate's rung map, in a spec
 * whose calibration comments make exact multi-line matches brittle). Throws when any is missing.
 */
export function replaceAfter(text: string, anchors: readonly string[], from: string, to: string): string {
  let at = 0;
  for (const a of anchors) {
    const i = text.indexOf(a, at);
    if (i < 0) throw new Error(`test setup: ${JSON.stringify(a)} not found (after offset ${at})`);
    at = i + a.length;
  }
  const i = text.indexOf(from, at);
  if (i < 0) throw new Error(`test setup: ${JSON.stringify(from)} not found after ${JSON.stringify(anchors)}`);
  return text.slice(0, i) + to + text.slice(i + from.length);
}

/**
 * The spec text without `candidates.<candidate>.thresholds` (the key line and every line of its
 * block map, comments included). Throws when the candidate has no block-map thresholds.
 */
export function withoutThresholds(text: string, candidate: string): string {
  const head = `\n  ${candidate}:\n`;
  const c = text.indexOf(head);
  if (c < 0) throw new Error(`test setup: no candidate ${JSON.stringify(candidate)} in the spec text`);
  const lines = text.slice(c + 1).split("\n");
  // The candidate's own lines: until the next line indented less than 4 (blank lines aside).
  let end = 1;
  while (end < lines.length && (lines[end] === "" || /^ {4}/.test(lines[end]!))) end++;
  const start = lines.findIndex((l, i) => i > 0 && i < end && l === "    thresholds:");
  if (start < 0) throw new Error(`test setup: candidate ${JSON.stringify(candidate)} has no block-map thresholds`);
  let stop = start + 1;
  while (stop < end && /^ {6}/.test(lines[stop]!)) stop++;
  lines.splice(start, stop - start);
  return text.slice(0, c + 1) + lines.join("\n");
}

/** 1-based line and column of the first occurrence of `needle` in `text`. */
export function lineColIn(text: string, needle: string): { line: number; column: number } {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`test setup: ${JSON.stringify(needle)} not found`);
  const before = text.slice(0, i);
  const line = before.split("\n").length;
  return { line, column: i - before.lastIndexOf("\n") };
}

// ---------------------------------------------------------------------------------------------
// Reports and specs

/** Which of report.json, junit.xml, report.html exist in `dir`. */
export function reportFilesIn(dir: string): ReportFile[] {
  return REPORT_FILES.filter((f) => existsSync(join(dir, f)));
}

export function readText(path: string): string {
  return readFileSync(path, "utf8");
}

export interface SpecShape {
  default_candidate: string;
  record_command?: string;
  candidates: Record<string, { file: string; thresholds?: Record<string, Record<string, number>>; expect?: string }>;
  [key: string]: unknown;
}

/** The gate spec as plain data (no validation: tests compare it with what the CLI did). */
export function readSpec(path: string = join(REPO, SPEC_REL)): SpecShape {
  return parseYaml(readFileSync(path, "utf8")) as SpecShape;
}

export interface JunitCaseText {
  classname: string;
  name: string;
  /** The <error> or <failure> element, unescaped; undefined for a passing or skipped testcase. */
  problem?: { element: "error" | "failure"; message: string; type: string; body: string };
}

function unescapeXml(s: string): string {
  return s.replace(/&(quot|lt|gt|amp);/g, (_, e: string) => ({ quot: '"', lt: "<", gt: ">", amp: "&" })[e] ?? "");
}

/** Every testcase of junit.xml named `name` (a plain regex read: numgate writes the XML itself). */
export function junitTestcases(xml: string, name: string): JunitCaseText[] {
  const re = new RegExp(`<testcase classname="([^"]*)" name="${escapeRegExp(name)}"[^>]*?(/>|>([\\s\\S]*?)</testcase>)`, "g");
  return [...xml.matchAll(re)].map((m) => {
    const inner = m[3] ?? "";
    const p = /<(error|failure) message="([^"]*)" type="([^"]*)">([^<]*)<\/\1>/.exec(inner);
    return {
      classname: unescapeXml(m[1]!),
      name,
      ...(p === null ? {} : { problem: { element: p[1] as "error" | "failure", message: unescapeXml(p[2]!), type: unescapeXml(p[3]!), body: unescapeXml(p[4]!) } }),
    };
  });
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
