/**
 * report.json is reproducible: with SOURCE_DATE_EPOCH pinned, two runs of the same inputs
 * serialize to byte-identical files (times pinned, keys and rows in a fixed order).
 */
import { describe, expect, it } from "vitest";
import { serializeReport } from "../../src/report/json.ts";
import { buildReport } from "../../src/report/build.ts";
import { runGate } from "../../src/run/run-gate.ts";
import { ROOT } from "../helpers/gate-runs.ts";

async function pinnedReport(): Promise<string> {
  const saved = process.env["SOURCE_DATE_EPOCH"];
  process.env["SOURCE_DATE_EPOCH"] = "1795392000";
  try {
    const runs = [];
    for (const candidate of ["fp32", "fault-layer-perturbed"]) runs.push((await runGate({ root: ROOT, model: "qwen3-vl-tiny", candidate })).run);
    return serializeReport(buildReport(runs));
  } finally {
    if (saved === undefined) delete process.env["SOURCE_DATE_EPOCH"];
    else process.env["SOURCE_DATE_EPOCH"] = saved;
  }
}

describe("report determinism", () => {
  it("two runs of the same inputs give byte-identical report.json", async () => {
    const a = await pinnedReport();
    const b = await pinnedReport();
    expect(a).toBe(b);
    expect(a).toContain('"generated_at": "2026-11-23T00:00:00.000Z"');
    expect(a).toMatch(/"duration_s": 0[,\n]/);
  });
});
