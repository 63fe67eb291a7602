import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { registerReportCommands } from "../../src/cli/report-commands.ts";
import { serializeReport } from "../../src/report/json.ts";
import { renderJunit } from "../../src/report/junit.ts";
import { renderAll, writeReports } from "../../src/report/write.ts";
import { clone, layerEvidences, loadSample } from "./helpers.ts";

const tmp = (): string => mkdtempSync(join(tmpdir(), "numgate-report-"));

describe("writeReports / renderAll", () => {
  it("writes report.json, junit.xml, report.html and returns their paths", () => {
    const dir = join(tmp(), "nested", "out");
    const r = loadSample();
    const paths = writeReports(r, dir);
    expect(paths).toEqual({ json: join(dir, "report.json"), junit: join(dir, "junit.xml"), html: join(dir, "report.html") });
    expect(readFileSync(paths.json, "utf8")).toBe(serializeReport(r));
    expect(readFileSync(paths.junit, "utf8")).toBe(renderJunit(r));
    expect(readFileSync(paths.html, "utf8")).toContain('id="numgate-report"');
  });

  it("an invalid report writes nothing", () => {
    const dir = join(tmp(), "out");
    const r = clone(loadSample());
    r.runs[0]!.duration_s = -1;
    expect(() => writeReports(r, dir)).toThrow(/runs\[0\]\.duration_s/);
    expect(existsSync(dir)).toBe(false);
  });

  it("renderAll re-renders next to the source without rewriting it, or into --out", () => {
    const dir = tmp();
    const src = join(dir, "report.json");
    const text = JSON.stringify(JSON.parse(serializeReport(loadSample()))); // valid but not canonical (one line)
    writeFileSync(src, text);
    const paths = renderAll(src);
    expect(readFileSync(src, "utf8")).toBe(text);
    expect(statSync(paths.junit).size).toBeGreaterThan(0);
    const out = join(dir, "elsewhere");
    const p2 = renderAll(src, out);
    expect(readFileSync(p2.json, "utf8")).toBe(serializeReport(loadSample()));
    expect(readFileSync(p2.html, "utf8")).toBe(readFileSync(paths.html, "utf8"));
  });
});

describe("numgate render | diff | merge", () => {
  let out = "";
  beforeEach(() => {
    out = "";
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  async function cli(...args: string[]): Promise<void> {
    const program = new Command("numgate").exitOverride().configureOutput({ writeErr: () => {} });
    registerReportCommands(program);
    await program.parseAsync(args, { from: "user" });
  }

  it("render writes all three files", async () => {
    const dir = tmp();
    const src = join(dir, "in.json");
    writeFileSync(src, serializeReport(loadSample()));
    await cli("render", src, "--out", join(dir, "o"));
    for (const f of ["report.json", "junit.xml", "report.html"]) expect(existsSync(join(dir, "o", f))).toBe(true);
    expect(out).toContain(join(dir, "o", "junit.xml"));
  });

  it("diff: quiet and exit 0 on identical reports; exit 1 and HTML on a planted regression", async () => {
    const dir = tmp();
    const base = join(dir, "base.json");
    const head = join(dir, "head.json");
    writeFileSync(base, serializeReport(loadSample()));
    writeFileSync(head, serializeReport(loadSample()));
    await cli("diff", base, head);
    expect(process.exitCode ?? 0).toBe(0);
    expect(out).toContain("no changes");

    const r = clone(loadSample());
    const hit = layerEvidences(r).find((x) => x.run.verdict === "pass")!;
    hit.ev.layers[0]!.cos = hit.ev.layers[0]!.cos! - 1e-4;
    writeFileSync(head, serializeReport(r));
    out = "";
    await cli("diff", base, head, "--html", join(dir, "diff.html"));
    expect(process.exitCode).toBe(1);
    expect(out).toContain("REGRESSION");
    expect(readFileSync(join(dir, "diff.html"), "utf8")).toContain("REGRESSION");

    process.exitCode = undefined;
    await cli("diff", base, head, "--tolerance", "1e-3");
    expect(process.exitCode ?? 0).toBe(0);
    await expect(cli("diff", base, head, "--tolerance", "abc")).rejects.toThrow();
  });

  it("merge combines shards and rejects duplicates", async () => {
    const dir = tmp();
    const full = loadSample();
    const files = full.runs.map((run, i) => {
      const f = join(dir, `shard-${i}.json`);
      writeFileSync(f, serializeReport({ ...full, runs: [run] }));
      return f;
    });
    await cli("merge", ...files, "--out", join(dir, "merged"));
    expect(readFileSync(join(dir, "merged", "report.json"), "utf8")).toBe(serializeReport(full));
    await expect(cli("merge", files[0]!, files[0]!, "--out", join(dir, "dup"))).rejects.toMatchObject({ code: "report_invalid" });
  });
});
