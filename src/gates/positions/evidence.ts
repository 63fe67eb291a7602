/** What the positions gate records per prompt: one check per position source, mismatch rows in token order. */
import { z } from "../../schema/zod.ts";
import { count, num } from "../../verdicts/numbers.ts";

export const PlaneSchema = z.enum(["t", "h", "w"]);
export type Plane = z.infer<typeof PlaneSchema>;

const Triple = z.tuple([num(), num(), num()]);

export const PositionsRowSchema = z.strictObject({
  token: count(),
  token_id: z.number().check(z.int()),
  expected: Triple,
  actual: Triple,
});
export type PositionsRow = z.infer<typeof PositionsRowSchema>;

export const POSITIONS_MAX_ROWS = 32;

export const PositionsCheckSchema = z.strictObject({
  /** "prefill" | "decode" | "engine-formula" | "rope-tables" (open set). */
  name: z.string(),
  compared: count(),
  mismatches: count(),
  expressible: z.boolean(),
  note: z.optional(z.string()),
  first: z.optional(
    z.strictObject({
      token: count(),
      plane: PlaneSchema,
      expected: num(),
      actual: num(),
    }),
  ),
  /** At most 32 mismatch rows, in token order. */
  rows: z.array(PositionsRowSchema).check(z.maxLength(POSITIONS_MAX_ROWS)),
});
export type PositionsCheck = z.infer<typeof PositionsCheckSchema>;

export const PositionsEvidenceSchema = z.strictObject({
  kind: z.literal("positions"),
  checks: z.array(PositionsCheckSchema),
});
export type PositionsEvidence = z.infer<typeof PositionsEvidenceSchema>;
