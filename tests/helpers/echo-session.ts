/**
 * A ModelSession with no runtime at all: the "candidate" is the recorded oracle itself (its
 * hidden states, vision outputs, logits and tokens echoed back), so every gate should pass it,
 * and a test can break exactly one thing (a layer, a step, a capability) to see the gate and the
 * ladder react. Positions come from the Qwen3-VL family's own support over the real tiny oracle.
 */
import { join } from "node:path";
import { NumgateError } from "../../src/errors/numgate-error.ts";
import { argmax } from "../../src/metrics/index.ts";
import { qwen3vl } from "../../src/models/qwen3-vl/family.ts";
import { Qwen3VLRuntimeSchema, type Qwen3VLOracleManifest } from "../../src/models/qwen3-vl/manifest.ts";
import { qwen3vlPositions } from "../../src/models/qwen3-vl/positions.ts";
import type { Capability, DecodeRun, ModelSession, PositionsSupport, SeededStep, VisionFeature } from "../../src/models/session.ts";
import { Oracle, type OracleDump } from "../../src/oracle/oracle.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import { ROOT } from "./gate-runs.ts";

export const tinyOracle = (): Oracle<Qwen3VLOracleManifest> => Oracle.open(join(ROOT, "oracles/qwen3-vl-tiny"), qwen3vl.oracleSchema);

export interface EchoBreaks {
  /** Scale the echoed hidden state of this layer (every prompt), so the layers rung fails there. */
  layer?: { index: number; scale: number };
  /** Replace the candidate's top-1 at this teacher-forced / greedy step with the runner-up. */
  flipStep?: number;
  /** Capabilities the session lacks, with their reasons. */
  missing?: Partial<Record<Capability, string>>;
  /** Make every call for this prompt throw (a crashed runtime). */
  crashOn?: string;
}

function runnerUp(row: Float32Array): number {
  const top = argmax(row);
  let best = -1;
  for (let i = 0; i < row.length; i++) if (i !== top && (best < 0 || (row[i] ?? -Infinity) > (row[best] ?? -Infinity))) best = i;
  return best;
}

export class EchoSession implements ModelSession {
  readonly family = "qwen3-vl";
  readonly layers: number;
  readonly hidden: number;
  readonly missing: Partial<Record<Capability, string>>;
  readonly inferenceSeconds = 0;
  readonly positions: PositionsSupport;

  constructor(
    readonly oracle: Oracle<Qwen3VLOracleManifest>,
    private readonly breaks: EchoBreaks = {},
  ) {
    this.layers = oracle.manifest.text.num_layers;
    this.hidden = oracle.manifest.text.hidden_size;
    this.missing = breaks.missing ?? { rope_tables: "the echo has no graph", isolated_layers: "the echo has no graph" };
    this.positions = qwen3vlPositions(oracle.manifest, Qwen3VLRuntimeSchema.parse({}), (p) => this.prompt(p).dump);
  }

  get manifest(): Qwen3VLOracleManifest {
    return this.oracle.manifest;
  }

  prompt(name: string): { meta: Qwen3VLOracleManifest["prompts"][number]; dump: OracleDump } {
    if (this.breaks.crashOn === name) throw new NumgateError("backend_failed", `echo session crashed on ${name}`);
    const meta = this.oracle.prompts.find((p) => p.name === name);
    if (meta === undefined) throw new Error(`no prompt ${name}`);
    return { meta, dump: this.oracle.dump(name) };
  }

  tokenName(id: number): string {
    return this.oracle.tokenName(id);
  }

  async ropeTables(): Promise<undefined> {
    return undefined;
  }

  async vision(name: string): Promise<VisionFeature[] | null> {
    const { dump } = this.prompt(name);
    if (!dump.has("vision.embeds")) return null;
    const keys = ["vision.embeds", ...Array.from({ length: this.manifest.text.deepstack_levels }, (_, k) => `vision.deepstack.${k}`)];
    return keys.map((k, i) => ({ label: i === 0 ? "embeds" : `deepstack.${i - 1}`, oracleKey: k, tensor: dump.get(k) }));
  }

  async layerOutputs(name: string): Promise<Tensor> {
    const { dump, meta } = this.prompt(name);
    const S = meta.sequence_length;
    const H = this.hidden;
    const out = new Float32Array(this.layers * S * H);
    for (let i = 0; i < this.layers; i++) {
      const h = Float32Array.from(dump.get(`decoder.hidden.${i}`).toFloat32());
      if (this.breaks.layer?.index === i) for (let j = 0; j < h.length; j += 3) h[j] = (h[j] ?? 0) * this.breaks.layer.scale;
      out.set(h, i * S * H);
    }
    return Tensor.from("f32", [this.layers, 1, S, H], out);
  }

  async isolatedLayer(): Promise<Float32Array> {
    throw new NumgateError("candidate_invalid", "the echo cannot isolate a layer");
  }

  async seededStep(name: string): Promise<SeededStep> {
    const { dump, meta } = this.prompt(name);
    const logits = dump.get("greedy.logits");
    const V = logits.shape[1] ?? 0;
    return {
      logits: logits.toFloat32().slice(V, 2 * V),
      fedToken: dump.get("greedy.tokens").toNumbers()[0] ?? 0,
      position: (await this.positions.host(name)).decodeAt(meta.sequence_length),
      cacheLength: meta.sequence_length,
    };
  }

  private echo(dump: OracleDump, logitsKey: string, steps: number, tokens: number[]): DecodeRun {
    const all = dump.get(logitsKey);
    const V = all.shape[1] ?? 0;
    const rows = all.shape[0] ?? 0;
    const logits: Float32Array[] = [];
    for (let i = 0; i < steps; i++) {
      // Past the recorded logit rows, a one-hot row on the oracle's own token keeps the echo exact.
      const row = i < rows ? Float32Array.from(all.toFloat32().subarray(i * V, (i + 1) * V)) : Object.assign(new Float32Array(V), { [tokens[i] ?? 0]: 1 });
      if (this.breaks.flipStep === i) {
        const r = runnerUp(row);
        const top = argmax(row);
        [row[r], row[top]] = [(row[top] ?? 0) + 1, row[r] ?? 0];
      }
      logits.push(row);
    }
    return { logits, tokens: logits.map((l) => argmax(l)) };
  }

  async teacherForced(name: string, steps: number): Promise<DecodeRun> {
    const { dump } = this.prompt(name);
    return this.echo(dump, "teacher.logits", steps, dump.get("teacher.tokens").toNumbers());
  }

  async greedy(name: string, steps: number): Promise<DecodeRun> {
    const { dump } = this.prompt(name);
    return this.echo(dump, "greedy.logits", steps, dump.get("greedy.tokens").toNumbers());
  }
}
