/**
 * The seeds' non-oracle rungs: repeat (the same candidate R times from a fresh start) and
 * engine_vs_reference (the same build on two runtimes), on the pure comparisons and end to end on
 * the tiny model, with the planted nondeterministic engine (fault-engine-jitter).
 */
import { describe, expect, it } from "vitest";
import { compareGreedy, compareTeacherForced } from "../../src/gates/engine-vs-reference/compare.ts";
import { engineVsReferenceRung } from "../../src/gates/engine-vs-reference/gate.ts";
import { compareRepeats } from "../../src/gates/repeat/compare.ts";
import { repeatRung } from "../../src/gates/repeat/gate.ts";
import { sessionOpener } from "../../src/run/open-session.ts";
import { ROOT, TEXT } from "../helpers/gate-runs.ts";

const open = sessionOpener(ROOT, "qwen3-vl-tiny");

describe("repeat", () => {
  it("counts runs off the majority sequence and finds the first split", () => {
    const c = compareRepeats([[1, 2, 3], [1, 2, 3], [1, 9, 3], [1, 2, 3]]);
    expect(c).toMatchObject({ runs: 4, differing: 1, flakiness: 0.25, splits: [null, null, 1, null], first_split: { step: 1, runs: [0, 2], tokens: [2, 9] } });
    expect(compareRepeats([[5], [5], [5]])).toMatchObject({ differing: 0, flakiness: 0 });
  });

  it("a deterministic engine repeats exactly; the jittering engine is caught with its flakiness", async () => {
    const healthy = await repeatRung(open, { candidate: "engine-fp32", runs: 2, steps: 24, maxDiffering: 0, prompts: [TEXT] });
    expect(healthy[0]).toMatchObject({ verdict: "pass", comparison: { differing: 0 } });
    const jitter = await repeatRung(open, { candidate: "fault-engine-jitter", runs: 3, steps: 24, maxDiffering: 0, prompts: [TEXT] });
    const r = jitter[0]!;
    expect(r.verdict).toBe("fail");
    expect(r.comparison.differing).toBeGreaterThan(0);
    expect(r.message).toMatch(/^\d\/3 runs differ \(flakiness 0\.\d{3}\); runs \d and \d split first at step \d+/);
  }, 60_000);
});

describe("engine_vs_reference", () => {
  it("compares greedy by prefix and teacher-forced step by step, with both margins at the first divergence", () => {
    const row = (a: number, b: number) => Float32Array.of(a, b, 0);
    const c = { tokens: [0, 1, 0], logits: [row(3, 1), row(1, 2), row(5, 0)] };
    const r = { tokens: [0, 0, 0], logits: [row(3, 1), row(2, 1.5), row(5, 0)] };
    expect(compareGreedy(c, r)).toEqual({ matches: 1, total: 3, first_divergence: { step: 1, candidate_token: 1, reference_token: 0, candidate_margin: 1, reference_margin: 0.5 } });
    expect(compareTeacherForced(c, r)).toMatchObject({ matches: 2, total: 3, first_divergence: { step: 1 } });
  });

  it("the engine and in-process onnxruntime agree on the same graphs; a jittering engine does not", async () => {
    const me = await open("engine-fp32");
    try {
      const [same] = await engineVsReferenceRung(me.session, open, { reference: "fp32", greedySteps: 24, teacherSteps: 16, prompts: [TEXT] });
      expect(same).toMatchObject({ verdict: "pass", greedy: { matches: 24, total: 24 }, teacher_forced: { matches: 16, total: 16 } });
    } finally {
      await me.close();
    }
    const jit = await open("fault-engine-jitter");
    try {
      const [diff] = await engineVsReferenceRung(jit.session, open, { reference: "fp32", greedySteps: 24, teacherSteps: 16, prompts: [TEXT] });
      expect(diff?.verdict).toBe("fail");
      expect(diff?.message).toMatch(/first divergence at step \d+: candidate \d+ \(margin \d+\.\d{3}\) vs reference \d+ \(margin \d+\.\d{3} logits\)/);
    } finally {
      await jit.close();
    }
  }, 60_000);
});
