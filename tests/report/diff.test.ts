import { describe, expect, it } from "vitest";
import { diffReports, isRegression, renderDiffConsole, renderDiffHtml, DEFAULT_COS_TOLERANCE } from "../../src/report/diff.ts";
import type { Report } from "../../src/report/schema.ts";
import { clone, layerEvidences, loadSample } from "./helpers.ts";

/** A passing run with a layers rung (planted regressions go there). */
function passingLayers(r: Report) {
  const hit = layerEvidences(r).find((x) => x.run.verdict === "pass" && x.rung.verdict === "pass" && x.ev.layers.length > 0);
  if (hit === undefined) throw new Error("fixture needs a passing run with a passing layers rung");
  return hit;
}

describe("diffReports", () => {
  it("two identical reports: no changes, not a regression", () => {
    const base = loadSample();
    const d = diffReports(base, clone(base));
    expect(d.changes).toBe(0);
    expect(d.runs).toEqual([]);
    expect(isRegression(d)).toBe(false);
    expect(d.cosTolerance).toBe(DEFAULT_COS_TOLERANCE);
    const text = renderDiffConsole(d);
    expect(text).toContain("no changes");
    expect(text).not.toContain("REGRESSION");
    expect(renderDiffHtml(d)).toContain("no changes");
  });

  it("flags a planted cosine drop past tolerance at the layer", () => {
    const base = loadSample();
    const head = clone(base);
    const hit = passingLayers(head);
    const layer = hit.ev.layers[Math.floor(hit.ev.layers.length / 2)]!;
    const before = layer.cos!;
    layer.cos = before - 5e-6;
    const d = diffReports(base, head);
    expect(isRegression(d)).toBe(true);
    const run = d.runs.find((x) => x.id === hit.run.id)!;
    const rung = run.rungs.find((x) => x.id === hit.rung.id)!;
    const p = rung.prompts.find((x) => x.prompt === hit.prompt.prompt)!;
    const ld = p.layers.find((x) => x.layer === layer.layer && x.metric === "cos")!;
    expect(ld.regression).toBe(true);
    expect(ld.delta).toBeCloseTo(-5e-6, 12);
    expect(ld.base).toBe(before);
    expect(d.regressions.some((s) => s.includes(`layer ${layer.layer} cos`))).toBe(true);
    expect(renderDiffConsole(d)).toContain("REGRESSION");
  });

  it("a drop within tolerance is a change but not a regression; --tolerance widens it", () => {
    const base = loadSample();
    const head = clone(base);
    const layer = passingLayers(head).ev.layers[0]!;
    layer.cos = layer.cos! - 5e-7;
    const d = diffReports(base, head);
    expect(d.changes).toBeGreaterThan(0);
    expect(isRegression(d)).toBe(false);
    expect(renderDiffConsole(d)).toContain("no regression");

    const head2 = clone(base);
    const l2 = passingLayers(head2).ev.layers[0]!;
    l2.cos = l2.cos! - 5e-6;
    expect(isRegression(diffReports(base, head2))).toBe(true);
    expect(isRegression(diffReports(base, head2, { cosTolerance: 1e-5 }))).toBe(false);
  });

  it("flags a verdict flip pass -> fail at rung and run level", () => {
    const base = loadSample();
    const head = clone(base);
    const run = head.runs.find((r) => r.verdict === "pass")!;
    const rung = run.rungs.find((g) => g.verdict === "pass")!;
    rung.verdict = "fail";
    rung.message = "planted failure";
    run.verdict = "fail";
    const d = diffReports(base, head);
    expect(isRegression(d)).toBe(true);
    const rd = d.runs.find((x) => x.id === run.id)!;
    expect(rd.verdict).toMatchObject({ base: "pass", head: "fail", regression: true });
    expect(rd.rungs.find((x) => x.id === rung.id)!.verdict.regression).toBe(true);
    const html = renderDiffHtml(d);
    expect(html).toContain("REGRESSION");
    expect(html).toContain("planted failure");
  });

  it("an improvement (fail -> pass, higher cos) is not a regression", () => {
    const head = loadSample();
    const base = clone(head);
    const run = base.runs.find((r) => r.verdict === "pass")!;
    const rung = run.rungs.find((g) => g.verdict === "pass")!;
    rung.verdict = "fail";
    run.verdict = "fail";
    const d = diffReports(base, head);
    expect(d.changes).toBeGreaterThan(0);
    expect(isRegression(d)).toBe(false);
  });

  it("a cosine that became undefined (null) is a regression", () => {
    const base = loadSample();
    const head = clone(base);
    passingLayers(head).ev.layers[0]!.cos = null;
    expect(isRegression(diffReports(base, head))).toBe(true);
  });

  it("token sequences are shown side by side when they change", () => {
    const base = loadSample();
    const head = clone(base);
    const g = head.runs.flatMap((r) => r.rungs.flatMap((x) => x.prompts.map((p) => ({ run: r, rung: x, p })))).find((x) => x.p.evidence.kind === "greedy");
    if (g === undefined || g.p.evidence.kind !== "greedy") return; // fixture without greedy evidence
    const ev = g.p.evidence;
    const step = Math.min(3, ev.candidate_tokens.length - 1);
    ev.candidate_tokens[step] = (ev.candidate_tokens[step] ?? 0) + 1;
    ev.matches = ev.candidate_tokens.filter((t, i) => t === ev.oracle_tokens[i]).length;
    const d = diffReports(base, head);
    const p = d.runs.flatMap((r) => r.rungs).flatMap((r) => r.prompts).find((x) => x.tokens !== undefined)!;
    expect(p.tokens!.kind).toBe("greedy");
    expect(p.tokens!.rows[step]!.changed).toBe(true);
    expect(p.tokens!.head_first_divergence).toBe(step);
    expect(renderDiffHtml(d)).toContain("tokens-side-by-side");
    expect(renderDiffConsole(d)).toContain("greedy tokens");
  });

  it("added and removed runs are changes, not regressions", () => {
    const base = loadSample();
    const head = clone(base);
    const removed = head.runs.pop()!;
    const d = diffReports(base, head);
    expect(d.runs.find((r) => r.id === removed.id)!.presence).toBe("removed");
    expect(isRegression(d)).toBe(false);
    expect(diffReports(head, base).runs.find((r) => r.id === removed.id)!.presence).toBe("added");
  });

  it("the diff HTML escapes prompt text", () => {
    const base = loadSample();
    const head = clone(base);
    const hit = passingLayers(head);
    hit.prompt.prompt = "<img src=x onerror=alert(1)>";
    const html = renderDiffHtml(diffReports(base, head));
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });
});
