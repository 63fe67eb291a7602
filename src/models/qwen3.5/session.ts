/**
 * How a Qwen3.5 candidate is driven (the prompt by prompt run, memoised and released, is
 * PromptSession's): the vision tower's merged embeddings only (no DeepStack, so no extra decoder
 * inputs), positions from the candidate's host, and one-token decode steps over the hybrid state
 * (attention K/V of the full-attention layers, conv window and recurrent state of the
 * linear-attention layers).
 *
 * The oracle's greedy is a full re-forward per token without a cache (see record_qwen35.py), so
 * `greedy.logits[1]` is the reference for one decode step from the oracle's prefill state.
 */
import type { Backend } from "../../backends/backend.ts";
import { NumgateError } from "../../errors/numgate-error.ts";
import type { Oracle } from "../../oracle/oracle.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { PromptSession } from "../prompt-session.ts";
import type { PositionsSupport, SeededStep, VisionFeature } from "../session.ts";
import { qwen35StateSpecs } from "./state.ts";
import type { Qwen35Candidate, Qwen35OracleManifest } from "./manifest.ts";
import { qwen35Positions } from "./positions.ts";

export class Qwen35Session extends PromptSession<Qwen35OracleManifest, Qwen35Candidate> {
  readonly family = "qwen3.5";
  readonly positions: PositionsSupport;

  constructor(backend: Backend, oracle: Oracle<Qwen35OracleManifest>, candidate: Qwen35Candidate) {
    super(backend, oracle, candidate, "decoder state");
    this.positions = this.hostedPositions(qwen35Positions(oracle.manifest, candidate.runtime, (p) => this.prompt(p).dump));
  }

  async vision(name: string): Promise<VisionFeature[] | null> {
    const vis = await this.towerOutputs(name);
    return vis === null ? null : [{ label: "embeds", oracleKey: "vision.embeds", tensor: vis.embeds }];
  }

  protected prefillExtras(): Record<string, never> {
    return {};
  }

  protected decodeExtras(): Record<string, never> {
    return {};
  }

  /**
   * One decode step from the oracle's own prefill state (K/V, conv windows, recurrent states):
   * the oracle's first greedy token at the position the host gives cache index S.
   */
  async seededStep(name: string): Promise<SeededStep> {
    const { dump, meta } = this.prompt(name);
    const state = new Map<string, Tensor>();
    for (const spec of qwen35StateSpecs(this.oracle.manifest)) {
      const key = `cache.${spec.layer}.${spec.role}`;
      if (!dump.has(key)) throw new NumgateError("tensor_missing", `the oracle dump of "${name}" has no "${key}" (the prefill state of layer ${spec.layer})`, { file: dump.file, field: key });
      const t = dump.get(key);
      state.set(spec.name, Tensor.from("f32", t.shape, t.toFloat32()));
    }
    return this.seededStepFrom(name, state, meta.sequence_length);
  }
}
