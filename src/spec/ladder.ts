/**
 * A ladder: the ordered rungs of one model family, cheapest first, with default thresholds.
 * ladders/<family>.yaml; a gate spec picks one and may override its thresholds per candidate.
 */
import { z } from "zod";
import { RungKindSchema, type RungKind } from "../report/schema.ts";

/** Threshold names each rung kind understands; anything else in a spec is a typo. */
export const THRESHOLDS_BY_KIND: Readonly<Record<RungKind, readonly string[]>> = {
  positions: [],
  vision: ["min_cos", "min_cos_worst_row"],
  layers: ["min_cos", "min_cos_worst_row"],
  seeded_decode: ["min_logit_cos"],
  teacher_forced: ["min_matches", "near_tie_margin", "max_kl", "top_k"],
  greedy: ["min_matches", "top_k"],
};

export const OPTIONS_BY_KIND: Readonly<Record<RungKind, readonly string[]>> = {
  positions: ["rope_table_tolerance", "padded_batches"],
  vision: [],
  layers: ["isolated"],
  seeded_decode: [],
  teacher_forced: ["waive_near_ties"],
  greedy: ["tolerance"],
};

export const ThresholdsSchema = z.strictObject({
  min_cos: z.number().min(-1).max(1).optional(),
  min_cos_worst_row: z.number().min(-1).max(1).optional(),
  min_logit_cos: z.number().min(-1).max(1).optional(),
  min_matches: z.number().int().nonnegative().optional(),
  near_tie_margin: z.number().nonnegative().optional(),
  max_kl: z.number().nonnegative().optional(),
  top_k: z.number().int().positive().optional(),
});
export type Thresholds = z.infer<typeof ThresholdsSchema>;

export const OptionsSchema = z.strictObject({
  rope_table_tolerance: z.number().positive().optional(),
  padded_batches: z.boolean().optional(),
  isolated: z.boolean().optional(),
  waive_near_ties: z.boolean().optional(),
  tolerance: z.enum(["exact", "topk"]).optional(),
});
export type Options = z.infer<typeof OptionsSchema>;

export const RungSpecSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_-]*$/, "rung ids are lowercase letters, digits, _ and -"),
  kind: RungKindSchema,
  title: z.string().min(1),
  depends_on: z.array(z.string()).default([]),
  thresholds: ThresholdsSchema.default({}),
  options: OptionsSchema.default({}),
});
export type RungSpec = z.infer<typeof RungSpecSchema>;

export const LadderSchema = z
  .strictObject({
    name: z.string().min(1),
    family: z.string().min(1),
    description: z.string().optional(),
    rungs: z.array(RungSpecSchema).min(1),
  })
  .superRefine((ladder, ctx) => {
    const seen = new Set<string>();
    ladder.rungs.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: "custom", path: ["rungs", i, "id"], message: `duplicate rung id "${r.id}"` });
      r.depends_on.forEach((d, j) => {
        if (!seen.has(d)) {
          ctx.addIssue({ code: "custom", path: ["rungs", i, "depends_on", j], message: `"${d}" is not an earlier rung (rungs run in order; known: ${[...seen].join(", ") || "none"})` });
        }
      });
      seen.add(r.id);
      for (const key of Object.keys(r.thresholds)) {
        if (!THRESHOLDS_BY_KIND[r.kind].includes(key)) {
          ctx.addIssue({ code: "custom", path: ["rungs", i, "thresholds", key], message: `a ${r.kind} rung has no threshold "${key}" (known: ${THRESHOLDS_BY_KIND[r.kind].join(", ") || "none"})` });
        }
      }
      for (const key of Object.keys(r.options)) {
        if (!OPTIONS_BY_KIND[r.kind].includes(key)) {
          ctx.addIssue({ code: "custom", path: ["rungs", i, "options", key], message: `a ${r.kind} rung has no option "${key}" (known: ${OPTIONS_BY_KIND[r.kind].join(", ") || "none"})` });
        }
      }
    });
  });
export type Ladder = z.infer<typeof LadderSchema>;
