/**
 * Timestamps and durations as report.json holds them. With SOURCE_DATE_EPOCH set (a reproducible
 * run) both are pinned, so two runs of the same inputs give byte-identical reports.
 */
import { NumgateError } from "../errors/numgate-error.ts";

export const roundMs = (s: number): number => Math.round(s * 1000) / 1000;

/**
 * The report's `generated_at`: `SOURCE_DATE_EPOCH` (integer seconds since the Unix epoch, the
 * reproducible-builds convention) when set, else the current time. ISO 8601 UTC with milliseconds.
 */
export function reportTimestamp(env: NodeJS.ProcessEnv = process.env, now: () => Date = () => new Date()): string {
  const raw = env["SOURCE_DATE_EPOCH"];
  if (raw === undefined || raw === "") return now().toISOString();
  if (!/^\d{1,12}$/.test(raw.trim())) {
    throw new NumgateError("report_invalid", `SOURCE_DATE_EPOCH must be a non-negative integer (seconds), got "${raw}"`, {
      field: "SOURCE_DATE_EPOCH",
    });
  }
  return new Date(Number(raw.trim()) * 1000).toISOString();
}

/**
 * A duration for report.json, in seconds. When SOURCE_DATE_EPOCH is set (reproducible run) every
 * duration is pinned to 0 so two runs of the same inputs give byte-identical reports.
 */
export function reportDuration(seconds: number, env: NodeJS.ProcessEnv = process.env): number {
  const pinned = env["SOURCE_DATE_EPOCH"];
  if (pinned !== undefined && pinned !== "") return 0;
  return Number.isFinite(seconds) && seconds > 0 ? roundMs(seconds) : 0;
}
