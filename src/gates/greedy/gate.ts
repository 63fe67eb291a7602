/**
 * Greedy rollout: the candidate's own tokens (`steps`, default 24) against the oracle's, compared
 * up to the first divergence (after it the two continue from different text). Optional vLLM-style tolerance: a
 * divergence passes when each side's token is in the other's top-k at that step (needs the
 * oracle's logits there, recorded for the first 16 steps).
 */
import { firstNonFinite, topK } from "../../metrics/index.ts";
import { rungMessage, type PromptResult } from "../../verdicts/prompt-result.ts";
import { combineVerdicts } from "../../verdicts/verdict.ts";
import { finiteOrNull, recordedSteps, threshold, type Gate } from "../gate.ts";
import type { GreedyEvidence } from "./evidence.ts";
import { GREEDY_DEFAULT_STEPS } from "./settings.ts";

export const greedyGate: Gate<GreedyEvidence> = async (ctx) => {
  const tolerance = ctx.options["tolerance"] === "topk" ? "topk" : "exact";
  const k = Math.max(1, Math.round(threshold(ctx, "top_k", 5)));
  const results: PromptResult<GreedyEvidence>[] = [];
  for (const name of ctx.prompts) {
    const { dump } = ctx.session.prompt(name);
    const oracleTokens = dump.get("greedy.tokens").toNumbers();
    const margins = dump.get("greedy.margins").toFloat32();
    const total = recordedSteps(ctx, GREEDY_DEFAULT_STEPS, dump, "greedy.tokens", oracleTokens.length);
    const run = await ctx.session.greedy(name, total);
    const minMatches = threshold(ctx, "min_matches", total);
    const bad = run.logits.findIndex((l) => firstNonFinite(l) >= 0);
    if (bad >= 0) {
      const detail = `candidate logits are non-finite at greedy step ${bad}`;
      results.push({ prompt: name, verdict: "error", message: detail, evidence: { kind: "error", tensor: "logits", detail } });
      continue;
    }
    let d = 0;
    while (d < total && oracleTokens[d] === run.tokens[d]) d++;
    const matches = d;
    const candidateTokens = run.tokens.slice(0, total);
    const tn = (id: number) => ctx.session.tokenName(id);
    let verdict: "pass" | "fail" = matches >= minMatches ? "pass" : "fail";
    let message = `${matches}/${total} tokens identical`;
    const evidence = {
      kind: "greedy" as const,
      oracle_tokens: oracleTokens.slice(0, total),
      candidate_tokens: candidateTokens,
      matches,
      total,
      tolerance: tolerance as "exact" | "topk",
      ...(tolerance === "topk" ? { k } : {}),
    };
    if (d < total) {
      const ot = oracleTokens[d] ?? -1;
      const ct = run.tokens[d] ?? -1;
      const margin = finiteOrNull(margins[d] ?? NaN);
      message += `; first divergence at step ${d}: oracle ${tn(ot)} vs candidate ${tn(ct)} (oracle margin ${margin?.toFixed(3)} logits)`;
      if (tolerance === "topk" && verdict === "fail") {
        const refLogits = dump.get("greedy.logits");
        const V = refLogits.shape[1] ?? 0;
        if (d < (refLogits.shape[0] ?? 0)) {
          const oracleRow = refLogits.toFloat32().subarray(d * V, (d + 1) * V);
          const candRow = run.logits[d] ?? new Float32Array(0);
          const ok = topK(oracleRow, k).includes(ct) && topK(candRow, k).includes(ot);
          if (ok) {
            verdict = "pass";
            message += `; tolerated: each token is in the other's top-${k}`;
          } else {
            message += `; not tolerated: a token is outside the other's top-${k}`;
          }
        } else {
          message += `; top-${k} tolerance needs the oracle's logits at step ${d}, recorded only for the first ${refLogits.shape[0]} steps`;
        }
      }
      results.push({
        prompt: name,
        verdict,
        message,
        evidence: { ...evidence, first_divergence: { step: d, oracle_token: ot, candidate_token: ct, oracle_margin: margin } },
      });
    } else {
      results.push({ prompt: name, verdict, message, evidence });
    }
  }
  const verdict = combineVerdicts(results.map((r) => r.verdict));
  const tolerated = (p: PromptResult<GreedyEvidence>) => p.evidence.kind === "greedy" && p.evidence.first_divergence !== undefined;
  return { verdict, message: rungMessage(results, `every rollout identical on ${results.length} prompts`, tolerated), prompts: results, units: { oracle_margin: "logits" } };
};
