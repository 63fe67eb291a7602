/**
 * One gate run end to end: resolve the spec, open the oracle and the candidate, run the ladder,
 * and return the report's Run. Setup failures (bad spec, missing oracle, unloadable graph) come
 * back as an `error` Run that names the file and field, so the caller still writes reports.
 */
import { candidateFiles, loadCandidate } from "../candidate/candidate.ts";
import { NumgateError, isNumgateError } from "../errors/numgate-error.ts";
import { runLadder, runVerdict } from "../ladder/run.ts";
import type { RungSpec } from "../spec/ladder.ts";
import { InputHashes } from "./input-hashes.ts";
import { loadFamily } from "../models/registry.ts";
import { Oracle } from "../oracle/oracle.ts";
import { gateUnit, type GateRun as Run, type GateRung as Rung } from "../gates/registry.ts";
import type { FileRole } from "../verdicts/rung.ts";
import { reportDuration } from "../verdicts/timing.ts";
import { openCandidateSession, outsideRoots, sessionOpener, type CandidateSession } from "./open-session.ts";
import { planRungs, rel, resolveCandidate, resolveSpec, specCandidate, type ResolvedSpec } from "./resolve.ts";
import { recordEstimateLines } from "./record-cost.ts";

export interface GateRunRequest {
  root: string;
  model: string;
  candidate?: string;
  /** The spec already resolved for this root and model (it is read and validated once per command). */
  spec?: ResolvedSpec;
  keepGoing?: boolean;
  only?: readonly string[];
  /** Execution provider for the backend (`--ep`), overriding the candidate manifest's. */
  executionProvider?: string;
  /** Intra-op threads for onnxruntime backends (`--threads`). */
  threads?: number;
  onRungStart?: (rung: RungSpec, index: number, total: number) => void;
  onRungDone?: (rung: Rung, index: number, total: number) => void;
}

export interface GateRunTimings {
  load_s: number;
  inference_s: number;
  /** Gate code, less the oracle reads it made. */
  metrics_s: number;
  /** Lazy reads of oracle tensors (inside the gates). */
  oracle_read_s: number;
  /**
   * Waiting for the sha256 of the spec, ladder, oracle and candidate files for report.json: they are
   * hashed beside the load and the ladder, so this is only what the ladder did not hide.
   */
  hash_s: number;
  total_s: number;
}

export interface GateRunResult {
  run: Run;
  timings: GateRunTimings;
  /** Why the ladder could not start, when it could not. */
  setupError?: NumgateError;
}


export async function runGate(req: GateRunRequest): Promise<GateRunResult> {
  const t0 = performance.now();
  let resolved: ResolvedSpec | undefined;
  // Until the spec loads its default candidate is unknown; "default" is what the console shows too.
  let candidateName = req.candidate ?? "default";
  try {
    resolved = req.spec ?? resolveSpec(req.root, req.model);
    const r = resolved;
    const cand = resolveCandidate(r, req.candidate);
    candidateName = cand.name;
    // An unknown --rung would select nothing, and a run of nothing must not read as a pass.
    const rungIds = r.ladder.rungs.map((g) => g.id);
    for (const id of req.only ?? []) {
      if (!rungIds.includes(id)) throw new NumgateError("unknown_rung", `no rung "${id}" in ladder ${r.ladder.name} (rungs: ${rungIds.join(", ")})`, { field: "--rung" });
    }
    const family = await loadFamily(r.spec.family, { file: rel(r.specPath), field: "family" });
    let oracle: Oracle;
    try {
      oracle = Oracle.open(r.oracleDir, family.oracleSchema, outsideRoots(r));
    } catch (e) {
      if (isNumgateError(e) && e.code === "oracle_not_recorded") {
        const how = r.spec.record_command ?? `python3 oracles/record/record.py --name ${r.spec.model} --out ${r.spec.oracle} ...`;
        const cost = recordEstimateLines(req.root, r.spec.model, r.spec.record_command, family);
        throw new NumgateError("oracle_not_recorded", `the oracle for ${r.spec.model} is not recorded (${rel(r.oracleDir)}/manifest.json is missing). Record it on a machine with torch and transformers:\n  ${how}${cost}`, {
          file: rel(r.specPath),
          field: "oracle",
        });
      }
      throw e;
    }
    if (oracle.manifest.model !== r.spec.model) {
      throw new NumgateError("oracle_invalid", `this oracle was recorded for "${oracle.manifest.model}", but the spec gates "${r.spec.model}"`, {
        file: rel(oracle.manifestPath),
        field: "model",
      });
    }
    const loaded = loadCandidate(cand.manifestPath, outsideRoots(r));
    // Hashing starts now and runs beside the backend's load and the ladder (./input-hashes.ts).
    const inputs = new InputHashes([
      [r.specPath, "spec"],
      [r.ladderPath, "ladder"],
      ...oracle.files().map((f): [string, FileRole] => [f, "oracle"]),
      ...candidateFiles(loaded).map((f): [string, FileRole] => [f, "candidate"]),
    ]);
    let opened: CandidateSession;
    try {
      const options = {
        ...(req.executionProvider === undefined ? {} : { executionProvider: req.executionProvider }),
        ...(req.threads === undefined ? {} : { threads: req.threads }),
      };
      opened = await openCandidateSession(r, family, oracle, cand, options, loaded);
    } catch (e) {
      inputs.cancel();
      throw e;
    }
    const { backend, session } = opened;
    const loadSeconds = (performance.now() - t0) / 1000;
    try {
      const known = oracle.prompts.map((p) => p.name);
      const prompts = r.spec.prompts ?? known;
      for (const p of prompts) {
        if (!known.includes(p)) throw new NumgateError("schema_violation", `prompt "${p}" is not in the oracle (prompts: ${known.join(", ")})`, { file: rel(r.specPath), field: "prompts" });
      }
      const result = await runLadder(r.ladder, planRungs(r, cand), session, oracle, {
        keepGoing: req.keepGoing ?? false,
        ...(req.only === undefined ? {} : { only: req.only }),
        prompts,
        // A candidate given by path is reopened by its path; one of the spec, by its name.
        candidate: specCandidate(r.spec, cand.name) === undefined ? cand.manifestPath : cand.name,
        openSession: sessionOpener(r, family, oracle),
        producer: `${rel(cand.manifestPath)} (${backend.name})`,
        ...(req.onRungStart === undefined ? {} : { onRungStart: req.onRungStart }),
        ...(req.onRungDone === undefined ? {} : { onRungDone: req.onRungDone }),
      });
      const m = oracle.manifest;
      const files = await inputs.result();
      const hashSeconds = inputs.waited;
      const total = (performance.now() - t0) / 1000;
      const source = m.source.kind === "hf" ? String(m.source.hf_id) : `config:${m.source.config_file ?? "?"} seed ${m.source.seed ?? "?"}`;
      const run: Run = {
        id: `${r.spec.model}/${cand.name}`,
        model: r.spec.model,
        candidate: cand.name,
        spec_file: rel(r.specPath),
        ladder: r.ladder.name,
        ladder_file: rel(r.ladderPath),
        oracle: { dir: rel(r.oracleDir), transformers: m.recorder.transformers, torch: m.recorder.torch, source },
        backend: backend.name,
        files,
        verdict: runVerdict(result.rungs),
        duration_s: reportDuration(total),
        rungs: result.rungs,
      };
      const names = tokenNames(oracle, result.rungs);
      if (names !== undefined) run.token_names = names;
      return {
        run,
        timings: {
          load_s: loadSeconds,
          inference_s: session.inferenceSeconds,
          metrics_s: Math.max(0, result.metricSeconds - oracle.readSeconds),
          oracle_read_s: oracle.readSeconds,
          hash_s: hashSeconds,
          total_s: total,
        },
      };
    } finally {
      inputs.cancel();
      await backend.close();
    }
  } catch (e) {
    const err = isNumgateError(e) ? e : new NumgateError("internal", (e as Error).stack ?? String(e));
    return { run: setupErrorRun(req, resolved, candidateName, err), setupError: err, timings: { load_s: 0, inference_s: 0, metrics_s: 0, oracle_read_s: 0, hash_s: 0, total_s: (performance.now() - t0) / 1000 } };
  }
}

/** Names of every token id the evidence mentions, when the oracle's manifest carries a vocabulary. */
function tokenNames(oracle: Oracle, rungs: readonly Rung[]): Record<string, string> | undefined {
  if (oracle.manifest.tokens.names === undefined) return undefined;
  const ids = new Set<number>();
  for (const rung of rungs) {
    for (const p of rung.prompts) {
      const ev = p.evidence;
      if (ev.kind !== "error") for (const id of gateUnit(ev.kind).tokenIds(ev)) ids.add(id);
    }
  }
  // Integer-like keys keep ascending order in JS objects: the output is deterministic.
  return Object.fromEntries([...ids].sort((a, b) => a - b).map((id) => [String(id), oracle.tokenName(id)]));
}

/** A Run that records why the ladder could not start; every rung it knows of is an error. */
function setupErrorRun(req: GateRunRequest, r: ResolvedSpec | undefined, candidate: string, err: NumgateError): Run {
  const rungs: Rung[] = (r?.ladder.rungs ?? []).filter((spec) => !spec.opt_in).map((spec) => ({
    id: spec.id,
    kind: spec.kind,
    title: spec.title,
    verdict: "error",
    message: err.message.split("\n")[0] ?? err.message,
    duration_s: 0,
    depends_on: [...spec.depends_on],
    thresholds: {},
    units: {},
    error: err.toJSON(),
    prompts: [],
  }));
  const model = r?.spec.model ?? req.model;
  return {
    id: `${model}/${candidate}`,
    model,
    candidate,
    spec_file: r === undefined ? `gates/${req.model}.yaml` : rel(r.specPath),
    ladder: r?.ladder.name ?? "unknown",
    ladder_file: r === undefined ? "unknown" : rel(r.ladderPath),
    oracle: { dir: r === undefined ? "unknown" : rel(r.oracleDir), transformers: "unknown", torch: "unknown", source: "unknown" },
    files: [],
    verdict: "error",
    duration_s: 0,
    error: err.toJSON(),
    rungs,
  };
}
