/**
 * transformers' get_rope_index (numgate's port) applied to the inputs stored in an oracle dump: as
 * numgate's port of a prompt's or a batch's positions, and as the positions a host that calls
 * get_rope_index gives a prompt.
 */
import type { OracleDump } from "../../oracle/oracle.ts";
import { decodePosition, getRopeIndex, type RopeIndexResult } from "../../rope/get-rope-index.ts";
import type { HostPositions, PortedPositions } from "../session.ts";

/** What get_rope_index needs of a manifest; Qwen3.5 shares Qwen3-VL's get_rope_index, and so this. */
export interface RopeIndexManifest {
  tokens: { image_token_id: number; video_token_id: number; vision_start_token_id: number };
  vision: { spatial_merge_size: number };
}

export function ropeIndexOfDump(manifest: RopeIndexManifest, dump: OracleDump): RopeIndexResult {
  const ids = dump.get("inputs.input_ids");
  return getRopeIndex({
    family: "qwen3-vl",
    imageTokenId: manifest.tokens.image_token_id,
    videoTokenId: manifest.tokens.video_token_id,
    visionStartTokenId: manifest.tokens.vision_start_token_id,
    spatialMergeSize: manifest.vision.spatial_merge_size,
    batchSize: ids.shape[0] ?? 1,
    seqLen: ids.shape[1] ?? 0,
    inputIds: ids.toNumbers(),
    mmTokenTypeIds: dump.get("inputs.mm_token_type_ids").toNumbers(),
    attentionMask: dump.has("inputs.attention_mask") ? dump.get("inputs.attention_mask").toNumbers() : null,
    imageGridThw: dump.has("inputs.image_grid_thw") ? dump.get("inputs.image_grid_thw").toNumbers() : null,
  });
}

export function portPositions(m: RopeIndexManifest, dump: OracleDump): PortedPositions {
  const r = ropeIndexOfDump(m, dump);
  return {
    batch: r.batchSize,
    seqLen: r.seqLen,
    positionIds: r.positionIds,
    deltas: [...r.mropePositionDeltas],
    decodeAt: (row, step) => {
      const p = decodePosition(r, row, step);
      return [p, p, p];
    },
  };
}

/**
 * The positions of a host that calls get_rope_index for a prompt's prefill; at decode it adds the
 * prompt's rope delta to the cache index (correct), or feeds the bare cache index.
 */
export function ropeIndexHostPositions(m: RopeIndexManifest, dump: OracleDump, source: string, decode: "rope-delta" | "cache-index"): HostPositions {
  const r = ropeIndexOfDump(m, dump);
  const delta = r.mropePositionDeltas[0] ?? 0;
  const decodeAt = (c: number): number[] => (decode === "cache-index" ? [c, c, c] : [c + delta, c + delta, c + delta]);
  return { source, expressible: true, positions: r.positionIds, decodeAt };
}
