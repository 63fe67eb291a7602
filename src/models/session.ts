/**
 * The narrow session interface gates see: one candidate driven prompt by prompt against one
 * oracle, whatever the family and the runtime. A family implements it (src/models/<family>/);
 * which optional capabilities it has decides which rungs can run, and a rung whose capability is
 * missing is skipped with the reason the session gives.
 */
import type { OracleManifest, OraclePrompt } from "../oracle/manifest.ts";
import type { OracleDump } from "../oracle/oracle.ts";
import type { Tensor } from "../tensor/tensor.ts";

export const CAPABILITIES = ["positions", "rope_tables", "vision", "layer_outputs", "isolated_layers", "seeded_state"] as const;
export type Capability = (typeof CAPABILITIES)[number];

/**
 * What a rung reads of a session's per-prompt outputs. A session memoises them so that every rung
 * reads the same candidate run, and lets go of each as soon as no rung still to run reads it.
 *   vision: the tower's outputs; rope_tables: the rotary tables of the prefill;
 *   layer_outputs: the prefill's per-layer hidden states (and the inputs isolated layers are fed);
 *   decode: the prefill's state and last logits row, which every decode run starts from;
 *   teacher_forced, greedy: the decode runs of each kind (their logits rows, one per step).
 */
export const SESSION_OUTPUTS = ["vision", "rope_tables", "layer_outputs", "decode", "teacher_forced", "greedy"] as const;
export type SessionOutput = (typeof SESSION_OUTPUTS)[number];

/** Token ids fed and logits seen over a run of decode steps; logits row i predicts step i. */
export interface DecodeRun {
  logits: Float32Array[];
  tokens: number[];
}

/** The positions a candidate's host runtime gives one prompt. */
export interface HostPositions {
  /** Where they come from, e.g. "get-rope-index" or "engine-formula". */
  source: string;
  /** false when the host's formula cannot express this prompt (two images, video, ...). */
  expressible: boolean;
  reason?: string;
  /** [planes][S]. */
  positions: Int32Array;
  /** The position (one value per plane) the host gives a token fed at cache index `cacheIndex`. */
  decodeAt(cacheIndex: number): number[];
}

/** numgate's own port of the reference position function, over the inputs stored in a dump. */
export interface PortedPositions {
  batch: number;
  seqLen: number;
  /** [planes][batch][S]. */
  positionIds: Int32Array;
  /** Per row: decode position minus cache index. */
  deltas: number[];
  /** Position (per plane) of row `row` at decode step `step` (first generated token is step 0). */
  decodeAt(row: number, step: number): number[];
}

/** How the rotary tables of the graph should look, for checking them against positions. */
export interface RotaryLayout {
  /** Columns in the graph's cos/sin tables (the rotated dims; a quarter of head_dim under partial rotary). */
  width: number;
  /** For each of width / 2 frequencies, the position plane it takes. */
  planeOfFrequency: number[];
  invFreq: number[];
  /** e.g. "interleaved sections [6,5,5]", for messages. */
  description: string;
}

export interface PositionsSupport {
  /** Plane names, e.g. ["t", "h", "w"]. */
  readonly planes: readonly string[];
  port(dump: OracleDump): PortedPositions;
  /**
   * The positions the candidate's host gives a prompt. Async because a runtime that computes
   * positions itself (transformers.js, an engine's own generate) has to run before they can be
   * read off its feeds.
   */
  host(prompt: string): HostPositions | Promise<HostPositions>;
  /**
   * The positions the runtime itself fed for a recorded padded batch, where the runtime computes
   * them (absent: only numgate's port is checked on batches).
   */
  hostBatch?(batch: string): Promise<PortedPositions & { source: string }>;
  rotary: RotaryLayout;
}

/** A vision output, labelled, with the oracle tensor it is compared with. */
export interface VisionFeature {
  label: string;
  oracleKey: string;
  tensor: Tensor;
}

export interface SeededStep {
  logits: Float32Array;
  fedToken: number;
  position: number[];
  cacheLength: number;
}

/** A fresh session of a candidate of the same spec (rungs that compare runs: repeat, engine_vs_reference). */
export interface OpenedSession {
  session: ModelSession;
  close(): Promise<void>;
}

/** Opens a candidate (a name in the spec, or the path of a candidate manifest) from a fresh start. */
export type SessionOpener = (candidate: string) => Promise<OpenedSession>;

export interface ModelSession {
  readonly family: string;
  readonly layers: number;
  readonly hidden: number;
  /** Capabilities this session lacks, each with the reason (absent = available). */
  readonly missing: Readonly<Partial<Record<Capability, string>>>;
  /** Seconds spent inside the runtime so far. */
  readonly inferenceSeconds: number;
  readonly manifest: OracleManifest;
  prompt(name: string): { meta: OraclePrompt; dump: OracleDump };
  tokenName(id: number): string;

  /** capability "positions". */
  readonly positions: PositionsSupport | undefined;
  /** capability "rope_tables": the cos/sin tables the graph built at prefill. */
  ropeTables(name: string): Promise<{ cos: Tensor; sin: Tensor } | undefined>;
  /** capability "vision": null for a prompt without images. */
  vision(name: string): Promise<VisionFeature[] | null>;
  /** capability "layer_outputs": [L, 1, S, H] residual after every layer at prefill. */
  layerOutputs(name: string): Promise<Tensor>;
  /** capability "isolated_layers": layer `layer` run on the oracle's input to it; [S, H]. */
  isolatedLayer(name: string, layer: number): Promise<Float32Array>;
  /** capability "seeded_state": one decode step from the oracle's own prefill state. */
  seededStep(name: string): Promise<SeededStep>;
  /** The oracle's tokens fed for `steps` steps; tokens reported are the candidate's own top-1. */
  teacherForced(name: string, steps: number): Promise<DecodeRun>;
  /** The candidate's own greedy rollout of `steps` tokens. */
  greedy(name: string, steps: number): Promise<DecodeRun>;
  /**
   * Called by the ladder before each rung: `current` is what that rung reads, `later` what the
   * rungs after it read. The session drops what neither reads, keeps what `later` reads, and hands
   * over (returns without keeping) what only the current rung reads, so that a prompt's outputs
   * are released once the rung is done with that prompt. Until it is called, everything is kept.
   */
  retain?(current: ReadonlySet<SessionOutput>, later: ReadonlySet<SessionOutput>): void;
}
