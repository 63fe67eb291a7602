/**
 * Kill test: the real CLI, killed 20 times (SIGKILL and SIGTERM, mixed) at random moments, some
 * while it gates and some while it writes reports; after every kill the report directory must hold
 * one complete, valid set: report.json validates, junit.xml parses, and all three files carry the
 * same run id. After a SIGTERM there must be no temporary file left and stderr must say which set
 * the directory holds. Writing is slowed by NUMGATE_TEST_WRITE_DELAY_MS so kills land inside it.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { afterAll, describe, expect, it } from "vitest";
import { readReport } from "../../src/report/json.ts";
import { readRunIds } from "../../src/report/write.ts";
import { REPO, SOURCES_CLI, removeTempDirs, tempDir } from "../helpers/cli.ts";

const KILLS = 20;
/** Per staged file; three files make a ~0.5 s window in which a kill lands during writing. */
const WRITE_DELAY_MS = 150;
const ARGS = ["gate", "-r", "positions", "--report-dir"];

interface Child {
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  kill(sig: NodeJS.Signals): void;
}

function startCli(dir: string): Child {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", NUMGATE_TEST_WRITE_DELAY_MS: String(WRITE_DELAY_MS) };
  delete env["GITHUB_ACTIONS"];
  delete env["GITHUB_STEP_SUMMARY"];
  delete env["SOURCE_DATE_EPOCH"]; // every complete run then has its own run id
  // detached: its own process group, so a kill reaches numgate and any process it starts, as a
  // Ctrl-C in a terminal or a CI runner's cancel does.
  const child = spawn(process.execPath, [...SOURCES_CLI, ...ARGS, dir, "-q"], { cwd: REPO, env, stdio: ["ignore", "ignore", "pipe"], detached: true });
  const err: Buffer[] = [];
  child.stderr.on("data", (b: Buffer) => err.push(b));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stderr: Buffer.concat(err).toString("utf8") }));
  });
  return {
    exited,
    kill: (sig) => {
      try {
        process.kill(-(child.pid ?? 0), sig);
      } catch {
        // already gone
      }
    },
  };
}

const tempFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith(".tmp"));
/** Temporary files that were not in `before` (left by a SIGKILL earlier): this child's own. */
const newTempFiles = (dir: string, before: readonly string[]): string[] => tempFiles(dir).filter((f) => !before.includes(f));

/** The set in `dir` is complete, valid and consistent; returns its run id. */
function assertCompleteSet(dir: string, context: string): string {
  const report = readReport(join(dir, "report.json"));
  new XMLParser().parse(readFileSync(join(dir, "junit.xml"), "utf8"));
  const ids = readRunIds(dir);
  expect(ids.json, `${context}: report.json has no run id`).toMatch(/^[0-9a-f]{16}$/);
  expect(ids, `${context}: run ids differ`).toEqual({ json: report.run_id, junit: report.run_id, html: report.run_id });
  expect(readFileSync(join(dir, "report.html"), "utf8")).toContain(`run id <code id="run-id">${report.run_id}</code>`);
  return report.run_id ?? "";
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when a new temporary file appears in `dir` (writing has begun), or after `limitMs`. */
async function writingStarted(dir: string, before: readonly string[], limitMs: number): Promise<boolean> {
  const t0 = performance.now();
  while (performance.now() - t0 < limitMs) {
    if (newTempFiles(dir, before).length > 0) return true;
    await sleep(5);
  }
  return false;
}

afterAll(() => removeTempDirs());

describe("killing numgate at random moments", () => {
  it(`leaves a complete, consistent report set after each of ${KILLS} kills`, { timeout: 120_000 }, async () => {
    const t0 = performance.now();
    const dir = tempDir("numgate-kill-");
    const first = await startCli(dir).exited;
    expect(first.code, first.stderr).toBe(0);
    let previous = assertCompleteSet(dir, "first run");

    // A seeded sequence keeps a failure reproducible; half the kills wait for writing to begin.
    let seed = 20251201;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const tally = { duringWriting: 0, duringGating: 0, newSets: 0, keptSets: 0 };
    for (let k = 0; k < KILLS; k++) {
      const sig: NodeJS.Signals = k % 2 === 0 ? "SIGTERM" : "SIGKILL";
      const aimAtWriting = k % 4 >= 2;
      const before = tempFiles(dir);
      const child = startCli(dir);
      if (aimAtWriting) {
        await writingStarted(dir, before, 20_000);
        // Up to 4 delays: most land while staging, some after the renames (a new set stays).
        await sleep(random() * 4 * WRITE_DELAY_MS);
      } else {
        await sleep(100 + random() * 1000);
      }
      const whileWriting = newTempFiles(dir, before).length > 0;
      child.kill(sig);
      const r = await child.exited;
      const context = `kill ${k + 1} (${sig}, ${whileWriting ? "during writing" : "during gating"})\n${r.stderr}`;
      if (whileWriting) tally.duringWriting++;
      else tally.duringGating++;

      const now = assertCompleteSet(dir, context);
      if (now === previous) tally.keptSets++;
      else tally.newSets++;
      if (sig === "SIGTERM") {
        expect(newTempFiles(dir, before), context).toEqual([]);
        // The run may also have finished just before the signal (exit 0), or the signal may have
        // hit numgate before it installed its handlers (killed by SIGTERM, nothing written).
        if (r.code === null) expect(r.signal, context).toBe("SIGTERM");
        else if (r.code !== 0) {
          expect(r.code, context).toBe(143);
          const said = /numgate: interrupted \(SIGTERM\)[^\n]*(kept the previous report set|wrote the new report set) \(run id ([0-9a-f]{16})\)/.exec(r.stderr);
          // A signal while gating into a directory with no consistent set names no run id.
          if (whileWriting) expect(said, context).not.toBeNull();
          if (said !== null) expect(said[2], context).toBe(now);
        }
      }
      previous = now;
    }
    // The next complete run removes the temporary files a SIGKILL left behind.
    const last = await startCli(dir).exited;
    expect(last.code, last.stderr).toBe(0);
    assertCompleteSet(dir, "last run");
    expect(tempFiles(dir)).toEqual([]);
    const seconds = (performance.now() - t0) / 1000;
    console.log(`kill test: ${KILLS} kills (${tally.duringWriting} during writing, ${tally.duringGating} during gating), ${tally.newSets} new sets, ${tally.keptSets} kept, ${seconds.toFixed(1)} s`);
  });
});
