/**
 * A ModelSession that drives a candidate prompt by prompt over a Backend, the way every family's
 * session does: vision tower, image rows spliced into the token embeddings, prefill, one-token
 * decode steps from the prefill's state, and the runtime's own generate() where it has one.
 * Results are memoised per prompt so that every rung reads the same candidate run (and inference
 * time is spent once), and released as soon as no rung still to run reads them (`retain`, called
 * by the ladder): the session holds one rung's worth of outputs, not the whole run's. Of the
 * prefill it keeps only what is read: the hidden states, the rotary tables, the state and the last
 * logits row (decode continues from that row; the full-sequence logits are never kept).
 *
 * A family adds what is its own: its positions, what it shows of the tower's outputs, the extra
 * decoder inputs of a prefill and of a decode step, and how the oracle's prefill state is read.
 * The chain is the one the app runs: the decoder sees the candidate's vision outputs, never the
 * oracle's (except in isolated layer runs, which feed one layer the oracle's input on purpose).
 */
import type { Backend, GenerateResult, VisionOutputs } from "../backends/backend.ts";
import { NumgateError } from "../errors/numgate-error.ts";
import { argmax } from "../metrics/index.ts";
import type { OracleManifest } from "../oracle/manifest.ts";
import type { Oracle, OracleDump } from "../oracle/oracle.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { decodeFromPrefill, missingFromBackend, runtimeGenerate, towerPerImage } from "./drive.ts";
import { embedTokens, spliceImageRows } from "./embeds.ts";
import { prefillOf, ReadPlan, type Prefill } from "./read-plan.ts";
import { withRuntimePositions } from "./runtime-positions.ts";
import type { Capability, DecodeRun, ModelSession, PositionsSupport, SeededStep, SessionOutput, VisionFeature } from "./session.ts";

/** What a prompt session reads of its oracle's manifest. */
export type PromptSessionManifest = OracleManifest & {
  text: { num_layers: number; hidden_size: number };
  tokens: { image_token_id: number };
};

/** What a prompt session reads of its candidate manifest. */
export interface PromptSessionCandidate {
  vision_grid?: [number, number, number] | undefined;
}

/** What the decoder is fed at a prompt's prefill. */
export interface PrefillInputs {
  /** [S, H]: token embeddings with the candidate's image rows spliced in. */
  inputsEmbeds: Float32Array;
  /** The family's extra decoder inputs. */
  extras: Readonly<Record<string, Tensor>>;
}

interface PromptState {
  vision?: Promise<VisionOutputs | null>;
  /** Set once the vision promise has settled into embeds (the tower outputs are then only the vision rung's). */
  embedded?: boolean;
  embeds?: Promise<PrefillInputs>;
  prefill?: Promise<Prefill>;
  /** By number of steps. */
  teacher: Map<number, Promise<DecodeRun>>;
  greedy: Map<number, Promise<DecodeRun>>;
  /** The runtime's own generate() (backends that have one). */
  generated?: Promise<GenerateResult>;
}

export abstract class PromptSession<M extends PromptSessionManifest, C extends PromptSessionCandidate> implements ModelSession {
  abstract readonly family: string;
  abstract readonly positions: PositionsSupport;
  readonly hidden: number;
  readonly layers: number;
  readonly missing: Partial<Record<Capability, string>>;
  protected readonly plan = new ReadPlan();
  private readonly state = new Map<string, PromptState>();

  /** `stateName` is what the family's decoder state is called in messages (e.g. "KV cache"). */
  constructor(
    protected readonly backend: Backend,
    protected readonly oracle: Oracle<M>,
    protected readonly candidate: C,
    stateName: string,
  ) {
    this.hidden = oracle.manifest.text.hidden_size;
    this.layers = oracle.manifest.text.num_layers;
    this.missing = missingFromBackend(backend, stateName);
  }

  /** capability "vision": what the family compares of the tower's outputs. */
  abstract vision(name: string): Promise<VisionFeature[] | null>;

  /** capability "seeded_state": the family reads the oracle's prefill state and steps from it (seededStepFrom). */
  abstract seededStep(name: string): Promise<SeededStep>;

  /** The family's extra decoder inputs at a prompt's prefill, from the tower's outputs and the rows their images fill. */
  protected abstract prefillExtras(seqLen: number, tower: VisionOutputs | null, imageSlots: readonly number[]): Readonly<Record<string, Tensor>>;

  /** The family's extra decoder inputs for a one-token step. */
  protected abstract decodeExtras(): Readonly<Record<string, Tensor>>;

  /** A stale-cache host keeps the older state at this decode step (null: a correct host). */
  protected staleStateStep(): number | null {
    return null;
  }

  get manifest(): M {
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
      if (!this.plan.needed("vision") && (st.embedded === true || !prefillRead)) delete st.vision;
      this.plan.releasePrefill(st);
      if (!this.plan.needed("teacher_forced")) st.teacher.clear();
      if (!this.plan.needed("greedy")) st.greedy.clear();
    }
  }

  private s(name: string): PromptState {
    let st = this.state.get(name);
    if (st === undefined) {
      st = { teacher: new Map(), greedy: new Map() };
      this.state.set(name, st);
    }
    return st;
  }

  prompt(name: string): { meta: M["prompts"][number]; dump: OracleDump } {
    const meta = this.oracle.prompts.find((p) => p.name === name);
    if (meta === undefined) throw new NumgateError("internal", `no oracle prompt "${name}"`);
    return { meta, dump: this.oracle.dump(name) };
  }

  private inputIds(name: string): number[] {
    return this.prompt(name).dump.get("inputs.input_ids").toNumbers();
  }

  /**
   * The family's ported positions, or, for a runtime that computes positions itself, the ones it
   * fed during its own generate() (runtime-positions.ts).
   */
  protected hostedPositions(ported: PositionsSupport): PositionsSupport {
    return withRuntimePositions(ported, this.backend, (p) => this.inputIds(p).length, (p) => this.generated(p));
  }

  /** The tower over every image of the prompt, in order; null without images. */
  protected towerOutputs(name: string): Promise<VisionOutputs | null> {
    const st = this.s(name);
    st.vision ??= towerPerImage(this.backend, this.prompt(name).dump, name, this.candidate.vision_grid);
    return st.vision;
  }

  private prefillInputs(name: string): Promise<PrefillInputs> {
    const st = this.s(name);
    st.embeds ??= (async () => {
      const ids = this.inputIds(name);
      const inputsEmbeds = await embedTokens(this.backend, ids, this.hidden, this.oracle);
      const vis = await this.towerOutputs(name);
      st.embedded = true;
      if (!this.plan.needed("vision")) delete st.vision;
      const slots = vis === null ? [] : spliceImageRows(inputsEmbeds, ids, this.oracle.manifest.tokens.image_token_id, vis.embeds, this.hidden, name);
      return { inputsEmbeds, extras: this.prefillExtras(ids.length, vis, slots) };
    })();
    return st.embeds;
  }

  /**
   * The prompt's prefill, with `part` in it: memoised, and run again only when a part that was
   * released (or never fetched) is asked for after all.
   */
  private async prefill(name: string, part: "hidden" | "rope" | "decode"): Promise<Prefill> {
    const st = this.s(name);
    const memo = st.prefill === undefined ? undefined : await st.prefill;
    if (memo !== undefined && (memo[part] !== undefined || (part === "rope" && !this.backend.capabilities.ropeTables))) return memo;
    const run = (async (): Promise<Prefill> => {
      const positions = await this.positions.host(name);
      const { inputsEmbeds, extras } = await this.prefillInputs(name);
      const seqLen = inputsEmbeds.length / this.hidden;
      const wantLayers = part === "hidden" || this.plan.needed("layer_outputs");
      const out = await this.backend.step({ inputsEmbeds, seqLen, positionIds: positions.positions, extras, state: null, wantLayers });
      return prefillOf(positions, out, wantLayers);
    })();
    st.prefill = run;
    return run;
  }

  async ropeTables(name: string): Promise<{ cos: Tensor; sin: Tensor } | undefined> {
    if (!(await this.positions.host(name)).expressible) return undefined;
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
    const { inputsEmbeds, extras } = await this.prefillInputs(name);
    const seqLen = inputsEmbeds.length / this.hidden;
    const out = await this.backend.step({ inputsEmbeds, seqLen, positionIds: positions.positions, extras, state: null, isolate: { layer, input } });
    if (out.hidden === undefined) throw new NumgateError("candidate_invalid", `${this.backend.name} returned no per-layer hidden states`);
    const n = seqLen * this.hidden;
    return out.hidden.toFloat32().subarray(layer * n, (layer + 1) * n);
  }

  /** Feed one token at a time after the prefill; logits row i predicts step i. */
  private async decodeRun(name: string, steps: number, choose: (step: number, logits: Float32Array) => number): Promise<DecodeRun> {
    return decodeFromPrefill(name, await this.prefill(name, "decode"), this.plan, {
      backend: this.backend,
      hidden: this.hidden,
      oracle: this.oracle,
      extras: () => this.decodeExtras(),
      steps,
      choose,
      dropStateAt: this.staleStateStep(),
    });
  }

  /**
   * One decode step from the oracle's own prefill state, loaded as `state` over `cacheLength`
   * tokens: the oracle's first greedy token, at the position the candidate's host gives that cache
   * index. Decode is then judged apart from prefill.
   */
  protected async seededStepFrom(name: string, state: Map<string, Tensor>, cacheLength: number): Promise<SeededStep> {
    const { dump } = this.prompt(name);
    const seeded = await this.backend.seedState(state, cacheLength);
    const fedToken = dump.get("greedy.tokens").toNumbers()[0] ?? 0;
    const position = (await this.positions.host(name)).decodeAt(seeded.length);
    const out = await this.backend.step({
      inputsEmbeds: await embedTokens(this.backend, [fedToken], this.hidden, this.oracle),
      seqLen: 1,
      positionIds: Int32Array.from(position),
      extras: this.decodeExtras(),
      state: seeded,
      wantLayers: false,
    });
    return { logits: out.logits.toFloat32(), fedToken, position, cacheLength: seeded.length };
  }

  /** Teacher forcing over `steps` steps: feed the oracle's tokens, collect the candidate's logits at every step. */
  teacherForced(name: string, steps: number): Promise<DecodeRun> {
    const st = this.s(name);
    let run = st.teacher.get(steps);
    if (run === undefined) {
      run = (async () => {
        const forced = this.prompt(name).dump.get("teacher.tokens").toNumbers();
        const out = await this.decodeRun(name, steps, (step) => forced[step] ?? 0);
        // Tokens reported are the candidate's own top-1 at each step, not the forced ones.
        return { ...out, tokens: out.logits.map((l) => argmax(l)) };
      })();
      // Kept only for a later rung that reads teacher-forced runs; otherwise this rung holds it, then it is garbage.
      if (this.plan.neededLater("teacher_forced")) st.teacher.set(steps, run);
    }
    return run;
  }

  /** The candidate's own greedy rollout of `steps` tokens. */
  greedy(name: string, steps: number): Promise<DecodeRun> {
    const st = this.s(name);
    let run = st.greedy.get(steps);
    if (run === undefined) {
      // A runtime with its own generate() is judged on its own loop, as its users run it.
      run =
        this.backend.generate === undefined
          ? this.decodeRun(name, steps, (_step, row) => argmax(row))
          : this.generated(name).then((g) => ({ tokens: (g.tokens[0] ?? []).slice(0, steps), logits: (g.logits ?? []).slice(0, steps) }));
      if (this.plan.neededLater("greedy")) st.greedy.set(steps, run);
    }
    return run;
  }

  /** The runtime's own generate() over a prompt or a recorded padded batch (drive.ts), once per name. */
  private generated(name: string): Promise<GenerateResult> {
    const st = this.s(name);
    st.generated ??= runtimeGenerate(this.backend, this.oracle, name, (p) => this.prompt(p).dump);
    return st.generated;
  }
}
