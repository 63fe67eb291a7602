/**
 * How a Qwen3-VL candidate is driven, prompt by prompt: vision tower, image splice into the
 * token embeddings, dense DeepStack, positions from the candidate's own host runtime, prefill,
 * and one-token decode steps on the KV cache. Results are memoised per prompt so that every rung
 * reads the same candidate run (and inference time is spent once).
 *
 * The chain is the one the app runs: the decoder sees the candidate's vision outputs, never the
 * oracle's (except in isolated layer runs, which feed one layer the oracle's input on purpose).
 */
import type { DecoderBackend, DecoderStepOutputs, KvCache, VisionOutputs } from "../../backends/backend.ts";
import type { CandidateRuntime } from "../../candidate/manifest.ts";
import { NumgateError } from "../../errors/numgate-error.ts";
import type { Oracle, OracleDump } from "../../oracle/oracle.ts";
import type { OraclePrompt } from "../../oracle/manifest.ts";
import { argmax } from "../../metrics/index.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { engineDecodePosition, enginePrefillPositions, hostShiftFor, type HostShift } from "../../rope/index.ts";
import { ropeIndexOfDump } from "./rope-index.ts";

export type Position3 = [number, number, number];

export interface PrefillPositions {
  source: CandidateRuntime["positions"];
  /** false when the engine formula cannot express this prompt (two images, video, ...). */
  expressible: boolean;
  reason?: string;
  /** [3][S] planes T, H, W. */
  positions: Int32Array;
  /** The position the host gives a token fed at cache index `cacheIndex` during decode. */
  decodeAt(cacheIndex: number): Position3;
}

export interface PrefillResult {
  positions: PrefillPositions;
  out: DecoderStepOutputs;
}

export interface DecodeRun {
  /** Candidate logits, one row per step. */
  logits: Float32Array[];
  tokens: number[];
}

interface PromptState {
  positions?: PrefillPositions;
  vision?: Promise<VisionOutputs | null>;
  embeds?: Promise<{ inputsEmbeds: Float32Array; deepstack: Float32Array }>;
  prefill?: Promise<PrefillResult>;
  /** By number of steps. */
  teacher: Map<number, Promise<DecodeRun>>;
  greedy: Map<number, Promise<DecodeRun>>;
}

function concatRows(ts: readonly Tensor[]): Tensor {
  const width = ts[0]?.shape[1] ?? 0;
  const data = new Float32Array(ts.reduce((a, t) => a + t.size, 0));
  let off = 0;
  for (const t of ts) {
    data.set(t.toFloat32(), off);
    off += t.size;
  }
  return Tensor.from("f32", [data.length / Math.max(1, width), width], data);
}

function concatVision(outs: readonly VisionOutputs[]): VisionOutputs {
  const levels = outs[0]?.deepstack.length ?? 0;
  return {
    embeds: concatRows(outs.map((o) => o.embeds)),
    deepstack: Array.from({ length: levels }, (_, k) => concatRows(outs.map((o) => o.deepstack[k] as Tensor))),
  };
}

export class Qwen3VLSession {
  private readonly state = new Map<string, PromptState>();
  readonly hidden: number;
  readonly layers: number;
  readonly deepstackLevels: number;

  constructor(
    readonly backend: DecoderBackend,
    readonly oracle: Oracle,
    readonly runtime: CandidateRuntime,
    /** The one (t, h, w) patch grid a fixed-grid vision tower was exported for, if it is one. */
    readonly visionGrid?: readonly number[],
  ) {
    const t = oracle.manifest.text;
    this.hidden = t.hidden_size;
    this.layers = t.num_layers;
    this.deepstackLevels = t.deepstack_levels;
  }

  private s(name: string): PromptState {
    let st = this.state.get(name);
    if (st === undefined) {
      st = { teacher: new Map(), greedy: new Map() };
      this.state.set(name, st);
    }
    return st;
  }

  prompt(name: string): { meta: OraclePrompt; dump: OracleDump } {
    const meta = this.oracle.prompts.find((p) => p.name === name);
    if (meta === undefined) throw new NumgateError("internal", `no oracle prompt "${name}"`);
    return { meta, dump: this.oracle.dump(name) };
  }

  inputIds(name: string): number[] {
    return this.prompt(name).dump.get("inputs.input_ids").toNumbers();
  }

  vision(name: string): Promise<VisionOutputs | null> {
    const st = this.s(name);
    st.vision ??= (async () => {
      const { dump } = this.prompt(name);
      if (!dump.has("inputs.pixel_values")) return null;
      const pixels = dump.get("inputs.pixel_values");
      const grids = dump.get("inputs.image_grid_thw").toNumbers();
      const images = grids.length / 3;
      // Ports run the tower once per image (fixed-grid towers cannot do otherwise), then concatenate.
      const width = pixels.shape[1] ?? 0;
      const all = pixels.toFloat32();
      const outs: VisionOutputs[] = [];
      let row = 0;
      for (let k = 0; k < images; k++) {
        const grid = grids.slice(3 * k, 3 * k + 3);
        if (this.visionGrid !== undefined && grid.some((g, i) => g !== this.visionGrid?.[i])) {
          throw new NumgateError(
            "candidate_invalid",
            `the candidate's vision tower was exported for grid (${this.visionGrid.join(", ")}) but image ${k} of prompt "${name}" has grid (${grid.join(", ")}); export a tower for that grid or one with a dynamic grid`,
            { field: "vision_grid" },
          );
        }
        const rows = (grid[0] ?? 0) * (grid[1] ?? 0) * (grid[2] ?? 0);
        outs.push(await this.backend.vision(Tensor.from("f32", [rows, width], all.slice(row * width, (row + rows) * width))));
        row += rows;
      }
      return outs.length === 1 ? (outs[0] ?? null) : concatVision(outs);
    })();
    return st.vision;
  }

  /** Token embeddings with the image rows spliced in, and the dense DeepStack input. */
  private embeds(name: string): Promise<{ inputsEmbeds: Float32Array; deepstack: Float32Array }> {
    const st = this.s(name);
    st.embeds ??= (async () => {
      const ids = this.inputIds(name);
      const H = this.hidden;
      const K = this.deepstackLevels;
      const S = ids.length;
      const inputsEmbeds = await this.backend.embed(ids);
      const deepstack = new Float32Array(K * S * H);
      const vis = await this.vision(name);
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
        vis.deepstack.slice(0, K).forEach((level, k) => {
          const d = level.toFloat32();
          slots.forEach((pos, r) => deepstack.set(d.subarray(r * H, (r + 1) * H), (k * S + pos) * H));
        });
      }
      return { inputsEmbeds, deepstack };
    })();
    return st.embeds;
  }

  /** The prefill positions this candidate's host runtime produces for a prompt. */
  positions(name: string): PrefillPositions {
    const st = this.s(name);
    st.positions ??= this.hostPositions(name);
    return st.positions;
  }

  private hostPositions(name: string): PrefillPositions {
    const { dump } = this.prompt(name);
    const ids = dump.get("inputs.input_ids").toNumbers();
    const m = this.oracle.manifest;
    const merge = m.vision.spatial_merge_size;
    const gridT = dump.has("inputs.image_grid_thw") ? dump.get("inputs.image_grid_thw").toNumbers() : null;
    const rt = this.runtime;
    const cacheIndexDecode = (c: number): Position3 => [c, c, c];
    if (rt.positions === "engine-formula") {
      const cfg = { imageTokenId: m.tokens.image_token_id, visionStartTokenId: m.tokens.vision_start_token_id, videoTokenId: m.tokens.video_token_id };
      const images = gridT === null ? 0 : gridT.length / 3;
      const grid = gridT === null || images !== 1 ? null : { t: gridT[0] ?? 1, h: (gridT[1] ?? 0) / merge, w: (gridT[2] ?? 0) / merge };
      const hs = hostShiftFor(ids, grid, cfg);
      if (!hs.expressible) {
        return { source: rt.positions, expressible: false, reason: hs.reason, positions: new Int32Array(3 * ids.length), decodeAt: cacheIndexDecode };
      }
      // The host sets a shift only after an image; a text-only prompt has none to get wrong.
      const shift: HostShift = grid === null ? hs.shift : { ...hs.shift, amount: hs.shift.amount + rt.text_shift_bias };
      const pre = enginePrefillPositions(ids, grid, shift, cfg);
      if (!pre.expressible) {
        return { source: rt.positions, expressible: false, reason: pre.reason, positions: new Int32Array(3 * ids.length), decodeAt: cacheIndexDecode };
      }
      const decodeAt = (c: number): Position3 => {
        if (rt.decode_positions === "cache-index") return cacheIndexDecode(c);
        const p = engineDecodePosition(c, shift);
        return [p.t, p.h, p.w];
      };
      return { source: rt.positions, expressible: true, positions: pre.positions, decodeAt };
    }
    const r = ropeIndexOfDump(m, dump);
    // text_shift_bias models a host-set engine parameter; a host that calls get_rope_index has none.
    const delta = r.mropePositionDeltas[0] ?? 0;
    const decodeAt = (c: number): Position3 => (rt.decode_positions === "cache-index" ? cacheIndexDecode(c) : [c + delta, c + delta, c + delta]);
    return { source: rt.positions, expressible: true, positions: r.positionIds, decodeAt };
  }

  prefill(name: string): Promise<PrefillResult> {
    const st = this.s(name);
    st.prefill ??= (async () => {
      const positions = this.positions(name);
      const { inputsEmbeds, deepstack } = await this.embeds(name);
      const seqLen = inputsEmbeds.length / this.hidden;
      const out = await this.backend.decode({ inputsEmbeds, seqLen, positionIds: positions.positions, deepstack, cache: null });
      return { positions, out };
    })();
    return st.prefill;
  }

  /** Layer `layer` run on the oracle's input to that layer; returns its [S, H] output. */
  async isolatedLayer(name: string, layer: number): Promise<Float32Array> {
    const { dump } = this.prompt(name);
    const input = (layer === 0 ? dump.get("decoder.inputs_embeds") : dump.get(`decoder.hidden.${layer - 1}`)).toFloat32();
    const positions = this.positions(name);
    const { inputsEmbeds, deepstack } = await this.embeds(name);
    const seqLen = inputsEmbeds.length / this.hidden;
    const out = await this.backend.decode({
      inputsEmbeds,
      seqLen,
      positionIds: positions.positions,
      deepstack,
      cache: null,
      isolate: { layer, input },
    });
    const all = out.hidden.toFloat32();
    const n = seqLen * this.hidden;
    return all.slice(layer * n, (layer + 1) * n);
  }

  /** Feed `fed` one token at a time after the prefill; logits row i predicts step i. */
  private async decodeRun(name: string, steps: number, choose: (step: number, logits: Float32Array) => number): Promise<DecodeRun> {
    const pre = await this.prefill(name);
    const V = pre.out.logits.shape[2] ?? 0;
    const S = pre.out.logits.shape[1] ?? 0;
    const lastRow = pre.out.logits.toFloat32().slice((S - 1) * V, S * V);
    const logits: Float32Array[] = [lastRow];
    const tokens: number[] = [choose(0, lastRow)];
    let cache: KvCache = pre.out.cache;
    let cacheIndex = S;
    const K = this.deepstackLevels;
    for (let step = 1; step < steps; step++) {
      const fed = tokens[step - 1] ?? 0;
      const pos = pre.positions.decodeAt(cacheIndex);
      const out = await this.backend.decode({
        inputsEmbeds: await this.backend.embed([fed]),
        seqLen: 1,
        positionIds: Int32Array.from(pos),
        deepstack: new Float32Array(K * this.hidden),
        cache,
      });
      const row = out.logits.toFloat32().slice(0, V);
      logits.push(row);
      tokens.push(choose(step, row));
      // A stale-cache host keeps the old cache at one step: the token fed there is lost to later steps.
      if (this.runtime.stale_kv_step !== step) cache = out.cache;
      cacheIndex++;
    }
    return { logits, tokens };
  }

  /**
   * One decode step from the oracle's own prefill KV cache: the oracle's first greedy token, at the
   * position the candidate's host gives cache index S. Decode is then judged apart from prefill.
   */
  async seededStep(name: string): Promise<{ logits: Float32Array; fedToken: number; position: Position3; cacheLength: number }> {
    const { dump } = this.prompt(name);
    const keys = dump.get("cache.keys");
    const cache = await this.backend.seedCache(keys, dump.get("cache.values"));
    const fedToken = dump.get("greedy.tokens").toNumbers()[0] ?? 0;
    const position = this.positions(name).decodeAt(cache.length);
    const out = await this.backend.decode({
      inputsEmbeds: await this.backend.embed([fedToken]),
      seqLen: 1,
      positionIds: Int32Array.from(position),
      deepstack: new Float32Array(this.deepstackLevels * this.hidden),
      cache,
    });
    return { logits: out.logits.toFloat32(), fedToken, position, cacheLength: cache.length };
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
      st.teacher.set(steps, run);
    }
    return run;
  }

  /** The candidate's own greedy rollout of `steps` tokens. */
  greedy(name: string, steps: number): Promise<DecodeRun> {
    const st = this.s(name);
    let run = st.greedy.get(steps);
    if (run === undefined) {
      run = this.decodeRun(name, steps, (_step, row) => argmax(row));
      st.greedy.set(steps, run);
    }
    return run;
  }
}
