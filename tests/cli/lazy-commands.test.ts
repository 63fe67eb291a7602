/** The command modules declare options only; the work is imported when a command runs. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DIFF_COS_TOLERANCE } from "../../src/cli/report-commands.ts";
import { DEFAULT_COS_TOLERANCE } from "../../src/report/diff.ts";
import { REPO } from "../helpers/cli.ts";

describe("lazy command modules", () => {
  it("diff --tolerance's default is the diff module's", () => {
    expect(DIFF_COS_TOLERANCE).toBe(DEFAULT_COS_TOLERANCE);
  });

  it("--help loads no onnxruntime-node and evaluates no zod", () => {
    // A resolve hook that names every module the process loads, and at exit whether zod's module
    // ran (it leaves its config on globalThis). dist/ is one bundle (scripts/build.mjs), so what a
    // command defers is the evaluation of the modules it imports, not the reading of a file.
    const hook = `export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write("LOAD " + r.url + "\\n"); return r; }`;
    const register = [
      `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`,
      `process.on("exit", () => process.stderr.write("ZOD " + String("__zod_globalConfig" in globalThis) + "\\n"));`,
    ].join("\n");
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(register)}`, join(REPO, "dist", "cli", "main.cjs"), ...args], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
    const help = run("--help");
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^ {2}gate /m);
    expect(help.stderr).not.toMatch(/onnxruntime/);
    expect(help.stderr).toMatch(/^ZOD false$/m);
    // The probe itself works: a command that validates a spec does evaluate zod.
    const reportDir = mkdtempSync(join(tmpdir(), "numgate-lazy-"));
    const gate = run("gate", "--rung", "no-such-rung", "-q", "--report-dir", reportDir);
    rmSync(reportDir, { recursive: true, force: true });
    expect(gate.stderr).toMatch(/^ZOD true$/m);
  });
});
