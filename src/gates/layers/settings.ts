/** Settings of the layers rung. */
import { z } from "zod";
import { cosineBound, required } from "../settings.ts";
import type { RungSettings, SettingFault } from "../unit.ts";

export const LayersThresholdsSchema = z.strictObject({
  /** Whole-tensor cosine of every decoder layer's hidden state (required). */
  min_cos: cosineBound().optional(),
  /** Cosine of the worst token of every layer (default: min_cos). */
  min_cos_worst_row: cosineBound().optional(),
});

export const LayersOptionsSchema = z.strictObject({
  /** Also run each layer on the oracle's input, when the backend can (default true). */
  isolated: z.boolean().optional(),
});

export function layersSettingFaults(s: RungSettings): SettingFault[] {
  return required("layers", s, "min_cos");
}
