/**
 * The seeds' non-oracle rungs: repeat (the same candidate R times from a fresh start) and
 * engine_vs_reference (the same build on two runtimes), on the pure comparisons and end to end on
 * the tiny model, with the planted nondeterministic engine (fault-engine-jitter).
 */
import { describe, expect, it } from "vitest";
import { compareGreedy, compareTeacherForced } from "../../src/gates/engine_vs_reference/compare.ts";
import { compareRepeats } from "../../src/gates/repeat/compare.ts";
import { gateRun, prompt, rung, TEXT } from "../helpers/gate-runs.ts";

describe("repeat", () => {
  it("counts runs off the majority sequence and finds the first split", () => {
    const c = compareRepeats([[1, 2, 3], [1, 2, 3], [1, 9, 3], [1, 2, 3]]);
    expect(c).toMatchObject({ runs: 4, differing: 1, flakiness: 0.25, splits: [null, null, 1, null], first_split: { step: 1, runs: [0, 2], tokens: [2, 9] } });
    expect(compareRepeats([[5], [5], [5]])).toMatchObject({ differing: 0, flakiness: 0 });
  });

  it("a deterministic engine repeats exactly; the jittering engine is caught with its flakiness", async () => {
    const healthy = rung(await gateRun("engine-fp32"), "repeat");
    expect(healthy.verdict).toBe("pass");
    expect(prompt(healthy, TEXT).evidence).toMatchObject({ kind: "repeat", runs: 3, differing: 0, flakiness: 0 });
    const jitter = rung(await gateRun("fault-engine-jitter", { keepGoing: true }), "repeat");
    expect(jitter.verdict).toBe("fail");
    // Noise of up to 4 logits flips tokens on every prompt; which steps varies from run to run.
    const p = jitter.prompts.find((x) => x.verdict === "fail");
    expect(p?.evidence).toMatchObject({ kind: "repeat", runs: 3 });
    expect(p?.message).toMatch(/^[123]\/3 runs differ \(flakiness 0\.\d{3}\); runs \d and \d split first at step \d+/);
  }, 120_000);

  it("repeat and engine_vs_reference are opt-in: a candidate whose spec names neither runs the oracle rungs only", async () => {
    const ids = (await gateRun("fp32")).rungs.map((r) => r.id);
    expect(ids).not.toContain("repeat");
    expect(ids).not.toContain("engine_vs_reference");
  });
});

describe("engine_vs_reference", () => {
  it("compares greedy by prefix and teacher-forced step by step, with both margins at the first divergence", () => {
    const row = (a: number, b: number) => Float32Array.of(a, b, 0);
    const c = { tokens: [0, 1, 0], logits: [row(3, 1), row(1, 2), row(5, 0)] };
    const r = { tokens: [0, 0, 0], logits: [row(3, 1), row(2, 1.5), row(5, 0)] };
    expect(compareGreedy(c, r)).toEqual({ matches: 1, total: 3, first_divergence: { step: 1, candidate_token: 1, reference_token: 0, candidate_margin: 1, reference_margin: 0.5 } });
    expect(compareTeacherForced(c, r)).toMatchObject({ matches: 2, total: 3, first_divergence: { step: 1 } });
  });

  it("the engine and in-process onnxruntime agree on the same graphs (engine == python 24/24)", async () => {
    const same = rung(await gateRun("engine-fp32"), "engine_vs_reference");
    expect(same.verdict).toBe("pass");
    expect(prompt(same, TEXT).evidence).toMatchObject({ kind: "engine_vs_reference", reference: "fp32", greedy: { matches: 24, total: 24 }, teacher_forced: { matches: 16, total: 16 } });
  }, 120_000);
});
