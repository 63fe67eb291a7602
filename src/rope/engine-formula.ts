/**
 * The in-graph M-RoPE formula of on-device engine ports (e.g. the Core AI ports), as a position source.
 *
 * Such engines see only (token id, cache index) in the graph:
 * - image-pad ids are rewritten by the host to `vocab + slot`, so an image token knows its slot (index within the
 *   image's run); its image starts at `start = cacheIndex - slot`, and it takes
 *   `t = start, h = start + floor(slot / W), w = start + slot % W` (W, H: merged grid);
 * - every other token takes `cacheIndex` on all three planes, except that from the host-set `shift.start`
 *   (the cache index of the first token after the image) on, text runs behind the cache index by
 *   `shift.amount` (= n_image_tokens - max(H, W)). Decode steps use the same text rule.
 *
 * The formula can express one single-frame image per unpadded row; two or more images, any video, padding or a
 * multi-frame image grid are outside it, and the functions here say so with `{ expressible: false, reason }`.
 */
import { NumgateError } from "../errors/numgate-error.ts";

/** Grid after the spatial merge: (t, h/merge, w/merge). */
export interface MergedGrid {
  t: number;
  h: number;
  w: number;
}

/** The two host-set shift parameters. */
export interface HostShift {
  /** How far text after the image runs behind the cache index. */
  amount: number;
  /** Cache index from which the shift applies (the first token after the image). */
  start: number;
}

export interface EngineFormulaConfig {
  imageTokenId: number;
  visionStartTokenId: number;
  /** When given, any video pad token makes the prompt inexpressible. */
  videoTokenId?: number;
}

export interface NotExpressible {
  expressible: false;
  reason: string;
}

export interface EnginePositions {
  expressible: true;
  /** `[3][S]` planes T, H, W. */
  positions: Int32Array;
  seqLen: number;
}

export type EnginePrefillResult = EnginePositions | NotExpressible;
export type HostShiftResult = { expressible: true; shift: HostShift } | NotExpressible;

interface ImageRun {
  first: number;
  count: number;
}

/** Finds the single image run, or says why the row is outside the formula. */
function scanRow(
  inputIds: ArrayLike<number>,
  config: EngineFormulaConfig,
  grid: MergedGrid | null,
  attentionMask: ArrayLike<number> | null | undefined,
): ImageRun | null | NotExpressible {
  const S = inputIds.length;
  if (attentionMask !== null && attentionMask !== undefined) {
    if (attentionMask.length !== S)
      throw new NumgateError("positions_invalid", `attention_mask has ${attentionMask.length} values, input_ids ${S}`, {
        field: "attention_mask",
      });
    for (let j = 0; j < S; j++) {
      if (attentionMask[j] !== 1)
        return { expressible: false, reason: `token ${j} is padding: the engine formula takes unpadded rows only` };
    }
  }
  const img = config.imageTokenId;
  const vid = config.videoTokenId;
  let run: ImageRun | null = null;
  let runs = 0;
  let visionStartsBeforeImage = 0;
  for (let j = 0; j < S; j++) {
    const id = inputIds[j]!;
    if (vid !== undefined && id === vid)
      return { expressible: false, reason: `token ${j} is a video token: the engine formula cannot express video` };
    if (id === config.visionStartTokenId && j + 1 < S && inputIds[j + 1] === img) visionStartsBeforeImage++;
    if (id === img) {
      if (j === 0 || inputIds[j - 1] !== img) {
        runs++;
        if (runs > 1)
          return {
            expressible: false,
            reason: `token ${j} starts a second image: the engine formula expresses at most one image per prompt`,
          };
        run = { first: j, count: 0 };
      }
      run!.count++;
    }
  }
  if (visionStartsBeforeImage > 1)
    return { expressible: false, reason: `${visionStartsBeforeImage} images: the engine formula expresses at most one` };
  if (run !== null) {
    if (grid === null) return { expressible: false, reason: `token ${run.first} starts an image but no grid was given` };
    if (grid.t !== 1)
      return { expressible: false, reason: `image grid has t = ${grid.t}: the engine formula takes single-frame images only` };
    if (grid.t * grid.h * grid.w !== run.count)
      return {
        expressible: false,
        reason: `image at token ${run.first} has ${run.count} tokens but the merged grid (${grid.t}, ${grid.h}, ${grid.w}) gives ${grid.t * grid.h * grid.w}`,
      };
  }
  return run;
}

/**
 * The shift a correct host sets: `amount = n_image_tokens - max(H, W)`, `start` = cache index after the image.
 * A text-only row gets `{ amount: 0, start: 0 }`.
 */
export function hostShiftFor(
  inputIds: ArrayLike<number>,
  grid: MergedGrid | null,
  config: EngineFormulaConfig,
  attentionMask?: ArrayLike<number> | null,
): HostShiftResult {
  const run = scanRow(inputIds, config, grid, attentionMask);
  if (run !== null && "expressible" in run) return run;
  if (run === null || grid === null) return { expressible: true, shift: { amount: 0, start: 0 } };
  return { expressible: true, shift: { amount: run.count - Math.max(grid.h, grid.w), start: run.first + run.count } };
}

/** Positions the engine formula gives every prefill token of one unpadded row, laid out `[3][S]`. */
export function enginePrefillPositions(
  inputIds: ArrayLike<number>,
  grid: MergedGrid | null,
  shift: HostShift,
  config: EngineFormulaConfig,
  attentionMask?: ArrayLike<number> | null,
): EnginePrefillResult {
  const run = scanRow(inputIds, config, grid, attentionMask);
  if (run !== null && "expressible" in run) return run;
  const S = inputIds.length;
  const out = new Int32Array(3 * S);
  const img = config.imageTokenId;
  const W = grid === null ? 1 : grid.w;
  let slot = 0;
  for (let p = 0; p < S; p++) {
    let t: number;
    let h: number;
    let w: number;
    if (inputIds[p] === img) {
      // slot comes from the host's vocab + slot rewrite: index within the image's run
      const start = p - slot;
      t = start;
      h = start + Math.floor(slot / W);
      w = start + (slot % W);
      slot++;
    } else {
      slot = 0;
      t = h = w = engineTextPosition(p, shift);
    }
    out[p] = t;
    out[S + p] = h;
    out[2 * S + p] = w;
  }
  return { expressible: true, positions: out, seqLen: S };
}

function engineTextPosition(cacheIndex: number, shift: HostShift): number {
  return cacheIndex >= shift.start ? cacheIndex - shift.amount : cacheIndex;
}

/** Position (same on T, H, W) the engine formula gives the token decoded at `cacheIndex`. */
export function engineDecodePosition(cacheIndex: number, shift: HostShift): { t: number; h: number; w: number } {
  const p = engineTextPosition(cacheIndex, shift);
  return { t: p, h: p, w: p };
}

export interface PositionMismatch {
  /** Token index within the row. */
  token: number;
  plane: "T" | "H" | "W";
  expected: number;
  actual: number;
}

/**
 * First token (then plane) where two `[3][S]` position rows differ, or null. `expectedRow` may be a row view of a
 * `[3][B][S]` getRopeIndex result: pass `expected` = result.positionIds, `expectedStride` = B * S and
 * `expectedOffset` = row * S.
 */
export function firstPositionMismatch(
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
  seqLen: number,
  expectedStride: number = seqLen,
  expectedOffset = 0,
): PositionMismatch | null {
  const planes = ["T", "H", "W"] as const;
  for (let j = 0; j < seqLen; j++) {
    for (let c = 0; c < 3; c++) {
      const e = expected[c * expectedStride + expectedOffset + j]!;
      const a = actual[c * seqLen + j]!;
      if (e !== a) return { token: j, plane: planes[c]!, expected: e, actual: a };
    }
  }
  return null;
}
