/** transformers' get_rope_index (numgate's port) applied to the inputs stored in an oracle dump. */
import type { OracleDump } from "../../oracle/oracle.ts";
import { getRopeIndex, type RopeIndexResult } from "../../rope/index.ts";

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
