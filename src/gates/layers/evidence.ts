/** What the layers gate records per prompt: one row per decoder layer, and the first failing layer. */
import { z } from "../../schema/zod.ts";
import { count, metric } from "../../verdicts/numbers.ts";
import { VerdictSchema } from "../../verdicts/verdict.ts";

export const LayerRowSchema = z.strictObject({
  layer: count(),
  cos: metric(),
  cos_worst_row: metric(),
  worst_token: count(),
  max_abs: metric(),
  rel_l2: metric(),
  isolated_cos: z.optional(metric()),
  verdict: VerdictSchema,
});
export type LayerRow = z.infer<typeof LayerRowSchema>;

export const FirstFailingLayerSchema = z.strictObject({
  layer: count(),
  token: count(),
  cos: metric(),
});
export type FirstFailingLayer = z.infer<typeof FirstFailingLayerSchema>;

export const LayersEvidenceSchema = z.strictObject({
  kind: z.literal("layers"),
  mode: z.enum(["cumulative", "isolated"]),
  layers: z.array(LayerRowSchema),
  first_failing: z.optional(FirstFailingLayerSchema),
  first_failing_isolated: z.optional(FirstFailingLayerSchema),
});
export type LayersEvidence = z.infer<typeof LayersEvidenceSchema>;
