/** What the greedy gate records per prompt: both rollouts and where they first part. */
import { z } from "../../schema/zod.ts";
import { count, metric } from "../../verdicts/numbers.ts";

export const GreedyEvidenceSchema = z.strictObject({
  kind: z.literal("greedy"),
  oracle_tokens: z.array(z.number().check(z.int())),
  candidate_tokens: z.array(z.number().check(z.int())),
  matches: count(),
  total: count(),
  first_divergence: z.optional(
    z.strictObject({
      step: count(),
      oracle_token: z.number().check(z.int()),
      candidate_token: z.number().check(z.int()),
      oracle_margin: metric(),
    }),
  ),
  tolerance: z.optional(z.enum(["exact", "topk"])),
  k: z.optional(count()),
});
export type GreedyEvidence = z.infer<typeof GreedyEvidenceSchema>;
