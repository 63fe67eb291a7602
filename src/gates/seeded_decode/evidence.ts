/** One decode step run from the oracle's own prefill KV cache: decode isolated from prefill. */
import { z } from "../../schema/zod.ts";
import { count, metric, num } from "../../verdicts/numbers.ts";

export const SeededDecodeEvidenceSchema = z.strictObject({
  kind: z.literal("seeded_decode"),
  /** Tokens in the oracle cache the candidate was seeded with. */
  cache_length: count(),
  fed_token: z.number().check(z.int()),
  /** Position the candidate's host gave the fed token (T, H, W). */
  position: z.tuple([num(), num(), num()]),
  logits_cos: metric(),
  kl: metric(),
  oracle_top1: z.number().check(z.int()),
  candidate_top1: z.number().check(z.int()),
  match: z.boolean(),
  /** Oracle top-1 minus top-2 at this step, in logits. */
  oracle_margin: metric(),
});
export type SeededDecodeEvidence = z.infer<typeof SeededDecodeEvidenceSchema>;
