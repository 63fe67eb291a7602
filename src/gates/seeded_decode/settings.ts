/** Settings of the seeded-decode rung. */
import { z } from "../../schema/zod.ts";
import { cosineBound } from "../settings.ts";

export const SeededDecodeThresholdsSchema = z.strictObject({
  /** Cosine of the decode step's logits against the oracle's (default 0.9999). */
  min_logit_cos: z.optional(cosineBound()),
});

export const SeededDecodeOptionsSchema = z.strictObject({});
