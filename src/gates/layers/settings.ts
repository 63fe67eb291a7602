/** Settings of the layers rung. */
import { z } from "../../schema/zod.ts";
import { cosineBound, required } from "../settings.ts";
import type { RungSettings, SettingFault } from "../unit.ts";

export const LayersThresholdsSchema = z.strictObject({
  /** Whole-tensor cosine of every decoder layer's hidden state (required). */
  min_cos: z.optional(cosineBound()),
  /** Cosine of the worst token of every layer (default: min_cos). */
  min_cos_worst_row: z.optional(cosineBound()),
});

/**
 * When to run layers on the oracle's input (isolated error; one prefill per layer on graphs that
 * isolate one layer per pass): "on_failure" (the default; `true` says the same) from the first
 * layer that fails cumulatively on, where it tells a layer's own error from what it inherited;
 * "always" on every layer; `false` never.
 */
export const IsolatedSchema = z.union([z.boolean(), z.enum(["on_failure", "always"])]);
export type IsolatedSetting = z.infer<typeof IsolatedSchema>;

export const LayersOptionsSchema = z.strictObject({
  isolated: z.optional(IsolatedSchema),
});

export function layersSettingFaults(s: RungSettings): SettingFault[] {
  return required("layers", s, "min_cos");
}
