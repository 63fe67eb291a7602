/** The command modules declare options only; the work is imported when a command runs. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DIFF_COS_TOLERANCE } from "../../src/cli/report-commands.ts";
import { DEFAULT_COS_TOLERANCE } from "../../src/report/diff.ts";
import { REPO } from "../helpers/cli.ts";

describe("lazy command modules", () => {
  it("diff --tolerance's default is the diff module's", () => {
    expect(DIFF_COS_TOLERANCE).toBe(DEFAULT_COS_TOLERANCE);
  });

  it("--help loads neither yaml, zod nor onnxruntime-node", () => {
    // A resolve hook that names every module the process loads.
    const hook = `export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write("LOAD " + r.url + "\\n"); return r; }`;
    const register = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
    const r = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(register)}`, join(REPO, "dist", "cli", "main.js"), "--help"], {
      cwd: REPO,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}gate /m);
    expect(r.stderr).toMatch(/LOAD .*gate-command\.js/);
    expect(r.stderr).not.toMatch(/onnxruntime|node_modules\/yaml|node_modules\/zod|gate-run\.js/);
  });
});
