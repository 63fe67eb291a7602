/**
 * The last rung that decodes is handed each prompt's prefill state (its KV cache, and for Qwen3.5
 * its conv and recurrent states) instead of the session keeping it until that rung has done every
 * prompt: at 4B shapes that was two stale 62 MB caches held through the greedy rung's last prompt.
 * Over a fake backend, what is kept shows as prefills that are not run again.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Backend } from "../../src/backends/backend.ts";
import { qwen35 } from "../../src/models/qwen3.5/family.ts";
import { qwen3vl } from "../../src/models/qwen3-vl/family.ts";
import type { ModelSession, SessionOutput } from "../../src/models/session.ts";
import { Oracle } from "../../src/oracle/oracle.ts";
import { FakeBackend } from "../helpers/fake-backend.ts";
import { ROOT } from "../helpers/gate-runs.ts";

const reads = (...o: SessionOutput[]) => new Set<SessionOutput>(o);

const families = [
  { family: qwen3vl, dir: "oracles/qwen3-vl-tiny" },
  { family: qwen35, dir: "oracles/qwen3.5-tiny" },
] as const;

describe.each(families)("$family.name session: the prefill state is handed to the last rung that decodes", ({ family, dir }) => {
  function open() {
    const oracle = Oracle.open(join(ROOT, dir), family.oracleSchema as never);
    const backend = new FakeBackend((family.shape as (m: unknown) => ConstructorParameters<typeof FakeBackend>[0])(oracle.manifest));
    const session = (family.openSession as (b: Backend, o: unknown, c: unknown) => ModelSession)(backend, oracle, family.candidateSchema.parse({}));
    const prefills = () => backend.calls.steps.filter((s) => s.stateId === null && s.isolate === undefined).length;
    const retain = (current: Set<SessionOutput>, later: Set<SessionOutput>) => {
      if (session.retain === undefined) throw new Error(`the ${family.name} session does not retain`);
      session.retain(current, later);
    };
    return { session, retain, prefills, prompt: "text-count" };
  }

  it("kept while a later rung decodes: teacher forcing and greedy share one prefill", async () => {
    const { session, retain, prefills, prompt } = open();
    retain(reads("decode", "teacher_forced"), reads("decode", "greedy"));
    await session.teacherForced(prompt, 4);
    retain(reads("decode", "greedy"), reads());
    await session.greedy(prompt, 4);
    expect(prefills()).toBe(1);
  });

  it("teacher-forced runs are let go once no later rung reads them, while greedy still decodes", async () => {
    const { session, retain, prefills, prompt } = open();
    retain(reads("decode", "teacher_forced"), reads("decode", "teacher_forced", "greedy"));
    const a = await session.teacherForced(prompt, 4);
    expect(await session.teacherForced(prompt, 4)).toBe(a);
    retain(reads("decode", "teacher_forced"), reads("decode", "greedy"));
    expect(await session.teacherForced(prompt, 4)).toBe(a);
    retain(reads("decode", "greedy"), reads());
    expect(await session.teacherForced(prompt, 4)).not.toBe(a);
    expect(prefills()).toBe(1);
  });

  it("runs of another length are their own: a rung asking for more steps than a kept run gets them", async () => {
    const { session, prompt } = open();
    expect((await session.teacherForced(prompt, 4)).logits).toHaveLength(4);
    expect((await session.teacherForced(prompt, 6)).logits).toHaveLength(6);
    expect((await session.greedy(prompt, 4)).logits).toHaveLength(4);
    expect((await session.greedy(prompt, 6)).logits).toHaveLength(6);
  });

  it("not kept by the last rung that decodes: a second rollout in that rung runs the prefill again", async () => {
    const { session, retain, prefills, prompt } = open();
    retain(reads("decode", "greedy"), reads());
    await session.greedy(prompt, 4);
    await session.greedy(prompt, 5);
    expect(prefills()).toBe(2);
  });
});
