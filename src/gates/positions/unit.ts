/** The positions gate kind: M-RoPE positions, integer-exact (see gate.ts). */
import { pairBy } from "../../render/pair.ts";
import type { GateUnit } from "../unit.ts";
import { PositionsEvidenceSchema, type PositionsEvidence } from "./evidence.ts";
import { positionsGate } from "./gate.ts";
import { positionsRendering } from "./render.ts";
import { PositionsOptionsSchema, PositionsThresholdsSchema } from "./settings.ts";

export const positionsUnit: GateUnit<PositionsEvidence> = {
  kind: "positions",
  thresholds: PositionsThresholdsSchema,
  options: PositionsOptionsSchema,
  impossible: () => [],
  evidence: PositionsEvidenceSchema,
  gate: positionsGate,
  // The rope-tables check runs only where the backend exposes its tables; nothing else is needed.
  requires: ["positions"],
  reads: ["rope_tables"],
  render: positionsRendering,
  diff: {
    compare(rec, base, head) {
      for (const p of pairBy(base?.checks ?? [], head?.checks ?? [], (c) => c.name)) {
        const scope = `check ${p.key.split("\u0000")[0] ?? p.key}`;
        rec.metric(scope, "mismatches", p.base?.mismatches, p.head?.mismatches);
        rec.metric(scope, "compared", p.base?.compared, p.head?.compared);
      }
    },
  },
  calibrate: { none: "positions are integer-exact: there is no threshold to calibrate" },
  tokenIds: (ev) => ev.checks.flatMap((c) => c.rows.map((r) => r.token_id).filter((id) => id >= 0)),
};
