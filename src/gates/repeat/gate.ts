/**
 * The repeat rung, thin: open the candidate R times fresh (a new process or runtime session each
 * time), roll each out greedily, compare tokens across runs per prompt (compare.ts). Passes when
 * at most `max_differing` runs differ (default 0: a candidate must be deterministic).
 */
import type { SessionOpener } from "../../run/open-session.ts";
import { compareRepeats, type RepeatComparison } from "./compare.ts";

export interface RepeatOptions {
  candidate: string;
  runs: number;
  steps: number;
  maxDiffering: number;
  prompts: readonly string[];
}

export interface RepeatPromptResult {
  prompt: string;
  verdict: "pass" | "fail";
  message: string;
  comparison: RepeatComparison;
}

export async function repeatRung(open: SessionOpener, o: RepeatOptions): Promise<RepeatPromptResult[]> {
  const tokens = new Map<string, number[][]>(o.prompts.map((p) => [p, []]));
  for (let r = 0; r < o.runs; r++) {
    const s = await open(o.candidate);
    try {
      for (const p of o.prompts) tokens.get(p)?.push((await s.session.greedy(p, o.steps)).tokens);
    } finally {
      await s.close();
    }
  }
  return o.prompts.map((prompt) => {
    const c = compareRepeats(tokens.get(prompt) ?? []);
    const ok = c.differing <= o.maxDiffering;
    const split = c.first_split === undefined ? "" : `; runs ${c.first_split.runs[0] + 1} and ${c.first_split.runs[1] + 1} split first at step ${c.first_split.step} (${c.first_split.tokens[0]} vs ${c.first_split.tokens[1]})`;
    return { prompt, verdict: ok ? "pass" : "fail", message: `${c.differing}/${c.runs} runs differ (flakiness ${c.flakiness.toFixed(3)})${split}`, comparison: c };
  });
}
