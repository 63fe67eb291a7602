/**
 * A gate spec (gates/<model>.yaml): which ladder, which oracle, which candidates, and the
 * thresholds each candidate is held to. Paths are relative to the project root (the folder that
 * holds gates/).
 */
import { z } from "zod";
import { OptionsSchema, ThresholdsSchema } from "./ladder.ts";

const RungOverrides = z.record(z.string(), ThresholdsSchema);
const RungOptionOverrides = z.record(z.string(), OptionsSchema);

export const CandidateEntrySchema = z.strictObject({
  file: z.string().min(1),
  /** Per-rung thresholds for this candidate, over the spec's and the ladder's. */
  thresholds: RungOverrides.default({}),
  options: RungOptionOverrides.default({}),
  /** Planted faults are listed with `expect: fail` so a run of them is not mistaken for a port. */
  expect: z.enum(["pass", "fail"]).default("pass"),
  note: z.string().optional(),
});
export type CandidateEntry = z.infer<typeof CandidateEntrySchema>;

export const GateSpecSchema = z.strictObject({
  model: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "model names are lowercase letters, digits, '.', '_' and '-'"),
  /** A model family of src/models/registry.ts (checked when the spec resolves). */
  family: z.string().min(1),
  ladder: z.string().min(1),
  oracle: z.string().min(1),
  /** Oracle prompts to gate; default all. */
  prompts: z.array(z.string()).min(1).optional(),
  default_candidate: z.string().min(1),
  candidates: z.record(z.string(), CandidateEntrySchema),
  thresholds: RungOverrides.default({}),
  options: RungOptionOverrides.default({}),
  /** Folders (relative to the project root) outside a manifest's own that its paths may name. */
  allow_paths_outside: z.array(z.string().min(1)).default([]),
  /** How `numgate import-transcript` judges a zoo transcript for this model (src/transcripts/). */
  transcripts: z
    .strictObject({
      /** Flags that fail the run; the others are reported only. */
      fail_on: z.array(z.enum(["near_tie", "unpinned_weights", "text_only", "short"])).default(["near_tie", "unpinned_weights", "text_only", "short"]),
      /** Oracle top-1 minus top-2 below which a step is a near-tie, in the zoo's unit: probability. */
      near_tie_probability: z.number().min(0).max(1).default(0.1),
      min_tokens: z.number().int().positive().default(16),
    })
    .optional(),
  /** How to record the oracle when it is missing (printed verbatim). */
  record_command: z.string().optional(),
});
export type GateSpec = z.infer<typeof GateSpecSchema>;
