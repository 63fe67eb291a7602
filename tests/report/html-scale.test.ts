/**
 * report.html at scale: 10 candidates x 3 prompts of a 36-layer model (211 tokens) stays one
 * self-contained file under 2 MB with nothing dropped: every run, prompt, layer row and chart
 * marker is there, and the embedded report.json is the whole report.
 */
import { describe, expect, it } from "vitest";
import { renderHtml } from "../../src/report/html.ts";
import { syntheticReport } from "../../bench/report.ts";

const CANDIDATES = Array.from({ length: 10 }, (_, i) => `cand-${i}`);
const PROMPTS = 3;
const LAYERS = 36;

describe("report.html at 10 candidates x 3 prompts x 36 layers", () => {
  const report = syntheticReport({ candidates: CANDIDATES, prompts: PROMPTS, layers: LAYERS, tokens: 211 });
  const html = renderHtml(report);

  it("is under 2 MB", () => {
    expect(Buffer.byteLength(html)).toBeLessThan(2_000_000);
  });

  it("is one self-contained file: no script to run, nothing fetched", () => {
    expect(html).not.toMatch(/<script(?![^>]*type="application\/json")/);
    expect(html).not.toMatch(/\b(?:src|href)="(?:https?:)?\/\//);
    expect(html).not.toMatch(/<link\b|@import|url\(/);
  });

  it("drops nothing a reviewer needs: every run, prompt, layer row and marker, and the whole report as JSON", () => {
    for (const c of CANDIDATES) expect(html).toContain(`qwen3-vl-2b/${c}`);
    const charts = html.match(/<svg class="chart layer-chart"/g) ?? [];
    expect(charts).toHaveLength(CANDIDATES.length * PROMPTS);
    expect(html.match(/<circle class="marker cos-marker/g) ?? []).toHaveLength(CANDIDATES.length * PROMPTS * LAYERS);
    expect(html.match(/<tr[^>]* data-layer="\d+"/g) ?? []).toHaveLength(CANDIDATES.length * PROMPTS * LAYERS);
    const json = /<script type="application\/json" id="numgate-report">([\s\S]*?)<\/script>/.exec(html)?.[1];
    expect(JSON.parse(json ?? "null")).toEqual(JSON.parse(JSON.stringify(report)));
  });
});
