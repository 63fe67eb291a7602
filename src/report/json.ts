/**
 * report.json: validation, canonical serialization, reading, and the pinned timestamp.
 *
 * `serializeReport` is deterministic: the same report gives byte-identical output (keys in schema
 * order, `thresholds`/`units` keys sorted, `files` sorted by path, durations rounded to the
 * millisecond, 2-space indent, trailing newline). NaN/Infinity anywhere in the input become null;
 * the schema then accepts them only where a metric may be undefined (`number | null` fields).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { z } from "zod/mini";
import { NumgateError } from "../errors/numgate-error.ts";
import { roundMs } from "../verdicts/timing.ts";
import { REPORT_SCHEMA_VERSION, ReportSchema, type Report } from "./schema.ts";

export { reportDuration, reportTimestamp } from "../verdicts/timing.ts";

/** `runs[1].rungs[2].prompts[0].evidence.kind` */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (typeof seg === "string" && /^[A-Za-z_$][\w$]*$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out === "" ? "(root)" : out;
}

function issueToError(issues: readonly z.core.$ZodIssue[], file: string | undefined): NumgateError {
  const first = issues[0];
  const field = first === undefined ? "(root)" : formatIssuePath(first.path);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? "s" : ""})` : "";
  const msg = `${first?.message ?? "invalid report"}${more}`;
  return new NumgateError("report_invalid", file === undefined ? `${field}: ${msg}` : msg, {
    ...(file === undefined ? {} : { file }),
    field,
  });
}

/**
 * Replaces NaN/Infinity with null (deep copy); JSON has no spelling for them. -0 becomes 0, as
 * JSON.stringify writes it: the renderings are made from this copy, not from report.json read
 * back, and must be what `numgate render` makes from that file.
 */
export function nonFiniteToNull(value: unknown): unknown {
  if (typeof value === "number") return Number.isFinite(value) ? (value === 0 ? 0 : value) : null;
  if (Array.isArray(value)) return value.map(nonFiniteToNull);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = nonFiniteToNull(v);
    return out;
  }
  return value;
}

/** Validates an unknown value as a Report; NumgateError "report_invalid" naming file and field path. */
export function parseReport(value: unknown, file?: string): Report {
  // jitless: a report is validated once per process (see validateSpecData in spec/yaml.ts); zod's JIT
  // compiling its fast path cost more (~30 ms of a tiny gate run) than it saved on one parse.
  const result = ReportSchema.safeParse(nonFiniteToNull(value), { jitless: true });
  if (!result.success) throw issueToError(result.error.issues, file);
  return canonicalReport(result.data);
}

function sortedRecord<T>(r: Readonly<Record<string, T>>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k] as T;
  return out;
}


/** Sorted records and files, millisecond durations. Expects a validated report (key order from zod). */
export function canonicalReport(report: Report): Report {
  return {
    ...report,
    // A version 1 report is a version 2 report without run_id: read as the current version, so
    // `numgate diff` and `merge` keep working across the upgrade.
    version: REPORT_SCHEMA_VERSION,
    runs: report.runs.map((run) => ({
      ...run,
      files: [...run.files].sort((a, b) => cmp(a.path, b.path) || cmp(a.role, b.role)),
      duration_s: roundMs(run.duration_s),
      rungs: run.rungs.map((rung) => ({
        ...rung,
        duration_s: roundMs(rung.duration_s),
        thresholds: sortedRecord(rung.thresholds),
        units: sortedRecord(rung.units),
      })),
    })),
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function canonicalText(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

function withoutRunId(report: Report): Report {
  const { run_id: _ignored, ...rest } = report;
  return rest;
}

/** The run id of an already validated, canonical report (see `reportRunId`). */
function runIdOf(valid: Report): string {
  return createHash("sha256").update(canonicalText(withoutRunId(valid)), "utf8").digest("hex").slice(0, 16);
}

/**
 * The report's run id: the first 16 hex digits of the SHA-256 of its canonical text without
 * `run_id`. Derived from the content, not drawn at random, so that report.json stays byte-identical
 * across reproducible runs (SOURCE_DATE_EPOCH) while runs that differ in anything get different ids.
 */
export function reportRunId(report: Report): string {
  return runIdOf(parseReport(report));
}

/**
 * Validated, canonical report with its `run_id` (re)computed: any id it carried before (e.g. of a
 * report merged or edited since) is replaced. Throws "report_invalid".
 *
 * Validated once: the id is put into the validated, canonical copy where the schema declares it
 * (after version, the key order zod emits). A second parse would only check that a 16-hex-digit
 * string matches RUN_ID_PATTERN, and canonicalReport of a canonical report is itself; it was a
 * third of a tiny gate's report writing.
 */
export function stampRunId(report: Report): Report {
  const valid = parseReport(report);
  const { schema, version, run_id: _stale, ...rest } = valid;
  return { schema, version, run_id: runIdOf(valid), ...rest };
}

/** The stamped report (`stampRunId`) and its canonical JSON text, validated once. */
export function serializeStamped(report: Report): { report: Report; text: string } {
  const stamped = stampRunId(report);
  return { report: stamped, text: canonicalText(stamped) };
}

/**
 * Validated, canonical JSON text with a fresh `run_id`: 2-space indent, trailing newline.
 * Throws "report_invalid".
 */
export function serializeReport(report: Report): string {
  return serializeStamped(report).text;
}

/** Reads and validates a report.json; NumgateError with `file` and `field` on any failure. */
export function readReport(path: string): Report {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code === "ENOENT" ? "file_not_found" : "file_unreadable";
    throw new NumgateError(code, code === "file_not_found" ? "report not found" : "cannot read report", {
      file: path,
      cause,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new NumgateError("invalid_json", `not valid JSON: ${(cause as Error).message}`, { file: path, cause });
  }
  return parseReport(value, path);
}
