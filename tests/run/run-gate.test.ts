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
    expect(r.run.error?.message).toContain('no rung "layerz" in ladder qwen3-vl (rungs: positions, vision, layers, seeded_decode, teacher_forced, greedy)');
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
