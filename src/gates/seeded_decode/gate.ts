/**
 * Cache-seeded decode: the candidate is given the oracle's own prefill KV cache and decodes one
 * step (the oracle's first greedy token). Prefill errors cannot reach this step, so a failure
 * here is in the decode path itself: its position, its cache handling, its one-token graph. The
 * reference is generate()'s first decode step, which ran from exactly that cache.
 */
import { argmax, cosine, firstNonFinite, klDivergence, top2Margin } from "../../metrics/index.ts";
import { rungMessage, type PromptResult } from "../../verdicts/prompt-result.ts";
import { combineVerdicts } from "../../verdicts/verdict.ts";
import { finiteOrNull, fmt, threshold, type Gate } from "../gate.ts";
import { requireSameShape } from "../shapes.ts";
import type { SeededDecodeEvidence } from "./evidence.ts";

export const seededDecodeGate: Gate<SeededDecodeEvidence> = async (ctx) => {
  const minCos = threshold(ctx, "min_logit_cos", 0.9999);
  const results: PromptResult<SeededDecodeEvidence>[] = [];
  for (const name of ctx.prompts) {
    const { dump } = ctx.session.prompt(name);
    const refAll = dump.get("greedy.logits");
    const V = refAll.shape[1] ?? 0;
    const ref = refAll.toFloat32().subarray(V, 2 * V); // row 1: generate's first decode step
    const step = await ctx.session.seededStep(name);
    requireSameShape(ctx, { oracleFile: dump.file, oracleKey: "greedy.logits", oracleShape: [V], candidateLabel: `logits of the seeded step (prompt "${name}")`, candidateShape: [step.logits.length], dims: ["vocabulary"] });
    if (firstNonFinite(step.logits) >= 0) {
      const detail = "candidate logits are non-finite at the seeded decode step";
      results.push({ prompt: name, verdict: "error", message: detail, evidence: { kind: "error", tensor: "logits", detail } });
      continue;
    }
    const cos = finiteOrNull(cosine(ref, step.logits));
    const oracleTop1 = argmax(ref);
    const candTop1 = argmax(step.logits);
    const margin = finiteOrNull(top2Margin(ref).margin);
    const match = oracleTop1 === candTop1;
    const ok = match && cos !== null && cos >= minCos;
    const tn = (id: number) => ctx.session.tokenName(id);
    results.push({
      prompt: name,
      verdict: ok ? "pass" : "fail",
      message:
        `from the oracle's ${step.cacheLength}-token cache, fed ${tn(step.fedToken)} at (${step.position.join(", ")}): logits cos ${fmt(cos)}` +
        (ok ? "" : ` (min ${minCos})`) +
        `, top-1 ${match ? `${tn(candTop1)} as the oracle` : `${tn(candTop1)} vs oracle ${tn(oracleTop1)} (oracle margin ${margin?.toFixed(3)} logits)`}`,
      evidence: {
        kind: "seeded_decode",
        cache_length: step.cacheLength,
        fed_token: step.fedToken,
        position: [step.position[0] ?? 0, step.position[1] ?? 0, step.position[2] ?? 0],
        logits_cos: cos,
        kl: finiteOrNull(klDivergence(ref, step.logits)),
        oracle_top1: oracleTop1,
        candidate_top1: candTop1,
        match,
        oracle_margin: margin,
      },
    });
  }
  const verdict = combineVerdicts(results.map((r) => r.verdict));
  return { verdict, message: rungMessage(results, `decode from the oracle's cache matches on ${results.length} prompts`), prompts: results, units: { oracle_margin: "logits", kl: "nats" } };
};
