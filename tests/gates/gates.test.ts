/**
 * Every gate kind passes a healthy candidate and fails a deliberately broken one, naming where.
 * Candidates are the committed ONNX exports of the recorded tiny model (oracles/qwen3-vl-tiny).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { layersGate } from "../../src/gates/layers/gate.ts";
import { loadFamily } from "../../src/models/registry.ts";
import { Oracle } from "../../src/oracle/oracle.ts";
import { sessionOpener } from "../../src/run/open-session.ts";
import { resolveSpec } from "../../src/run/resolve.ts";
import { runGate } from "../../src/run/run-gate.ts";
import { MM, ROOT, TEXT, gateRun, prompt, rung } from "../helpers/gate-runs.ts";

describe("positions gate", () => {
  it("passes fp32: numgate's port, the engine formula, decode resume and rope tables all exact", async () => {
    const r = rung(await gateRun("fp32", { only: ["positions"] }), "positions");
    expect(r.verdict).toBe("pass");
    const ev = prompt(r, MM).evidence;
    expect(ev.kind).toBe("positions");
    if (ev.kind !== "positions") return;
    expect(ev.checks.map((c) => c.name)).toEqual(["numgate-port", "engine-formula", "decode", "rope-tables"]);
    expect(ev.checks.every((c) => c.mismatches === 0 && c.compared > 0)).toBe(true);
    // The left-padded batch recorded from generate(): prefill and decode resume per row.
    expect(prompt(r, "batch-left-padded").verdict).toBe("pass");
  });

  it("fails a host whose text shift after the image is one off, naming the first text token after the image", async () => {
    const r = rung(await gateRun("fault-text-shift", { only: ["positions"] }), "positions");
    expect(r.verdict).toBe("fail");
    const ev = prompt(r, MM).evidence;
    if (ev.kind !== "positions") throw new Error("wrong evidence");
    const formula = ev.checks.find((c) => c.name === "engine-formula");
    // ids: <bos> colours <vision_start> <image_pad>x6 <vision_end> ... -> token 9 is the first after the image.
    expect(formula?.first).toEqual({ token: 9, plane: "t", expected: 6, actual: 7 });
    expect(r.message).toContain("first at token 9 plane T");
    expect(prompt(r, TEXT).verdict).toBe("pass");
  });

  it("fails decode steps that forget the rope delta, naming decode step 1", async () => {
    const r = rung(await gateRun("fault-decode-position", { only: ["positions"] }), "positions");
    expect(r.verdict).toBe("fail");
    const ev = prompt(r, MM).evidence;
    if (ev.kind !== "positions") throw new Error("wrong evidence");
    const decode = ev.checks.find((c) => c.name === "decode");
    expect(decode?.first).toEqual({ token: 13, plane: "t", expected: 10, actual: 13 });
    expect(decode?.note).toContain("decode step 1");
  });

  it("fails chunked M-RoPE sections on the multimodal prompt only, naming the frequency and plane", async () => {
    const r = rung(await gateRun("fault-mrope-chunked", { only: ["positions"] }), "positions");
    expect(r.verdict).toBe("fail");
    const mm = prompt(r, MM).evidence;
    if (mm.kind !== "positions") throw new Error("wrong evidence");
    const tables = mm.checks.find((c) => c.name === "rope-tables");
    expect(tables?.mismatches).toBeGreaterThan(0);
    expect(tables?.note).toContain("rotary frequency 2 should take plane W");
    // Text tokens have t = h = w: the text-only prompt cannot see a section layout bug.
    expect(prompt(r, TEXT).verdict).toBe("pass");
  });
});

describe("vision gate", () => {
  it("passes fp32 and the fp16 tower", async () => {
    expect(rung(await gateRun("fp32", { only: ["vision"] }), "vision").verdict).toBe("pass");
    expect(rung(await gateRun("fp16", { only: ["vision"] }), "vision").verdict).toBe("pass");
  });

  it("fails a tower that emits merged tokens column-major, naming the tensor and worst row", async () => {
    const r = rung(await gateRun("fault-vision-merge-order", { only: ["vision"] }), "vision");
    expect(r.verdict).toBe("fail");
    const ev = prompt(r, MM).evidence;
    if (ev.kind !== "vision") throw new Error("wrong evidence");
    const embeds = ev.tensors.find((t) => t.name === "embeds");
    expect(embeds?.verdict).toBe("fail");
    expect(embeds?.cos_worst_row).toBeLessThan(0.9);
    // Rows 0 and 5 sit on the diagonal of the 2x3 grid and survive the transpose.
    expect(embeds?.worst_row).not.toBe(0);
    expect(r.message).toMatch(/^mm-colours-a: embeds cos 0\.\d+ \(worst row \d:/);
  });
});

describe("layers gate", () => {
  it("passes fp32 at cos >= 0.99999 on every layer, without isolated runs (nothing to localize)", async () => {
    const r = rung(await gateRun("fp32", { only: ["layers"] }), "layers");
    expect(r.verdict).toBe("pass");
    for (const p of r.prompts) {
      if (p.evidence.kind !== "layers") throw new Error("wrong evidence");
      expect(p.evidence.mode).toBe("cumulative");
      expect(p.evidence.layers).toHaveLength(6);
      for (const l of p.evidence.layers) {
        expect(l.cos).toBeGreaterThanOrEqual(0.99999);
        expect(l.isolated_cos).toBeUndefined();
      }
    }
  });

  it("isolated: always runs every layer on the oracle's input, and fp32 passes there too", async () => {
    const r = resolveSpec(ROOT, "qwen3-vl-tiny");
    const family = await loadFamily("qwen3-vl");
    const oracle = Oracle.open(r.oracleDir, family.oracleSchema);
    const open = sessionOpener(r, family, oracle);
    const { session, close } = await open("fp32");
    try {
      const out = await layersGate({ session, oracle, thresholds: { min_cos: 0.99999, min_cos_worst_row: 0.9999 }, options: { isolated: "always" }, prompts: [MM, TEXT], candidate: "fp32" });
      expect(out.verdict).toBe("pass");
      for (const p of out.prompts) {
        if (p.evidence.kind !== "layers") throw new Error("wrong evidence");
        expect(p.evidence.mode).toBe("isolated");
        for (const l of p.evidence.layers) expect(l.isolated_cos).toBeGreaterThanOrEqual(0.99999);
      }
    } finally {
      await close();
    }
  });

  it("fails one perturbed layer and names exactly that layer as the first divergence", async () => {
    const r = rung(await gateRun("fault-layer-perturbed", { only: ["layers"] }), "layers");
    expect(r.verdict).toBe("fail");
    for (const p of r.prompts) {
      if (p.evidence.kind !== "layers") throw new Error("wrong evidence");
      expect(p.evidence.first_failing?.layer).toBe(3);
      expect(p.evidence.first_failing_isolated?.layer).toBe(3);
      expect(p.evidence.layers.slice(0, 3).every((l) => l.verdict === "pass")).toBe(true);
      // Later layers fail cumulatively but pass in isolation: the fault is in layer 3 alone.
      expect(p.evidence.layers.slice(4).every((l) => (l.isolated_cos ?? 0) >= 0.99999)).toBe(true);
      // Isolated runs only from the first failing layer on: layers 0-2 pass, nothing to localize there.
      expect(p.evidence.layers.slice(0, 3).every((l) => l.isolated_cos === undefined)).toBe(true);
    }
    expect(r.message).toContain("first divergent layer 3");
  });

  it("fails DeepStack added after the wrong layer at layer 0, and only on prompts with an image", async () => {
    const r = rung(await gateRun("fault-deepstack-shifted", { only: ["layers"] }), "layers");
    expect(r.verdict).toBe("fail");
    const mm = prompt(r, MM).evidence;
    if (mm.kind !== "layers") throw new Error("wrong evidence");
    expect(mm.first_failing?.layer).toBe(0);
    expect(mm.first_failing_isolated?.layer).toBe(0);
    expect(prompt(r, TEXT).verdict).toBe("pass");
  });

  it("reports fp16 overflow as an error naming the tensor and layer, not a crash and not a pass", async () => {
    const r = rung(await gateRun("fault-fp16-overflow", { only: ["layers"] }), "layers");
    expect(r.verdict).toBe("error");
    const ev = prompt(r, MM).evidence;
    expect(ev).toMatchObject({ kind: "error", tensor: "hidden_states", layer: 2 });
    expect(r.message).toContain("layer 2");
  });
});

describe("seeded-decode gate", () => {
  it("passes fp32: one step from the oracle's prefill cache reproduces the oracle's logits", async () => {
    const r = rung(await gateRun("fp32", { only: ["seeded_decode"] }), "seeded_decode");
    expect(r.verdict).toBe("pass");
    for (const p of r.prompts) {
      if (p.evidence.kind !== "seeded_decode") throw new Error("wrong evidence");
      expect(p.evidence.match).toBe(true);
      expect(p.evidence.logits_cos).toBeGreaterThan(0.99999);
    }
  });

  it("fails a decode step at the wrong position, naming the position it used", async () => {
    const r = rung(await gateRun("fault-decode-position", { only: ["seeded_decode"] }), "seeded_decode");
    expect(r.verdict).toBe("fail");
    const ev = prompt(r, MM).evidence;
    if (ev.kind !== "seeded_decode") throw new Error("wrong evidence");
    // The oracle's cache holds 13 tokens; the right position is 13 + rope delta (-3) = 10.
    expect(ev.position).toEqual([13, 13, 13]);
    expect(ev.logits_cos).toBeLessThan(0.9999);
    expect(r.message).toContain("fed blue at (13, 13, 13)");
  });

  it("cannot see a cache that goes stale later: one step from a correct cache passes", async () => {
    expect(rung(await gateRun("fault-stale-kv", { only: ["seeded_decode"] }), "seeded_decode").verdict).toBe("pass");
  });
});

describe("teacher-forced gate", () => {
  it("passes fp32 and int8 with every step matching; margins in logits are reported", async () => {
    for (const c of ["fp32", "int8"]) {
      const r = rung(await gateRun(c, { only: ["teacher_forced"] }), "teacher_forced");
      expect(r.verdict).toBe("pass");
      expect(r.units).toMatchObject({ oracle_margin: "logits" });
      for (const p of r.prompts) {
        if (p.evidence.kind !== "teacher_forced") throw new Error("wrong evidence");
        expect(p.evidence.matches).toBe(16);
        expect(p.evidence.min_oracle_margin).toBeGreaterThan(0.1);
      }
    }
  });

  it("fails an int8 head quantized with clipping, naming the flipped step, while layers stay high", async () => {
    const run = await gateRun("fault-int8-clipped-head", { keepGoing: true });
    expect(rung(run, "layers").verdict).toBe("pass");
    const r = rung(run, "teacher_forced");
    expect(r.verdict).toBe("fail");
    const ev = prompt(r, MM).evidence;
    if (ev.kind !== "teacher_forced") throw new Error("wrong evidence");
    const flips = ev.steps.filter((s) => !s.match).map((s) => s.step);
    expect(flips).toEqual([6]);
    expect(r.message).toContain("step 6");
  });

  it("fails a stale KV cache from the step after the stale entry", async () => {
    const r = rung(await gateRun("fault-stale-kv", { keepGoing: true }), "teacher_forced");
    expect(r.verdict).toBe("fail");
    const ev = prompt(r, MM).evidence;
    if (ev.kind !== "teacher_forced") throw new Error("wrong evidence");
    expect(ev.steps.findIndex((s) => !s.match)).toBe(6);
  });
});

describe("greedy gate", () => {
  it("passes fp32: 24/24 tokens on every prompt", async () => {
    const r = rung(await gateRun("fp32", { only: ["greedy"] }), "greedy");
    expect(r.verdict).toBe("pass");
    for (const p of r.prompts) {
      if (p.evidence.kind !== "greedy") throw new Error("wrong evidence");
      expect(p.evidence.matches).toBe(24);
    }
  });

  it("fails a stale KV cache, naming the first divergent step with both tokens and the oracle margin", async () => {
    const r = rung(await gateRun("fault-stale-kv", { only: ["greedy"] }), "greedy");
    expect(r.verdict).toBe("fail");
    const ev = prompt(r, MM).evidence;
    if (ev.kind !== "greedy") throw new Error("wrong evidence");
    expect(ev.first_divergence?.step).toBe(6);
    expect(ev.first_divergence?.oracle_token).not.toBe(ev.first_divergence?.candidate_token);
    expect(ev.first_divergence?.oracle_margin).toBeGreaterThan(0);
    expect(r.message).toMatch(/first divergence at step 6: oracle \S+ vs candidate \S+ \(oracle margin [\d.]+ logits\)/);
  });
});

describe("fixed-grid vision towers", () => {
  it("a tower exported for another grid is an error that names both grids, not a backend crash", async () => {
    const dir = mkdtempSync(join(tmpdir(), "numgate-grid-"));
    try {
      const src = join(ROOT, "oracles/qwen3-vl-tiny/candidates");
      for (const f of ["embed.onnx", "vision-fp32.onnx", "decoder-fp32.onnx"]) cpSync(join(src, f), join(dir, f));
      const manifest = JSON.parse(readFileSync(join(src, "fp32.json"), "utf8")) as { vision_grid: number[] };
      manifest.vision_grid = [1, 8, 8];
      writeFileSync(join(dir, "fp32-grid8.json"), JSON.stringify(manifest));
      const r = await runGate({ root: ROOT, model: "qwen3-vl-tiny", candidate: join(dir, "fp32-grid8.json"), only: ["vision"] });
      const vision = r.run.rungs[0];
      expect(vision?.verdict).toBe("error");
      expect(vision?.error?.message).toContain('exported for grid (1, 8, 8) but image 0 of prompt "mm-colours-a" has grid (1, 4, 6)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
