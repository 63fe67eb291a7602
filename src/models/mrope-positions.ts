/**
 * A session's PositionsSupport for a decoder with multimodal rotary positions over planes T, H and
 * W: the family gives its port and its host's positions, this adds the rotary layout the graph's
 * tables must follow and reads the host's positions once per prompt (a run asks for them at every
 * rung that feeds the decoder).
 */
import type { OracleDump } from "../oracle/oracle.ts";
import { mropeFrequencyPlanes, ropeInvFreq } from "../rope/mrope-sections.ts";
import type { HostPositions, PortedPositions, PositionsSupport } from "./session.ts";

const PLANE_INDEX = { T: 0, H: 1, W: 2 } as const;

export interface MropeRotary {
  rope_theta: number;
  mrope_section: readonly number[];
  mrope_interleaved: boolean;
  /** Dims of a head that are rotated: the width of the graph's cos/sin tables. */
  width: number;
  /** Said after the section layout in messages where less than a whole head is rotated. */
  widthNote?: string;
}

export function mropePositions(rotary: MropeRotary, port: (dump: OracleDump) => PortedPositions, host: (prompt: string) => HostPositions): PositionsSupport {
  const style = rotary.mrope_interleaved ? "interleaved" : "chunked";
  const memo = new Map<string, HostPositions>();
  return {
    planes: ["t", "h", "w"],
    port,
    host: (prompt) => {
      let p = memo.get(prompt);
      if (p === undefined) {
        p = host(prompt);
        memo.set(prompt, p);
      }
      return p;
    },
    rotary: {
      width: rotary.width,
      planeOfFrequency: mropeFrequencyPlanes(rotary.mrope_section, rotary.width, style).map((p) => PLANE_INDEX[p]),
      invFreq: [...ropeInvFreq(rotary.rope_theta, rotary.width)],
      description: `${style} sections ${JSON.stringify(rotary.mrope_section)}${rotary.widthNote ?? ""}`,
    },
  };
}
