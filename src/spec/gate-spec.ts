/**
 * A gate spec (gates/<model>.yaml): which ladder, which oracle, which candidates, and the
 * thresholds each candidate is held to. Paths are relative to the project root (the folder that
 * holds gates/).
 */
import { z } from "../schema/zod.ts";
import { OptionsSchema, ThresholdsSchema } from "./ladder.ts";

const RungOverrides = z.record(z.string(), ThresholdsSchema);
const RungOptionOverrides = z.record(z.string(), OptionsSchema);

export const CandidateEntrySchema = z.strictObject({
  file: z.string().check(z.minLength(1)),
  /** Per-rung thresholds for this candidate, over the spec's and the ladder's. */
  thresholds: z._default(RungOverrides, {}),
  options: z._default(RungOptionOverrides, {}),
  /** Planted faults are listed with `expect: fail` so a run of them is not mistaken for a port. */
  expect: z._default(z.enum(["pass", "fail"]), "pass"),
  note: z.optional(z.string()),
});
export type CandidateEntry = z.infer<typeof CandidateEntrySchema>;

export const GateSpecSchema = z.strictObject({
  model: z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]*$/, "model names are lowercase letters, digits, '.', '_' and '-'")),
  /** A model family of src/models/registry.ts (checked when the spec resolves). */
  family: z.string().check(z.minLength(1)),
  ladder: z.string().check(z.minLength(1)),
  oracle: z.string().check(z.minLength(1)),
  /** Oracle prompts to gate; default all. */
  prompts: z.optional(z.array(z.string()).check(z.minLength(1))),
  default_candidate: z.string().check(z.minLength(1)),
  candidates: z.record(z.string(), CandidateEntrySchema),
  thresholds: z._default(RungOverrides, {}),
  options: z._default(RungOptionOverrides, {}),
  /** Folders (relative to the project root) outside a manifest's own that its paths may name. */
  allow_paths_outside: z._default(z.array(z.string().check(z.minLength(1))), []),
  /** How `numgate import-transcript` judges a zoo transcript for this model (src/transcripts/). */
  transcripts: z.optional(
    z.strictObject({
      /** Flags that fail the run; the others are reported only. */
      fail_on: z._default(z.array(z.enum(["near_tie", "unpinned_weights", "text_only", "short"])), ["near_tie", "unpinned_weights", "text_only", "short"]),
      /** Oracle top-1 minus top-2 below which a step is a near-tie, in the zoo's unit: probability. */
      near_tie_probability: z._default(z.number().check(z.minimum(0), z.maximum(1)), 0.1),
      min_tokens: z._default(z.number().check(z.int(), z.positive()), 16),
    }),
  ),
  /** How to record the oracle when it is missing (printed verbatim). */
  record_command: z.optional(z.string()),
});
export type GateSpec = z.infer<typeof GateSpecSchema>;
