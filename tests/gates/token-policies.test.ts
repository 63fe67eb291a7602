/**
 * Token-gate statistics: the near-tie policy (reported separately, waived only when the spec
 * says so) and the vLLM-style top-k tolerance for a greedy divergence.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import type { Backend } from "../../src/backends/backend.ts";
import { openBackend } from "../../src/backends/registry.ts";
import { loadCandidate } from "../../src/candidate/candidate.ts";
import type { GateContext } from "../../src/gates/gate.ts";
import { greedyGate } from "../../src/gates/greedy/gate.ts";
import { teacherForcedGate } from "../../src/gates/teacher_forced/gate.ts";
import { qwen3vl } from "../../src/models/qwen3-vl/family.ts";
import { Qwen3VLCandidateSchema } from "../../src/models/qwen3-vl/manifest.ts";
import type { ModelSession } from "../../src/models/session.ts";
import { Oracle } from "../../src/oracle/oracle.ts";
import { ROOT } from "../helpers/gate-runs.ts";

const oracle = Oracle.open(join(ROOT, "oracles/qwen3-vl-tiny"), qwen3vl.oracleSchema);
let backend: Backend;
let session: ModelSession;

beforeAll(async () => {
  // The clipped head flips step 6 of mm-colours-a, where the oracle's margin is 0.253 logits.
  const cand = loadCandidate(join(ROOT, "oracles/qwen3-vl-tiny/candidates/fault-int8-clipped-head.json"));
  backend = await openBackend(cand, qwen3vl.shape(oracle.manifest), ROOT);
  session = qwen3vl.openSession(backend, oracle, Qwen3VLCandidateSchema.parse(cand.manifest));
});
afterAll(async () => backend.close());

const ctx = (thresholds: Record<string, number>, options: Record<string, unknown>): GateContext => ({ session, oracle, thresholds, options, prompts: ["mm-colours-a"], candidate: "fault-int8-clipped-head" });

describe("near-tie policy (margins in logits)", () => {
  it("a flip above the near-tie margin fails and is not marked near-tie", async () => {
    const out = await teacherForcedGate(ctx({ min_matches: 16, near_tie_margin: 0.1 }, {}));
    expect(out.verdict).toBe("fail");
    const ev = out.prompts[0]?.evidence;
    if (ev?.kind !== "teacher_forced") throw new Error("wrong evidence");
    expect(ev.near_tie_flips).toBe(0);
    expect(ev.steps[6]).toMatchObject({ match: false, near_tie: false, waived: false });
  });

  it("a flip below the near-tie margin is reported separately and still fails unless waived", async () => {
    const out = await teacherForcedGate(ctx({ min_matches: 16, near_tie_margin: 0.3 }, {}));
    expect(out.verdict).toBe("fail");
    const ev = out.prompts[0]?.evidence;
    if (ev?.kind !== "teacher_forced") throw new Error("wrong evidence");
    expect(ev.near_tie_flips).toBe(1);
    expect(out.message).toContain("1 at near-ties (margin < 0.3 logits)");
  });

  it("the spec may waive near-tie flips, and the report says so", async () => {
    const out = await teacherForcedGate(ctx({ min_matches: 16, near_tie_margin: 0.3 }, { waive_near_ties: true }));
    expect(out.verdict).toBe("pass");
    const ev = out.prompts[0]?.evidence;
    if (ev?.kind !== "teacher_forced") throw new Error("wrong evidence");
    expect(ev.steps[6]).toMatchObject({ match: false, near_tie: true, waived: true });
    expect(out.message).toContain("waived by the spec");
  });

  it("reports KL and top-k agreement per step, and fails when KL exceeds max_kl", async () => {
    const out = await teacherForcedGate(ctx({ min_matches: 0, max_kl: 1e-9 }, {}));
    expect(out.verdict).toBe("fail");
    expect(out.message).toMatch(/KL above 1e-9 from step \d+/);
    const ev = out.prompts[0]?.evidence;
    if (ev?.kind !== "teacher_forced") throw new Error("wrong evidence");
    expect(ev.steps.every((s) => s.kl !== null && s.kl >= 0 && s.topk_overlap !== null)).toBe(true);
  });
});

describe("greedy top-k tolerance (vLLM style)", () => {
  it("exact tolerance fails at the first divergence", async () => {
    const out = await greedyGate(ctx({ min_matches: 24 }, { tolerance: "exact" }));
    expect(out.verdict).toBe("fail");
    expect(out.message).toContain("first divergence at step 6");
  });

  it("top-k tolerance passes when each side's token is in the other's top-k", async () => {
    const out = await greedyGate(ctx({ min_matches: 24, top_k: 5 }, { tolerance: "topk" }));
    expect(out.verdict).toBe("pass");
    expect(out.message).toContain("tolerated: each token is in the other's top-5");
  });

  it("top-1 tolerance is exact again", async () => {
    const out = await greedyGate(ctx({ min_matches: 24, top_k: 1 }, { tolerance: "topk" }));
    expect(out.verdict).toBe("fail");
  });
});
