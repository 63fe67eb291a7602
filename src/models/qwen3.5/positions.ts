/**
 * Qwen3.5 positions: the same M-RoPE over planes T, H, W and the same get_rope_index as Qwen3-VL
 * (transformers 5.17's two functions are identical), so numgate's port runs with the qwen3-vl
 * algorithm. What differs is the rotary: only the first `rotary_dim` (a quarter) of each head is
 * rotated, so the graph's tables are `rotary_dim` wide and the sections cover rotary_dim / 2
 * frequencies.
 */
import type { OracleDump } from "../../oracle/oracle.ts";
import { mropePositions } from "../mrope-positions.ts";
import { portPositions, ropeIndexHostPositions } from "../qwen3-vl/rope-index.ts";
import type { PositionsSupport } from "../session.ts";
import type { Qwen35OracleManifest, Qwen35Runtime } from "./manifest.ts";

export function qwen35Positions(m: Qwen35OracleManifest, rt: Qwen35Runtime, dumpOf: (prompt: string) => OracleDump): PositionsSupport {
  const t = m.text;
  return mropePositions(
    { ...t, width: t.rotary_dim, widthNote: ` over the first ${t.rotary_dim} of ${t.head_dim} head dims` },
    (dump) => portPositions(m, dump),
    (prompt) => ropeIndexHostPositions(m, dumpOf(prompt), rt.positions, rt.decode_positions),
  );
}
