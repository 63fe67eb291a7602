/**
 * The Qwen3-VL session over a fake backend (no ONNX): what it feeds the runtime for a prompt of
 * the recorded tiny oracle: per-image tower runs, image rows spliced at the image tokens, dense
 * DeepStack, the host's positions at prefill and at every decode step, canonical state for a
 * seeded step, and a stale-cache host resuming from the older state.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isNumgateError } from "../../src/errors/numgate-error.ts";
import { qwen3vl } from "../../src/models/qwen3-vl/family.ts";
import { Qwen3VLCandidateSchema } from "../../src/models/qwen3-vl/manifest.ts";
import { Oracle } from "../../src/oracle/oracle.ts";
import { FakeBackend, type FakeState } from "../helpers/fake-backend.ts";
import { ROOT } from "../helpers/gate-runs.ts";

const oracle = Oracle.open(join(ROOT, "oracles/qwen3-vl-tiny"), qwen3vl.oracleSchema);
const shape = qwen3vl.shape(oracle.manifest);
const H = shape.hidden;
const candidate = (extra: object = {}) => Qwen3VLCandidateSchema.parse({ vision_grid: [1, 4, 6], ...extra });

function open(extra: object = {}, backend = new FakeBackend(shape)) {
  return { backend, session: qwen3vl.openSession(backend, oracle, candidate(extra)) };
}

describe("Qwen3-VL session over a fake backend", () => {
  it("describes the decoder to runtimes: K/V per layer, three position planes, DeepStack as an extra input", () => {
    expect(shape.positionPlanes).toBe(3);
    expect(shape.state.map((s) => s.name).slice(0, 3)).toEqual(["past.0.key", "past.0.value", "past.1.key"]);
    expect(shape.state).toHaveLength(2 * shape.layers);
    expect(shape.state[0]?.emptyShape).toEqual([1, 2, 0, 32]);
    expect(shape.extraInputs).toEqual([{ name: "deepstack", shape: [3, 1, -1, 64] }]);
  });

  it("prefill: tower once per image, image rows spliced at the image tokens, DeepStack dense at those rows, host positions fed", async () => {
    const { backend, session } = open();
    await session.layerOutputs("mm-colours-a");
    const ids = session.prompt("mm-colours-a").dump.get("inputs.input_ids").toNumbers();
    const slots = ids.flatMap((t, i) => (t === oracle.manifest.tokens.image_token_id ? [i] : []));
    expect(backend.calls.visions).toEqual([{ rows: 24, grid: [1, 4, 6] }]);
    const [prefill] = backend.calls.steps;
    if (prefill === undefined) throw new Error("no step");
    expect(prefill.state).toBeNull();
    const emb = prefill.inputsEmbeds;
    ids.forEach((id, i) => {
      const r = slots.indexOf(i);
      expect(emb[i * H]).toBe(r >= 0 ? -(r + 1) : id);
    });
    const ds = prefill.extras["deepstack"];
    if (ds === undefined) throw new Error("no deepstack");
    expect(ds.shape).toEqual([3, 1, ids.length, H]);
    const d = ds.toFloat32();
    expect(d[(1 * ids.length + (slots[2] ?? 0)) * H]).toBe(-(200 + 3)); // level 1, third image row
    expect(d[(0 * ids.length + 0) * H]).toBe(0); // text positions carry no DeepStack
    // The host here calls get_rope_index: exactly what transformers' rotary module received.
    expect(Array.from(prefill.positionIds)).toEqual(Array.from(session.prompt("mm-colours-a").dump.get("positions.prefill").toInt32Array()));
  });

  it("decode: one token per step at cache index + rope delta, fed the previous top-1; memoised across rungs", async () => {
    const { backend, session } = open();
    const run = await session.greedy("mm-colours-a", 5);
    const again = await session.greedy("mm-colours-a", 5);
    expect(again).toBe(run);
    const decodes = backend.calls.steps.slice(1);
    expect(decodes).toHaveLength(4);
    const S = 13;
    const delta = -3;
    decodes.forEach((st, i) => {
      expect(st.seqLen).toBe(1);
      expect(Array.from(st.positionIds)).toEqual([S + i + delta, S + i + delta, S + i + delta]);
      expect(st.wantLayers).toBe(false);
    });
    expect(backend.calls.embeds.slice(1).map((e) => e[0])).toEqual(run.tokens.slice(0, 4));
  });

  it("a stale-cache host resumes from the state before the step it dropped", async () => {
    const { backend, session } = open({ runtime: { stale_kv_step: 2 } });
    await session.greedy("text-count", 5);
    const ids = backend.calls.steps.map((s) => s.stateId);
    // steps: prefill(null) -> s1, step1(s1) -> s2, step2(s2) -> s3 dropped, step3 resumes from s2.
    expect(ids).toEqual([null, 1, 2, 2, 4]);
  });

  it("a seeded step loads every layer's K and V under canonical names, at the host's decode position", async () => {
    const { backend, session } = open();
    const step = await session.seededStep("text-count");
    expect(backend.calls.seeds).toHaveLength(1);
    expect(backend.calls.seeds[0]?.names).toEqual(shape.state.map((s) => s.name));
    expect(backend.calls.seeds[0]?.length).toBe(4);
    expect(step.cacheLength).toBe(4);
    expect(step.position).toEqual([4, 4, 4]);
    expect((backend.calls.steps[0]?.state as FakeState).id).toBeGreaterThan(0);
  });

  it("a backend without a capability leaves the session saying why", () => {
    const backend = new FakeBackend(shape, { layerOutputs: true, isolatedLayers: false, ropeTables: false, seededState: false });
    const { session } = open({}, backend);
    expect(session.missing.isolated_layers).toContain("cannot feed one layer an external input");
    expect(session.missing.seeded_state).toContain("cannot load an external KV cache");
    expect(session.missing.rope_tables).toContain("rotary tables");
    expect(session.missing.layer_outputs).toBeUndefined();
  });

  it("a fixed-grid tower given another grid is an error naming both grids", async () => {
    const { session } = open({ vision_grid: [1, 8, 8] });
    const err = await session.vision("mm-colours-a").catch((e: unknown) => e);
    expect(isNumgateError(err) && err.code).toBe("candidate_invalid");
    expect((err as Error).message).toContain("exported for grid (1, 8, 8) but image 0 of prompt \"mm-colours-a\" has grid (1, 4, 6)");
  });

  it("the engine-formula host with a biased text shift gives the wrong position to the first text token after the image", async () => {
    const { session } = open({ runtime: { positions: "engine-formula", text_shift_bias: 1 } });
    const host = await session.positions?.host("mm-colours-a");
    const hooked = session.prompt("mm-colours-a").dump.get("positions.prefill").toInt32Array();
    const S = 13;
    const first = [...Array(S).keys()].find((t) => host?.positions[t] !== hooked[t]);
    expect(first).toBe(9);
  });
});
