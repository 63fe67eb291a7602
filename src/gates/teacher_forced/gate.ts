/**
 * Teacher-forced top-1: the candidate is fed the oracle's tokens one decode step at a time (KV
 * cache, its own positions), and each step's top-1 is compared with the oracle's, alongside the
 * oracle's top-2 margin (unit: logits), KL(oracle || candidate) and top-k agreement.
 *
 * Near-tie policy: a flip where the oracle's own margin is below `near_tie_margin` is reported
 * separately; it fails the gate unless the spec sets `waive_near_ties: true`, and is never hidden.
 */
import { argmax, firstNonFinite, klDivergence, topKOverlap } from "../../metrics/index.ts";
import { rungMessage, type PromptResult } from "../../verdicts/prompt-result.ts";
import { combineVerdicts } from "../../verdicts/verdict.ts";
import { finiteOrNull, recordedSteps, threshold, type Gate } from "../gate.ts";
import { requireSameShape } from "../shapes.ts";
import type { TeacherForcedEvidence, TeacherForcedStep } from "./evidence.ts";
import { TEACHER_FORCED_DEFAULT_STEPS } from "./settings.ts";

export const teacherForcedGate: Gate<TeacherForcedEvidence> = async (ctx) => {
  const nearTie = threshold(ctx, "near_tie_margin", 0.1);
  const maxKl = ctx.thresholds["max_kl"];
  const k = Math.max(1, Math.round(threshold(ctx, "top_k", 5)));
  const waive = ctx.options["waive_near_ties"] === true;
  const results: PromptResult<TeacherForcedEvidence>[] = [];
  for (const name of ctx.prompts) {
    const { dump } = ctx.session.prompt(name);
    const tokens = dump.get("teacher.tokens").toNumbers();
    const margins = dump.get("teacher.margins").toFloat32();
    const refLogits = dump.get("teacher.logits");
    const V = refLogits.shape[1] ?? 0;
    const ref = refLogits.toFloat32();
    const stepCount = recordedSteps(ctx, TEACHER_FORCED_DEFAULT_STEPS, dump, "teacher.tokens", tokens.length);
    const run = await ctx.session.teacherForced(name, stepCount);
    const minMatches = threshold(ctx, "min_matches", stepCount);
    const steps: TeacherForcedStep[] = [];
    let nonFinite: number | undefined;
    run.logits.forEach((cand, i) => {
      requireSameShape(ctx, { oracleFile: dump.file, oracleKey: "teacher.logits", oracleShape: [V], candidateLabel: `logits of step ${i} (prompt "${name}")`, candidateShape: [cand.length], dims: ["vocabulary"] });
      if (nonFinite === undefined && firstNonFinite(cand) >= 0) nonFinite = i;
      const oracleRow = ref.subarray(i * V, (i + 1) * V);
      const candidateToken = argmax(cand);
      const oracleToken = tokens[i] ?? -1;
      const margin = margins[i] ?? NaN;
      const match = candidateToken === oracleToken;
      const near = margin < nearTie;
      steps.push({
        step: i,
        oracle_token: oracleToken,
        candidate_token: candidateToken,
        oracle_margin: finiteOrNull(margin),
        kl: finiteOrNull(klDivergence(oracleRow, cand)),
        topk_overlap: finiteOrNull(topKOverlap(oracleRow, cand, k)),
        match,
        near_tie: near,
        waived: !match && near && waive,
      });
    });
    if (nonFinite !== undefined) {
      const detail = `candidate logits are non-finite at teacher-forced step ${nonFinite}`;
      results.push({ prompt: name, verdict: "error", message: detail, evidence: { kind: "error", tensor: "logits", detail } });
      continue;
    }
    const matches = steps.filter((s) => s.match).length;
    const waived = steps.filter((s) => s.waived).length;
    const flips = steps.filter((s) => !s.match);
    const nearTieFlips = flips.filter((s) => s.near_tie).length;
    const klBad = maxKl === undefined ? [] : steps.filter((s) => s.kl === null || s.kl > maxKl);
    const ok = matches + waived >= minMatches && klBad.length === 0;
    const name2 = (id: number) => ctx.session.tokenName(id);
    const flipText = flips
      .slice(0, 6)
      .map((s) => `step ${s.step} (oracle ${name2(s.oracle_token)} vs ${name2(s.candidate_token)}, oracle margin ${s.oracle_margin?.toFixed(3)} logits${s.near_tie ? ", near-tie" : ""}${s.waived ? ", waived" : ""})`)
      .join(", ");
    let message = `${matches}/${steps.length} top-1 match`;
    if (flips.length > 0) message += `; ${flips.length} flip(s): ${flipText}`;
    if (nearTieFlips > 0) message += `; ${nearTieFlips} at near-ties (margin < ${nearTie} logits)${waive ? ", waived by the spec" : ""}`;
    if (klBad.length > 0 && maxKl !== undefined) {
      const s = klBad[0];
      message += `; KL above ${maxKl} from step ${s?.step} (KL ${s?.kl === null ? "NaN" : s?.kl.toExponential(2)})`;
    }
    const minMargin = Math.min(...steps.map((s) => s.oracle_margin ?? Infinity));
    results.push({
      prompt: name,
      verdict: ok ? "pass" : "fail",
      message,
      evidence: {
        kind: "teacher_forced",
        steps,
        matches,
        total: steps.length,
        near_tie_flips: nearTieFlips,
        min_oracle_margin: finiteOrNull(minMargin),
        k,
      },
    });
  }
  const verdict = combineVerdicts(results.map((r) => r.verdict));
  return {
    verdict,
    message: rungMessage(results, `every step matches on ${results.length} prompts`, (p) => p.evidence.kind === "teacher_forced" && p.evidence.steps.some((s) => s.waived)),
    prompts: results,
    units: { oracle_margin: "logits", kl: "nats" },
  };
};
