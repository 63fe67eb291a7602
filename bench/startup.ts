/**
 * Whole processes, wall clock, start-up included: what a user waits for. numgate's compiled CLI
 * running a default gate (`bin/numgate.cjs gate qwen3-vl-tiny`, fp32) against bench/raw-ort.mjs,
 * a plain onnxruntime-node script running the same inference passes, spawned in alternating pairs
 * so that a machine that slows down mid-bench slows both; plus `numgate --version`, which is
 * start-up alone. Min and median of each, and the gate / raw ratio of both. On Linux also the CPU
 * time (user + system) each child used, which a machine shared with other work inflates far less
 * than the wall time.
 *
 *   npx tsx bench/startup.ts           (NUMGATE_BENCH_PAIRS=N for more or fewer pairs; default 7)
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = resolve(import.meta.dirname, "..");
const NUMGATE = join(ROOT, "bin", "numgate.cjs");
const RAW_ORT = join(ROOT, "bench", "raw-ort.mjs");

/**
 * CPU seconds (user + system) of this process's children that have been waited for, from
 * /proc/self/stat (cutime, cstime; clock ticks of 1/100 s); undefined off Linux.
 */
function childrenCpuSeconds(): number | undefined {
  if (!existsSync("/proc/self/stat")) return undefined;
  const stat = readFileSync("/proc/self/stat", "utf8");
  // Fields after the command name, which is in parentheses and may contain spaces: state is field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[16 - 3]) + Number(fields[17 - 3]);
  return Number.isFinite(ticks) ? ticks / 100 : undefined;
}

export interface Timing {
  wall: number;
  cpu: number | undefined;
  /** What it printed on stdout and stderr. */
  output: string;
}

/** Wall and CPU seconds of `node <args>` from spawn to exit; throws unless it exits 0. */
function timeNode(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Timing> {
  return timeProcess(process.execPath, args, [0], env);
}

/** Wall and CPU seconds of `command <args>` from spawn to exit; throws unless it exits with one of `ok`. */
export function timeProcess(command: string, args: readonly string[], ok: readonly number[] = [0], extraEnv: NodeJS.ProcessEnv = {}): Promise<Timing> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extraEnv };
  // A gate run under GitHub Actions would also write annotations and a job summary.
  delete env["GITHUB_ACTIONS"];
  delete env["GITHUB_STEP_SUMMARY"];
  delete env["NUMGATE_ROOT"];
  const cpu0 = childrenCpuSeconds();
  const t0 = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    const output: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => output.push(b));
    child.stderr.on("data", (b: Buffer) => output.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      const wall = (performance.now() - t0) / 1000;
      const cpu1 = childrenCpuSeconds();
      const text = Buffer.concat(output).toString("utf8");
      if (code !== null && ok.includes(code)) resolvePromise({ wall, cpu: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0, output: text });
      else reject(new Error(`${command} ${args.join(" ")} exited ${String(code)}:\n${text}`));
    });
  });
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export function min(xs: readonly number[]): number {
  return Math.min(...xs);
}

const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`.padStart(8);

export async function run(): Promise<void> {
  const pairs = Number(process.env["NUMGATE_BENCH_PAIRS"] ?? 7);
  const reportDir = mkdtempSync(join(tmpdir(), "numgate-bench-startup-"));
  const gateArgs = [NUMGATE, "gate", "qwen3-vl-tiny", "--report-dir", reportDir];
  try {
    // Not timed: rebuilds a stale dist/ (bin/numgate.cjs does that itself), writes the V8 code cache
    // of `--version` and of `gate` where there is none (src/cli/bundle-loader.ts: a user's second
    // run onwards) and warms the file cache.
    await timeNode([NUMGATE, "--version"]);
    await timeNode(gateArgs);
    await timeNode([RAW_ORT]);

    const gate: Timing[] = [];
    const raw: Timing[] = [];
    const rawTelemetry: Timing[] = [];
    const version: Timing[] = [];
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
      // Not in the ratio: numgate turns onnxruntime's telemetry off and so does the raw script
      // (they compare like with like); a plain script left at onnxruntime's default pays this.
      rawTelemetry.push(await timeNode([RAW_ORT], { ORT_DISABLE_TELEMETRY: "0" }));
    }
    const wall = (ts: readonly Timing[]) => ts.map((t) => t.wall);
    const cpu = (ts: readonly Timing[]) => ts.flatMap((t) => (t.cpu === undefined ? [] : [t.cpu]));
    const hasCpu = cpu(gate).length === gate.length && gate.length > 0;
    const row = (label: string, ts: readonly Timing[]) =>
      `  ${label.padEnd(42)} wall min ${ms(min(wall(ts)))}  median ${ms(median(wall(ts)))}` +
      (hasCpu ? `   cpu min ${ms(min(cpu(ts)))}  median ${ms(median(cpu(ts)))}` : "");
    const ratio = (label: string, a: readonly number[], b: readonly number[]) =>
      `  gate vs raw ort${label}: min ${(min(a) / min(b)).toFixed(2)}x, median ${(median(a) / median(b)).toFixed(2)}x`;
    console.log(`whole processes (${pairs} alternating pairs after a warm-up; each child spawned by node ${process.version})`);
    console.log(row("numgate gate qwen3-vl-tiny (fp32, dist/)", gate));
    console.log(row("raw onnxruntime-node script, same passes", raw));
    console.log(row("  the same, onnxruntime's telemetry left on", rawTelemetry));
    console.log(row("numgate --version", version));
    console.log(ratio("", wall(gate), wall(raw)));
    if (hasCpu) console.log(ratio(" (cpu time)", cpu(gate), cpu(raw)));
    // Each pair ran back to back, so its own ratio cancels a machine that speeds up or slows down
    // across the bench, which the ratios of mins and of medians above do not.
    const pairRatios = gate.map((g, i) => g.wall / (raw[i]?.wall ?? NaN));
    console.log(`  gate vs raw ort, pair by pair: min ${min(pairRatios).toFixed(2)}x, median ${median(pairRatios).toFixed(2)}x, max ${Math.max(...pairRatios).toFixed(2)}x`);
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
