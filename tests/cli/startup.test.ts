/**
 * The compiled CLI that `npm ci` builds (the `prepare` script) and that `npm run gate` and
 * bin/numgate.js run. Start-up time is measured by `npm run bench`, not asserted here.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../helpers/cli.ts";

const packageVersion = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;

function numgate(script: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO, script), ...args], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the built CLI", () => {
  it("exists after install: dist/cli/main.js, built from src/ by npm ci", () => {
    expect(existsSync(join(REPO, "dist", "cli", "main.js")), "dist/cli/main.js is missing; npm ci (or npm run build) builds it").toBe(true);
  });

  it("dist/cli/main.js --version prints the package version", () => {
    const r = numgate("dist/cli/main.js", "--version");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(packageVersion);
  });

  it("bin/numgate.js --version prints the package version (rebuilding dist/ first if src/ changed)", () => {
    const r = numgate("bin/numgate.js", "--version");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(packageVersion);
  });

  it("--help still lists every command", () => {
    const r = numgate("dist/cli/main.js", "--help");
    expect(r.code, r.stderr).toBe(0);
    for (const command of ["gate", "calibrate", "positions", "render", "diff", "merge"]) expect(r.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
  });
});
