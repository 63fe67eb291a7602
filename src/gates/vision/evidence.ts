/** What the vision gate records per image prompt: one row per tensor (merged embeds, each DeepStack level). */
import { z } from "../../schema/zod.ts";
import { count, metric } from "../../verdicts/numbers.ts";
import { VerdictSchema } from "../../verdicts/verdict.ts";

export const VisionTensorSchema = z.strictObject({
  name: z.string(),
  rows: count(),
  cos: metric(),
  cos_worst_row: metric(),
  worst_row: count(),
  max_abs: metric(),
  rel_l2: metric(),
  verdict: VerdictSchema,
});
export type VisionTensor = z.infer<typeof VisionTensorSchema>;

export const VisionEvidenceSchema = z.strictObject({
  kind: z.literal("vision"),
  tensors: z.array(VisionTensorSchema),
});
export type VisionEvidence = z.infer<typeof VisionEvidenceSchema>;
