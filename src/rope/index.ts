/**
 * M-RoPE positions for the Qwen VL families, exact against transformers.
 *
 * - {@link getRopeIndex}: transformers' `get_rope_index` (qwen3-vl / Qwen3.5, qwen2.5-vl, qwen2-vl), 5.x or 4.57
 *   conventions, on flat typed arrays; `[3][B][S]` position ids plus one delta per row.
 * - {@link decodePosition}: the position transformers gives decode step `step` of a row.
 * - {@link mropeFrequencyPlanes}, {@link ropeInvFreq}, {@link expectedRopeAngles}: which rotary frequency takes
 *   T, H or W (interleaved or chunked sections) and the angles a cos/sin table should hold.
 * - {@link enginePrefillPositions}, {@link engineDecodePosition}, {@link hostShiftFor}: the in-graph formula of
 *   on-device ports (one image, host-set shift), saying plainly when a prompt is outside it.
 * - {@link runPositionsFile}: the `numgate positions --in --out` JSON interface.
 */
export {
  getRopeIndex,
  decodePosition,
  ROPE_FAMILIES,
  ROPE_CONVENTIONS,
  type RopeFamily,
  type RopeConvention,
  type RopeIndexInput,
  type RopeIndexResult,
} from "./get-rope-index.ts";
export {
  mropeFrequencyPlanes,
  ropeInvFreq,
  expectedRopeAngles,
  type RopePlane,
  type MropeStyle,
  type TokenPositions3,
  type SequencePositions3,
} from "./mrope-sections.ts";
export {
  enginePrefillPositions,
  engineDecodePosition,
  hostShiftFor,
  firstPositionMismatch,
  type MergedGrid,
  type HostShift,
  type EngineFormulaConfig,
  type EnginePrefillResult,
  type EnginePositions,
  type NotExpressible,
  type HostShiftResult,
  type PositionMismatch,
} from "./engine-formula.ts";
export {
  runPositionsFile,
  parsePositionsFile,
  computePositionsFile,
  computePositionsCase,
  resultToJson,
  PositionsFileSchema,
  PositionsCaseSchema,
  type PositionsFile,
  type PositionsCase,
  type PositionsCaseResult,
} from "./positions-file.ts";
