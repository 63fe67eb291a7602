/** The command modules declare options only; the work is imported when a command runs. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
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
    expect(r.stderr).not.toMatch(/onnxruntime/);
    // dist/ is a bundle (scripts/build.mjs): what a chunk holds is in esbuild's metafile.
    const meta = JSON.parse(readFileSync(join(REPO, "dist", "meta.json"), "utf8")) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
    const loaded = [...r.stderr.matchAll(/^LOAD (file:\S+)$/gm)].map((m) => fileURLToPath(m[1] ?? ""));
    const inputs = loaded.flatMap((file) => Object.keys(meta.outputs[relative(REPO, file).split(sep).join("/")]?.inputs ?? {}));
    expect(inputs).toContain("src/cli/gate-command.ts");
    expect(inputs.filter((i) => /node_modules\/(yaml|zod|protobufjs)\/|src\/cli\/gate-run\.ts/.test(i))).toEqual([]);
  });
});
