/**
 * The engine_vs_reference rung, thin: the candidate's session against a second build named by the
 * spec (candidate option `reference: <candidate name>`), greedy and teacher-forced, per prompt.
 * Passes when greedy agrees on `min_matches` steps and teacher-forced top-1 on `min_teacher_matches`
 * (defaults: all).
 */
import type { ModelSession } from "../../models/session.ts";
import type { SessionOpener } from "../../run/open-session.ts";
import { compareGreedy, compareTeacherForced, type RunAgreement } from "./compare.ts";

export interface EngineVsReferenceOptions {
  reference: string;
  greedySteps: number;
  teacherSteps: number;
  minMatches?: number;
  minTeacherMatches?: number;
  prompts: readonly string[];
}

export interface EngineVsReferencePromptResult {
  prompt: string;
  verdict: "pass" | "fail";
  message: string;
  greedy: RunAgreement;
  teacher_forced: RunAgreement;
}

const m = (x: number | null) => (x === null ? "n/a" : x.toFixed(3));

function describe(what: string, a: RunAgreement): string {
  const d = a.first_divergence;
  const head = `${what} ${a.matches}/${a.total}`;
  return d === undefined ? head : `${head}, first divergence at step ${d.step}: candidate ${d.candidate_token} (margin ${m(d.candidate_margin)}) vs reference ${d.reference_token} (margin ${m(d.reference_margin)} logits)`;
}

export async function engineVsReferenceRung(candidate: ModelSession, open: SessionOpener, o: EngineVsReferenceOptions): Promise<EngineVsReferencePromptResult[]> {
  const ref = await open(o.reference);
  try {
    const out: EngineVsReferencePromptResult[] = [];
    for (const prompt of o.prompts) {
      const greedy = compareGreedy(await candidate.greedy(prompt, o.greedySteps), await ref.session.greedy(prompt, o.greedySteps));
      const teacher = compareTeacherForced(await candidate.teacherForced(prompt, o.teacherSteps), await ref.session.teacherForced(prompt, o.teacherSteps));
      const ok = greedy.matches >= Math.min(o.minMatches ?? greedy.total, greedy.total) && teacher.matches >= Math.min(o.minTeacherMatches ?? teacher.total, teacher.total);
      out.push({ prompt, verdict: ok ? "pass" : "fail", message: `${describe("greedy", greedy)}; ${describe("teacher-forced top-1", teacher)}`, greedy, teacher_forced: teacher });
    }
    return out;
  } finally {
    await ref.close();
  }
}
