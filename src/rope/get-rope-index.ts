/**
 * Exact port of transformers' `get_rope_index` (M-RoPE position ids) for the Qwen VL families.
 *
 * Reference: transformers 5.17 `Qwen3VLModel.get_rope_index` (also `Qwen3_5Model`),
 * `Qwen2VLModel.get_rope_index`, `Qwen2_5_VLModel.get_rope_index`; and, with
 * `convention: "transformers-4.57"`, the 4.57 versions of the same three methods.
 *
 * One pass per row over flat typed arrays, no per-token allocation.
 */
import { NumgateError } from "../errors/numgate-error.ts";

export type RopeFamily = "qwen3-vl" | "qwen2.5-vl" | "qwen2-vl";
export type RopeConvention = "transformers-5" | "transformers-4.57";

export const ROPE_FAMILIES: readonly RopeFamily[] = ["qwen3-vl", "qwen2.5-vl", "qwen2-vl"];
export const ROPE_CONVENTIONS: readonly RopeConvention[] = ["transformers-5", "transformers-4.57"];

/** Input of {@link getRopeIndex}. Matrices are flat and row-major: `[batchSize][seqLen]`, grids `[n][3]`. */
export interface RopeIndexInput {
  family: RopeFamily;
  /** Default "transformers-5" (5.x source, checked against 5.17). */
  convention?: RopeConvention;
  imageTokenId: number;
  videoTokenId: number;
  /** Only read by the 4.57 convention, which finds vision blocks from `<vision_start>` + pad ids. */
  visionStartTokenId: number;
  /** `vision_config.spatial_merge_size` (1 or 2 in practice). */
  spatialMergeSize: number;
  /** `vision_config.tokens_per_second`; required (a non-negative integer) for qwen2.5-vl, ignored otherwise. */
  tokensPerSecond?: number | null;
  batchSize: number;
  seqLen: number;
  inputIds: ArrayLike<number>;
  /** 0 text, 1 image, 2 video. When absent it is derived from the ids, exactly as the processor does. */
  mmTokenTypeIds?: ArrayLike<number> | null;
  /** 1 keep, 0 padding. */
  attentionMask?: ArrayLike<number> | null;
  imageGridThw?: ArrayLike<number> | null;
  videoGridThw?: ArrayLike<number> | null;
  /** qwen2.5-vl only: seconds per temporal grid step, one per video (read as float32, then truncated like `int()`). */
  secondPerGridTs?: ArrayLike<number> | null;
}

export interface RopeIndexResult {
  batchSize: number;
  seqLen: number;
  /** Position ids laid out `[3][batchSize][seqLen]` (planes T, H, W). */
  positionIds: Int32Array;
  /** `mrope_position_deltas`, one per row. */
  mropePositionDeltas: Int32Array;
  /** Unpadded (attention-mask = 1) token count per row. */
  unpaddedLengths: Int32Array;
  convention: RopeConvention;
}

const INT32_MAX = 2147483647;

function fail(message: string, field?: string): never {
  throw new NumgateError("positions_invalid", message, field === undefined ? {} : { field });
}

function where(row: number, token: number): string {
  return `batch row ${row}, token ${token}`;
}

function isInt(x: number): boolean {
  return Number.isInteger(x);
}

/** Copies into an Int32Array unless it already is one; checks integrality and range. */
function asInt32(name: string, a: ArrayLike<number>): Int32Array {
  if (a instanceof Int32Array) return a;
  const out = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (!isInt(v) || v < -2147483648 || v > INT32_MAX) fail(`${name}[${i}] = ${String(v)} is not a 32-bit integer`, name);
    out[i] = v;
  }
  return out;
}

function checkGrid(name: string, g: ArrayLike<number> | null | undefined): Int32Array | null {
  if (g === null || g === undefined) return null;
  if (g.length % 3 !== 0) fail(`${name} must have shape [n][3], got ${g.length} values`, name);
  const out = asInt32(name, g);
  for (let i = 0; i < out.length; i++) {
    if (out[i]! < 1) fail(`${name}[${Math.floor(i / 3)}][${i % 3}] = ${out[i]!} must be >= 1`, name);
  }
  return out;
}

/** Grid `i` of `grids` (`name`: image_grid_thw or video_grid_thw) as [t, h, w]; h and w must be divisible by `merge`. */
function gridAt(grids: Int32Array, name: string, i: number, merge: number, b: number, j: number): [number, number, number] {
  const t = grids[3 * i]!;
  const h = grids[3 * i + 1]!;
  const w = grids[3 * i + 2]!;
  if (h % merge !== 0 || w % merge !== 0) {
    fail(`${where(b, j)}: ${name}[${i}] = (${t}, ${h}, ${w}) is not divisible by spatial_merge_size ${merge}`, `${name}[${i}]`);
  }
  return [t, h, w];
}

/** A vision group (`type` 1 image, 2 video) that started at token `tok` of row `b` must end with as many tokens as its grid gives. */
function checkGroupLength(type: number, slots: number, count: number, b: number, tok: number): void {
  if (slots !== count) {
    fail(
      `${where(b, tok)}: ${type === 1 ? "image" : "video"} group has ${slots} tokens but its grid gives ${count} ` +
        `(grid t*h*w / merge^2)`,
      `input_ids[${b}][${tok}]`,
    );
  }
}

/**
 * transformers' `get_rope_index`, ported to the integer.
 *
 * - transformers-5 (5.17): vision groups are maximal runs of equal `mm_token_type_ids` (1 image, 2 video) over the
 *   unpadded tokens; grids are consumed in order across the whole batch; qwen3-vl splits each video into
 *   single-frame grids; text after a group resumes at `start + max(h, w) / merge`; padded slots are 0;
 *   delta = max + 1 - unpadded length.
 * - transformers-4.57: vision blocks are runs of image/video pad ids that follow `<vision_start>`; text after a
 *   block resumes at block max + 1; padded slots are 1; delta = max + 1 - padded length.
 *
 * Inputs transformers would crash on or silently mishandle throw `NumgateError("positions_invalid")` naming
 * the batch row and token index: more vision groups than grids, a grid not divisible by the merge size, a group
 * whose length differs from its grid, token types that disagree with the ids, shape mismatches.
 */
export function getRopeIndex(input: RopeIndexInput): RopeIndexResult {
  const convention: RopeConvention = input.convention ?? "transformers-5";
  if (!ROPE_CONVENTIONS.includes(convention)) fail(`unknown convention "${String(convention)}"`, "convention");
  const family = input.family;
  if (!ROPE_FAMILIES.includes(family)) fail(`unknown family "${String(family)}"`, "family");
  const B = input.batchSize;
  const S = input.seqLen;
  if (!isInt(B) || B < 1 || !isInt(S) || S < 1) fail(`input_ids must be [B][S] with B, S >= 1, got [${B}][${S}]`, "input_ids");
  const BS = B * S;
  if (input.inputIds.length !== BS) fail(`input_ids has ${input.inputIds.length} values, expected ${B}x${S}`, "input_ids");
  const ids = asInt32("input_ids", input.inputIds);
  let types: Int32Array | null = null;
  if (input.mmTokenTypeIds !== null && input.mmTokenTypeIds !== undefined) {
    if (input.mmTokenTypeIds.length !== BS)
      fail(`mm_token_type_ids has ${input.mmTokenTypeIds.length} values but input_ids is ${B}x${S}`, "mm_token_type_ids");
    types = asInt32("mm_token_type_ids", input.mmTokenTypeIds);
  }
  let mask: Int32Array | null = null;
  if (input.attentionMask !== null && input.attentionMask !== undefined) {
    if (input.attentionMask.length !== BS)
      fail(`attention_mask has ${input.attentionMask.length} values but input_ids is ${B}x${S}`, "attention_mask");
    mask = asInt32("attention_mask", input.attentionMask);
  }
  const merge = input.spatialMergeSize;
  if (!isInt(merge) || merge < 1) fail(`spatial_merge_size must be a positive integer, got ${String(merge)}`, "spatial_merge_size");
  const imageGrids = checkGrid("image_grid_thw", input.imageGridThw);
  const videoGrids = checkGrid("video_grid_thw", input.videoGridThw);
  let tps = 0;
  if (family === "qwen2.5-vl") {
    const t = input.tokensPerSecond;
    if (t === null || t === undefined || !isInt(t) || t < 0)
      fail(`tokens_per_second must be a non-negative integer for qwen2.5-vl, got ${String(t)}`, "tokens_per_second");
    tps = t;
  }
  let spgt: Float64Array | null = null;
  if (family === "qwen2.5-vl" && input.secondPerGridTs !== null && input.secondPerGridTs !== undefined) {
    const s = input.secondPerGridTs;
    spgt = new Float64Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      if (!Number.isFinite(v) || v < 0) fail(`second_per_grid_ts[${i}] = ${String(v)} must be finite and >= 0`, "second_per_grid_ts");
      // transformers holds it as a float32 tensor and applies int() (truncation toward zero).
      spgt[i] = Math.trunc(Math.fround(v));
    }
  }
  for (const [name, v] of [
    ["image_token_id", input.imageTokenId],
    ["video_token_id", input.videoTokenId],
    ["vision_start_token_id", input.visionStartTokenId],
  ] as const) {
    if (!isInt(v)) fail(`${name} must be an integer, got ${String(v)}`, name);
  }

  const positionIds = new Int32Array(3 * BS);
  const deltas = new Int32Array(B);
  const lengths = new Int32Array(B);
  const v5 = convention === "transformers-5";
  if (!v5) positionIds.fill(1);

  const imageTok = input.imageTokenId;
  const videoTok = input.videoTokenId;
  const startTok = input.visionStartTokenId;
  const nImage = imageGrids === null ? 0 : imageGrids.length / 3;
  const nVideo = videoGrids === null ? 0 : videoGrids.length / 3;
  const splitVideos = family === "qwen3-vl";
  // 4.57 with no grids at all takes the cumsum branch, whose max also sees the padded 1s.
  const legacyTextBranch = !v5 && imageGrids === null && videoGrids === null;

  // Global grid cursors (transformers iterates grids across the whole batch).
  let imageCursor = 0;
  let videoCursor = 0;
  let videoFrame = 0; // qwen3-vl: frame within the current video grid
  let videoGroups = 0; // qwen2.5-vl: second_per_grid_ts cursor

  const offH = BS;
  const offW = 2 * BS;

  for (let b = 0; b < B; b++) {
    const o = b * S;
    let k = 0; // unpadded index
    let curPos = 0;
    let rowMax = -1;
    let anyPad = false;
    let prevId = 0;
    let hasPrev = false;
    // current vision group
    let gType = 0; // 0 none/text, 1 image, 2 video
    let gTok = 0; // padded token index where the group started
    let gCount = 0;
    let gSlot = 0;
    let gH = 1;
    let gW = 1;
    let gInterval = 0;
    let gStart = 0;
    let wIdx = 0;
    let hIdx = 0;
    let tVal = 0;
    let gEndPos = 0; // curPos after the group

    for (let j = 0; j < S; j++) {
      const idx = o + j;
      if (mask !== null) {
        const m = mask[idx]!;
        if (m !== 1) {
          if (m !== 0) fail(`${where(b, j)}: attention_mask value ${m} is not 0 or 1`, `attention_mask[${b}][${j}]`);
          anyPad = true;
          continue;
        }
      }
      const id = ids[idx]!;
      const ty = id === imageTok ? 1 : id === videoTok ? 2 : 0;
      if (types !== null) {
        const given = types[idx]!;
        if (given !== ty) {
          fail(
            `${where(b, j)}: mm_token_type_ids is ${given} but input_ids is ${id} ` +
              `(image_token_id ${imageTok} -> 1, video_token_id ${videoTok} -> 2, anything else -> 0)`,
            `mm_token_type_ids[${b}][${j}]`,
          );
        }
      }
      if (ty !== gType && gType !== 0) {
        // close the running vision group
        checkGroupLength(gType, gSlot, gCount, b, gTok);
        curPos = gEndPos;
        gType = 0;
      }
      if (ty === 0) {
        positionIds[idx] = curPos;
        positionIds[offH + idx] = curPos;
        positionIds[offW + idx] = curPos;
        curPos++;
      } else {
        if (gType === 0) {
          // open a new vision group at this token
          if (!v5) {
            if (!hasPrev || prevId !== startTok) {
              fail(
                `${where(b, j)}: ${ty === 1 ? "image" : "video"} block does not follow vision_start_token_id ${startTok}; ` +
                  `the 4.57 convention finds vision blocks from <vision_start> + pad ids`,
                `input_ids[${b}][${j}]`,
              );
            }
          }
          let gt: number;
          let gh: number;
          let gw: number;
          let interval: number;
          if (ty === 1) {
            if (imageCursor >= nImage) {
              fail(
                `${where(b, j)}: image group #${imageCursor + 1} in the batch but image_grid_thw has ${nImage} grid(s)`,
                `input_ids[${b}][${j}]`,
              );
            }
            [gt, gh, gw] = gridAt(imageGrids!, "image_grid_thw", imageCursor, merge, b, j);
            imageCursor++;
            // qwen2.5-vl: 5.x spaces image frames by 1, 4.57 by second_per_grid_t = 0.
            interval = family === "qwen2.5-vl" && !v5 ? 0 : 1;
          } else {
            const vIndex = videoCursor;
            if (videoCursor >= nVideo) {
              fail(
                `${where(b, j)}: video group #${videoGroups + 1} in the batch but video_grid_thw has no grid left ` +
                  `(${nVideo} grid(s)${splitVideos ? ", split into single frames" : ""})`,
                `input_ids[${b}][${j}]`,
              );
            }
            [gt, gh, gw] = gridAt(videoGrids!, "video_grid_thw", vIndex, merge, b, j);
            if (splitVideos) {
              // repeat_interleave(video_grid_thw, t) with t set to 1
              const frames = gt;
              gt = 1;
              videoFrame++;
              if (videoFrame >= frames) {
                videoFrame = 0;
                videoCursor++;
              }
            } else {
              videoCursor++;
            }
            if (family === "qwen2.5-vl") {
              let s = 1;
              if (spgt !== null) {
                if (videoGroups >= spgt.length) {
                  fail(
                    `${where(b, j)}: video group #${videoGroups + 1} but second_per_grid_ts has ${spgt.length} value(s)`,
                    `second_per_grid_ts`,
                  );
                }
                s = spgt[videoGroups]!;
              }
              interval = tps * s;
            } else {
              interval = 1;
            }
            videoGroups++;
          }
          const lh = gh / merge;
          const lw = gw / merge;
          gType = ty;
          gTok = j;
          gCount = gt * lh * lw;
          gSlot = 0;
          gH = lh;
          gW = lw;
          gInterval = interval;
          gStart = curPos;
          wIdx = 0;
          hIdx = 0;
          tVal = curPos;
          const tMax = curPos + (gt - 1) * interval;
          const hwMax = curPos + Math.max(lh, lw) - 1;
          if (tMax > INT32_MAX || hwMax > INT32_MAX) {
            fail(`${where(b, j)}: position ids exceed the int32 range`, `input_ids[${b}][${j}]`);
          }
          const groupMax = Math.max(tMax, hwMax);
          if (groupMax > rowMax) rowMax = groupMax;
          gEndPos = v5 ? curPos + Math.max(lh, lw) : groupMax + 1;
          // Fast path: the whole group is one clean run (no padding hole, ids/types agree) -> fill it with
          // nested loops. Anything else falls through to the per-token path, which reports the exact error.
          const end = idx + gCount;
          if (gCount > 1 && j + gCount <= S) {
            let clean = true;
            for (let q = idx + 1; q < end; q++) {
              if (ids[q] !== id || (mask !== null && mask[q] !== 1) || (types !== null && types[q] !== ty)) {
                clean = false;
                break;
              }
            }
            if (clean) {
              let q = idx;
              let tv = curPos;
              for (let ti = 0; ti < gt; ti++) {
                for (let hi = 0; hi < lh; hi++) {
                  const hv = curPos + hi;
                  for (let wi = 0; wi < lw; wi++) {
                    positionIds[q] = tv;
                    positionIds[offH + q] = hv;
                    positionIds[offW + q] = curPos + wi;
                    q++;
                  }
                }
                tv += interval;
              }
              gSlot = gCount;
              j += gCount - 1;
              k += gCount - 1;
              prevId = id;
              hasPrev = true;
              k++;
              continue;
            }
          }
        } else if (gSlot === gCount) {
          fail(
            `${where(b, j)}: ${ty === 1 ? "image" : "video"} group starting at token ${gTok} is longer than its grid ` +
              `(${gCount} tokens)`,
            `input_ids[${b}][${j}]`,
          );
        }
        positionIds[idx] = tVal;
        positionIds[offH + idx] = gStart + hIdx;
        positionIds[offW + idx] = gStart + wIdx;
        gSlot++;
        wIdx++;
        if (wIdx === gW) {
          wIdx = 0;
          hIdx++;
          if (hIdx === gH) {
            hIdx = 0;
            tVal += gInterval;
          }
        }
      }
      prevId = id;
      hasPrev = true;
      k++;
    }
    if (gType !== 0) {
      checkGroupLength(gType, gSlot, gCount, b, gTok);
      curPos = gEndPos;
    }
    if (k === 0) fail(`batch row ${b}: attention_mask masks every token`, `attention_mask[${b}]`);
    if (!v5 && hasPrev && prevId === startTok && !legacyTextBranch) {
      // 4.57 indexes input_ids[vision_start + 1]: a trailing <vision_start> is out of range there.
      fail(`batch row ${b}: last unmasked token is vision_start_token_id ${startTok}`, `input_ids[${b}]`);
    }
    // Text positions rise monotonically, so the last text position is curPos - 1 before any later group.
    // Recompute the text max cheaply: every text token was < curPos at its write; rowMax already holds groups.
    const textMax = lastTextMax(positionIds, o, S, mask, ids, imageTok, videoTok);
    if (textMax > rowMax) rowMax = textMax;
    if (legacyTextBranch && anyPad && rowMax < 1) rowMax = 1;
    lengths[b] = k;
    deltas[b] = rowMax + 1 - (v5 ? k : S);
  }
  return { batchSize: B, seqLen: S, positionIds, mropePositionDeltas: deltas, unpaddedLengths: lengths, convention };
}

/** Position of the last unmasked text token of a row (text positions only grow), or -1. */
function lastTextMax(
  pos: Int32Array,
  o: number,
  S: number,
  mask: Int32Array | null,
  ids: Int32Array,
  imageTok: number,
  videoTok: number,
): number {
  for (let j = S - 1; j >= 0; j--) {
    const idx = o + j;
    if (mask !== null && mask[idx] !== 1) continue;
    const id = ids[idx]!;
    if (id !== imageTok && id !== videoTok) return pos[idx]!;
  }
  return -1;
}

/**
 * The position transformers uses for the token generated at decode step `step` (0 = first generated token) of
 * row `row`: `max + 1 + step` on all three planes, for both conventions (5.x: mask cumsum + delta; 4.57:
 * cache_position + delta).
 */
export function decodePosition(result: RopeIndexResult, row: number, step: number): number {
  const d = result.mropePositionDeltas[row];
  const n = result.unpaddedLengths[row];
  if (d === undefined || n === undefined) fail(`batch row ${row} is out of range (batch size ${result.batchSize})`);
  const base = result.convention === "transformers-5" ? n : result.seqLen;
  return base + step + d;
}
