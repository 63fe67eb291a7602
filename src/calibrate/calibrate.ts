/**
 * Threshold calibration: run a healthy reference candidate, measure its noise floor on every
 * rung, and derive thresholds with headroom. A threshold sits one decade of headroom below the
 * worst the healthy build showed, rounded outwards to a power of ten, so normal run-to-run and
 * machine-to-machine jitter never trips it while a real fault (orders of magnitude worse) does.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { isMap, parseDocument } from "yaml";
import { NumgateError } from "../errors/numgate-error.ts";
import type { Run } from "../report/schema.ts";
import { rel } from "../run/resolve.ts";

export interface RungCalibration {
  rung: string;
  thresholds: Record<string, number>;
  /** What the reference measured, for the comment written beside the thresholds. */
  floor: Record<string, number>;
}

/** 1 - 10^ceil(log10(headroom x (1 - worst))), never above 1 - minGap. */
export function cosThreshold(worst: number, headroom = 10, minGap = 1e-6): number {
  const gap = Math.max(headroom * (1 - worst), minGap);
  const decade = Math.pow(10, Math.ceil(Math.log10(gap)));
  return Number((1 - decade).toPrecision(12));
}

export function upperThreshold(worst: number, headroom = 10, minValue = 1e-9): number {
  const v = Math.max(headroom * worst, minValue);
  return Number(Math.pow(10, Math.ceil(Math.log10(v))).toPrecision(6));
}

export function calibrateFromRun(run: Run, headroom = 10): RungCalibration[] {
  const out: RungCalibration[] = [];
  for (const rung of run.rungs) {
    if (rung.verdict === "error" || rung.verdict === "skipped") {
      throw new NumgateError("candidate_invalid", `the reference ${run.candidate} could not be measured on rung ${rung.id} (${rung.verdict}: ${rung.message}); calibrate from a healthy build`);
    }
    const ev = rung.prompts.map((p) => p.evidence);
    switch (rung.kind) {
      case "vision": {
        const cos = Math.min(...ev.flatMap((e) => (e.kind === "vision" ? e.tensors.map((t) => t.cos ?? -1) : [])));
        const worst = Math.min(...ev.flatMap((e) => (e.kind === "vision" ? e.tensors.map((t) => t.cos_worst_row ?? -1) : [])));
        if (Number.isFinite(cos)) out.push({ rung: rung.id, thresholds: { min_cos: cosThreshold(cos, headroom), min_cos_worst_row: cosThreshold(worst, headroom) }, floor: { cos, cos_worst_row: worst } });
        break;
      }
      case "layers": {
        const cos = Math.min(...ev.flatMap((e) => (e.kind === "layers" ? e.layers.map((l) => l.cos ?? -1) : [])));
        const worst = Math.min(...ev.flatMap((e) => (e.kind === "layers" ? e.layers.map((l) => l.cos_worst_row ?? -1) : [])));
        out.push({ rung: rung.id, thresholds: { min_cos: cosThreshold(cos, headroom), min_cos_worst_row: cosThreshold(worst, headroom) }, floor: { cos, cos_worst_row: worst } });
        break;
      }
      case "seeded_decode": {
        const cos = Math.min(...ev.flatMap((e) => (e.kind === "seeded_decode" ? [e.logits_cos ?? -1] : [])));
        if (ev.some((e) => e.kind === "seeded_decode" && !e.match)) {
          throw new NumgateError("candidate_invalid", `the reference ${run.candidate} changes the top-1 of the cache-seeded decode step; a healthy reference must not`);
        }
        out.push({ rung: rung.id, thresholds: { min_logit_cos: cosThreshold(cos, headroom) }, floor: { logits_cos: cos } });
        break;
      }
      case "teacher_forced": {
        const kl = Math.max(...ev.flatMap((e) => (e.kind === "teacher_forced" ? e.steps.map((s) => s.kl ?? Infinity) : [])));
        const matches = Math.min(...ev.flatMap((e) => (e.kind === "teacher_forced" ? [e.matches] : [])));
        const total = Math.min(...ev.flatMap((e) => (e.kind === "teacher_forced" ? [e.total] : [])));
        if (matches < total) {
          throw new NumgateError("candidate_invalid", `the reference ${run.candidate} flips ${total - matches} teacher-forced step(s); a healthy reference must match every step`);
        }
        out.push({ rung: rung.id, thresholds: { min_matches: total, max_kl: upperThreshold(kl, headroom) }, floor: { max_kl: kl, matches } });
        break;
      }
      case "greedy": {
        const matches = Math.min(...ev.flatMap((e) => (e.kind === "greedy" ? [e.matches] : [])));
        out.push({ rung: rung.id, thresholds: { min_matches: matches }, floor: { matches } });
        break;
      }
      case "positions":
        break;
    }
  }
  return out;
}

/** Writes the thresholds under candidates.<target>.thresholds, with a comment saying where they came from. */
export function writeCalibration(specPath: string, target: string, reference: string, cal: readonly RungCalibration[], date: string, headroom = 10): void {
  const doc = parseDocument(readFileSync(specPath, "utf8"));
  if (!isMap(doc.getIn(["candidates", target]))) {
    throw new NumgateError("schema_violation", `no candidate "${target}" in the spec`, { file: rel(specPath), field: `candidates.${target}` });
  }
  for (const c of cal) {
    for (const [k, v] of Object.entries(c.thresholds)) doc.setIn(["candidates", target, "thresholds", c.rung, k], v);
    const node = doc.getIn(["candidates", target, "thresholds", c.rung], true);
    if (isMap(node)) {
      node.flow = false;
      const floor = Object.entries(c.floor)
        .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(8)}`)
        .join(", ");
      node.commentBefore = ` calibrated ${date} by numgate calibrate --reference ${reference} (headroom ${headroom}x): measured ${floor}`;
    }
  }
  writeFileSync(specPath, doc.toString({ lineWidth: 0 }), "utf8");
}
