/** Settings of the positions rung. Positions are integer-exact: there is nothing to threshold. */
import { z } from "../../schema/zod.ts";

export const PositionsThresholdsSchema = z.strictObject({});

export const PositionsOptionsSchema = z.strictObject({
  /** Largest |table - cos/sin(position x frequency)| that still reads as the same position (default 1e-4). */
  rope_table_tolerance: z.optional(z.number().check(z.positive())),
  /** Also check the oracle's recorded left-padded batches (default true). */
  padded_batches: z.optional(z.boolean()),
});
