/**
 * The engine protocol end to end: numgate drives a separate process (the reference engine, which
 * serves the fp32 graphs) and gets the same verdicts and numbers as in-process onnxruntime; a
 * crashing, silent or garbled engine is an error naming the candidate, never a hang or a pass.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ModelShape } from "../../src/backends/backend.ts";
import { EngineBackend } from "../../src/backends/engine/engine-backend.ts";
import { encodeMessage, MessageReader } from "../../src/backends/engine/wire.ts";
import { isNumgateError } from "../../src/errors/numgate-error.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import { ROOT, gateRun, rung } from "../helpers/gate-runs.ts";

const DIMS: ModelShape = { family: "qwen3-vl", layers: 6, hidden: 64, positionPlanes: 3, state: [], extraInputs: [] };

describe("engine backend", () => {
  it("runs the whole ladder through a separate process with the same results as in-process onnxruntime", async () => {
    const engine = await gateRun("engine-fp32");
    const inProcess = await gateRun("fp32");
    expect(engine.verdict).toBe("pass");
    // Same graphs, same runtime, bit-exact tensors over the wire: identical evidence.
    // The oracle rungs; engine-fp32 also runs the opt-in engine_vs_reference and repeat rungs.
    const oracleRungs = engine.rungs.filter((r) => inProcess.rungs.some((x) => x.id === r.id));
    expect(oracleRungs.map((r) => r.prompts)).toEqual(inProcess.rungs.map((r) => r.prompts));
  });

  it("an engine that crashes mid-run is an error naming the candidate, the request and the engine's last words", async () => {
    const run = await gateRun("fault-engine-crash");
    expect(run.verdict).toBe("error");
    // The 5th decode request is seeded_decode's first (positions makes four; the layers rung reuses
    // the prefill and, on layers that pass, runs no isolated prefills).
    const crashed = rung(run, "seeded_decode");
    expect(crashed.verdict).toBe("error");
    expect(crashed.error?.code).toBe("backend_failed");
    expect(crashed.error?.file).toBe("oracles/qwen3-vl-tiny/candidates/fault-engine-crash.json");
    expect(crashed.error?.message).toMatch(/engine process exited with code 3 during decode \(request \d+\)/);
    expect(crashed.error?.message).toContain("simulated crash at decode request 5");
    // The later rungs say the engine is gone instead of hanging.
    expect(rung(run, "greedy").error?.message).toContain("engine process is gone (exit code 3)");
  });

  it("an engine command that cannot start names the command", async () => {
    const err = await EngineBackend.open({ command: ["/nonexistent/engine"], cwd: ROOT, timeoutSeconds: 5, manifest: "x.json" }, DIMS).catch((e: unknown) => e);
    expect(isNumgateError(err) && err.code).toBe("backend_failed");
    expect((err as Error).message).toContain("could not start the engine (/nonexistent/engine)");
  });

  it("an engine that writes something other than the protocol is rejected, not waited on", async () => {
    const cmd = ["node", "-e", "process.stdout.write(Buffer.from('not a numgate engine at all'))"];
    const err = await EngineBackend.open({ command: cmd, cwd: ROOT, timeoutSeconds: 10, manifest: "x.json" }, DIMS).catch((e: unknown) => e);
    expect(isNumgateError(err) && err.code).toBe("backend_failed");
    expect((err as Error).message).toMatch(/header length \d+ is out of range|exited with code/);
  });

  it("an engine that never answers times out", async () => {
    const cmd = ["node", "-e", "setTimeout(() => {}, 60000)"];
    const err = await EngineBackend.open({ command: cmd, cwd: ROOT, timeoutSeconds: 1, manifest: "x.json" }, DIMS).catch((e: unknown) => e);
    expect((err as Error).message).toContain("did not answer hello (request 1) within 1 s");
  });
});

describe("wire format", () => {
  it("round-trips tensors bit-exactly, across arbitrary chunk boundaries", () => {
    const a = Tensor.from("f32", [2, 3], Float32Array.of(1, -0, Number.MIN_VALUE, 3.5, NaN, -Infinity));
    const b = Tensor.from("i64", [3], BigInt64Array.of(1n, -2n, 9007199254740993n));
    const bytes = Buffer.concat([encodeMessage({ id: 7, op: "x" }, { a, b }), encodeMessage({ id: 8, op: "y" })]);
    const reader = new MessageReader("test");
    const got = [];
    for (let i = 0; i < bytes.length; i += 5) got.push(...reader.push(bytes.subarray(i, i + 5)));
    expect(got.map((m) => m.header["id"])).toEqual([7, 8]);
    const ga = got[0]!.tensors.get("a")!;
    expect(Buffer.from(ga.data.buffer, ga.data.byteOffset, ga.data.byteLength)).toEqual(Buffer.from(a.data.buffer));
    expect(Array.from(got[0]!.tensors.get("b")!.data as BigInt64Array)).toEqual([1n, -2n, 9007199254740993n]);
  });

  it("the reference engine script exists and starts with the given node", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/backends/engine/onnx-engine.ts")], { cwd: ROOT, input: Buffer.alloc(0), timeout: 20_000 });
    expect(r.status).toBe(0); // stdin closed at once: a clean exit, no request served
  });
});
