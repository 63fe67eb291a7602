/**
 * The torch engine on an H200 (fp32, TF32, bf16, fp16 x eager, sdpa; both tiny families), replayed
 * from the frames recorded there by engines/torch/record_cuda_matrix.sh: with no GPU and no torch,
 * each replay gives the verdicts the GPU run gave (bench/results/cuda-matrix/summary.json, at the
 * candidate's default thresholds), and under its spec entry (calibrated thresholds for the half
 * precisions) every rung passes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runGate } from "../../src/run/run-gate.ts";
import { ROOT } from "../helpers/gate-runs.ts";

interface Recorded {
  verdicts: Record<string, string>;
}
const recorded = JSON.parse(readFileSync(join(ROOT, "bench/results/cuda-matrix/summary.json"), "utf8")) as Record<string, Recorded>;
const CONFIGS = ["fp32", "tf32", "bf16", "fp16"].flatMap((dtype) => ["eager", "sdpa"].map((attn) => `${dtype}-${attn}`));

async function verdicts(model: string, candidate: string): Promise<Record<string, string>> {
  const { run } = await runGate({ root: ROOT, model, candidate, keepGoing: true });
  return Object.fromEntries(run.rungs.map((r) => [r.id, r.verdict]));
}

describe.each(["qwen3-vl-tiny", "qwen3.5-tiny"])("%s on CUDA, replayed", (model) => {
  it("each configuration, by its candidate file, gives the verdicts recorded on the GPU", async () => {
    const got = await Promise.all(CONFIGS.map((c) => verdicts(model, join(ROOT, `oracles/${model}/candidates/torch-replay-cuda-${c}.json`))));
    CONFIGS.forEach((c, i) => expect(got[i], c).toEqual(recorded[`${model}/torch-cuda-${c}`]?.verdicts));
    // The half precisions fail fp32's rope-table tolerance; bf16 also fp32's layer thresholds.
    expect(got[CONFIGS.indexOf("bf16-eager")]).toMatchObject({ positions: "fail", layers: "fail", greedy: "pass" });
  }, 120_000);

  it("each configuration passes every rung under its spec entry", async () => {
    const got = await Promise.all(CONFIGS.map((c) => verdicts(model, `torch-replay-cuda-${c}`)));
    CONFIGS.forEach((c, i) => expect(Object.values(got[i] ?? {}), c).toEqual(Array(6).fill("pass")));
  }, 120_000);
});
