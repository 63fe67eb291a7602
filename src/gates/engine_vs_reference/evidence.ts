/** What engine_vs_reference records per prompt: both comparisons with both sides' margins at the first divergence. */
import { z } from "../../schema/zod.ts";
import { count, metric } from "../../verdicts/numbers.ts";

const Agreement = z.strictObject({
  matches: count(),
  total: count(),
  first_divergence: z.optional(
    z.strictObject({
      step: count(),
      candidate_token: z.number().check(z.int()),
      reference_token: z.number().check(z.int()),
      /** Each side's own top-1 minus top-2 logit there (unit: logits). */
      candidate_margin: metric(),
      reference_margin: metric(),
    }),
  ),
});

export const EngineVsReferenceEvidenceSchema = z.strictObject({
  kind: z.literal("engine_vs_reference"),
  reference: z.string(),
  greedy: Agreement,
  teacher_forced: Agreement,
});
export type EngineVsReferenceEvidence = z.infer<typeof EngineVsReferenceEvidenceSchema>;
