/**
 * Threshold calibration: run a healthy reference candidate, measure its noise floor on every
 * rung, and derive thresholds with headroom. What each rung kind measures and how it turns that
 * into thresholds is the kind's calibration hook (src/gates/<kind>/unit.ts, helpers in
 * src/gates/calibration.ts); a kind without one is reported as not calibrated, with its reason.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { isMap, parseDocument } from "yaml";
import { NumgateError } from "../errors/numgate-error.ts";
import { gateUnit, type GateEvidence, type GateRun } from "../gates/registry.ts";
import { hasHook } from "../gates/unit.ts";
import { rel } from "../run/resolve.ts";

export { cosThreshold, upperThreshold } from "../gates/calibration.ts";

export interface RungCalibration {
  rung: string;
  thresholds: Record<string, number>;
  /** What the reference measured, for the comment written beside the thresholds. */
  floor: Record<string, number>;
}

export interface Calibration {
  calibrated: RungCalibration[];
  /** Rungs whose kind has no calibration hook, or that had nothing to measure, and why. */
  notCalibrated: { rung: string; reason: string }[];
}

export function calibrateRun(run: GateRun, headroom = 10): Calibration {
  const out: Calibration = { calibrated: [], notCalibrated: [] };
  for (const rung of run.rungs) {
    if (rung.verdict === "error" || rung.verdict === "skipped") {
      throw new NumgateError("candidate_invalid", `the reference ${run.candidate} could not be measured on rung ${rung.id} (${rung.verdict}: ${rung.message}); calibrate from a healthy build`);
    }
    const hook = gateUnit(rung.kind).calibrate;
    if (!hasHook(hook)) {
      out.notCalibrated.push({ rung: rung.id, reason: hook.none });
      continue;
    }
    const evidence = rung.prompts.map((p) => p.evidence).filter((e): e is GateEvidence => e.kind === rung.kind);
    const derived = hook.derive(evidence, run.candidate, headroom);
    if (derived === undefined) out.notCalibrated.push({ rung: rung.id, reason: "nothing to measure among the gated prompts" });
    else out.calibrated.push({ rung: rung.id, ...derived });
  }
  return out;
}

/** The calibrated rungs only (see `calibrateRun` for the ones left out and why). */
export function calibrateFromRun(run: GateRun, headroom = 10): RungCalibration[] {
  return calibrateRun(run, headroom).calibrated;
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
