/**
 * The Core AI model zoo's gate transcripts, read as evidence. Two formats, both written by the
 * zoo (github.com/john-rocky/coreai-model-zoo):
 * - `coreai-gate-transcript/1`, conversion/coreai_gate.py (`finish`): source_model {hf_id,
 *   revision, weights_pinned}, protocol {max_new_tokens, ...}, input_ids, oracle {gen_ids,
 *   gen_text, top2_margins}, engine {gen_text, gen_ids only after a text mismatch, re-tokenized from
 *   the text}, match, result PASS | PASS_TIE | FAIL | ERROR.
 * - `coreai-verify-transcript/1`, conversion/coreai_verify.py: oracle_model, oracle_revision,
 *   oracle_ids, margins, bundle_text, bundle_tokens, cap, margin_floor, result.
 *
 * Unit of the margins: PROBABILITY, not logits. Both oracles compute
 * `p = softmax(row); top2 = topk(p, 2).values; margin = top2[0] - top2[1]` (coreai_gate.py's
 * ORACLE_SRC, coreai_verify.py's ORACLE_SRC), and the tie rule compares that with 0.1. numgate's
 * margins are logits. A probability gap d fixes no logit gap, only a lower bound:
 * log(p1/p2) >= -log(1 - d) (equality when p1 + p2 = 1), so a probability "tie" may be a
 * decisive logit gap in a flat distribution. We report the probability and that bound.
 */
import { readFileSync } from "node:fs";
import { z } from "../schema/zod.ts";
import { NumgateError } from "../errors/numgate-error.ts";

const ids = z.array(z.number().check(z.int()));

const GateTranscriptSchema = z.looseObject({
  schema: z.literal("coreai-gate-transcript/1"),
  result: z.nullable(z.string()),
  bundle: z.string(),
  source_model: z.looseObject({ hf_id: z.string(), revision: z.nullable(z.string()), weights_pinned: z.optional(z.boolean()) }),
  protocol: z.looseObject({ max_new_tokens: z.number().check(z.int()) }),
  input_ids: ids,
  oracle: z.looseObject({ gen_ids: ids, gen_text: z.string(), top2_margins: z.array(z.number()) }),
  engine: z.looseObject({ gen_text: z.nullable(z.string()), gen_ids: z.optional(ids) }),
});

const VerifyTranscriptSchema = z.looseObject({
  schema: z.literal("coreai-verify-transcript/1"),
  result: z.nullable(z.string()),
  bundle: z.string(),
  oracle_model: z.string(),
  oracle_revision: z.nullable(z.string()),
  cap: z.number().check(z.int()),
  input_ids: ids,
  oracle_ids: ids,
  oracle_text: z.string(),
  bundle_text: z.nullable(z.string()),
  margins: z.array(z.number()),
  margin_floor: z.optional(z.number()),
});

/** A transcript in one shape, whichever format it came in. */
export interface ZooTranscript {
  file: string;
  format: string;
  bundle: string;
  hfId: string;
  revision: string | null;
  /** Did the oracle load the pinned revision? (gate format: weights_pinned; verify: a revision was given to from_pretrained). */
  weightsPinned: boolean;
  result: string;
  /** Tokens the transcript's protocol asked for. */
  requested: number;
  oracleIds: number[];
  oracleText: string;
  /** Oracle top-1 minus top-2 probability per step. */
  marginsProbability: number[];
  engineText: string | null;
  /** Token ids the engine itself produced; null when the transcript has only its decoded text (or ids re-tokenized from it). */
  engineIds: number[] | null;
  /** The engine's text tokenized again by the zoo (coreai_gate.py, after a text mismatch), if any. */
  retokenized: number[] | null;
}

export function readZooTranscript(file: string): ZooTranscript {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new NumgateError("file_not_found", `cannot read transcript ${file}: ${(e as Error).message}`, { file });
  }
  const schema = (raw as { schema?: unknown } | null)?.schema;
  if (schema === "coreai-gate-transcript/1") {
    const p = GateTranscriptSchema.safeParse(raw);
    if (!p.success) throw invalid(file, p.error);
    const t = p.data;
    return {
      file,
      format: t.schema,
      bundle: t.bundle,
      hfId: t.source_model.hf_id,
      revision: t.source_model.revision,
      weightsPinned: t.source_model.weights_pinned === true && t.source_model.revision !== null,
      result: t.result ?? "ERROR",
      requested: t.protocol.max_new_tokens,
      oracleIds: t.oracle.gen_ids,
      oracleText: t.oracle.gen_text,
      marginsProbability: t.oracle.top2_margins,
      engineText: t.engine.gen_text,
      // coreai_gate.py fills engine.gen_ids only on a mismatch, by tokenizing the engine's text:
      // a re-tokenization, not the engine's own ids.
      engineIds: null,
      retokenized: t.engine.gen_ids ?? null,
    };
  }
  if (schema === "coreai-verify-transcript/1") {
    const p = VerifyTranscriptSchema.safeParse(raw);
    if (!p.success) throw invalid(file, p.error);
    const t = p.data;
    return {
      file,
      format: t.schema,
      bundle: t.bundle,
      hfId: t.oracle_model,
      revision: t.oracle_revision,
      weightsPinned: t.oracle_revision !== null,
      result: t.result ?? "ERROR",
      requested: t.cap,
      oracleIds: t.oracle_ids,
      oracleText: t.oracle_text,
      marginsProbability: t.margins,
      engineText: t.bundle_text,
      engineIds: null,
      retokenized: null,
    };
  }
  throw new NumgateError("schema_violation", `${file} is not a Core AI zoo transcript (schema ${JSON.stringify(schema)}; known: coreai-gate-transcript/1, coreai-verify-transcript/1)`, { file, field: "schema" });
}

function invalid(file: string, e: z.core.$ZodError): NumgateError {
  const i = e.issues[0];
  return new NumgateError("schema_violation", `${file}: ${i?.path.join(".") ?? ""}: ${i?.message ?? "invalid"}`, { file, field: i?.path.join(".") ?? "" });
}

/** The smallest logit gap a probability gap allows (exact when top-1 and top-2 hold all the mass). */
export function logitMarginLowerBound(probabilityMargin: number): number {
  return probabilityMargin >= 1 ? Infinity : -Math.log1p(-Math.max(0, probabilityMargin)) || 0;
}
