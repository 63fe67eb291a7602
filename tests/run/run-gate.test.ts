/** Requests that could pass vacuously or gate the wrong thing are errors, not verdicts. */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runGate } from "../../src/run/run-gate.ts";
import { ROOT } from "../helpers/gate-runs.ts";

describe("runGate guards", () => {
  it("an unknown --rung is an error listing the ladder's rungs, never an empty pass", async () => {
    const r = await runGate({ root: ROOT, model: "qwen3-vl-tiny", only: ["layerz"] });
    expect(r.run.verdict).toBe("error");
    expect(r.run.error?.code).toBe("unknown_rung");
    expect(r.run.error?.message).toContain('no rung "layerz" in ladder qwen3-vl (rungs: positions, vision, layers, seeded_decode, teacher_forced, greedy, engine_vs_reference, repeat)');
  });

  it("a candidate built for another model is refused, naming its manifest and the model field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "numgate-model-"));
    try {
      const src = join(ROOT, "oracles/qwen3-vl-tiny/candidates");
      for (const f of ["embed.onnx", "vision-fp32.onnx", "decoder-fp32.onnx"]) cpSync(join(src, f), join(dir, f));
      const m = JSON.parse(readFileSync(join(src, "fp32.json"), "utf8")) as { model: string };
      m.model = "qwen3-vl-4b";
      writeFileSync(join(dir, "other.json"), JSON.stringify(m));
      const r = await runGate({ root: ROOT, model: "qwen3-vl-tiny", candidate: join(dir, "other.json") });
      expect(r.run.verdict).toBe("error");
      expect(r.run.error).toMatchObject({ code: "candidate_invalid", field: "model" });
      expect(r.run.error?.message).toContain('a build of "qwen3-vl-4b", but the spec gates "qwen3-vl-tiny"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("run verdicts", () => {
  it("a rung with nothing to check is skipped with its reason and does not fail the run; a blocked rung does", async () => {
    const root = mkdtempSync(join(tmpdir(), "numgate-text-only-"));
    try {
      for (const d of ["ladders", "oracles/qwen3-vl-tiny/prompts"]) cpSync(join(ROOT, d), join(root, d), { recursive: true });
      cpSync(join(ROOT, "oracles/qwen3-vl-tiny/manifest.json"), join(root, "oracles/qwen3-vl-tiny/manifest.json"));
      for (const f of ["fp32.json", "embed.onnx", "vision-fp32.onnx", "decoder-fp32.onnx", "fault-layer-perturbed.json", "decoder-layer-perturbed.onnx"]) {
        cpSync(join(ROOT, "oracles/qwen3-vl-tiny/candidates", f), join(root, "oracles/qwen3-vl-tiny/candidates", f));
      }
      const spec = readFileSync(join(ROOT, "gates/qwen3-vl-tiny.yaml"), "utf8").replace("default_candidate: fp32", "default_candidate: fp32\nprompts: [text-count]");
      cpSync(join(ROOT, "gates"), join(root, "gates"), { recursive: true });
      writeFileSync(join(root, "gates/qwen3-vl-tiny.yaml"), spec);

      const ok = await runGate({ root, model: "qwen3-vl-tiny" });
      const vision = ok.run.rungs.find((g) => g.id === "vision");
      expect(vision).toMatchObject({ verdict: "skipped", skip_reason: "no multimodal prompt" });
      expect(vision?.blocked_by).toBeUndefined();
      expect(ok.run.verdict).toBe("pass");

      const bad = await runGate({ root, model: "qwen3-vl-tiny", candidate: "fault-layer-perturbed" });
      const tf = bad.run.rungs.find((g) => g.id === "teacher_forced");
      expect(tf).toMatchObject({ verdict: "skipped", blocked_by: ["layers"] });
      expect(bad.run.verdict).toBe("fail");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
