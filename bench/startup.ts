/**
 * Whole processes, wall clock, start-up included: what a user waits for. numgate's compiled CLI
 * running a default gate (`bin/numgate.js gate qwen3-vl-tiny`, fp32) against bench/raw-ort.mjs,
 * a plain onnxruntime-node script running the same inference passes, spawned in alternating pairs
 * so that a machine that slows down mid-bench slows both; plus `numgate --version`, which is
 * start-up alone. Min and median of each, and the gate / raw ratio of both.
 *
 *   npx tsx bench/startup.ts           (NUMGATE_BENCH_PAIRS=N for more or fewer pairs; default 7)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = resolve(import.meta.dirname, "..");
const NUMGATE = join(ROOT, "bin", "numgate.js");
const RAW_ORT = join(ROOT, "bench", "raw-ort.mjs");

/** Wall seconds of `node <args>` from spawn to exit; throws unless it exits 0. */
function timeNode(args: readonly string[]): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  // A gate run under GitHub Actions would also write annotations and a job summary.
  delete env["GITHUB_ACTIONS"];
  delete env["GITHUB_STEP_SUMMARY"];
  delete env["NUMGATE_ROOT"];
  const t0 = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
    const stderr: Buffer[] = [];
    child.stderr.on("data", (b: Buffer) => stderr.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = (performance.now() - t0) / 1000;
      if (code === 0) resolvePromise(seconds);
      else reject(new Error(`node ${args.join(" ")} exited ${String(code)}:\n${Buffer.concat(stderr).toString("utf8")}`));
    });
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function min(xs: readonly number[]): number {
  return Math.min(...xs);
}

const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`.padStart(8);

export async function run(): Promise<void> {
  const pairs = Number(process.env["NUMGATE_BENCH_PAIRS"] ?? 7);
  const reportDir = mkdtempSync(join(tmpdir(), "numgate-bench-startup-"));
  const gateArgs = [NUMGATE, "gate", "qwen3-vl-tiny", "--report-dir", reportDir];
  try {
    // Not timed: rebuilds a stale dist/ (bin/numgate.js does that itself) and warms the file cache.
    await timeNode([NUMGATE, "--version"]);
    await timeNode(gateArgs);
    await timeNode([RAW_ORT]);

    const gate: number[] = [];
    const raw: number[] = [];
    const version: number[] = [];
    for (let i = 0; i < pairs; i++) {
      // Alternate which goes first, so neither always runs right after the other.
      if (i % 2 === 0) {
        gate.push(await timeNode(gateArgs));
        raw.push(await timeNode([RAW_ORT]));
      } else {
        raw.push(await timeNode([RAW_ORT]));
        gate.push(await timeNode(gateArgs));
      }
      version.push(await timeNode([NUMGATE, "--version"]));
    }
    console.log(`whole processes, wall clock (${pairs} alternating pairs after a warm-up; node ${process.version})`);
    console.log(`  numgate gate qwen3-vl-tiny (fp32, dist/)  min ${ms(min(gate))}   median ${ms(median(gate))}`);
    console.log(`  raw onnxruntime-node, same passes         min ${ms(min(raw))}   median ${ms(median(raw))}`);
    console.log(`  numgate --version                         min ${ms(min(version))}   median ${ms(median(version))}`);
    console.log(`  gate vs raw ort: min ${(min(gate) / min(raw)).toFixed(2)}x, median ${(median(gate) / median(raw)).toFixed(2)}x`);
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
