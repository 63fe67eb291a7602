/**
 * The repeat rung: the same candidate opened R times from a fresh start (a new process or runtime
 * session each time), rolled out greedily, tokens compared across runs per prompt (compare.ts).
 * Passes when at most `max_differing` runs differ (default 0). The seeds' "24/24 x 8 runs".
 */
import { rungMessage, type PromptResult } from "../../verdicts/prompt-result.ts";
import { combineVerdicts } from "../../verdicts/verdict.ts";
import type { Gate } from "../gate.ts";
import { compareRepeats } from "./compare.ts";
import type { RepeatEvidence } from "./evidence.ts";
import { REPEAT_DEFAULT_STEPS } from "./settings.ts";

export const repeatGate: Gate<RepeatEvidence> = async (ctx) => {
  const runs = typeof ctx.options["runs"] === "number" ? ctx.options["runs"] : 1;
  const steps = typeof ctx.options["steps"] === "number" ? ctx.options["steps"] : REPEAT_DEFAULT_STEPS;
  const maxDiffering = ctx.thresholds["max_differing"] ?? 0;
  if (runs < 2) return { verdict: "skipped", message: `one run: nothing to repeat (set options.runs, e.g. 3 or 8, for this candidate)`, prompts: [], units: {} };
  if (ctx.openSession === undefined) return { verdict: "skipped", message: "this run cannot open the candidate afresh", prompts: [], units: {} };
  const tokens = new Map<string, number[][]>(ctx.prompts.map((p) => [p, []]));
  for (let r = 0; r < runs; r++) {
    const opened = await ctx.openSession(ctx.candidate);
    try {
      for (const p of ctx.prompts) tokens.get(p)?.push((await opened.session.greedy(p, steps)).tokens);
    } finally {
      await opened.close();
    }
  }
  const results: PromptResult<RepeatEvidence>[] = ctx.prompts.map((prompt) => {
    const c = compareRepeats(tokens.get(prompt) ?? []);
    const split = c.first_split === undefined ? "" : `; runs ${c.first_split.runs[0] + 1} and ${c.first_split.runs[1] + 1} split first at step ${c.first_split.step} (${ctx.session.tokenName(c.first_split.tokens[0])} vs ${ctx.session.tokenName(c.first_split.tokens[1])})`;
    return {
      prompt,
      verdict: c.differing <= maxDiffering ? "pass" : "fail",
      message: `${c.differing}/${c.runs} runs differ (flakiness ${c.flakiness.toFixed(3)})${split}`,
      evidence: { kind: "repeat", ...c },
    };
  });
  return { verdict: combineVerdicts(results.map((r) => r.verdict)), message: rungMessage(results, `${runs} fresh runs identical on ${results.length} prompts`), prompts: results, units: {} };
};
