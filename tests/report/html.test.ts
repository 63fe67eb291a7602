/**
 * The HTML report, rendered in REAL headless Chromium (Debian's `chromium`, driven by
 * playwright-core; no browser download). Without chromium this test FAILS: install it with
 * `apt-get install -y chromium` (CI does). NUMGATE_CHROMIUM overrides the executable path.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderHtml } from "../../src/report/html.ts";
import { serializeReport } from "../../src/report/json.ts";
import type { Report } from "../../src/report/schema.ts";
import { syntheticReport } from "../../bench/report.ts";
import { artifactsDir, EVIL_VISIBLE, hostileSample, layerEvidences } from "./helpers.ts";

const CHROMIUM = process.env["NUMGATE_CHROMIUM"] ?? "/usr/bin/chromium";

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. The HTML report test needs a real headless Chromium: install it with \`apt-get install -y chromium\` (CI installs it), or point NUMGATE_CHROMIUM at a chromium binary.`,
    );
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
});

afterAll(async () => {
  await browser?.close();
});

interface Opened {
  page: Page;
  dialogs: string[];
  requests: string[];
  consoleErrors: string[];
}

async function open(report: Report, name: string): Promise<Opened> {
  const file = join(artifactsDir(), name);
  writeFileSync(file, renderHtml(report));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const dialogs: string[] = [];
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
  return { page, dialogs, requests, consoleErrors };
}

describe("HTML report in headless Chromium", () => {
  it("shows the ladder, escapes hostile strings, runs no script, draws one marker per layer", async () => {
    const report = hostileSample();
    const { page, dialogs, requests } = await open(report, "report.html");

    // Ladder at a glance: one row per run, each rung cell shows its verdict.
    const rows = page.locator("table.ladder tbody tr");
    await expect.poll(() => rows.count()).toBe(report.runs.length);
    for (const run of report.runs) {
      const row = page.locator(`table.ladder tbody tr[data-run="${run.id}"]`);
      expect(await row.isVisible()).toBe(true);
      for (const rung of run.rungs) {
        const cell = row.locator(`td[data-rung="${rung.id}"]`);
        expect(await cell.getAttribute("data-verdict")).toBe(rung.verdict);
        const text = await cell.innerText();
        expect(text.toLowerCase()).toContain(rung.verdict === "fail" ? "fail" : rung.verdict === "error" ? "error" : rung.verdict);
        expect(await cell.isVisible()).toBe(true);
      }
    }

    // Hostile prompt: visible as literal text, never executed.
    const evil = page.getByText(EVIL_VISIBLE, { exact: false }).first();
    expect(await evil.isVisible()).toBe(true);
    expect(await page.evaluate(() => (globalThis as { __numgate_xss?: unknown }).__numgate_xss)).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(await page.locator("b", { hasText: "bold" }).count()).toBe(0); // <b> in a message is text, not markup
    const scripts = await page.locator("script").evaluateAll((els) => els.map((e) => e.getAttribute("type")));
    expect(scripts).toEqual(["application/json"]);
    expect(await page.locator("body").innerText()).not.toContain("\u001b");

    // No network: the only request is the file itself.
    expect(requests).toHaveLength(1);

    // Embedded JSON parses back to exactly the (canonical) report.
    const embedded = await page.locator("script#numgate-report").textContent();
    expect(JSON.parse(embedded ?? "null")).toEqual(JSON.parse(serializeReport(report)));

    // Per-layer charts: one per layers evidence; one cos marker per layer; failing layers marked.
    const evs = layerEvidences(report);
    const charts = page.locator("svg.layer-chart");
    expect(await charts.count()).toBe(evs.length);
    for (let i = 0; i < evs.length; i++) {
      const ev = evs[i]!.ev;
      const chart = charts.nth(i);
      expect(await chart.isVisible()).toBe(true);
      expect(await chart.locator("circle.cos-marker").count()).toBe(ev.layers.length);
      expect(await chart.locator("circle.cos-marker.failing").count()).toBe(ev.layers.filter((l) => l.verdict !== "pass").length);
      const markerLayers = await chart.locator("circle.cos-marker").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-layer"))));
      expect(markerLayers).toEqual(ev.layers.map((l) => l.layer));
      const minCos = evs[i]!.rung.thresholds["min_cos"];
      if (minCos !== undefined) expect(await chart.locator('line[data-threshold="min_cos"]').count()).toBe(1);
    }

    // Failing/erroring rungs show their message; the first divergence of teacher-forced/greedy is highlighted.
    for (const run of report.runs) {
      for (const rung of run.rungs) {
        const sec = page.locator(`section.rung[data-run="${run.id}"][data-rung="${rung.id}"]`);
        expect(await sec.getAttribute("data-verdict")).toBe(rung.verdict);
        if (rung.verdict !== "pass") expect(await sec.locator(".rung-message").isVisible()).toBe(true);
        for (const [pi, p] of rung.prompts.entries()) {
          const det = sec.locator("details.prompt-result").nth(pi);
          const ev = p.evidence;
          if (ev.kind === "teacher_forced") {
            const first = ev.steps.find((s) => !s.match);
            const hi = det.locator("table.tf-steps tr.first-divergence");
            expect(await hi.count()).toBe(first ? 1 : 0);
            if (first) expect(await hi.getAttribute("data-step")).toBe(String(first.step));
            expect(await det.locator("table.tf-steps th", { hasText: "logits" }).count()).toBeGreaterThan(0);
          }
          if (ev.kind === "greedy") {
            const diverges = ev.first_divergence !== undefined || ev.oracle_tokens.some((t, k) => t !== ev.candidate_tokens[k]);
            expect(await det.locator("table.greedy-tokens tr.first-divergence").count()).toBe(diverges ? 1 : 0);
          }
          if (ev.kind === "positions") {
            const withRows = ev.checks.filter((c) => c.rows.length > 0);
            expect(await det.locator("table.positions-mismatches").count()).toBe(withRows.length);
            for (const c of withRows) {
              expect(await det.locator(`table.positions-mismatches[data-check="${c.name}"] tbody tr`).count()).toBe(c.rows.length);
            }
          }
          if (ev.kind === "vision") expect(await det.locator("table.vision tbody tr").count()).toBe(ev.tensors.length);
        }
      }
    }

    // Environment and file hashes.
    expect(await page.locator("#environment").innerText()).toContain(report.environment.node);
    const html = await page.content();
    for (const run of report.runs) for (const f of run.files) expect(html).toContain(f.sha256);

    await page.locator("body").screenshot({ path: join(artifactsDir(), "report.png") });
    await page.close();
  });

  it("a 36-layer, 211-token run renders under 2 MB with all 36 markers", async () => {
    const report = syntheticReport();
    const html = renderHtml(report);
    expect(Buffer.byteLength(html)).toBeLessThan(2 * 1024 * 1024);
    const { page, dialogs } = await open(report, "report-36-layers.html");
    const chart = page.locator("svg.layer-chart").first();
    expect(await chart.locator("circle.cos-marker").count()).toBe(36);
    expect(dialogs).toEqual([]);
    await chart.screenshot({ path: join(artifactsDir(), "report-36-layers-chart.png") });
    await page.close();
  });
});
