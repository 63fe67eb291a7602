/**
 * How a Qwen3-VL candidate is driven (the prompt by prompt run, memoised and released, is
 * PromptSession's): the vision tower's merged embeddings and its DeepStack levels, the dense
 * DeepStack decoder input built from the image rows, positions from the candidate's own host
 * runtime, and one-token decode steps on the KV cache. Every dump is held to the manifest's shapes
 * when first read (dump-check.ts).
 */
import { relative } from "node:path";
import type { Backend, VisionOutputs } from "../../backends/backend.ts";
import type { Oracle, OracleDump } from "../../oracle/oracle.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { PromptSession } from "../prompt-session.ts";
import type { PositionsSupport, SeededStep, VisionFeature } from "../session.ts";
import type { Qwen3VLCandidate, Qwen3VLOracleManifest } from "./manifest.ts";
import { checkDumpShapes } from "./dump-check.ts";
import { qwen3vlPositions } from "./positions.ts";

export class Qwen3VLSession extends PromptSession<Qwen3VLOracleManifest, Qwen3VLCandidate> {
  readonly family = "qwen3-vl";
  readonly positions: PositionsSupport;
  private readonly deepstackLevels: number;
  private readonly checked = new Set<string>();

  constructor(backend: Backend, oracle: Oracle<Qwen3VLOracleManifest>, candidate: Qwen3VLCandidate) {
    super(backend, oracle, candidate, "KV cache");
    this.deepstackLevels = oracle.manifest.text.deepstack_levels;
    this.positions = this.hostedPositions(qwen3vlPositions(oracle.manifest, candidate.runtime, (p) => this.prompt(p).dump));
  }

  override prompt(name: string): { meta: Qwen3VLOracleManifest["prompts"][number]; dump: OracleDump } {
    const p = super.prompt(name);
    if (!this.checked.has(name)) {
      checkDumpShapes(this.oracle.manifest, relative(process.cwd(), this.oracle.manifestPath), p.meta, p.dump);
      this.checked.add(name);
    }
    return p;
  }

  async vision(name: string): Promise<VisionFeature[] | null> {
    const vis = await this.towerOutputs(name);
    if (vis === null) return null;
    // Levels the tower does not produce are what the port adds: nothing (zeros), so they fail, never pass unseen.
    const rows = vis.embeds.shape[0] ?? 0;
    const levels = Array.from({ length: this.deepstackLevels }, (_, k) => vis.extra[k] ?? Tensor.from("f32", [rows, this.hidden], new Float32Array(rows * this.hidden)));
    return [
      { label: "embeds", oracleKey: "vision.embeds", tensor: vis.embeds },
      ...levels.map((t, k) => ({ label: k < vis.extra.length ? `deepstack.${k}` : `deepstack.${k} (not produced)`, oracleKey: `vision.deepstack.${k}`, tensor: t })),
    ];
  }

  /** The dense DeepStack input: each level's image rows at their tokens' places, zeros elsewhere. */
  protected prefillExtras(seqLen: number, tower: VisionOutputs | null, imageSlots: readonly number[]): { deepstack: Tensor } {
    const H = this.hidden;
    const K = this.deepstackLevels;
    const deepstack = new Float32Array(K * seqLen * H);
    tower?.extra.slice(0, K).forEach((level, k) => {
      const d = level.toFloat32();
      imageSlots.forEach((pos, r) => deepstack.set(d.subarray(r * H, (r + 1) * H), (k * seqLen + pos) * H));
    });
    return { deepstack: Tensor.from("f32", [K, 1, seqLen, H], deepstack) };
  }

  /** DeepStack input of a decode step: zeros (no image token is ever fed in decode). */
  protected decodeExtras(): { deepstack: Tensor } {
    return { deepstack: Tensor.from("f32", [this.deepstackLevels, 1, 1, this.hidden], new Float32Array(this.deepstackLevels * this.hidden)) };
  }

  protected override staleStateStep(): number | null {
    return this.candidate.runtime.stale_kv_step;
  }

  /**
   * One decode step from the oracle's own prefill KV cache: the oracle's first greedy token, at the
   * position the candidate's host gives cache index S. Decode is then judged apart from prefill.
   */
  async seededStep(name: string): Promise<SeededStep> {
    const { dump } = this.prompt(name);
    const keys = dump.get("cache.keys"); // [L, 1, kv, P, hd]
    const values = dump.get("cache.values");
    const perLayer = (t: Tensor, i: number) => {
      const n = t.size / this.layers;
      return Tensor.from("f32", t.shape.slice(1), t.toFloat32().subarray(i * n, (i + 1) * n));
    };
    const state = new Map<string, Tensor>();
    for (let i = 0; i < this.layers; i++) {
      state.set(`past.${i}.key`, perLayer(keys, i));
      state.set(`past.${i}.value`, perLayer(values, i));
    }
    return this.seededStepFrom(name, state, keys.shape[3] ?? 0);
  }
}
