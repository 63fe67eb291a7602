/**
 * Every gate kind numgate knows, in one table: kind -> unit (src/gates/<kind>/unit.ts). A new kind
 * is a new folder and one line here; the spec loader, the ladder runner, report.json's schema and
 * every rendering, diff and calibration find it through this table.
 */
import { z } from "../schema/zod.ts";
import { ErrorEvidenceSchema, type ErrorEvidence } from "../verdicts/prompt-result.ts";
import type { Rung, Run } from "../verdicts/rung.ts";
import { engineVsReferenceUnit } from "./engine_vs_reference/unit.ts";
import { greedyUnit } from "./greedy/unit.ts";
import { layersUnit } from "./layers/unit.ts";
import { positionsUnit } from "./positions/unit.ts";
import { repeatUnit } from "./repeat/unit.ts";
import { seededDecodeUnit } from "./seeded_decode/unit.ts";
import { teacherForcedUnit } from "./teacher_forced/unit.ts";
import type { GateUnit } from "./unit.ts";
import { visionUnit } from "./vision/unit.ts";

/** In the order report.json's schema lists them. */
export const GATE_UNITS = {
  positions: positionsUnit,
  vision: visionUnit,
  layers: layersUnit,
  seeded_decode: seededDecodeUnit,
  teacher_forced: teacherForcedUnit,
  greedy: greedyUnit,
  engine_vs_reference: engineVsReferenceUnit,
  repeat: repeatUnit,
} as const;

export type GateKind = keyof typeof GATE_UNITS;
export const GATE_KINDS = Object.keys(GATE_UNITS) as [GateKind, ...GateKind[]];
export const GateKindSchema = z.enum(GATE_KINDS);

type EvidenceOf<U> = U extends GateUnit<infer E> ? E : never;
/** The evidence of any registered kind. */
export type GateEvidence = { [K in GateKind]: EvidenceOf<(typeof GATE_UNITS)[K]> }[GateKind];
/** What a prompt result may carry: a kind's evidence, or an error naming the tensor. */
export type Evidence = GateEvidence | ErrorEvidence;
export type EvidenceKind = Evidence["kind"];

/** Every kind's evidence schema, then the error evidence, discriminated on `kind`. */
export const EvidenceSchema = z.discriminatedUnion("kind", [
  ...Object.values(GATE_UNITS).map((u) => u.evidence as unknown as z.ZodMiniObject),
  ErrorEvidenceSchema,
] as unknown as [z.ZodMiniObject, ...z.ZodMiniObject[]]) as unknown as z.ZodMiniType<Evidence>;

/** A rung result / run of this registry's kinds. */
export type GateRung = Rung<GateKind, Evidence>;
export type GateRun = Run<GateKind, Evidence>;

export function isGateKind(kind: string): kind is GateKind {
  return Object.hasOwn(GATE_UNITS, kind);
}

/** The unit of `kind`, typed for evidence of any kind (callers pass evidence of that kind). */
export function gateUnit(kind: GateKind): GateUnit<GateEvidence> {
  return GATE_UNITS[kind] as GateUnit<GateEvidence>;
}
