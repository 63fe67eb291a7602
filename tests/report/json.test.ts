import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseReport, readReport, reportDuration, reportTimestamp, serializeReport } from "../../src/report/json.ts";
import { REPORT_SCHEMA_VERSION, ReportSchema, reportJsonSchema, type Report } from "../../src/report/schema.ts";
import { catchErr } from "../helpers/errors.ts";
import { clone, expectGolden, loadSample, ROOT, SAMPLE_REPORT } from "./helpers.ts";

const SCHEMA_JSON = join(ROOT, "src", "report", "report.schema.json");

describe("report.json schema", () => {
  it("the sample fixture is a valid report", () => {
    const r = loadSample();
    expect(r.schema).toBe("numgate.report");
    expect(r.version).toBe(REPORT_SCHEMA_VERSION);
    expect(r.runs.length).toBeGreaterThan(0);
  });

  it("published JSON Schema is up to date (UPDATE_GOLDENS=1 rewrites src/report/report.schema.json)", () => {
    const text = `${JSON.stringify(reportJsonSchema(), null, 2)}\n`;
    if (process.env["UPDATE_GOLDENS"] === "1") writeFileSync(SCHEMA_JSON, text);
    expect(readFileSync(SCHEMA_JSON, "utf8"), "src/report/report.schema.json is stale; rerun with UPDATE_GOLDENS=1").toBe(text);
    const js = JSON.parse(text) as { properties: Record<string, unknown>; required: string[] };
    expect(js.required).toEqual(["schema", "version", "generated_at", "environment", "runs"]);
  });

  it("invalid report: NumgateError report_invalid naming file and field path", () => {
    const dir = mkdtempSync(join(tmpdir(), "numgate-report-"));
    const bad = clone(loadSample()) as unknown as { runs: { rungs: { verdict: string }[] }[] };
    bad.runs[0]!.rungs[1]!.verdict = "maybe";
    const path = join(dir, "bad.json");
    writeFileSync(path, JSON.stringify(bad));
    const e = catchErr(() => readReport(path));
    expect(e.code).toBe("report_invalid");
    expect(e.file).toBe(path);
    expect(e.field).toBe("runs[0].rungs[1].verdict");
    expect(e.message).toContain(path);
    expect(e.message).toContain("runs[0].rungs[1].verdict");
  });

  it("missing file and bad JSON have their own codes", () => {
    expect(catchErr(() => readReport("/nonexistent/report.json")).code).toBe("file_not_found");
    const dir = mkdtempSync(join(tmpdir(), "numgate-report-"));
    writeFileSync(join(dir, "x.json"), "{ nope");
    const e = catchErr(() => readReport(join(dir, "x.json")));
    expect(e.code).toBe("invalid_json");
    expect(e.file).toBe(join(dir, "x.json"));
  });

  it("evidence kind must match the rung kind (or be error)", () => {
    const r = clone(loadSample());
    const rung = r.runs[0]!.rungs.find((g) => g.kind !== "greedy" && g.prompts.length > 0)!;
    const i = r.runs[0]!.rungs.indexOf(rung);
    rung.prompts[0]!.evidence = { kind: "greedy", oracle_tokens: [1], candidate_tokens: [1], matches: 1, total: 1 };
    const e = catchErr(() => parseReport(r));
    expect(e.field).toBe(`runs[0].rungs[${i}].prompts[0].evidence.kind`);
  });

  it("duplicate run ids and unknown keys are rejected", () => {
    const r = clone(loadSample());
    r.runs.push(clone(r.runs[0]!));
    expect(catchErr(() => parseReport(r)).field).toBe(`runs[${r.runs.length - 1}].id`);
    const extra = { ...clone(loadSample()), extra: 1 };
    expect(catchErr(() => parseReport(extra)).code).toBe("report_invalid");
  });

  it("NaN/Infinity metrics are written as null; a NaN where no metric may be undefined is rejected", () => {
    const r = clone(loadSample());
    const layers = r.runs.flatMap((x) => x.rungs).flatMap((g) => g.prompts).find((p) => p.evidence.kind === "layers")!;
    if (layers.evidence.kind !== "layers") throw new Error("unreachable");
    layers.evidence.layers[0]!.cos = Number.NaN;
    layers.evidence.layers[0]!.max_abs = Number.POSITIVE_INFINITY;
    const text = serializeReport(r);
    const back = JSON.parse(text) as Report;
    const ev = back.runs.flatMap((x) => x.rungs).flatMap((g) => g.prompts).find((p) => p.evidence.kind === "layers")!.evidence;
    expect(ev.kind === "layers" && ev.layers[0]!.cos).toBeNull();
    expect(ev.kind === "layers" && ev.layers[0]!.max_abs).toBeNull();
    expect(text).not.toMatch(/": (NaN|-?Infinity)\b/);

    const r2 = clone(loadSample());
    r2.runs[0]!.duration_s = Number.NaN;
    expect(catchErr(() => serializeReport(r2)).field).toBe("runs[0].duration_s");
  });

  it("JSON golden: serializeReport(sample) is pinned", () => {
    expectGolden("report.json", serializeReport(loadSample()));
  });

  it("deterministic: the same report twice, and a key-shuffled copy, give byte-identical output", () => {
    const r = loadSample();
    const a = serializeReport(r);
    const b = serializeReport(clone(r));
    expect(b).toBe(a);
    // Reverse every object's key order and the files array: output must not change.
    const shuffle = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(shuffle);
      if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, shuffle(x)]));
      return v;
    };
    const s = shuffle(r) as Report;
    for (const run of s.runs) run.files.reverse();
    expect(serializeReport(s)).toBe(a);
    expect(a.endsWith("}\n")).toBe(true);
    expect(a.split("\n")[1]).toBe('  "schema": "numgate.report",');
  });

  it("canonical order: thresholds and units keys sorted, files sorted by path", () => {
    const r = clone(loadSample());
    r.runs[0]!.rungs[0]!.thresholds = { z_last: 1, a_first: 2 };
    r.runs[0]!.rungs[0]!.units = { zz: "nats", aa: "logits" };
    const back = JSON.parse(serializeReport(r)) as Report;
    expect(Object.keys(back.runs[0]!.rungs[0]!.thresholds)).toEqual(["a_first", "z_last"]);
    expect(Object.keys(back.runs[0]!.rungs[0]!.units)).toEqual(["aa", "zz"]);
    for (const run of back.runs) {
      const paths = run.files.map((f) => f.path);
      expect(paths).toEqual([...paths].sort());
    }
  });

  it("SOURCE_DATE_EPOCH pins generated_at and durations", () => {
    expect(reportTimestamp({ SOURCE_DATE_EPOCH: "1700000000" })).toBe("2023-11-14T22:13:20.000Z");
    expect(reportTimestamp({}, () => new Date(Date.UTC(2024, 0, 2)))).toBe("2024-01-02T00:00:00.000Z");
    expect(catchErr(() => reportTimestamp({ SOURCE_DATE_EPOCH: "yesterday" })).field).toBe("SOURCE_DATE_EPOCH");
    expect(reportDuration(1.23456, { SOURCE_DATE_EPOCH: "0" })).toBe(0);
    expect(reportDuration(1.23456, {})).toBe(1.235);
    const r = { ...clone(loadSample()), generated_at: reportTimestamp({ SOURCE_DATE_EPOCH: "1700000000" }) };
    expect(ReportSchema.safeParse(r).success).toBe(true);
  });

  it("the fixture on disk is already canonical", () => {
    expect(serializeReport(loadSample())).toBe(readFileSync(SAMPLE_REPORT, "utf8"));
  });
});
