/** What the repeat rung records per prompt: how many runs differ, and where two first split. */
import { z } from "zod";
import { count } from "../../verdicts/numbers.ts";

export const RepeatEvidenceSchema = z.strictObject({
  kind: z.literal("repeat"),
  runs: count(),
  differing: count(),
  /** differing / runs. */
  flakiness: z.number().min(0).max(1),
  /** Per run: the step where it leaves the majority sequence, or null when it is that sequence. */
  splits: z.array(count().nullable()),
  first_split: z
    .strictObject({
      step: count(),
      runs: z.tuple([count(), count()]),
      tokens: z.tuple([z.number().int(), z.number().int()]),
    })
    .optional(),
});
export type RepeatEvidence = z.infer<typeof RepeatEvidenceSchema>;
