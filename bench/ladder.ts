/**
 * A full tiny-ladder run, split into load (spec, oracle, ONNX sessions), candidate inference
 * (time inside onnxruntime), metrics (gate code), oracle reads (lazy positioned reads of dump
 * tensors), the wait for hashing (sha256 of every file for report.json, computed beside the load and
 * the ladder: only what they did not hide) and reporting (report.json + junit + html).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeReports } from "../src/report/write.ts";
import { buildReport } from "../src/report/build.ts";
import { runGate } from "../src/run/run-gate.ts";

const ROOT = resolve(import.meta.dirname, "..");

interface Split {
  load: number;
  inference: number;
  metrics: number;
  oracleReads: number;
  hashing: number;
  reporting: number;
  total: number;
}

let rungCount = 0;

async function once(candidate: string, dir: string): Promise<Split> {
  const r = await runGate({ root: ROOT, model: "qwen3-vl-tiny", candidate });
  if (r.run.verdict !== "pass") throw new Error(`bench run of ${candidate} did not pass: ${r.run.verdict}`);
  rungCount = r.run.rungs.length;
  const t0 = performance.now();
  writeReports(buildReport([r.run]), dir);
  const reporting = (performance.now() - t0) / 1000;
  const t = r.timings;
  return { load: t.load_s, inference: t.inference_s, metrics: t.metrics_s, oracleReads: t.oracle_read_s, hashing: t.hash_s, reporting, total: t.total_s + reporting };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "numgate-bench-"));
  try {
    for (const candidate of ["fp32", "int8"]) {
      const cold = await once(candidate, dir);
      const warm: Split[] = [];
      for (let i = 0; i < 7; i++) warm.push(await once(candidate, dir));
      const m = (k: keyof Split) => `${(median(warm.map((w) => w[k])) * 1000).toFixed(1)} ms`;
      const c = (k: keyof Split) => `${(cold[k] * 1000).toFixed(1)} ms`;
      console.log(`tiny ladder qwen3-vl-tiny/${candidate} (${rungCount} rungs, 3 prompts + 1 padded batch, 6 layers; median of 7 after a cold run)`);
      console.log(`  load       ${m("load").padStart(10)}   (cold ${c("load")})`);
      console.log(`  inference  ${m("inference").padStart(10)}   (cold ${c("inference")})`);
      console.log(`  metrics    ${m("metrics").padStart(10)}   (cold ${c("metrics")})`);
      console.log(`  oracle rd  ${m("oracleReads").padStart(10)}   (cold ${c("oracleReads")})`);
      console.log(`  hash wait  ${m("hashing").padStart(10)}   (cold ${c("hashing")}; hashed beside load and ladder)`);
      console.log(`  reporting  ${m("reporting").padStart(10)}   (cold ${c("reporting")})`);
      console.log(`  total      ${m("total").padStart(10)}   (cold ${c("total")})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
