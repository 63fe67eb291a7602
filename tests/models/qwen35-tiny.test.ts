/**
 * The Qwen3.5 family end to end on the committed tiny hybrid model (oracles/qwen3.5-tiny): the
 * healthy builds pass every rung, and each planted hybrid-port fault is caught by the rung that
 * should catch it, at the layer or step where it is (oracles/record/qwen35_candidates.py made them).
 */
import { describe, expect, it } from "vitest";
import type { PromptResult, Run } from "../../src/report/schema.ts";
import { runGate } from "../../src/run/run-gate.ts";
import { ROOT, rung } from "../helpers/gate-runs.ts";

const MODEL = "qwen3.5-tiny";
const MM = "mm-colours-a";
const MM_B = "mm-colours-b";
const LONG = "text-count-long";

const runs = new Map<string, Promise<Run>>();
function gate(candidate: string, keepGoing = false): Promise<Run> {
  const key = `${candidate}/${keepGoing}`;
  let p = runs.get(key);
  if (p === undefined) {
    p = runGate({ root: ROOT, model: MODEL, candidate, keepGoing }).then((r) => r.run);
    runs.set(key, p);
  }
  return p;
}

function ev<K extends string>(prompts: readonly PromptResult[], name: string, kind: K) {
  const p = prompts.find((x) => x.prompt === name);
  if (p === undefined || p.evidence.kind !== kind) throw new Error(`no ${kind} evidence for ${name}`);
  return p.evidence as Extract<PromptResult["evidence"], { kind: K }>;
}

const verdicts = (run: Run) => Object.fromEntries(run.rungs.map((r) => [r.id, r.verdict]));

describe("qwen3.5-tiny: healthy builds pass the whole ladder", () => {
  it.each(["fp32", "fp16", "int8"])("%s passes every rung on every prompt, the long one included", async (c) => {
    const run = await gate(c);
    expect(verdicts(run)).toEqual({ positions: "pass", vision: "pass", layers: "pass", seeded_decode: "pass", teacher_forced: "pass", greedy: "pass" });
    // The prompt longer than one GatedDeltaNet chunk (64 tokens) is gated like the others.
    expect(rung(run, "layers").prompts.map((p) => p.prompt)).toContain(LONG);
  });

  it("the seeded step starts from the oracle's whole hybrid state", async () => {
    const s = ev(rung(await gate("fp32"), "seeded_decode").prompts, LONG, "seeded_decode");
    expect(s.cache_length).toBe(74);
    expect(s.logits_cos).toBeGreaterThan(0.99999);
  });
});

interface Fault {
  candidate: string;
  /** The first rung that fails. */
  rung: string;
  /** Where it is, read off the evidence of a --keep-going run. */
  location: (run: Run) => string;
  expected: string;
  /** Verdicts of the other rungs with --keep-going. */
  verdicts: Record<string, string>;
}

const FAULTS: Fault[] = [
  {
    candidate: "fault-int8-clipped-head",
    rung: "seeded_decode",
    location: (run) => {
      const s = ev(rung(run, "seeded_decode").prompts, MM, "seeded_decode");
      const tf = ev(rung(run, "teacher_forced").prompts, MM_B, "teacher_forced");
      return `seeded logits cos ${s.logits_cos !== null && s.logits_cos < 0.999 ? "< 0.999" : s.logits_cos}, top-1 ${s.match ? "kept" : "flipped"}; teacher-forced step ${tf.steps.findIndex((x) => !x.match)} flipped`;
    },
    expected: "seeded logits cos < 0.999, top-1 kept; teacher-forced step 12 flipped",
    verdicts: { positions: "pass", vision: "pass", layers: "pass", seeded_decode: "fail", teacher_forced: "fail", greedy: "fail" },
  },
  {
    candidate: "fault-conv-state-dropped",
    rung: "seeded_decode",
    location: (run) => `teacher-forced step ${ev(rung(run, "teacher_forced").prompts, MM, "teacher_forced").steps.findIndex((x) => !x.match)} flipped`,
    expected: "teacher-forced step 9 flipped",
    // Prefill starts from an empty window anyway: every layer passes; only decode can see it.
    verdicts: { positions: "pass", vision: "pass", layers: "pass", seeded_decode: "fail", teacher_forced: "fail", greedy: "fail" },
  },
  {
    candidate: "fault-recurrent-state-reset",
    rung: "seeded_decode",
    location: (run) => {
      const s = ev(rung(run, "seeded_decode").prompts, MM, "seeded_decode");
      return `seeded logits cos ${s.logits_cos !== null && s.logits_cos < 0.9999 ? "< 0.9999" : s.logits_cos}, top-1 ${s.match ? "kept" : "flipped"}`;
    },
    expected: "seeded logits cos < 0.9999, top-1 kept",
    // The tiny model leans on its conv window and its full-attention layer: no top-1 moves, so
    // only the step seeded with the oracle's state catches the reset.
    verdicts: { positions: "pass", vision: "pass", layers: "pass", seeded_decode: "fail", teacher_forced: "pass", greedy: "pass" },
  },
  {
    candidate: "fault-rotary-full-head",
    rung: "positions",
    location: (run) => {
      const c = ev(rung(run, "positions").prompts, MM, "positions").checks.find((x) => x.name === "rope-tables");
      const l = ev(rung(run, "layers").prompts, MM, "layers");
      return `rope-tables ${c?.mismatches}/${c?.compared} differ; layer ${l.first_failing?.layer} (isolated: layer ${l.first_failing_isolated?.layer})`;
    },
    expected: "rope-tables 80/104 differ; layer 3 (isolated: layer 3)",
    verdicts: { positions: "fail", vision: "pass", layers: "fail", seeded_decode: "fail", teacher_forced: "fail", greedy: "fail" },
  },
  {
    candidate: "fault-norm-as-w",
    rung: "layers",
    location: (run) => {
      const l = ev(rung(run, "layers").prompts, MM, "layers");
      return `layer ${l.first_failing?.layer} (isolated: layer ${l.first_failing_isolated?.layer})`;
    },
    expected: "layer 1 (isolated: layer 1)",
    verdicts: { positions: "pass", vision: "pass", layers: "fail", seeded_decode: "fail", teacher_forced: "fail", greedy: "fail" },
  },
];

describe("qwen3.5-tiny: planted hybrid-port faults are caught by the right rung, at the right place", () => {
  it.each(FAULTS)("$candidate is caught by $rung", async (f) => {
    const run = await gate(f.candidate);
    expect(run.verdict).toBe("fail");
    expect(run.rungs.find((r) => r.verdict !== "pass")?.id).toBe(f.rung);
    const all = await gate(f.candidate, true);
    expect(verdicts(all)).toEqual(f.verdicts);
    expect(f.location(all)).toBe(f.expected);
  });
});
