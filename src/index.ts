/**
 * numgate's public API: everything a program (rather than the CLI) needs, from one place.
 *
 * - Run gates: {@link runGate} (one model/candidate through its ladder), {@link buildReport},
 *   {@link writeReports}; lower level {@link runLadder} with the gate units in {@link GATE_UNITS}.
 * - Positions: {@link getRopeIndex} and friends (transformers-exact M-RoPE).
 * - Data: {@link Tensor}, safetensors I/O, {@link Oracle}, candidate manifests.
 * - Metrics in float64: cosine, rowCosines, maxAbsDiff, relativeL2, topK, top2Margin, KL.
 * - Reports: schema types, JSON/JUnit/HTML/console renderers, diff and merge.
 * - Families and backends: the {@link ModelSession} gates see, the family registry, the
 *   runtime-neutral {@link Backend} interface, the backend registry and the ONNX layouts.
 */
export { NumgateError, isNumgateError, type NumgateErrorCode } from "./errors/numgate-error.ts";
export { runGate, type GateRunRequest, type GateRunResult, type GateRunTimings } from "./run/run-gate.ts";
export { buildReport } from "./report/build.ts";
export { resolveSpec, resolveCandidate, planRungs, knownModels } from "./run/resolve.ts";
export { runLadder, runVerdict, type RungPlan, type LadderRunOptions } from "./ladder/run.ts";
export type { Gate, GateContext, GateOutcome } from "./gates/gate.ts";
export { GATE_UNITS, GATE_KINDS, gateUnit, type GateKind, type GateEvidence } from "./gates/registry.ts";
export type { GateUnit } from "./gates/unit.ts";
export type { PositionsEvidence, PositionsCheck, PositionsRow } from "./gates/positions/evidence.ts";
export type { VisionEvidence, VisionTensor } from "./gates/vision/evidence.ts";
export type { LayersEvidence, LayerRow, FirstFailingLayer } from "./gates/layers/evidence.ts";
export type { SeededDecodeEvidence } from "./gates/seeded_decode/evidence.ts";
export type { TeacherForcedEvidence, TeacherForcedStep } from "./gates/teacher_forced/evidence.ts";
export type { GreedyEvidence } from "./gates/greedy/evidence.ts";
export { GateSpecSchema, type GateSpec } from "./spec/gate-spec.ts";
export { LadderSchema, THRESHOLDS_BY_KIND, OPTIONS_BY_KIND, type Ladder, type RungSpec } from "./spec/ladder.ts";
export { loadYamlFile, SpecError, isSpecError, type SpecIssue } from "./spec/yaml.ts";
export { loadJsonFile } from "./spec/json.ts";
export * from "./rope/index.ts";
export * from "./metrics/index.ts";
export { Tensor } from "./tensor/tensor.ts";
export { DTYPES, type DType } from "./tensor/dtype.ts";
export { readSafetensors, readSafetensorsSync, parseSafetensors, writeSafetensors, writeSafetensorsSync, type SafetensorsFile } from "./tensor/safetensors.ts";
export { Oracle, type OracleDump } from "./oracle/oracle.ts";
export { OracleManifestSchema, type OracleManifest } from "./oracle/manifest.ts";
export { loadCandidate, type Candidate } from "./candidate/candidate.ts";
export { CandidateManifestSchema, type CandidateManifest } from "./candidate/manifest.ts";
export type { Backend, BackendCapabilities, ModelShape, StateHandle, StateTensorSpec, StepInputs, StepOutputs, VisionOutputs } from "./backends/backend.ts";
export { BACKENDS, openBackend, type BackendFactory } from "./backends/registry.ts";
export { LAYOUTS, type OnnxLayout } from "./backends/onnx/layouts/index.ts";
export { OnnxRunner } from "./backends/onnx/runner.ts";
export type { Family } from "./models/family.ts";
export { FAMILY_NAMES, isFamilyName, loadFamily } from "./models/registry.ts";
export type { Capability, ModelSession, DecodeRun, HostPositions, PositionsSupport } from "./models/session.ts";
export { calibrateFromRun, writeCalibration } from "./calibrate/calibrate.ts";
export * from "./report/index.ts";
