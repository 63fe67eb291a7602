/**
 * Sharding and merging, for CI matrices across models and candidates: each shard runs
 * `shardOf(items, "i/n")` and writes its own report.json; `mergeReports` combines them.
 */
import { NumgateError } from "../errors/numgate-error.ts";
import { parseReport } from "./json.ts";
import type { Report } from "./schema.ts";

export { parseShard, shardOf, type Shard } from "./shard.ts";

/**
 * Combines the runs of several reports, in argument order. Duplicate run ids are a NumgateError
 * ("report_invalid", naming both files when `files` is given). The environment is the first
 * report's; `generated_at` is the latest of them.
 */
export function mergeReports(reports: readonly Report[], files?: readonly string[]): Report {
  const first = reports[0];
  if (first === undefined) throw new NumgateError("report_invalid", "nothing to merge: no reports given");
  const where = new Map<string, number>();
  const runs: Report["runs"] = [];
  reports.forEach((r, i) => {
    r.runs.forEach((run, j) => {
      const prev = where.get(run.id);
      if (prev !== undefined) {
        const file = files?.[i];
        const other = files?.[prev] ?? `report #${prev + 1}`;
        throw new NumgateError(
          "report_invalid",
          `duplicate run id "${run.id}" while merging (also in ${other})`,
          { ...(file === undefined ? {} : { file }), field: `runs[${j}].id` },
        );
      }
      where.set(run.id, i);
      runs.push(run);
    });
  });
  // ISO-8601 UTC strings of one form compare correctly as strings; compare as dates to be safe.
  const latest = reports.map((r) => r.generated_at).reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
  return parseReport({ ...first, generated_at: latest, runs });
}

