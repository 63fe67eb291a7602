/** Settings of the vision rung. */
import { z } from "../../schema/zod.ts";
import { cosineBound, required } from "../settings.ts";
import type { RungSettings, SettingFault } from "../unit.ts";

export const VisionThresholdsSchema = z.strictObject({
  /** Whole-tensor cosine of every vision output against the oracle's (required). */
  min_cos: z.optional(cosineBound()),
  /** Cosine of the worst row (one merged patch) of every tensor (default: min_cos). */
  min_cos_worst_row: z.optional(cosineBound()),
});

export const VisionOptionsSchema = z.strictObject({});

export function visionSettingFaults(s: RungSettings): SettingFault[] {
  return required("vision", s, "min_cos");
}
