import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createProgress, printReport, progressLine, progressStartLine, renderConsole, useColor } from "../../src/report/console.ts";
import { emitGithub, githubAnnotations, renderGithubSummary } from "../../src/report/github.ts";
import { expectGolden, hostileSample, loadSample } from "./helpers.ts";

class Sink {
  text = "";
  constructor(readonly isTTY: boolean) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/;

describe("console summary", () => {
  it("golden: plain summary, one line per rung and a final line", () => {
    const r = loadSample();
    const text = renderConsole(r);
    expectGolden("console.txt", text);
    expect(text).not.toMatch(ANSI);
    for (const run of r.runs) for (const rung of run.rungs) expect(text).toMatch(new RegExp(`\\b${rung.id}\\b`));
    expect(text.trimEnd().split("\n").at(-1)).toMatch(/^numgate: /);
  });

  it("colours only on a TTY (NO_COLOR / FORCE_COLOR respected)", () => {
    const r = loadSample();
    const tty = new Sink(true);
    printReport(r, tty, {});
    expect(tty.text).toMatch(ANSI);
    const pipe = new Sink(false);
    printReport(r, pipe, {});
    expect(pipe.text).not.toMatch(ANSI);
    expect(useColor(new Sink(true), { NO_COLOR: "1" })).toBe(false);
    expect(useColor(new Sink(false), { FORCE_COLOR: "1" })).toBe(true);
  });

  it("strips ANSI escapes coming from prompts and messages", () => {
    const text = renderConsole(hostileSample(), { color: false });
    expect(text).not.toMatch(ANSI);
  });

  it("progress: in place on a TTY, one result line per rung otherwise", () => {
    const ev = { run: "m/c", rung: "layers", index: 3, total: 5 };
    expect(progressStartLine(ev)).toBe("[3/5] m/c layers …");
    const done = { ...ev, verdict: "fail" as const, duration_s: 0.8125, message: "layer 5 token 17: cos 0.9998" };
    expect(progressLine(done)).toBe("[3/5] m/c layers FAIL 0.813s layer 5 token 17: cos 0.9998");
    const pipe = new Sink(false);
    const p = createProgress(pipe, {});
    p.start(ev);
    p.done(done);
    expect(pipe.text).toBe(`${progressLine(done)}\n`);
    const tty = new Sink(true);
    const q = createProgress(tty, {});
    q.start(ev);
    q.done(done);
    expect(tty.text).toContain("\r");
    expect(tty.text).toMatch(ANSI);
  });
});

describe("GitHub Actions", () => {
  it("::error annotations point at the gate spec for failing and erroring rungs", () => {
    const r = loadSample();
    const lines = githubAnnotations(r);
    const bad = r.runs.flatMap((run) => run.rungs.filter((g) => g.verdict === "fail" || g.verdict === "error").map((g) => ({ run, g })));
    expect(lines).toHaveLength(bad.length);
    lines.forEach((l, i) => {
      expect(l.startsWith(`::error file=${bad[i]!.run.spec_file},title=`)).toBe(true);
      expect(l).not.toContain("\n");
    });
  });

  it("escapes workflow-command metacharacters", () => {
    const r = loadSample();
    const run = r.runs[0]!;
    run.rungs[0]!.verdict = "fail";
    run.rungs[0]!.message = "100% bad, really: yes\nsecond";
    const line = githubAnnotations(r)[0]!;
    expect(line).toContain("::100%25 bad, really: yes second");
    expect(line).toMatch(/title=numgate [^:]*%3A FAIL::/);
  });

  it("summary is Markdown with the ladder table; hostile strings escaped", () => {
    const md = renderGithubSummary(hostileSample());
    expect(md).toContain("## numgate report");
    expect(md).toMatch(/^\| run \| verdict \|/m);
    expect(md).not.toContain("<script>");
    expect(md).not.toMatch(ANSI);
    expectGolden("summary.md", renderGithubSummary(loadSample()));
  });

  it("emitGithub is a no-op without GITHUB_ACTIONS; with it, annotates and appends the summary", () => {
    const r = loadSample();
    const out = new Sink(false);
    expect(emitGithub(r, {}, out)).toBe(false);
    expect(out.text).toBe("");
    const dir = mkdtempSync(join(tmpdir(), "numgate-gh-"));
    const summary = join(dir, "summary.md");
    expect(emitGithub(r, { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary }, out)).toBe(true);
    expect(out.text.split("\n").filter((l) => l.startsWith("::error ")).length).toBe(githubAnnotations(r).length);
    emitGithub(r, { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary }, new Sink(false));
    expect(readFileSync(summary, "utf8").split("## numgate report").length).toBe(3); // appended twice
  });
});
