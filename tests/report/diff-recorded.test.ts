/**
 * `numgate diff` on real runs: a committed baseline of the int8 build against a head in which
 * the same candidate regressed (the perturbed-layer build under the int8 name), and against an
 * identical re-run.
 */
import { describe, expect, it } from "vitest";
import { diffReports, renderDiffConsole } from "../../src/report/diff.ts";
import type { Run } from "../../src/report/schema.ts";
import { buildReport } from "../../src/report/build.ts";
import { gateRun } from "../helpers/gate-runs.ts";

function relabel(run: Run, candidate: string): Run {
  return { ...run, candidate, id: `${run.model}/${candidate}` };
}

describe("diff of recorded runs", () => {
  it("stays quiet on two identical runs", async () => {
    const base = buildReport([await gateRun("int8", { keepGoing: true })]);
    const head = buildReport([await gateRun("int8", { keepGoing: true })]);
    const d = diffReports(base, head);
    expect(d.regression).toBe(false);
    expect(d.runs).toEqual([]);
  });

  it("flags a planted regression: verdict flip and the layer whose cosine dropped", async () => {
    const base = buildReport([await gateRun("int8", { keepGoing: true })]);
    const head = buildReport([relabel(await gateRun("fault-layer-perturbed", { keepGoing: true }), "int8")]);
    const d = diffReports(base, head);
    expect(d.regression).toBe(true);
    expect(d.regressions.join("\n")).toContain("layers");
    const text = renderDiffConsole(d, { color: false });
    expect(text).toMatch(/layer 3/);
  });
});
