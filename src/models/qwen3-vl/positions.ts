/**
 * Qwen3-VL positions: M-RoPE over planes T, H, W. numgate's port of get_rope_index over a dump,
 * the positions the candidate's host gives (get_rope_index, or the engines' in-graph formula with a
 * host-set shift), and the interleaved section layout the rotary tables must follow.
 */
import type { OracleDump } from "../../oracle/oracle.ts";
import { engineDecodePosition, enginePrefillPositions, hostShiftFor, type HostShift } from "../../rope/engine-formula.ts";
import { mropePositions } from "../mrope-positions.ts";
import type { HostPositions, PositionsSupport } from "../session.ts";
import type { Qwen3VLOracleManifest, Qwen3VLRuntime } from "./manifest.ts";
import { portPositions, ropeIndexHostPositions } from "./rope-index.ts";

export function hostPositions(m: Qwen3VLOracleManifest, dump: OracleDump, rt: Qwen3VLRuntime): HostPositions {
  const ids = dump.get("inputs.input_ids").toNumbers();
  const merge = m.vision.spatial_merge_size;
  const gridT = dump.has("inputs.image_grid_thw") ? dump.get("inputs.image_grid_thw").toNumbers() : null;
  const cacheIndexDecode = (c: number): number[] => [c, c, c];
  if (rt.positions === "engine-formula") {
    const cfg = { imageTokenId: m.tokens.image_token_id, visionStartTokenId: m.tokens.vision_start_token_id, videoTokenId: m.tokens.video_token_id };
    const images = gridT === null ? 0 : gridT.length / 3;
    const grid = gridT === null || images !== 1 ? null : { t: gridT[0] ?? 1, h: (gridT[1] ?? 0) / merge, w: (gridT[2] ?? 0) / merge };
    const hs = hostShiftFor(ids, grid, cfg);
    const notExpressible = (reason: string): HostPositions => ({ source: rt.positions, expressible: false, reason, positions: new Int32Array(3 * ids.length), decodeAt: cacheIndexDecode });
    if (!hs.expressible) return notExpressible(hs.reason);
    // The host sets a shift only after an image; a text-only prompt has none to get wrong.
    const shift: HostShift = grid === null ? hs.shift : { ...hs.shift, amount: hs.shift.amount + rt.text_shift_bias };
    const pre = enginePrefillPositions(ids, grid, shift, cfg);
    if (!pre.expressible) return notExpressible(pre.reason);
    const decodeAt = (c: number): number[] => {
      if (rt.decode_positions === "cache-index") return cacheIndexDecode(c);
      const p = engineDecodePosition(c, shift);
      return [p.t, p.h, p.w];
    };
    return { source: rt.positions, expressible: true, positions: pre.positions, decodeAt };
  }
  // text_shift_bias models a host-set engine parameter; a host that calls get_rope_index has none.
  return ropeIndexHostPositions(m, dump, rt.positions, rt.decode_positions);
}

export function qwen3vlPositions(m: Qwen3VLOracleManifest, rt: Qwen3VLRuntime, dumpOf: (prompt: string) => OracleDump): PositionsSupport {
  return mropePositions(
    { ...m.text, width: m.text.head_dim },
    (dump) => portPositions(m, dump),
    (prompt) => hostPositions(m, dumpOf(prompt), rt),
  );
}
