/**
 * The ladder runner over an echo session (the oracle played back as the candidate; no ONNX):
 * every gate passes the echo; one broken layer fails the layers rung and skips its dependants
 * with blocked_by (or runs them with --keep-going); a missing capability skips its rung with the
 * session's reason without blocking anything; a crash is an error rung with its code.
 */
import { describe, expect, it } from "vitest";
import { runLadder, runVerdict } from "../../src/ladder/run.ts";
import { planRungs, resolveCandidate, resolveSpec } from "../../src/run/resolve.ts";
import { EchoSession, tinyOracle, type EchoBreaks } from "../helpers/echo-session.ts";
import { ROOT } from "../helpers/gate-runs.ts";

const oracle = tinyOracle();
const spec = resolveSpec(ROOT, "qwen3-vl-tiny");
const plans = planRungs(spec, resolveCandidate(spec, "fp32"));
const prompts = oracle.prompts.map((p) => p.name);

async function ladder(breaks: EchoBreaks = {}, opts: { keepGoing?: boolean; only?: string[] } = {}) {
  const session = new EchoSession(oracle, breaks);
  const { rungs } = await runLadder(spec.ladder, plans, session, oracle, { keepGoing: opts.keepGoing ?? false, prompts, candidate: "fp32", ...(opts.only === undefined ? {} : { only: opts.only }) });
  const byId = Object.fromEntries(rungs.map((r) => [r.id, r]));
  return { rungs, byId, verdict: runVerdict(rungs) };
}

describe("ladder over an echo session", () => {
  it("the oracle played back passes every rung", async () => {
    const { rungs, verdict } = await ladder();
    expect(rungs.map((r) => `${r.id}:${r.verdict}`)).toEqual(["positions:pass", "vision:pass", "layers:pass", "seeded_decode:pass", "teacher_forced:pass", "greedy:pass"]);
    expect(verdict).toBe("pass");
  });

  it("one broken layer fails layers at that layer and blocks the rungs that depend on it", async () => {
    const { byId, verdict } = await ladder({ layer: { index: 3, scale: -1 } });
    expect(byId["layers"]?.verdict).toBe("fail");
    expect(byId["layers"]?.message).toContain("first divergent layer 3");
    expect(byId["teacher_forced"]?.verdict).toBe("skipped");
    expect(byId["teacher_forced"]?.blocked_by).toEqual(["layers"]);
    expect(byId["seeded_decode"]?.verdict).toBe("pass"); // depends on positions only
    expect(verdict).toBe("fail");
  });

  it("--keep-going runs the blocked rungs anyway", async () => {
    const { byId } = await ladder({ layer: { index: 3, scale: -1 } }, { keepGoing: true });
    expect(byId["teacher_forced"]?.verdict).toBe("pass");
    expect(byId["teacher_forced"]?.blocked_by).toBeUndefined();
  });

  it("a flipped step fails teacher_forced and greedy at that step", async () => {
    const { byId } = await ladder({ flipStep: 5 });
    expect(byId["teacher_forced"]?.verdict).toBe("fail");
    expect(byId["teacher_forced"]?.message).toContain("step 5");
    expect(byId["greedy"]?.message).toContain("first divergence at step 5");
  });

  it("a capability the session lacks skips its rung with the reason, blocking nothing", async () => {
    const { byId, verdict } = await ladder({ missing: { layer_outputs: "this runtime hides its layers" } });
    expect(byId["layers"]?.verdict).toBe("skipped");
    expect(byId["layers"]?.skip_reason).toContain("layer_outputs: this runtime hides its layers");
    expect(byId["layers"]?.blocked_by).toBeUndefined();
    expect(byId["teacher_forced"]?.verdict).toBe("pass");
    expect(verdict).toBe("pass");
  });

  it("a runtime crash on one prompt is an error rung with its code, and its dependants are blocked", async () => {
    const { byId, verdict } = await ladder({ crashOn: "text-count" });
    expect(byId["positions"]?.verdict).toBe("error");
    expect(byId["positions"]?.error?.code).toBe("backend_failed");
    expect(byId["layers"]?.blocked_by).toEqual(["positions", "vision"]);
    expect(verdict).toBe("error");
  });

  it("--rung runs only that rung, without its dependencies", async () => {
    const { rungs } = await ladder({}, { only: ["greedy"] });
    expect(rungs.map((r) => r.id)).toEqual(["greedy"]);
    expect(rungs[0]?.depends_on).toEqual([]);
  });
});

describe("planRungs", () => {
  // "constructor" is a valid rung id and a member of Object.prototype: the overrides are looked up
  // as own keys, or every spec would read as asking for an opt-in rung of that name.
  const withOptIn = (id: string) => {
    const greedy = spec.ladder.rungs.find((r) => r.id === "greedy");
    if (greedy === undefined) throw new Error("the qwen3-vl ladder has no greedy rung");
    return { ...spec, ladder: { ...spec.ladder, rungs: [...spec.ladder.rungs, { ...greedy, id, opt_in: true, depends_on: [] }] } };
  };

  it("leaves an opt-in rung out unless the spec or candidate sets something for it, whatever its id", () => {
    for (const id of ["constructor", "extra_greedy"]) {
      const r = withOptIn(id);
      expect(planRungs(r, resolveCandidate(r, "fp32")).map((p) => p.spec.id)).not.toContain(id);
      const asked = { ...r, spec: { ...r.spec, options: { ...r.spec.options, [id]: { steps: 4 } } } };
      const plan = planRungs(asked, resolveCandidate(asked, "fp32")).find((p) => p.spec.id === id);
      expect(plan?.options).toMatchObject({ steps: 4 });
    }
  });
});
