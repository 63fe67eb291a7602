/**
 * Qwen3.5 positions: the same M-RoPE over planes T, H, W and the same get_rope_index as Qwen3-VL
 * (transformers 5.17's two functions are identical), so numgate's port runs with the qwen3-vl
 * algorithm. What differs is the rotary: only the first `rotary_dim` (a quarter) of each head is
 * rotated, so the graph's tables are `rotary_dim` wide and the sections cover rotary_dim / 2
 * frequencies.
 */
import type { OracleDump } from "../../oracle/oracle.ts";
import { mropeFrequencyPlanes, ropeInvFreq } from "../../rope/index.ts";
import { portPositions } from "../qwen3-vl/positions.ts";
import { ropeIndexOfDump } from "../qwen3-vl/rope-index.ts";
import type { HostPositions, PositionsSupport } from "../session.ts";
import type { Qwen35OracleManifest, Qwen35Runtime } from "./manifest.ts";

const PLANE_INDEX = { T: 0, H: 1, W: 2 } as const;

export function qwen35Positions(m: Qwen35OracleManifest, rt: Qwen35Runtime, dumpOf: (prompt: string) => OracleDump): PositionsSupport {
  const t = m.text;
  const style = t.mrope_interleaved ? "interleaved" : "chunked";
  const memo = new Map<string, HostPositions>();
  const host = (prompt: string): HostPositions => {
    const r = ropeIndexOfDump(m, dumpOf(prompt));
    const delta = r.mropePositionDeltas[0] ?? 0;
    const decodeAt = (c: number): number[] => (rt.decode_positions === "cache-index" ? [c, c, c] : [c + delta, c + delta, c + delta]);
    return { source: rt.positions, expressible: true, positions: r.positionIds, decodeAt };
  };
  return {
    planes: ["t", "h", "w"],
    port: (dump) => portPositions(m, dump),
    host: (prompt) => {
      let p = memo.get(prompt);
      if (p === undefined) {
        p = host(prompt);
        memo.set(prompt, p);
      }
      return p;
    },
    rotary: {
      width: t.rotary_dim,
      planeOfFrequency: mropeFrequencyPlanes(t.mrope_section, t.rotary_dim, style).map((p) => PLANE_INDEX[p]),
      invFreq: [...ropeInvFreq(t.rope_theta, t.rotary_dim)],
      description: `${style} sections ${JSON.stringify(t.mrope_section)} over the first ${t.rotary_dim} of ${t.head_dim} head dims`,
    },
  };
}
