/**
 * The MLX engine (engines/mlx) over mlx-vlm's own Qwen3-VL, on the CPU: the unquantized build at
 * fp32 thresholds, the 8-bit and 4-bit builds at their calibrated ones, and the planted MLX fault
 * at its rung. Needs the engine's venv (engines/mlx/install, which .ci/run runs): without it the
 * suite is skipped locally with the reason, and fails in CI, where it must run.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PromptResult, Run } from "../../src/report/schema.ts";
import { MM, ROOT, TEXT, gateRun, prompt, rung } from "../helpers/gate-runs.ts";

const PYTHON = process.env["NUMGATE_MLX_PYTHON"] || join(ROOT, ".venv-mlx", "bin", "python");
const HAVE = existsSync(PYTHON);
const IN_CI = process.env["CI"] === "true";
const WHY = `no MLX engine interpreter at ${PYTHON}: run engines/mlx/install (or set NUMGATE_MLX_PYTHON)`;
if (!HAVE && !IN_CI) console.warn(`skipping the MLX engine tests: ${WHY}`);

const RUNGS = ["positions", "vision", "layers", "seeded_decode", "teacher_forced", "greedy"];

function ev<K extends string>(ps: readonly PromptResult[], name: string, kind: K) {
  const p = ps.find((x) => x.prompt === name);
  if (p === undefined || p.evidence.kind !== kind) throw new Error(`no ${kind} evidence for ${name}`);
  return p.evidence as Extract<PromptResult["evidence"], { kind: K }>;
}

const verdicts = (run: Run) => run.rungs.map((r) => [r.id, r.verdict]);

describe("in CI the MLX engine is installed", () => {
  it.runIf(IN_CI)("has its interpreter (the MLX tests must not be skipped in CI)", () => {
    expect(HAVE, WHY).toBe(true);
  });
});

describe.skipIf(!HAVE)("the MLX engine: mlx-vlm's own Qwen3-VL against the oracle", () => {
  it("mlx-fp32 passes every rung at fp32 thresholds, on positions mlx-vlm's own loop fed", { timeout: 60_000 }, async () => {
    const run = await gateRun("mlx-fp32");
    expect(verdicts(run)).toEqual(RUNGS.map((r) => [r, "pass"]));
    // The positions judged are mlx-vlm's: its get_rope_index at prefill and its decode formula.
    for (const name of [MM, TEXT]) {
      const checks = ev(rung(run, "positions").prompts, name, "positions").checks;
      const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
      expect(byName["prefill"]?.mismatches).toBe(0);
      expect(byName["decode"]).toMatchObject({ compared: 23, mismatches: 0 });
      expect(byName["rope-tables"]?.mismatches).toBe(0);
    }
    const layers = ev(rung(run, "layers").prompts, MM, "layers").layers;
    for (const l of layers) expect(l.cos_worst_row ?? 0).toBeGreaterThan(0.999999);
    expect(prompt(rung(run, "greedy"), MM).message).toBe("24/24 tokens identical");
  });

  it.each(["mlx-8bit", "mlx-4bit"])("%s passes against its calibrated thresholds", { timeout: 60_000 }, async (c) => {
    const run = await gateRun(c);
    expect(verdicts(run)).toEqual(RUNGS.map((r) => [r, "pass"]));
  });

  it("mlx-fault-head-2bit (head quantized at 2 bits) is caught at seeded_decode while every layer passes", { timeout: 60_000 }, async () => {
    const run = await gateRun("mlx-fault-head-2bit", { keepGoing: true });
    expect(verdicts(run)).toEqual([
      ["positions", "pass"],
      ["vision", "pass"],
      ["layers", "pass"],
      ["seeded_decode", "fail"],
      ["teacher_forced", "fail"],
      ["greedy", "fail"],
    ]);
    const seeded = ev(rung(run, "seeded_decode").prompts, MM, "seeded_decode");
    expect(seeded.logits_cos ?? 1).toBeLessThan(0.999);
    expect(seeded.match).toBe(true);
    expect(ev(rung(run, "teacher_forced").prompts, MM, "teacher_forced").steps.findIndex((s) => !s.match)).toBe(3);
    // mlx-vlm's own generate_step parts from the oracle at the same step.
    expect(ev(rung(run, "greedy").prompts, MM, "greedy").first_divergence?.step).toBe(3);
  });

  it("the engine's own pytest suite passes", { timeout: 60_000 }, () => {
    const r = spawnSync(PYTHON, ["-m", "pytest", "-q", "-p", "no:cacheprovider", join(ROOT, "engines", "mlx", "tests")], { cwd: ROOT, encoding: "utf8" });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  });
});
