/**
 * Re-checks a zoo transcript and turns it into a replayed numgate run (one greedy rung), so it is
 * rendered like any other run (report.json, JUnit, HTML). Each flag is reported; the gate spec's
 * `transcripts.fail_on` decides which ones fail the run.
 */
import { basename, relative } from "node:path";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { GateRun as Run, GateRung as Rung } from "../gates/registry.ts";
import { logitMarginLowerBound, type ZooTranscript } from "./coreai.ts";

export const TRANSCRIPT_FLAGS = ["near_tie", "unpinned_weights", "text_only", "short"] as const;
export type TranscriptFlag = (typeof TRANSCRIPT_FLAGS)[number];

export interface TranscriptPolicy {
  failOn: readonly TranscriptFlag[];
  /** In the zoo's unit: probability (top-1 minus top-2). */
  nearTieProbability: number;
  minTokens: number;
}

export const DEFAULT_POLICY: TranscriptPolicy = { failOn: TRANSCRIPT_FLAGS, nearTieProbability: 0.1, minTokens: 16 };

export interface Finding {
  flag: TranscriptFlag;
  message: string;
}

export function recheck(t: ZooTranscript, p: TranscriptPolicy): Finding[] {
  const out: Finding[] = [];
  const passed = t.result.startsWith("PASS");
  const near = t.marginsProbability.map((m, step) => ({ m, step })).filter((x) => x.m < p.nearTieProbability);
  if (passed && near.length > 0) {
    const first = near[0];
    out.push({
      flag: "near_tie",
      message: `the ${t.result} rests on ${near.length} step(s) whose oracle margin is below ${p.nearTieProbability} (probability, the zoo's unit), first step ${first?.step}: ${first?.m.toFixed(4)} (a logit gap of at least ${logitMarginLowerBound(first?.m ?? 0).toFixed(4)}; the transcript keeps no logits to say more)`,
    });
  }
  if (!t.weightsPinned) {
    out.push({ flag: "unpinned_weights", message: t.revision === null ? `the oracle's weights (${t.hfId}) are not pinned to a revision` : `the oracle loaded ${t.hfId}'s default branch, not the pinned revision ${t.revision} (weights_pinned false)` });
  }
  if (t.engineIds === null) out.push({ flag: "text_only", message: "the engine's side is its decoded text only: no engine token ids or logits, so a match is a text match" });
  if (t.oracleIds.length < p.minTokens) out.push({ flag: "short", message: `${t.oracleIds.length} tokens gated (asked for ${t.requested}); the spec asks for ${p.minTokens}` });
  return out;
}

/** The engine's tokens as far as the transcript supports them: its own ids, else the oracle's where the texts agree. */
function engineTokens(t: ZooTranscript): number[] {
  if (t.engineIds !== null) return t.engineIds;
  if (t.retokenized !== null) return t.retokenized;
  return t.engineText !== null && t.engineText === t.oracleText ? [...t.oracleIds] : [];
}

export function transcriptRun(t: ZooTranscript, p: TranscriptPolicy, model: string, specFile: string): Run {
  const findings = recheck(t, p);
  const failing = findings.filter((f) => p.failOn.includes(f.flag));
  const cand = engineTokens(t);
  const total = t.oracleIds.length;
  let d = 0;
  while (d < Math.min(total, cand.length) && t.oracleIds[d] === cand[d]) d++;
  const zooPassed = t.result.startsWith("PASS");
  const verdict = t.result === "ERROR" || t.engineText === null ? "error" : zooPassed && failing.length === 0 ? "pass" : "fail";
  const flags = findings.map((f) => `${p.failOn.includes(f.flag) ? "FLAG" : "note"} ${f.flag}: ${f.message}`);
  const message = [`zoo result ${t.result}, ${d}/${total} tokens identical`, ...flags].join(" | ");
  const evidence = {
    kind: "greedy" as const,
    oracle_tokens: t.oracleIds,
    candidate_tokens: cand.slice(0, total),
    matches: d,
    total,
    tolerance: "exact" as const,
    ...(d < total && d < cand.length
      ? { first_divergence: { step: d, oracle_token: t.oracleIds[d] ?? -1, candidate_token: cand[d] ?? -1, oracle_margin: t.marginsProbability[d] ?? null } }
      : {}),
  };
  const rung: Rung = {
    id: "transcript",
    kind: "greedy",
    title: `Core AI zoo transcript (${t.format}), replayed and re-checked`,
    verdict,
    message,
    duration_s: 0,
    depends_on: [],
    thresholds: { min_tokens: p.minTokens, near_tie_probability: p.nearTieProbability },
    units: { oracle_margin: "probability (softmax top-1 minus top-2, the zoo's unit; not logits)" },
    prompts: [{ prompt: "transcript", verdict, message, evidence }],
  };
  const file = relative(process.cwd(), t.file) || t.file;
  // The file names the run: one bundle is often gated by several transcripts (prompts, engines).
  const candidate = basename(t.file, ".json").replace(/[^A-Za-z0-9._-]+/g, "_") || "transcript";
  return {
    id: `${model}/${candidate}`,
    model,
    candidate,
    spec_file: specFile,
    ladder: "transcript",
    ladder_file: "none",
    oracle: { dir: file, transformers: "unknown", torch: "unknown", source: t.revision === null ? t.hfId : `${t.hfId}@${t.revision}` },
    files: [{ path: file, sha256: createHash("sha256").update(readFileSync(t.file)).digest("hex"), role: "oracle" }],
    verdict: verdict === "error" ? "error" : verdict === "pass" ? "pass" : "fail",
    duration_s: 0,
    rungs: [rung],
  };
}
