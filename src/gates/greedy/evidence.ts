/** What the greedy gate records per prompt: both rollouts and where they first part. */
import { z } from "zod";
import { count, metric } from "../../verdicts/numbers.ts";

export const GreedyEvidenceSchema = z.strictObject({
  kind: z.literal("greedy"),
  oracle_tokens: z.array(z.number().int()),
  candidate_tokens: z.array(z.number().int()),
  matches: count(),
  total: count(),
  first_divergence: z
    .strictObject({
      step: count(),
      oracle_token: z.number().int(),
      candidate_token: z.number().int(),
      oracle_margin: metric(),
    })
    .optional(),
  tolerance: z.enum(["exact", "topk"]).optional(),
  k: count().optional(),
});
export type GreedyEvidence = z.infer<typeof GreedyEvidenceSchema>;
