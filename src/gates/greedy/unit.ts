/** The greedy gate kind: the candidate's own rollout against the oracle's (see gate.ts). */
import type { GateUnit, TokenSequence } from "../unit.ts";
import { GreedyEvidenceSchema, type GreedyEvidence } from "./evidence.ts";
import { greedyGate } from "./gate.ts";
import { greedyRendering } from "./render.ts";
import { GreedyOptionsSchema, GreedyThresholdsSchema, greedySettingFaults } from "./settings.ts";

function sequence(g: GreedyEvidence | undefined): TokenSequence | undefined {
  if (g === undefined) return undefined;
  let first: number | null = g.first_divergence?.step ?? null;
  if (first === null) {
    for (let i = 0; i < Math.max(g.oracle_tokens.length, g.candidate_tokens.length); i++) if (g.oracle_tokens[i] !== g.candidate_tokens[i]) { first = i; break; }
  }
  return { oracle: g.oracle_tokens, candidate: g.candidate_tokens, firstDivergence: first };
}

export const greedyUnit: GateUnit<GreedyEvidence> = {
  kind: "greedy",
  thresholds: GreedyThresholdsSchema,
  options: GreedyOptionsSchema,
  impossible: greedySettingFaults,
  evidence: GreedyEvidenceSchema,
  gate: greedyGate,
  requires: [],
  reads: ["decode", "greedy"],
  render: greedyRendering,
  diff: {
    compare(rec, base, head) {
      rec.metric("summary", "matches", base?.matches, head?.matches);
      rec.metric("summary", "first_divergence_step", base?.first_divergence?.step, head?.first_divergence?.step);
      rec.tokens(sequence(base), sequence(head));
    },
  },
  calibrate: {
    derive(evidence) {
      const matches = Math.min(...evidence.map((e) => e.matches));
      return { thresholds: { min_matches: matches }, floor: { matches } };
    },
  },
  tokenIds: (ev) => [...ev.oracle_tokens, ...ev.candidate_tokens],
};
