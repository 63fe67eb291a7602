/**
 * A model family as a plug-in: everything family-specific about reading an oracle, reading a
 * candidate and driving a prompt through it. Registered by name in ./registry.ts, keyed by the
 * gate spec's (and the oracle manifest's) `family`.
 */
import type { z } from "zod/mini";
import type { Backend, ModelShape } from "../backends/backend.ts";
import type { OracleManifest } from "../oracle/manifest.ts";
import type { RecordEstimate } from "../oracle/record-estimate.ts";
import type { Oracle } from "../oracle/oracle.ts";
import type { ModelSession } from "./session.ts";

export interface Family<M extends OracleManifest = OracleManifest, C = unknown> {
  readonly name: string;
  /** The whole oracle manifest: the shared part extended with the family's model description. */
  readonly oracleSchema: z.ZodMiniType<M>;
  /** The family's part of a candidate manifest (validated on top of the shared part). */
  readonly candidateSchema: z.ZodMiniType<C>;
  /** The decoder as a runtime needs to know it: state tensors per layer, extra inputs. */
  shape(manifest: M): ModelShape;
  openSession(backend: Backend, oracle: Oracle<M>, candidate: C): ModelSession;
  /** Disk, RAM and time of recording this model's oracle, from its recorder config (`file` names it in errors). */
  estimate?(config: unknown, file: string): RecordEstimate;
}
