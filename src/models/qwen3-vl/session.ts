/**
 * How a Qwen3-VL candidate is driven, prompt by prompt: vision tower, image splice into the
 * token embeddings, dense DeepStack, positions from the candidate's own host runtime, prefill,
 * and one-token decode steps on the KV cache. Results are memoised per prompt so that every rung
 * reads the same candidate run (and inference time is spent once), and released as soon as no
 * rung still to run reads them (`retain`, called by the ladder): the session holds one rung's
 * worth of outputs, not the whole run's. Of the prefill it keeps only what is read: the hidden
 * states, the rotary tables, the state and the last logits row (decode continues from that row;
 * the full-sequence logits are never kept).
 *
 * The chain is the one the app runs: the decoder sees the candidate's vision outputs, never the
 * oracle's (except in isolated layer runs, which feed one layer the oracle's input on purpose).
 */
import { relative } from "node:path";
import type { Backend, GenerateResult, VisionOutputs } from "../../backends/backend.ts";
import { decodeFromPrefill, missingFromBackend, runtimeGenerate, towerPerImage } from "../drive.ts";
import { prefillOf, ReadPlan, type Prefill } from "../read-plan.ts";
import { NumgateError } from "../../errors/numgate-error.ts";
import { embedTokens } from "../embeds.ts";
import { argmax } from "../../metrics/index.ts";
import type { Oracle, OracleDump } from "../../oracle/oracle.ts";
import { Tensor } from "../../tensor/tensor.ts";
import type { Capability, DecodeRun, ModelSession, PositionsSupport, SeededStep, SessionOutput, VisionFeature } from "../session.ts";
import type { Qwen3VLCandidate, Qwen3VLOracleManifest } from "./manifest.ts";
import { checkDumpShapes } from "./dump-check.ts";
import { qwen3vlPositions } from "./positions.ts";
import { withRuntimePositions } from "../runtime-positions.ts";

type Qwen3VLPrompt = Qwen3VLOracleManifest["prompts"][number];

interface PromptState {
  vision?: Promise<VisionOutputs | null>;
  /** Set once the vision promise has settled into embeds (the tower outputs are then only the vision rung's). */
  embedded?: boolean;
  embeds?: Promise<{ inputsEmbeds: Float32Array; deepstack: Tensor }>;
  prefill?: Promise<Prefill>;
  /** By number of steps. */
  teacher: Map<number, Promise<DecodeRun>>;
  greedy: Map<number, Promise<DecodeRun>>;
  /** The runtime's own generate() (backends that have one). */
  generated?: Promise<GenerateResult>;
}

export class Qwen3VLSession implements ModelSession {
  readonly family = "qwen3-vl";
  readonly hidden: number;
  readonly layers: number;
  readonly positions: PositionsSupport;
  readonly missing: Partial<Record<Capability, string>>;
  private readonly deepstackLevels: number;
  private readonly state = new Map<string, PromptState>();
  private readonly checked = new Set<string>();
  private readonly plan = new ReadPlan();

  constructor(
    private readonly backend: Backend,
    private readonly oracle: Oracle<Qwen3VLOracleManifest>,
    private readonly candidate: Qwen3VLCandidate,
  ) {
    const t = oracle.manifest.text;
    this.hidden = t.hidden_size;
    this.layers = t.num_layers;
    this.deepstackLevels = t.deepstack_levels;
    const ported = qwen3vlPositions(oracle.manifest, candidate.runtime, (p) => this.prompt(p).dump);
    this.positions = withRuntimePositions(ported, backend, (p) => this.inputIds(p).length, (p) => this.generated(p));
    this.missing = missingFromBackend(backend, "KV cache");
  }

  get manifest(): Qwen3VLOracleManifest {
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

  prompt(name: string): { meta: Qwen3VLPrompt; dump: OracleDump } {
    const meta = this.oracle.prompts.find((p) => p.name === name);
    if (meta === undefined) throw new NumgateError("internal", `no oracle prompt "${name}"`);
    const dump = this.oracle.dump(name);
    if (!this.checked.has(name)) {
      checkDumpShapes(this.oracle.manifest, relative(process.cwd(), this.oracle.manifestPath), meta, dump);
      this.checked.add(name);
    }
    return { meta, dump };
  }

  private inputIds(name: string): number[] {
    return this.prompt(name).dump.get("inputs.input_ids").toNumbers();
  }

  private towerOutputs(name: string): Promise<VisionOutputs | null> {
    const st = this.s(name);
    st.vision ??= towerPerImage(this.backend, this.prompt(name).dump, name, this.candidate.vision_grid);
    return st.vision;
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

  /** Token embeddings with the image rows spliced in, and the dense DeepStack input. */
  private embeds(name: string): Promise<{ inputsEmbeds: Float32Array; deepstack: Tensor }> {
    const st = this.s(name);
    st.embeds ??= (async () => {
      const ids = this.inputIds(name);
      const H = this.hidden;
      const K = this.deepstackLevels;
      const S = ids.length;
      const inputsEmbeds = await embedTokens(this.backend, ids, this.hidden, this.oracle);
      const deepstack = new Float32Array(K * S * H);
      const vis = await this.towerOutputs(name);
      st.embedded = true;
      if (!this.plan.needed("vision")) delete st.vision;
      if (vis !== null) {
        const imageId = this.oracle.manifest.tokens.image_token_id;
        const slots = ids.flatMap((t, i) => (t === imageId ? [i] : []));
        const rows = vis.embeds.shape[0] ?? 0;
        if (rows !== slots.length) {
          throw new NumgateError("candidate_invalid", `vision tower returned ${rows} image embeddings but prompt "${name}" has ${slots.length} image tokens`, {
            field: "image_embeds",
          });
        }
        const src = vis.embeds.toFloat32();
        slots.forEach((pos, r) => inputsEmbeds.set(src.subarray(r * H, (r + 1) * H), pos * H));
        vis.extra.slice(0, K).forEach((level, k) => {
          const d = level.toFloat32();
          slots.forEach((pos, r) => deepstack.set(d.subarray(r * H, (r + 1) * H), (k * S + pos) * H));
        });
      }
      return { inputsEmbeds, deepstack: Tensor.from("f32", [K, 1, S, H], deepstack) };
    })();
    return st.embeds;
  }

  /** DeepStack input of a decode step: zeros (no image token is ever fed in decode). */
  private noDeepstack(seqLen: number): Tensor {
    return Tensor.from("f32", [this.deepstackLevels, 1, seqLen, this.hidden], new Float32Array(this.deepstackLevels * seqLen * this.hidden));
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
      const { inputsEmbeds, deepstack } = await this.embeds(name);
      const seqLen = inputsEmbeds.length / this.hidden;
      const wantLayers = part === "hidden" || this.plan.needed("layer_outputs");
      const out = await this.backend.step({ inputsEmbeds, seqLen, positionIds: positions.positions, extras: { deepstack }, state: null, wantLayers });
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
    const { inputsEmbeds, deepstack } = await this.embeds(name);
    const seqLen = inputsEmbeds.length / this.hidden;
    const out = await this.backend.step({ inputsEmbeds, seqLen, positionIds: positions.positions, extras: { deepstack }, state: null, isolate: { layer, input } });
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
      extras: () => ({ deepstack: this.noDeepstack(1) }),
      steps,
      choose,
      dropStateAt: this.candidate.runtime.stale_kv_step,
    });
  }

  /**
   * One decode step from the oracle's own prefill KV cache: the oracle's first greedy token, at the
   * position the candidate's host gives cache index S. Decode is then judged apart from prefill.
   */
  async seededStep(name: string): Promise<SeededStep> {
    const { dump } = this.prompt(name);
    const keys = dump.get("cache.keys"); // [L, 1, kv, P, hd]
    const values = dump.get("cache.values");
    const length = keys.shape[3] ?? 0;
    const perLayer = (t: Tensor, i: number) => {
      const n = t.size / this.layers;
      return Tensor.from("f32", t.shape.slice(1), t.toFloat32().subarray(i * n, (i + 1) * n));
    };
    const state = new Map<string, Tensor>();
    for (let i = 0; i < this.layers; i++) {
      state.set(`past.${i}.key`, perLayer(keys, i));
      state.set(`past.${i}.value`, perLayer(values, i));
    }
    const seeded = await this.backend.seedState(state, length);
    const fedToken = dump.get("greedy.tokens").toNumbers()[0] ?? 0;
    const position = (await this.positions.host(name)).decodeAt(seeded.length);
    const out = await this.backend.step({
      inputsEmbeds: await embedTokens(this.backend, [fedToken], this.hidden, this.oracle),
      seqLen: 1,
      positionIds: Int32Array.from(position),
      extras: { deepstack: this.noDeepstack(1) },
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
