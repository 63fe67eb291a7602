/**
 * Recorded engine frames: the torch engine's CPU runs, recorded with NUMGATE_ENGINE_RECORD and
 * committed, re-made by the replay engine with no torch; a request the recording never saw is
 * refused by name, never guessed.
 */
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EngineBackend } from "../../src/backends/engine/engine-backend.ts";
import { qwen3vlShape } from "../../src/models/qwen3-vl/family.ts";
import { Qwen3VLOracleManifestSchema } from "../../src/models/qwen3-vl/manifest.ts";
import { Oracle } from "../../src/oracle/oracle.ts";
import { runGate } from "../../src/run/run-gate.ts";
import { ROOT, gateRun, rung } from "../helpers/gate-runs.ts";

const shape = qwen3vlShape(Oracle.open(join(ROOT, "oracles/qwen3-vl-tiny"), Qwen3VLOracleManifestSchema).manifest);
const replay = (dir: string) => ["node", "--import", "tsx", join(ROOT, "src/backends/engine/replay-engine.ts"), dir];

describe("replay engine", () => {
  it("re-makes the torch engine's CPU bf16 and fp32 runs without torch", async () => {
    const bf16 = await gateRun("torch-replay-cpu-bf16");
    expect(bf16.verdict).toBe("pass");
    expect(rung(bf16, "layers").message).toBe("6/6 layers pass on 3 prompts");
    expect((await gateRun("torch-replay-cpu-fp32")).verdict).toBe("pass");
  }, 60_000);

  it("re-makes the torch engine's Qwen3.5 CPU runs: hybrid state handles, every rung of the ladder", async () => {
    const q35 = (candidate: string) => runGate({ root: ROOT, model: "qwen3.5-tiny", candidate, keepGoing: true }).then((r) => r.run);
    const [fp32, bf16] = await Promise.all([q35("torch-replay-cpu-fp32"), q35("torch-replay-cpu-bf16")]);
    const all = { positions: "pass", vision: "pass", layers: "pass", seeded_decode: "pass", teacher_forced: "pass", greedy: "pass" };
    expect(Object.fromEntries(fp32.rungs.map((r) => [r.id, r.verdict]))).toEqual(all);
    expect(rung(fp32, "positions").message).toContain("rope tables");
    // bf16 is held to its calibrated thresholds in gates/qwen3.5-tiny.yaml, not fp32's.
    expect(Object.fromEntries(bf16.rungs.map((r) => [r.id, r.verdict]))).toEqual(all);
    expect(rung(bf16, "layers").message).toBe("4/4 layers pass on 4 prompts");
  }, 60_000);

  it("refuses a request it has not recorded, saying how to re-record", async () => {
    const dir = join(ROOT, "oracles/qwen3-vl-tiny/candidates/recordings/torch-cpu-fp32");
    const b = await EngineBackend.open({ command: replay(dir), cwd: ROOT, timeoutSeconds: 30, manifest: "replay.json" }, shape);
    try {
      await expect(b.embed([1, 2, 3, 499])).rejects.toThrow(/has no answer to this embed request \(key [0-9a-f]{32}\).*NUMGATE_ENGINE_RECORD=/);
    } finally {
      await b.close();
    }
  }, 30_000);

  it("NUMGATE_ENGINE_RECORD writes one file per answer, and the replay serves them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "numgate-rec-"));
    const C = join(ROOT, "oracles/qwen3-vl-tiny/candidates");
    const ref = ["node", "--import", "tsx", join(ROOT, "src/backends/engine/onnx-engine.ts"), "--embed", join(C, "embed.onnx"), "--decoder", join(C, "decoder-fp32.onnx")];
    process.env["NUMGATE_ENGINE_RECORD"] = dir;
    let live: Float32Array;
    try {
      const b = await EngineBackend.open({ command: ref, cwd: ROOT, timeoutSeconds: 30, manifest: "rec.json" }, shape);
      live = await b.embed([1, 2, 3]);
      await b.close();
    } finally {
      delete process.env["NUMGATE_ENGINE_RECORD"];
    }
    expect(readdirSync(dir).sort().map((f) => f.replace(/[0-9a-f]{32}/, "K"))).toEqual(["embed-K.0.bin.gz", "hello-K.0.bin.gz"]);
    const r = await EngineBackend.open({ command: replay(dir), cwd: ROOT, timeoutSeconds: 30, manifest: "replay.json" }, shape);
    expect(await r.embed([1, 2, 3])).toEqual(live);
    expect(r.capabilities.layerOutputs).toBe(true);
    await r.close();
  }, 30_000);
});
