/**
 * onnxruntime's telemetry (1.29+: a device id and an event cache under the user's cache directory,
 * and uploads) stays off in a gate run unless the user asks for it. Child processes, because
 * onnxruntime reads the switch once per process.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "../../helpers/cli.ts";

const home = mkdtempSync(join(tmpdir(), "numgate-ort-telemetry-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Runs the tiny gate with its home and cache directory in `dir`; returns whether onnxruntime wrote its telemetry files there. */
function gateWritesTelemetry(dir: string, env: Record<string, string>): boolean {
  const r = spawnSync(process.execPath, [join(REPO, "dist", "cli", "main.cjs"), "gate", "qwen3-vl-tiny", "-q", "--report-dir", join(dir, "reports")], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 60_000,
    env: { PATH: process.env["PATH"] ?? "", HOME: dir, XDG_CACHE_HOME: join(dir, "cache"), ...env },
  });
  expect(r.status, r.stderr).toBe(0);
  expect(existsSync(join(dir, "reports", "report.json"))).toBe(true);
  return existsSync(join(dir, "cache", "Microsoft"));
}

describe("onnxruntime telemetry", () => {
  it("is off in a gate run: nothing is written to the user's cache directory", () => {
    expect(gateWritesTelemetry(join(home, "default"), {})).toBe(false);
  });

  it("stays as the user set it: ORT_DISABLE_TELEMETRY=0 keeps onnxruntime's default (on), and its files appear", () => {
    expect(gateWritesTelemetry(join(home, "kept-on"), { ORT_DISABLE_TELEMETRY: "0" })).toBe(true);
  });
});
