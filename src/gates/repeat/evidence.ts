/** What the repeat rung records per prompt: how many runs differ, and where two first split. */
import { z } from "../../schema/zod.ts";
import { count } from "../../verdicts/numbers.ts";

export const RepeatEvidenceSchema = z.strictObject({
  kind: z.literal("repeat"),
  runs: count(),
  differing: count(),
  /** differing / runs. */
  flakiness: z.number().check(z.minimum(0), z.maximum(1)),
  /** Per run: the step where it leaves the majority sequence, or null when it is that sequence. */
  splits: z.array(z.nullable(count())),
  first_split: z.optional(
    z.strictObject({
      step: count(),
      runs: z.tuple([count(), count()]),
      tokens: z.tuple([z.number().check(z.int()), z.number().check(z.int())]),
    }),
  ),
});
export type RepeatEvidence = z.infer<typeof RepeatEvidenceSchema>;
