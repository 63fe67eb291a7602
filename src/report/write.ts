/** Writes every rendering of a report into a directory; re-renders a report.json. */
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { NumgateError } from "../errors/numgate-error.ts";
import { renderHtml, type HtmlOptions } from "./html.ts";
import { readReport, serializeReport } from "./json.ts";
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

function write(path: string, text: string): void {
  try {
    writeFileSync(path, text, "utf8");
  } catch (cause) {
    throw new NumgateError("file_unreadable", `cannot write: ${(cause as Error).message}`, { file: path, cause });
  }
}

/**
 * Writes report.json, junit.xml and report.html into `dir` (created if missing) and returns their
 * paths. The report is validated first (NumgateError "report_invalid"); nothing is written then.
 */
export function writeReports(report: Report, dir: string, opts: WriteOptions = {}): ReportPaths {
  const json = serializeReport(report); // validates
  const valid = JSON.parse(json) as Report;
  const paths: ReportPaths = {
    json: join(dir, opts.names?.json ?? "report.json"),
    junit: join(dir, opts.names?.junit ?? "junit.xml"),
    html: join(dir, opts.names?.html ?? "report.html"),
  };
  const junit = renderJunit(valid);
  const html = renderHtml(valid, opts.html ?? {});
  try {
    mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw new NumgateError("file_unreadable", `cannot create directory: ${(cause as Error).message}`, { file: dir, cause });
  }
  if (opts.skipJson !== true) write(paths.json, json);
  write(paths.junit, junit);
  write(paths.html, html);
  return paths;
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
