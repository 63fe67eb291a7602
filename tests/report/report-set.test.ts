/**
 * Report sets: one run id in all three files, derived from the content; staged writes that leave
 * the previous set when they fail or are aborted; stale temporary files of dead writers removed.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readReport, reportRunId, serializeReport } from "../../src/report/json.ts";
import { consistentRunId, readRunIds, tempPathFor, writeError, writeReports, writeReportSet } from "../../src/report/write.ts";
import { catchErr } from "../helpers/errors.ts";
import { clone, loadSample } from "./helpers.ts";

const freshDir = (): string => mkdtempSync(join(tmpdir(), "numgate-set-"));
const entries = (dir: string): string[] => readdirSync(dir).sort();
/** The sample with another timestamp: a different run, so a different run id. */
function otherRun(): ReturnType<typeof loadSample> {
  return { ...clone(loadSample()), generated_at: "2027-01-01T00:00:00.000Z" };
}

describe("run id", () => {
  it("is the same in report.json, junit.xml (every testsuite) and report.html", () => {
    const dir = freshDir();
    writeReports(loadSample(), dir);
    const ids = readRunIds(dir);
    expect(ids.json).toMatch(/^[0-9a-f]{16}$/);
    expect(ids).toEqual({ json: ids.json, junit: ids.json, html: ids.json });
    const junit = readFileSync(join(dir, "junit.xml"), "utf8");
    const suites = junit.match(/<testsuite /g)?.length ?? 0;
    expect(junit.match(/<property name="numgate\.run_id"/g)?.length).toBe(suites);
    expect(readFileSync(join(dir, "report.html"), "utf8")).toContain(`run id <code id="run-id">${ids.json}</code>`);
    expect(consistentRunId(dir)).toBe(ids.json);
  });

  it("is derived from the content: identical reports share it, different ones differ, a stale one is replaced", () => {
    const a = loadSample();
    expect(reportRunId(a)).toBe(reportRunId(clone(a)));
    expect(reportRunId(otherRun())).not.toBe(reportRunId(a));
    const stale = { ...otherRun(), run_id: reportRunId(a) };
    expect(JSON.parse(serializeReport(stale)).run_id).toBe(reportRunId(otherRun()));
  });

  it("a version 1 report (no run_id) is read as version 2 and gets one when written", () => {
    const dir = freshDir();
    const v1 = JSON.parse(serializeReport(loadSample())) as Record<string, unknown>;
    delete v1["run_id"];
    v1["version"] = 1;
    writeFileSync(join(dir, "v1.json"), JSON.stringify(v1));
    const read = readReport(join(dir, "v1.json"));
    expect(read.version).toBe(2);
    expect(read.run_id).toBeUndefined();
    expect(JSON.parse(serializeReport(read)).run_id).toBe(reportRunId(loadSample()));
  });

  it("a mixed set is told apart", () => {
    const dir = freshDir();
    writeReports(loadSample(), dir);
    const junitOfA = readFileSync(join(dir, "junit.xml"), "utf8");
    writeReports(otherRun(), dir);
    writeFileSync(join(dir, "junit.xml"), junitOfA);
    expect(consistentRunId(dir)).toBeUndefined();
  });
});

describe("writing a set", () => {
  it("a directory where junit.xml should be: an error naming it, the previous set kept, no temp files", () => {
    const dir = freshDir();
    writeReports(loadSample(), dir);
    const before = readFileSync(join(dir, "report.json"), "utf8");
    unlinkSync(join(dir, "junit.xml"));
    mkdirSync(join(dir, "junit.xml"));
    const e = catchErr(() => writeReports(otherRun(), dir));
    expect(e.code).toBe("file_unreadable");
    expect(e.message).toContain(join(dir, "junit.xml"));
    expect(e.message).toMatch(/directory|not a regular file/);
    expect(e.message).toContain("previous report set is unchanged");
    expect(readFileSync(join(dir, "report.json"), "utf8")).toBe(before);
    expect(entries(dir)).toEqual(["junit.xml", "report.html", "report.json"]);
  });

  it("a report directory that is a file: an error naming the directory and the reason", () => {
    const dir = freshDir();
    writeFileSync(join(dir, "file"), "x");
    const e = catchErr(() => writeReports(loadSample(), join(dir, "file", "reports")));
    expect(e.message).toContain(join(dir, "file", "reports"));
    expect(e.message).toMatch(/cannot create directory.*\((ENOTDIR|EEXIST)\)/);
  });

  it("errno codes become words, with the operation and the file", () => {
    const e = writeError("write /d/.report.json.1.tmp", "/d/report.json", Object.assign(new Error("x"), { code: "ENOSPC" }));
    expect(e.message).toBe("/d/report.json: cannot write /d/.report.json.1.tmp: no space left on the device (ENOSPC)");
    expect(writeError("write f", "f", Object.assign(new Error("x"), { code: "EROFS" })).message).toContain("read-only file system (EROFS)");
  });

  it("an aborted write removes its temporary files and keeps the previous set", async () => {
    const dir = freshDir();
    writeReports(loadSample(), dir);
    const id = consistentRunId(dir);
    const controller = new AbortController();
    controller.abort();
    const outcome = await writeReportSet(otherRun(), dir, { signal: controller.signal });
    expect(outcome.written).toBe(false);
    expect(consistentRunId(dir)).toBe(id);
    expect(entries(dir)).toEqual(["junit.xml", "report.html", "report.json"]);
  });

  it("writeReportSet writes a consistent set and returns its run id", async () => {
    const dir = freshDir();
    const outcome = await writeReportSet(otherRun(), dir);
    expect(outcome.written && outcome.set.runId).toBe(reportRunId(otherRun()));
    expect(consistentRunId(dir)).toBe(reportRunId(otherRun()));
  });

  it("temporary files of a dead writer are removed; a live writer's are left alone", () => {
    const dir = freshDir();
    const dead = tempPathFor(join(dir, "report.json"), 2 ** 22 + 12345); // above Linux's pid_max default
    const live = tempPathFor(join(dir, "junit.xml"), process.ppid);
    writeFileSync(dead, "partial");
    writeFileSync(live, "partial");
    writeReports(loadSample(), dir);
    expect(entries(dir)).toEqual([live.slice(dir.length + 1), "junit.xml", "report.html", "report.json"].sort());
  });
});
