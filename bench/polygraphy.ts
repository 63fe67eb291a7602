/**
 * numgate next to Polygraphy, the field's reference for "compare an ONNX graph with recorded
 * outputs": `polygraphy run <decoder.onnx> --onnxrt` with hidden_states marked as an output and the
 * oracle's per-layer hidden states loaded as reference outputs (bench/polygraphy/prepare.py builds
 * both from numgate's dumps), on the same graphs and tensors as numgate's layers rung
 * (`numgate gate -r layers`). Whole processes, alternating, min and median of wall and CPU; and
 * what each says about a healthy build (fp32) and a planted fault (one layer's weights perturbed).
 *
 * Polygraphy is a Python tool (pinned in bench/requirements.txt); it runs when
 * NUMGATE_POLYGRAPHY names its executable or `polygraphy` is on PATH, with the `python` next to
 * it for prepare.py. Otherwise this says so and measures nothing.
 *
 *   npx tsx bench/polygraphy.ts        (NUMGATE_BENCH_PAIRS=N; default 5)
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { median, min, timeProcess, type Timing } from "./startup.ts";

const ROOT = resolve(import.meta.dirname, "..");
const ORACLE = join(ROOT, "oracles", "qwen3-vl-tiny");
const CANDIDATES = join(ORACLE, "candidates");

/** The polygraphy executable, or why there is none. */
function findPolygraphy(): { exe: string; python: string } | { missing: string } {
  const named = process.env["NUMGATE_POLYGRAPHY"];
  const exe = named ?? spawnSync("sh", ["-c", "command -v polygraphy"], { encoding: "utf8" }).stdout.trim();
  if (exe === "" || !existsSync(exe)) {
    return { missing: named === undefined ? "polygraphy is not on PATH and NUMGATE_POLYGRAPHY is not set" : `NUMGATE_POLYGRAPHY=${named} does not exist` };
  }
  const python = join(dirname(exe), "python");
  if (!existsSync(python)) return { missing: `no python next to ${exe} to prepare its inputs` };
  const v = spawnSync(exe, ["--version"], { encoding: "utf8" });
  if (v.status !== 0) return { missing: `${exe} --version failed: ${v.stderr.trim()}` };
  return { exe, python };
}

const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`.padStart(8);

export async function run(): Promise<void> {
  const found = findPolygraphy();
  if ("missing" in found) {
    console.log(`numgate vs Polygraphy: not run (${found.missing}; python -m pip install -r bench/requirements.txt)`);
    return;
  }
  const pairs = Number(process.env["NUMGATE_BENCH_PAIRS"] ?? 5);
  const dir = mkdtempSync(join(tmpdir(), "numgate-bench-polygraphy-"));
  try {
    const prep = spawnSync(found.python, [join(ROOT, "bench", "polygraphy", "prepare.py"), ORACLE, dir], { encoding: "utf8" });
    if (prep.status !== 0) throw new Error(`prepare.py failed:\n${prep.stderr}`);
    const version = spawnSync(found.exe, ["--version"], { encoding: "utf8" }).stdout.match(/Version: (\S+)/)?.[1] ?? "?";
    const polygraphy = (decoder: string) => [
      "run", join(CANDIDATES, decoder), "--onnxrt", "--load-inputs", join(dir, "inputs.json"), "--load-outputs", join(dir, "reference.json"),
      "--onnx-outputs", "hidden_states", "--atol", "1e-4", "--rtol", "1e-3",
    ];
    const numgate = (candidate: string) => [join(ROOT, "bin", "numgate.cjs"), "gate", "qwen3-vl-tiny", "-c", candidate, "-r", "layers", "--report-dir", dir];
    // Not timed: warms the file cache and shows each verdict.
    const verdicts: string[] = [];
    for (const [candidate, decoder] of [["fp32", "decoder-fp32.onnx"], ["fault-layer-perturbed", "decoder-layer-perturbed.onnx"]] as const) {
      const p = await timeProcess(found.exe, polygraphy(decoder), [0, 1]);
      const n = await timeProcess(process.execPath, numgate(candidate), [0, 1]);
      const pLines = p.output.split("\n").map((l) => l.replace(/^\[.\]\s*/, "").trim());
      const pLine = [pLines.find((l) => /^(PASSED|FAILED) \| Output/.test(l)), pLines.find((l) => l.startsWith("Accuracy Summary"))?.replace(/\| onnxrt-runner\S* vs\. oracle /, "")].filter((l) => l !== undefined).join("; ");
      const nLine = n.output.split("\n").find((l) => /layers/.test(l) && /pass|fail|divergent/.test(l))?.trim() ?? "?";
      verdicts.push(`  ${candidate}:\n    polygraphy: ${pLine.slice(0, 160)}\n    numgate:    ${nLine.slice(0, 160)}`);
    }
    const poly: Timing[] = [];
    const ng: Timing[] = [];
    for (let i = 0; i < pairs; i++) {
      if (i % 2 === 0) {
        poly.push(await timeProcess(found.exe, polygraphy("decoder-fp32.onnx")));
        ng.push(await timeProcess(process.execPath, numgate("fp32")));
      } else {
        ng.push(await timeProcess(process.execPath, numgate("fp32")));
        poly.push(await timeProcess(found.exe, polygraphy("decoder-fp32.onnx")));
      }
    }
    const wall = (ts: readonly Timing[]) => ts.map((t) => t.wall);
    const cpu = (ts: readonly Timing[]) => ts.flatMap((t) => (t.cpu === undefined ? [] : [t.cpu]));
    const row = (label: string, ts: readonly Timing[]) =>
      `  ${label.padEnd(58)} wall min ${ms(min(wall(ts)))}  median ${ms(median(wall(ts)))}` +
      (cpu(ts).length === ts.length ? `   cpu min ${ms(min(cpu(ts)))}  median ${ms(median(cpu(ts)))}` : "");
    console.log(`numgate vs Polygraphy ${version} (${pairs} alternating pairs): the decoder's per-layer hidden states of 3 prompts against the oracle`);
    console.log(row("polygraphy run decoder-fp32.onnx --onnxrt (+ reference)", poly));
    console.log(row("numgate gate -c fp32 -r layers (embed + vision + decoder)", ng));
    console.log(`  numgate / polygraphy wall: min ${(min(wall(ng)) / min(wall(poly))).toFixed(2)}x, median ${(median(wall(ng)) / median(wall(poly))).toFixed(2)}x`);
    console.log("  what each reports:");
    for (const v of verdicts) console.log(v);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
