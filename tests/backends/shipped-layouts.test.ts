/**
 * Ports made by other tools, gated as their users run them (fixtures from
 * oracles/record/export_layouts.py): the onnx-community folder run by transformers.js itself
 * (its positions, its generate()), and the onnxruntime-genai folder's decoder through the genai
 * layout adapter. Both ship without DeepStack, and transformers.js's text-only decode positions
 * are off by 2S: those are the broken cases the ladder must catch; the text-only prompt through
 * the genai layout is the healthy case. The hybrid Qwen3.5 folder (export_layouts_qwen35.py)
 * names its linear-attention state as transformers.js does and is healthy through the adapter;
 * graphs whose state inputs do not match the model's layers are refused by name.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCandidate } from "../../src/candidate/candidate.ts";
import { findLayerTensors, withLayerOutputs } from "../../src/backends/onnx/graph/layer-outputs.ts";
import { readModel, writeModel } from "../../src/backends/onnx/graph/onnx-model.ts";
import { openOnnxBackend } from "../../src/backends/onnx/open.ts";
import { qwen35Shape } from "../../src/models/qwen3.5/family.ts";
import type { Qwen35OracleManifest } from "../../src/models/qwen3.5/manifest.ts";
import { runGate } from "../../src/run/run-gate.ts";
import { detectLayout } from "../../src/backends/onnx/layouts/index.ts";
import { availableProviders, chooseProvider } from "../../src/backends/onnx/providers.ts";
import { isNumgateError } from "../../src/errors/numgate-error.ts";
import { MM, ROOT, TEXT, gateRun, prompt, rung } from "../helpers/gate-runs.ts";

const CAND = join(ROOT, "oracles/qwen3-vl-tiny/candidates");
const Q35 = join(ROOT, "oracles/qwen3.5-tiny/candidates");
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

describe("shipped layouts", () => {
  it("detects the layout of a model folder from the files its runtime looks for", () => {
    expect(detectLayout(join(CAND, "tjs"))).toBe("onnx-community");
    expect(detectLayout(join(CAND, "genai"))).toBe("genai");
    expect(detectLayout(join(ROOT, "oracles/qwen3-vl-tiny/model"))).toBeNull();
  });

  it("finds every layer's residual by the exporters' node naming, and edits only a cached copy", () => {
    const tjs = join(CAND, "tjs/onnx/decoder_model_merged.onnx");
    const genai = join(CAND, "genai/model.onnx");
    const found = findLayerTensors(readModel(tjs), 6);
    expect(found).toMatchObject({ ok: true, names: Array.from({ length: 6 }, (_, i) => `/model/layers.${i}/Add_1_output_0`) });
    const g = findLayerTensors(readModel(genai), 6);
    expect(g.ok && g.how).toContain("genai builder");
    expect(g.ok && g.names[0]).toBe("/model/layers.1/input_layernorm/output_3");
    const before = [sha(genai), sha(`${genai}.data`)];
    const edited = withLayerOutputs(genai, 6);
    expect("path" in edited && edited.path).toContain("node_modules/.cache/numgate/graphs/");
    expect([sha(genai), sha(`${genai}.data`)]).toEqual(before);
    // A mapping that names no tensor of the graph is a reason to skip, never a pass.
    expect(findLayerTensors(readModel(tjs), 6, { 0: "nope", 1: "a", 2: "b", 3: "c", 4: "d", 5: "e" })).toMatchObject({ ok: false, reason: expect.stringContaining('"nope"') });
  });

  it("an execution provider the runtime lacks is an error listing those it has", () => {
    expect(availableProviders()).toContain("cpu");
    try {
      chooseProvider("coreml", { file: "x.json", field: "execution_provider" });
      expect.unreachable();
    } catch (e) {
      expect(isNumgateError(e) && e.message).toMatch(/execution provider "coreml" is not available in this onnxruntime-node \(available: cpu/);
    }
  });

  it("genai layout: the text prompt passes every rung; image prompts fail at layer 0 (no DeepStack)", async () => {
    const run = await gateRun("genai-fp32", { keepGoing: true });
    expect(rung(run, "positions").verdict).toBe("pass");
    expect(rung(run, "seeded_decode").verdict).toBe("pass");
    for (const id of ["layers", "teacher_forced", "greedy"]) expect(prompt(rung(run, id), TEXT).verdict).toBe("pass");
    expect(prompt(rung(run, "vision"), MM).message).toContain("deepstack.0 (not produced)");
    expect(prompt(rung(run, "layers"), MM).message).toMatch(/^first divergent layer 0:/);
    expect(prompt(rung(run, "greedy"), MM).message).toContain("first divergence at step 3");
  });

  it("transformers.js: its own decode positions for a text-only prompt are off by 2S; its generate() diverges there", async () => {
    const run = await gateRun("tjs-fp32", { keepGoing: true });
    const pos = rung(run, "positions");
    expect(prompt(pos, TEXT).message).toContain("decode: 23/23 differ, first at decode step at cache index 4 plane T (expected 4, got 12)");
    // Image prompts and the left-padded batch: transformers.js's get_rope_index port is exact.
    expect(prompt(pos, MM).verdict).toBe("pass");
    expect(prompt(pos, "batch-left-padded").message).toContain("runtime decode row 1 (left-padded): 7/7 exact");
    expect(prompt(rung(run, "layers"), TEXT).verdict).toBe("pass");
    expect(prompt(rung(run, "layers"), MM).message).toMatch(/^first divergent layer 0:/);
    expect(prompt(rung(run, "greedy"), TEXT).message).toContain("first divergence at step 1: oracle 206 vs candidate 207");
  });

  describe("qwen3.5 (hybrid) in the transformers.js layout: past_conv.{i} / past_recurrent.{i} on linear-attention layers", () => {
    const decoder = join(Q35, "tjs/onnx/decoder_model_merged.onnx");
    const shape = qwen35Shape(JSON.parse(readFileSync(join(ROOT, "oracles/qwen3.5-tiny/manifest.json"), "utf8")) as Qwen35OracleManifest);

    it("is detected as onnx-community and its layers are found by their module scopes", () => {
      expect(detectLayout(join(Q35, "tjs"))).toBe("onnx-community");
      const found = findLayerTensors(readModel(decoder), 4);
      expect(found.ok && found.how).toContain("torch module scopes");
      expect(found.ok && found.names.every((n, i) => n.startsWith(`/model/layers.${i}/Add`))).toBe(true);
    });

    it("tjs-fp32 passes every rung: the conv and recurrent states carried by name, and seeded from the oracle's", async () => {
      const run = (await runGate({ root: ROOT, model: "qwen3.5-tiny", candidate: "tjs-fp32", keepGoing: true })).run;
      expect(run.backend).toContain("onnx-community layout");
      expect(Object.fromEntries(run.rungs.map((r) => [r.id, r.verdict]))).toEqual({ positions: "pass", vision: "pass", layers: "pass", seeded_decode: "pass", teacher_forced: "pass", greedy: "pass" });
      expect(prompt(rung(run, "seeded_decode"), "text-count-long").message).toContain("from the oracle's 74-token cache");
    });

    it("tjs-q8 (the _quantized graphs) fails fp32's layer thresholds by its noise and passes every rung under its calibrated entry", async () => {
      const [byPath, entry] = await Promise.all([
        runGate({ root: ROOT, model: "qwen3.5-tiny", candidate: join(Q35, "tjs-q8.json"), keepGoing: true }),
        runGate({ root: ROOT, model: "qwen3.5-tiny", candidate: "tjs-q8", keepGoing: true }),
      ]);
      expect(rung(byPath.run, "layers").verdict).toBe("fail");
      expect(rung(byPath.run, "greedy").verdict).toBe("pass");
      expect(entry.run.verdict).toBe("pass");
    });

    it("run by transformers.js itself (its qwen3_5 class feeds past_conv / past_recurrent by these names): its text-only decode positions are off by 2S", async () => {
      const run = (await runGate({ root: ROOT, model: "qwen3.5-tiny", candidate: "tjs-runtime-fp32", keepGoing: true })).run;
      expect(run.backend).toMatch(/^transformers\.js /);
      const pos = rung(run, "positions");
      expect(prompt(pos, TEXT).message).toContain("decode: 23/23 differ, first at decode step at cache index 4 plane T (expected 4, got 12)");
      expect(prompt(pos, MM).verdict).toBe("pass");
      expect(prompt(pos, "batch-left-padded").message).toContain("runtime decode row 1 (left-padded): 7/7 exact");
      expect(prompt(rung(run, "seeded_decode"), TEXT).message).toContain("fed 205 at (12, 12, 12)");
      expect(prompt(rung(run, "seeded_decode"), TEXT).verdict).toBe("fail");
      // Its own generate() carried the hybrid state: every rollout is the oracle's.
      expect(rung(run, "greedy").verdict).toBe("pass");
    });

    /** The shipped decoder with one edit, opened as an onnx-community candidate of its own files. */
    async function openEdited(edit: (m: ReturnType<typeof readModel>) => void): Promise<unknown> {
      const dir = mkdtempSync(join(tmpdir(), "numgate-q35tjs-"));
      try {
        const m = readModel(decoder);
        edit(m);
        writeModel(m, join(dir, "decoder.onnx"));
        const base = loadCandidate(join(Q35, "tjs-fp32.json"));
        const files = { embed: join(Q35, "tjs/onnx/embed_tokens.onnx"), vision: join(Q35, "tjs/onnx/vision_encoder.onnx"), decoder: join(dir, "decoder.onnx") };
        const { folder: _folder, ...manifestFiles } = base.manifest.files ?? {};
        const candidate = { ...base, manifest: { ...base.manifest, files: manifestFiles }, paths: files };
        const backend = await openOnnxBackend(candidate, shape, ROOT);
        await backend.close();
        return null;
      } catch (e) {
        return e;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    it("a decoder without a past_conv input is refused, naming the graph and the tensor", async () => {
      const e = await openEdited((m) => {
        // Renamed rather than removed, so the graph itself stays valid for onnxruntime.
        for (const i of m.graph.input) if (i.name === "past_conv.1") i.name = "past_conv_1";
        for (const n of m.graph.node) n.input = n.input.map((x) => (x === "past_conv.1" ? "past_conv_1" : x));
      });
      expect(isNumgateError(e) && e.message).toMatch(/decoder\.onnx: past_conv\.1: the decoder graph does not fit the onnx-community layout: it has no input "past_conv\.1" \(inputs: .*past_conv_1/);
      expect(isNumgateError(e) && e.file).toContain("decoder.onnx");
      expect(isNumgateError(e) && e.field).toBe("past_conv.1");
    });

    it("a key/value input on a linear-attention layer (a state the model has not) is refused by name", async () => {
      const e = await openEdited((m) => {
        m.graph.input.push({ name: "past_key_values.0.key", type: { tensorType: { elemType: 1 } } });
      });
      expect(isNumgateError(e) && e.message).toContain('it takes state input "past_key_values.0.key", which no layer of the model has');
    });
  });
});
