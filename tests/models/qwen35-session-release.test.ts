/**
 * The Qwen3.5 session releases what no rung still to run reads (`retain`), as the Qwen3-VL
 * session does: it used to keep every prompt's whole prefill (full-sequence logits, all hidden
 * states, the state) and its decode runs until the end of the run. Over a fake backend, what is
 * kept shows as prefills that are not run again.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { qwen35 } from "../../src/models/qwen3.5/family.ts";
import { Qwen35CandidateSchema } from "../../src/models/qwen3.5/manifest.ts";
import { Qwen35Session } from "../../src/models/qwen3.5/session.ts";
import type { SessionOutput } from "../../src/models/session.ts";
import { Oracle } from "../../src/oracle/oracle.ts";
import { FakeBackend } from "../helpers/fake-backend.ts";
import { ROOT } from "../helpers/gate-runs.ts";

const oracle = Oracle.open(join(ROOT, "oracles/qwen3.5-tiny"), qwen35.oracleSchema);
const shape = qwen35.shape(oracle.manifest);
const PROMPT = "text-count";

function open() {
  const backend = new FakeBackend(shape);
  const session = new Qwen35Session(backend, oracle, Qwen35CandidateSchema.parse({}));
  const prefills = () => backend.calls.steps.filter((s) => s.stateId === null && s.isolate === undefined).length;
  return { session, prefills };
}
const reads = (...o: SessionOutput[]) => new Set<SessionOutput>(o);

describe("Qwen3.5 session: outputs are released when no later rung reads them", () => {
  it("without a ladder's word everything is kept: one prefill serves every reader", async () => {
    const { session, prefills } = open();
    await session.layerOutputs(PROMPT);
    await session.layerOutputs(PROMPT);
    await session.teacherForced(PROMPT, 4);
    await session.teacherForced(PROMPT, 4);
    expect(prefills()).toBe(1);
  });

  it("hidden states a later rung reads are kept; handed over to the last reader, then dropped", async () => {
    const { session, prefills } = open();
    session.retain(reads("layer_outputs"), reads("layer_outputs", "decode"));
    await session.layerOutputs(PROMPT);
    await session.layerOutputs(PROMPT);
    expect(prefills()).toBe(1);
    // The last rung that reads them: handed over, not kept; decode continues from the same prefill.
    session.retain(reads("layer_outputs"), reads("decode"));
    await session.layerOutputs(PROMPT);
    await session.teacherForced(PROMPT, 4);
    expect(prefills()).toBe(1);
    // Asked for again after all: the prefill runs again rather than having been held.
    await session.layerOutputs(PROMPT);
    expect(prefills()).toBe(2);
  });

  it("decode runs and the prefill state are dropped once no rung reads decode", async () => {
    const { session, prefills } = open();
    session.retain(reads("decode", "greedy"), reads("decode", "greedy"));
    const a = await session.greedy(PROMPT, 4);
    expect(await session.greedy(PROMPT, 4)).toBe(a);
    session.retain(reads("decode", "greedy"), reads());
    // The last reader still gets the memoised run...
    expect(await session.greedy(PROMPT, 4)).toBe(a);
    session.retain(reads(), reads());
    // ...and after it nothing is held: a reader after all runs the prefill and the rollout again.
    expect(await session.greedy(PROMPT, 4)).not.toBe(a);
    expect(prefills()).toBe(2);
  });
});
