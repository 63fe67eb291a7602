import { describe, expect, it } from "vitest";
import { serializeReport } from "../../src/report/json.ts";
import { mergeReports, parseShard, shardOf } from "../../src/report/merge.ts";
import { catchErr } from "../helpers/errors.ts";
import { clone, loadSample } from "./helpers.ts";

describe("mergeReports", () => {
  it("splitting a report per run and merging gives the original runs back", () => {
    const full = loadSample();
    const shards = full.runs.map((run, i) => ({ ...clone(full), generated_at: `2025-01-0${i + 1}T00:00:00.000Z`, runs: [run] }));
    const merged = mergeReports(shards);
    expect(merged.runs.map((r) => r.id)).toEqual(full.runs.map((r) => r.id));
    expect(merged.environment).toEqual(shards[0]!.environment);
    expect(merged.generated_at).toBe(`2025-01-0${full.runs.length}T00:00:00.000Z`);
    expect(serializeReport({ ...merged, generated_at: full.generated_at })).toBe(serializeReport(full));
  });

  it("generated_at is the max, whatever the order", () => {
    const a = { ...loadSample(), generated_at: "2025-03-01T00:00:00.000Z", runs: [] };
    const b = { ...loadSample(), generated_at: "2025-01-01T00:00:00.000Z" };
    expect(mergeReports([b, a]).generated_at).toBe("2025-03-01T00:00:00.000Z");
  });

  it("duplicate run ids are a NumgateError naming the file and the run", () => {
    const r = loadSample();
    const e = catchErr(() => mergeReports([r, clone(r)], ["shard-1/report.json", "shard-2/report.json"]));
    expect(e.code).toBe("report_invalid");
    expect(e.file).toBe("shard-2/report.json");
    expect(e.field).toBe("runs[0].id");
    expect(e.message).toContain(r.runs[0]!.id);
    expect(e.message).toContain("shard-1/report.json");
  });

  it("no reports is an error", () => {
    expect(catchErr(() => mergeReports([])).code).toBe("report_invalid");
  });
});

describe("shardOf", () => {
  const items = ["a", "b", "c", "d", "e", "f", "g"];
  it("assigns by index modulo n, 1-based, covering every item exactly once", () => {
    expect(shardOf(items, "1/3")).toEqual(["a", "d", "g"]);
    expect(shardOf(items, "2/3")).toEqual(["b", "e"]);
    expect(shardOf(items, "3/3")).toEqual(["c", "f"]);
    expect(shardOf(items, "1/1")).toEqual(items);
    const all = [1, 2, 3, 4].flatMap((i) => shardOf(items, `${i}/4`));
    expect([...all].sort()).toEqual(items);
    expect(shardOf(items, "9/9")).toEqual([]);
  });
  it("validates the spec", () => {
    for (const bad of ["0/3", "4/3", "1/0", "x/2", "1", "1/2/3", "-1/2", "1.5/2", ""]) {
      const e = catchErr(() => shardOf(items, bad));
      expect(e.code).toBe("schema_violation");
      expect(e.field).toBe("--shard");
    }
    expect(parseShard(" 2 / 5 ")).toEqual({ index: 2, count: 5 });
  });
});
