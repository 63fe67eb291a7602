/** What the teacher-forced gate records per prompt: every step's top-1 on both sides, margin, KL, top-k overlap. */
import { z } from "../../schema/zod.ts";
import { count, metric } from "../../verdicts/numbers.ts";

export const TeacherForcedStepSchema = z.strictObject({
  step: count(),
  oracle_token: z.number().check(z.int()),
  candidate_token: z.number().check(z.int()),
  /** Oracle top-1 minus top-2 logit, in logits. */
  oracle_margin: metric(),
  kl: metric(),
  topk_overlap: metric(),
  match: z.boolean(),
  near_tie: z.boolean(),
  waived: z.boolean(),
});
export type TeacherForcedStep = z.infer<typeof TeacherForcedStepSchema>;

export const TeacherForcedEvidenceSchema = z.strictObject({
  kind: z.literal("teacher_forced"),
  steps: z.array(TeacherForcedStepSchema),
  matches: count(),
  total: count(),
  near_tie_flips: count(),
  min_oracle_margin: metric(),
  k: count(),
});
export type TeacherForcedEvidence = z.infer<typeof TeacherForcedEvidenceSchema>;
