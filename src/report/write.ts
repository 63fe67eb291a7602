/**
 * Writes a report set (report.json, junit.xml, report.html) into a directory, so that a reader
 * never sees a mix of two runs; re-renders a report.json.
 *
 * How: all three files are rendered first and carry one `run_id` (report.json's top-level field,
 * a `numgate.run_id` JUnit property on every testsuite, a `numgate-run-id` meta tag and the header
 * of the HTML). Each is staged under a temporary name in the same directory
 * (`.report.json.<pid>.tmp`), fsynced, and only when all three are staged are they renamed into
 * place, back to back, report.json last, then the directory is fsynced. A failure or an interrupt
 * while staging removes the temporary files and leaves the previous set untouched.
 *
 * Three renames are not one atomic step: a SIGKILL or power loss between them (microseconds) can
 * leave a mixed set. Readers tell it by the run ids (`readRunIds`): a set is consistent exactly
 * when all three agree. Because report.json is renamed last, its run id is never newer than the
 * renderings'. Temporary files left by a killed writer are removed by the next write.
 */
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { basename, dirname, join, resolve } from "node:path";
import { NumgateError } from "../errors/numgate-error.ts";
import { renderHtml, type HtmlOptions } from "./html.ts";
import { parseReport, readReport, serializeStamped } from "./json.ts";
import { renderJunit } from "./junit.ts";
import type { Report } from "./schema.ts";

export interface ReportPaths {
  json: string;
  junit: string;
  html: string;
}

export interface WriteOptions {
  /** File names inside `dir` (defaults report.json, junit.xml, report.html). */
  names?: Partial<ReportPaths>;
  html?: HtmlOptions;
  /** Skip writing report.json (renderAll uses it when the source is that very file). */
  skipJson?: boolean;
}

export interface WrittenSet extends ReportPaths {
  /** Undefined only when re-rendering next to a version 1 report.json (skipJson). */
  runId: string | undefined;
}

interface StagedFile {
  target: string;
  temp: string;
  text: string;
}

interface RenderedSet {
  runId: string | undefined;
  paths: ReportPaths;
  /** In rename order: report.json last. */
  files: StagedFile[];
}

const TEMP_SUFFIX = ".tmp";

/** `.report.json.<pid>.tmp` next to `report.json`: same directory, so rename never copies. */
export function tempPathFor(target: string, pid: number = process.pid): string {
  return join(dirname(target), `.${basename(target)}.${pid}${TEMP_SUFFIX}`);
}

const ERRNO_WORDS: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  EISDIR: "a directory is in the way",
  ENOTDIR: "a path component is a file, not a directory",
  EEXIST: "already exists",
  EIO: "I/O error",
};

/** "cannot <operation> <file>: no space left on the device (ENOSPC)" as a NumgateError. */
export function writeError(operation: string, file: string, cause: unknown, consequence = ""): NumgateError {
  const code = (cause as NodeJS.ErrnoException).code;
  const why = code === undefined ? (cause as Error).message : `${ERRNO_WORDS[code] ?? (cause as Error).message} (${code})`;
  return new NumgateError("file_unreadable", `cannot ${operation}: ${why}${consequence}`, { file, cause });
}

const KEPT = "; the previous report set is unchanged";

function renderSet(report: Report, dir: string, opts: WriteOptions): RenderedSet {
  // With skipJson the report.json on disk stays as it is, so the renderings carry its run id (none
  // for a version 1 file); otherwise serializeStamped validates and stamps a fresh one. The
  // renderings are made from that validated copy (what report.json holds, -0 and NaN as JSON
  // writes them), so the report is validated once and not parsed back from its text.
  const stamped = opts.skipJson === true ? { report: parseReport(report), text: "" } : serializeStamped(report);
  const json = stamped.text;
  const valid = stamped.report;
  const runId = valid.run_id;
  const paths: ReportPaths = {
    json: join(dir, opts.names?.json ?? "report.json"),
    junit: join(dir, opts.names?.junit ?? "junit.xml"),
    html: join(dir, opts.names?.html ?? "report.html"),
  };
  const files = [
    { target: paths.junit, text: renderJunit(valid) },
    { target: paths.html, text: renderHtml(valid, opts.html ?? {}) },
    ...(opts.skipJson === true ? [] : [{ target: paths.json, text: json }]),
  ].map((f) => ({ ...f, temp: tempPathFor(f.target) }));
  return { runId, paths, files };
}

/**
 * Creates `dir`. A recursive mkdir can report ENOENT when the real reason is a read-only or
 * unwritable ancestor; the nearest existing ancestor is then named with its own reason.
 */
function makeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (cause) {
    let ancestor = resolve(dir);
    while (dirname(ancestor) !== ancestor) {
      ancestor = dirname(ancestor);
      try {
        if (statSync(ancestor).isDirectory()) break;
      } catch {
        // keep walking up
      }
    }
    const code = (cause as NodeJS.ErrnoException).code;
    // EEXIST from a recursive mkdir means a file holds the name: "already exists" would read as fine.
    if (code === "EEXIST") throw writeError("create directory", dir, new Error("it is a file, not a directory"), KEPT);
    if (code === "ENOENT" && ancestor !== resolve(dir)) {
      try {
        accessSync(ancestor, fsConstants.W_OK);
      } catch (probe) {
        throw writeError(`create directory ${dir} (in ${ancestor})`, dir, probe, KEPT);
      }
    }
    throw writeError("create directory", dir, cause, KEPT);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/** Removes temporary files a killed writer left behind (a live writer's are left alone). */
function removeStaleTemps(dir: string, targets: readonly string[]): void {
  const names = new Set(targets.map((t) => basename(t)));
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const m = /^\.(.+)\.(\d+)\.tmp$/.exec(entry);
    if (m === null || !names.has(m[1] ?? "")) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && isAlive(pid)) continue;
    try {
      unlinkSync(join(dir, entry));
    } catch {
      // another writer's cleanup got there first
    }
  }
}

function removeTemps(files: readonly StagedFile[]): void {
  for (const f of files) {
    try {
      unlinkSync(f.temp);
    } catch {
      // not created yet, or already gone
    }
  }
}

/** Only a regular file (or nothing) may be replaced; a directory in the way fails before any rename. */
function checkTargets(files: readonly StagedFile[]): void {
  for (const f of files) {
    let isFile = true;
    try {
      isFile = lstatSync(f.target).isFile();
    } catch {
      continue; // absent: fine
    }
    if (!isFile) throw writeError(`replace ${f.target}`, f.target, Object.assign(new Error("not a regular file"), { code: "EISDIR" }), KEPT);
  }
}

function stageSync(f: StagedFile): void {
  let fd: number | undefined;
  try {
    fd = openSync(f.temp, "w", 0o644);
    writeSync(fd, f.text, null, "utf8");
    fsyncSync(fd);
  } catch (cause) {
    throw writeError(`write ${f.temp}`, f.target, cause, KEPT);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Test hook: NUMGATE_TEST_WRITE_DELAY_MS (milliseconds) pauses after each staged file, so the kill
 * test (tests/cli/kill.test.ts) can land signals while reports are being written. Never set it
 * otherwise.
 */
function testWriteDelayMs(): number {
  const ms = Number(process.env["NUMGATE_TEST_WRITE_DELAY_MS"] ?? "0");
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/**
 * The commit: synchronous and back to back, so no signal handler (they run between event-loop
 * turns) can observe a half-renamed set.
 */
function commit(dir: string, files: readonly StagedFile[]): void {
  for (const [i, f] of files.entries()) {
    try {
      renameSync(f.temp, f.target);
    } catch (cause) {
      const done = files.slice(0, i).map((d) => basename(d.target));
      const state = done.length === 0 ? KEPT : `; ${done.join(", ")} already replaced: the set in ${dir} is mixed (run ids differ)`;
      removeTemps(files.slice(i));
      throw writeError(`rename ${f.temp} to ${basename(f.target)}`, f.target, cause, state);
    }
  }
  // Makes the renames durable; not every file system lets a directory be fsynced.
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort
  }
}

/**
 * Writes report.json, junit.xml and report.html into `dir` (created if missing) as one set and
 * returns their paths (the set's run id: `readRunIds`). The report is validated first (NumgateError "report_invalid");
 * nothing is written then. Any failure leaves the previous set (NumgateError naming the file).
 */
export function writeReports(report: Report, dir: string, opts: WriteOptions = {}): ReportPaths {
  const set = renderSet(report, dir, opts);
  makeDir(dir);
  removeStaleTemps(dir, set.files.map((f) => f.target));
  try {
    for (const f of set.files) stageSync(f);
    checkTargets(set.files);
  } catch (e) {
    removeTemps(set.files);
    throw e;
  }
  commit(dir, set.files);
  return set.paths;
}

export type WriteOutcome = { written: true; set: WrittenSet } | { written: false };

/**
 * `writeReports` for the gate command: gives the event loop a turn after each staged file so a
 * signal handler can run, and when `signal` is aborted before the commit, removes the temporary
 * files and returns `{ written: false }` (the previous set is untouched). Once the commit starts
 * it finishes. Each file is staged synchronously: asynchronous writes started libuv's thread pool
 * for these three files alone, ~5 ms of a tiny gate run.
 */
export async function writeReportSet(report: Report, dir: string, opts: WriteOptions & { signal?: AbortSignal } = {}): Promise<WriteOutcome> {
  const set = renderSet(report, dir, opts);
  makeDir(dir);
  removeStaleTemps(dir, set.files.map((f) => f.target));
  const delayMs = testWriteDelayMs();
  try {
    for (const f of set.files) {
      if (opts.signal?.aborted === true) break;
      stageSync(f);
      await nextTurn();
      if (delayMs > 0) await sleep(delayMs, undefined, opts.signal === undefined ? {} : { signal: opts.signal }).catch(() => undefined);
    }
    if (opts.signal?.aborted === true) {
      removeTemps(set.files);
      return { written: false };
    }
    checkTargets(set.files);
  } catch (e) {
    removeTemps(set.files);
    throw e;
  }
  commit(dir, set.files);
  return { written: true, set: { ...set.paths, runId: set.runId } };
}

export interface RunIds {
  json: string | undefined;
  junit: string | undefined;
  html: string | undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * The run id each file of the set in `dir` carries (undefined: file missing, unreadable, or from
 * before run ids). Cheap text reads, no validation: for telling which set is on disk.
 */
export function readRunIds(dir: string, names: Partial<ReportPaths> = {}): RunIds {
  const json = readText(join(dir, names.json ?? "report.json"));
  const junit = readText(join(dir, names.junit ?? "junit.xml"));
  const html = readText(join(dir, names.html ?? "report.html"));
  return {
    json: json === undefined ? undefined : /^\s*"run_id": "([0-9a-f]{16})",?$/m.exec(json)?.[1],
    junit: junit === undefined ? undefined : /<property name="numgate\.run_id" value="([0-9a-f]{16})"\/>/.exec(junit)?.[1],
    html: html === undefined ? undefined : /<meta name="numgate-run-id" content="([0-9a-f]{16})">/.exec(html)?.[1],
  };
}

/** The run id of a consistent set in `dir` (all three files agree), else undefined. */
export function consistentRunId(dir: string, names: Partial<ReportPaths> = {}): string | undefined {
  const ids = readRunIds(dir, names);
  return ids.json !== undefined && ids.json === ids.junit && ids.json === ids.html ? ids.json : undefined;
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

/**
 * `numgate render report.json [--out dir]`: reads and validates the report, then writes all three
 * renderings into `outDir` (default: the report's directory). The source file itself is never
 * rewritten.
 */
export function renderAll(reportJsonPath: string, outDir: string = dirname(reportJsonPath)): ReportPaths {
  const report = readReport(reportJsonPath);
  const target = join(outDir, "report.json");
  return writeReports(report, outDir, { skipJson: sameFile(reportJsonPath, target) });
}
