/**
 * The engine_vs_reference rung: the candidate against a second build of the same model named by
 * the spec (`options.reference`: e.g. an engine against numgate's ONNX backend of the same graphs,
 * or one engine on cuda against cpu), compared with each other rather than with the oracle:
 * greedy N/N and teacher-forced top-1, with the first divergence and both sides' margins. The
 * seeds' "engine ≡ python 24/24".
 */
import { rungMessage, type PromptResult } from "../../verdicts/prompt-result.ts";
import { combineVerdicts } from "../../verdicts/verdict.ts";
import type { Gate } from "../gate.ts";
import { compareGreedy, compareTeacherForced, type RunAgreement } from "./compare.ts";
import type { EngineVsReferenceEvidence } from "./evidence.ts";
import { ENGINE_VS_REFERENCE_GREEDY_STEPS, ENGINE_VS_REFERENCE_TEACHER_STEPS } from "./settings.ts";

const m = (x: number | null | undefined) => (x === null || x === undefined ? "n/a" : x.toFixed(3));

export const engineVsReferenceGate: Gate<EngineVsReferenceEvidence> = async (ctx) => {
  const reference = typeof ctx.options["reference"] === "string" ? ctx.options["reference"] : undefined;
  if (reference === undefined) return { verdict: "skipped", message: "no reference build named (options.reference: a candidate of this spec)", prompts: [], units: {} };
  if (ctx.openSession === undefined) return { verdict: "skipped", message: "this run cannot open the reference build", prompts: [], units: {} };
  const steps = typeof ctx.options["steps"] === "number" ? ctx.options["steps"] : ENGINE_VS_REFERENCE_GREEDY_STEPS;
  const teacherSteps = typeof ctx.options["teacher_steps"] === "number" ? ctx.options["teacher_steps"] : ENGINE_VS_REFERENCE_TEACHER_STEPS;
  const tn = (id: number) => ctx.session.tokenName(id);
  const describe = (what: string, a: RunAgreement) => {
    const d = a.first_divergence;
    return d === undefined
      ? `${what} ${a.matches}/${a.total}`
      : `${what} ${a.matches}/${a.total}, first divergence at step ${d.step}: candidate ${tn(d.candidate_token)} (margin ${m(d.candidate_margin)}) vs reference ${tn(d.reference_token)} (margin ${m(d.reference_margin)} logits)`;
  };
  const ref = await ctx.openSession(reference);
  try {
    const results: PromptResult<EngineVsReferenceEvidence>[] = [];
    for (const prompt of ctx.prompts) {
      const greedy = compareGreedy(await ctx.session.greedy(prompt, steps), await ref.session.greedy(prompt, steps));
      const teacher = compareTeacherForced(await ctx.session.teacherForced(prompt, teacherSteps), await ref.session.teacherForced(prompt, teacherSteps));
      const ok = greedy.matches >= (ctx.thresholds["min_matches"] ?? greedy.total) && teacher.matches >= (ctx.thresholds["min_teacher_matches"] ?? teacher.total);
      results.push({
        prompt,
        verdict: ok ? "pass" : "fail",
        message: `against ${reference}: ${describe("greedy", greedy)}; ${describe("teacher-forced top-1", teacher)}`,
        evidence: { kind: "engine_vs_reference", reference, greedy, teacher_forced: teacher },
      });
    }
    return { verdict: combineVerdicts(results.map((r) => r.verdict)), message: rungMessage(results, `identical to ${reference} on ${results.length} prompts`), prompts: results, units: { candidate_margin: "logits", reference_margin: "logits" } };
  } finally {
    await ref.close();
  }
};
