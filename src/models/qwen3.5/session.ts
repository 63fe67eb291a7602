/**
 * How a Qwen3.5 candidate is driven, prompt by prompt: vision tower (merged embeddings only; no
 * DeepStack), image splice into the token embeddings, positions from the candidate's host,
 * prefill, and one-token decode steps over the hybrid state (attention K/V of the full-attention
 * layers, conv window and recurrent state of the linear-attention layers). Results are memoised
 * per prompt so every rung reads the same candidate run, and released as soon as no rung still to
 * run reads them (`retain`, called by the ladder), as the Qwen3-VL session does: this session kept
 * every prompt's whole prefill (full-sequence logits, every hidden state, the state) and decode
 * runs to the end of the run, about 200 MB a prompt at 4B shapes. Of the prefill it keeps only
 * what is read: hidden states, rotary tables, and the state with the last logits row.
 *
 * The oracle's greedy is a full re-forward per token without a cache (see record_qwen35.py), so
 * `greedy.logits[1]` is the reference for one decode step from the oracle's prefill state.
 */
import type { Backend, GenerateResult } from "../../backends/backend.ts";
import { decodeFromPrefill, missingFromBackend, runtimeGenerate, towerPerImage } from "../drive.ts";
import { prefillOf, ReadPlan, type Prefill } from "../read-plan.ts";
import { NumgateError } from "../../errors/numgate-error.ts";
import { embedTokens } from "../embeds.ts";
import { argmax } from "../../metrics/index.ts";
import type { Oracle, OracleDump } from "../../oracle/oracle.ts";
import { Tensor } from "../../tensor/tensor.ts";
import type { Capability, DecodeRun, ModelSession, PositionsSupport, SeededStep, SessionOutput, VisionFeature } from "../session.ts";
import { qwen35StateSpecs } from "./state.ts";
import type { Qwen35Candidate, Qwen35OracleManifest } from "./manifest.ts";
import { qwen35Positions } from "./positions.ts";
import { withRuntimePositions } from "../runtime-positions.ts";

type Qwen35Prompt = Qwen35OracleManifest["prompts"][number];

interface PromptState {
  vision?: Promise<Tensor | null>;
  embeds?: Promise<Float32Array>;
  prefill?: Promise<Prefill>;
  teacher?: Promise<DecodeRun>;
  greedy?: Promise<DecodeRun>;
  /** The runtime's own generate() (backends that have one). */
  generated?: Promise<GenerateResult>;
}

export class Qwen35Session implements ModelSession {
  readonly family = "qwen3.5";
  readonly hidden: number;
  readonly layers: number;
  readonly positions: PositionsSupport;
  readonly missing: Partial<Record<Capability, string>>;
  private readonly state = new Map<string, PromptState>();
  private readonly plan = new ReadPlan();

  constructor(
    private readonly backend: Backend,
    private readonly oracle: Oracle<Qwen35OracleManifest>,
    private readonly candidate: Qwen35Candidate,
  ) {
    const t = oracle.manifest.text;
    this.hidden = t.hidden_size;
    this.layers = t.num_layers;
    const ported = qwen35Positions(oracle.manifest, candidate.runtime, (p) => this.prompt(p).dump);
    this.positions = withRuntimePositions(ported, backend, (p) => this.inputIds(p).length, (p) => this.generated(p));
    this.missing = missingFromBackend(backend, "decoder state");
  }

  get manifest(): Qwen35OracleManifest {
    return this.oracle.manifest;
  }

  get inferenceSeconds(): number {
    return this.backend.inferenceSeconds;
  }

  tokenName(id: number): string {
    return this.oracle.tokenName(id);
  }

  retain(current: ReadonlySet<SessionOutput>, later: ReadonlySet<SessionOutput>): void {
    this.plan.set(current, later);
    const prefillRead = this.plan.prefillRead;
    for (const st of this.state.values()) {
      if (!this.plan.needed("vision") && (st.embeds !== undefined || !prefillRead)) delete st.vision;
      this.plan.releasePrefill(st);
      if (!this.plan.needed("teacher_forced")) delete st.teacher;
      if (!this.plan.needed("greedy")) delete st.greedy;
    }
  }

  private s(name: string): PromptState {
    let st = this.state.get(name);
    if (st === undefined) {
      st = {};
      this.state.set(name, st);
    }
    return st;
  }

  prompt(name: string): { meta: Qwen35Prompt; dump: OracleDump } {
    const meta = this.oracle.prompts.find((p) => p.name === name);
    if (meta === undefined) throw new NumgateError("internal", `no oracle prompt "${name}"`);
    return { meta, dump: this.oracle.dump(name) };
  }

  private inputIds(name: string): number[] {
    return this.prompt(name).dump.get("inputs.input_ids").toNumbers();
  }

  /** Merged image embeddings of every image of the prompt, in order; null without images. */
  private towerOutputs(name: string): Promise<Tensor | null> {
    const st = this.s(name);
    st.vision ??= towerPerImage(this.backend, this.prompt(name).dump, name, this.candidate.vision_grid).then((v) => v?.embeds ?? null);
    return st.vision;
  }

  async vision(name: string): Promise<VisionFeature[] | null> {
    const embeds = await this.towerOutputs(name);
    return embeds === null ? null : [{ label: "embeds", oracleKey: "vision.embeds", tensor: embeds }];
  }

  /** Token embeddings with the candidate's image rows spliced in. */
  private embeds(name: string): Promise<Float32Array> {
    const st = this.s(name);
    st.embeds ??= (async () => {
      const ids = this.inputIds(name);
      const H = this.hidden;
      const inputsEmbeds = await embedTokens(this.backend, ids, this.hidden, this.oracle);
      const vis = await this.towerOutputs(name);
      if (vis !== null) {
        const imageId = this.oracle.manifest.tokens.image_token_id;
        const slots = ids.flatMap((t, i) => (t === imageId ? [i] : []));
        const rows = vis.shape[0] ?? 0;
        if (rows !== slots.length) {
          throw new NumgateError("candidate_invalid", `vision tower returned ${rows} image embeddings but prompt "${name}" has ${slots.length} image tokens`, { field: "image_embeds" });
        }
        const src = vis.toFloat32();
        slots.forEach((pos, r) => inputsEmbeds.set(src.subarray(r * H, (r + 1) * H), pos * H));
      }
      return inputsEmbeds;
    })();
    return st.embeds;
  }

  /**
   * The prompt's prefill, with `part` in it: memoised, and run again only when a part that was
   * released (or that the graph does not give) is asked for after all.
   */
  private async prefill(name: string, part: "hidden" | "rope" | "decode"): Promise<Prefill> {
    const st = this.s(name);
    const memo = st.prefill === undefined ? undefined : await st.prefill;
    if (memo !== undefined && (memo[part] !== undefined || (part === "rope" && !this.backend.capabilities.ropeTables))) return memo;
    const run = (async (): Promise<Prefill> => {
      const positions = await this.positions.host(name);
      const inputsEmbeds = await this.embeds(name);
      const wantLayers = part === "hidden" || this.plan.needed("layer_outputs");
      const out = await this.backend.step({ inputsEmbeds, seqLen: inputsEmbeds.length / this.hidden, positionIds: positions.positions, extras: {}, state: null, wantLayers });
      return prefillOf(positions, out, wantLayers);
    })();
    st.prefill = run;
    return run;
  }

  async ropeTables(name: string): Promise<{ cos: Tensor; sin: Tensor } | undefined> {
    const p = await this.prefill(name, "rope");
    const rope = p.rope;
    if (!this.plan.neededLater("rope_tables")) delete p.rope;
    return rope;
  }

  async layerOutputs(name: string): Promise<Tensor> {
    const p = await this.prefill(name, "hidden");
    const hidden = p.hidden;
    if (hidden === undefined) throw new NumgateError("candidate_invalid", `${this.backend.name} returned no per-layer hidden states`);
    // Handed over: the gate holds it while it reads this prompt, then it is garbage.
    if (!this.plan.neededLater("layer_outputs")) delete p.hidden;
    return hidden;
  }

  async isolatedLayer(name: string, layer: number): Promise<Float32Array> {
    const { dump } = this.prompt(name);
    const input = (layer === 0 ? dump.get("decoder.inputs_embeds") : dump.get(`decoder.hidden.${layer - 1}`)).toFloat32();
    const positions = await this.positions.host(name);
    const inputsEmbeds = await this.embeds(name);
    const seqLen = inputsEmbeds.length / this.hidden;
    const out = await this.backend.step({ inputsEmbeds, seqLen, positionIds: positions.positions, extras: {}, state: null, isolate: { layer, input } });
    if (out.hidden === undefined) throw new NumgateError("candidate_invalid", `${this.backend.name} returned no per-layer hidden states`);
    const n = seqLen * this.hidden;
    return out.hidden.toFloat32().slice(layer * n, (layer + 1) * n);
  }

  /** Feed one token at a time after the prefill; logits row i predicts step i. */
  private async decodeRun(name: string, steps: number, choose: (step: number, logits: Float32Array) => number): Promise<DecodeRun> {
    return decodeFromPrefill(name, await this.prefill(name, "decode"), this.plan, {
      backend: this.backend,
      hidden: this.hidden,
      oracle: this.oracle,
      extras: () => ({}),
      steps,
      choose,
    });
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
    const seeded = await this.backend.seedState(state, meta.sequence_length);
    const fedToken = dump.get("greedy.tokens").toNumbers()[0] ?? 0;
    const position = (await this.positions.host(name)).decodeAt(seeded.length);
    const out = await this.backend.step({
      inputsEmbeds: await embedTokens(this.backend, [fedToken], this.hidden, this.oracle),
      seqLen: 1,
      positionIds: Int32Array.from(position),
      extras: {},
      state: seeded,
      wantLayers: false,
    });
    return { logits: out.logits.toFloat32(), fedToken, position, cacheLength: seeded.length };
  }

  teacherForced(name: string, steps: number): Promise<DecodeRun> {
    const st = this.s(name);
    const run =
      st.teacher ??
      (async () => {
        const forced = this.prompt(name).dump.get("teacher.tokens").toNumbers();
        const out = await this.decodeRun(name, Math.min(steps, forced.length), (step) => forced[step] ?? 0);
        return { ...out, tokens: out.logits.map((l) => argmax(l)) };
      })();
    // Kept only for a later rung that reads teacher-forced runs; otherwise this rung holds it, then it is garbage.
    if (this.plan.neededLater("teacher_forced")) st.teacher = run;
    return run;
  }

  greedy(name: string, steps: number): Promise<DecodeRun> {
    const st = this.s(name);
    const run =
      st.greedy ??
      (this.backend.generate === undefined
        ? this.decodeRun(name, steps, (_step, row) => argmax(row))
        : this.generated(name).then((g) => ({ tokens: (g.tokens[0] ?? []).slice(0, steps), logits: (g.logits ?? []).slice(0, steps) })));
    if (this.plan.neededLater("greedy")) st.greedy = run;
    return run;
  }

  private generated(name: string): Promise<GenerateResult> {
    const st = this.s(name);
    st.generated ??= runtimeGenerate(this.backend, this.oracle, name, (p) => this.prompt(p).dump);
    return st.generated;
  }
}
