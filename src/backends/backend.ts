/**
 * What a model session needs from a runtime, and nothing else: embed token ids, run a vision
 * tower, take one decoder step over named state. Every runtime (onnxruntime-node with one of its
 * export layouts, an external engine process) implements this one interface, so sessions and
 * gates never know which runtime they talk to, and nothing here knows a model family: the family
 * describes its model to the backend as a `ModelShape` (state tensors per layer, extra decoder
 * inputs), and the backend moves those named tensors.
 *
 * Conventions: one row (batch 1); `S` new tokens; `P` planes of position ids (3 for M-RoPE, 1
 * for plain RoPE); `L` decoder layers; hidden size `H`.
 */
import type { Tensor } from "../tensor/tensor.ts";

/**
 * One tensor of the decoder's recurrent state, in numgate's canonical naming:
 * `past.<layer>.key` / `past.<layer>.value` (attention K/V, growing along the sequence), and
 * `past.<layer>.conv` / `past.<layer>.recurrent` (linear-attention convolution window and
 * recurrent state, fixed size). Layouts map these names onto their graphs' own.
 */
export interface StateTensorSpec {
  name: string;
  layer: number;
  role: "key" | "value" | "conv" | "recurrent";
  /** Shape of this state before any token (0 along a growing sequence dim). */
  emptyShape: number[];
}

/** A family-specific decoder input (e.g. Qwen3-VL's DeepStack features). */
export interface ExtraInputSpec {
  name: string;
  /** Shape with -1 where the step's sequence length goes. */
  shape: number[];
}

/** How a family describes its decoder to a runtime (sent as-is to engines in `hello`). */
export interface ModelShape {
  family: string;
  layers: number;
  hidden: number;
  /** Planes of position ids per token (3 for M-RoPE). */
  positionPlanes: number;
  state: StateTensorSpec[];
  extraInputs: ExtraInputSpec[];
}

/** What a backend can do beyond the required minimum. */
export interface BackendCapabilities {
  /** Returns the residual stream after every decoder layer. */
  layerOutputs: boolean;
  /** Can feed one layer an external input (isolated per-layer error). */
  isolatedLayers: boolean;
  /** Exposes the rotary cos/sin tables it computed. */
  ropeTables: boolean;
  /** Can start decoding from a state given from outside (the oracle's prefill cache). */
  seededState: boolean;
  /**
   * Family inputs (`ExtraInputSpec.name`) the runtime's graphs have no place for: they are not
   * fed, as the port runs without them (e.g. an export that drops Qwen3-VL's DeepStack).
   */
  droppedInputs?: readonly string[];
  /**
   * false when the runtime's own generate() takes one prompt only: padded batches are then
   * checked on numgate's port alone (absent = batches are generated too).
   */
  generateBatch?: boolean;
}

/** The backend's decoder state; opaque to callers except for the tokens it holds. */
export interface StateHandle {
  readonly length: number;
}

export interface VisionOutputs {
  /** Merged image embeddings [n, H]. */
  embeds: Tensor;
  /** Further per-token outputs of the tower, in the tower's order (Qwen3-VL: DeepStack levels). */
  extra: Tensor[];
}

export interface StepInputs {
  /** [1, S, H] float32. */
  inputsEmbeds: Float32Array;
  seqLen: number;
  /** [P, 1, S] position ids, plane-major. */
  positionIds: Int32Array;
  /** The family's extra inputs, by `ExtraInputSpec.name`. */
  extras: Readonly<Record<string, Tensor>>;
  /** null for a prefill from an empty state. */
  state: StateHandle | null;
  /**
   * Feed layer `layer` this [1, S, H] input instead of its own (isolated error). Only `hidden` of
   * such a step is read: a backend may leave its logits empty and its state unusable.
   */
  isolate?: { layer: number; input: Float32Array };
  /** Skip the per-layer outputs when the caller will not read them (a backend may ignore this). */
  wantLayers?: boolean;
}

export interface StepOutputs {
  /** [1, S, V]. */
  logits: Tensor;
  /** [L, 1, S, H]: the residual after every layer (when `capabilities.layerOutputs`). */
  hidden?: Tensor;
  state: StateHandle;
  /** [1, S, rotary_dim] rotary tables the graph used, when it exposes them. */
  ropeCos?: Tensor;
  ropeSin?: Tensor;
}

/** How a backend is asked to open, beyond the candidate itself (command-line choices). */
export interface BackendOpenOptions {
  /** Execution provider (`--ep`), overriding the candidate manifest's. */
  executionProvider?: string;
  /** Intra-op threads for in-process runtimes (`--threads`); 1 when not given. */
  threads?: number;
}

/** A prompt as the runtime's own generate() takes it: token ids, mask, and image inputs. */
export interface GenerateRequest {
  /** [B][S] token ids (left-padded rows where `attentionMask` has zeros). */
  inputIds: readonly (readonly number[])[];
  attentionMask: readonly (readonly number[])[];
  pixelValues?: Tensor;
  /** [images][3]. */
  imageGridThw?: readonly (readonly number[])[];
  maxNewTokens: number;
}

/** What a runtime's own generation did. */
export interface GenerateResult {
  /** [B][new tokens]. */
  tokens: number[][];
  /** Logit rows of row 0, one per generated token, when the runtime reports them. */
  logits?: Float32Array[];
  /** Every position-id feed the runtime gave its decoder, in order: [P][B][S] plane-major each. */
  positionFeeds: { planes: number; batch: number; seqLen: number; data: Int32Array }[];
}

export interface Backend {
  /** What runs the candidate, in words: runtime, layout, execution provider. */
  readonly name: string;
  /** The execution provider and its options, where the runtime has one (recorded in reports). */
  readonly executionProvider?: { name: string; options: Readonly<Record<string, string | number | boolean>> };
  readonly capabilities: BackendCapabilities;
  /** Token embeddings [S, H] for the given ids. */
  embed(ids: readonly number[]): Promise<Float32Array>;
  /** One image through the tower; `gridThw` is its patch grid (t, h, w). */
  vision(pixelValues: Tensor, gridThw: readonly number[]): Promise<VisionOutputs>;
  step(inputs: StepInputs): Promise<StepOutputs>;
  /** A state holding these canonical tensors for `length` tokens (when `capabilities.seededState`). */
  seedState(tensors: ReadonlyMap<string, Tensor>, length: number): Promise<StateHandle>;
  /**
   * Runtimes that run generation themselves (their own positions, their own loop): what they
   * generated and the positions they fed, for `steps` new tokens (optional).
   */
  generate?(request: GenerateRequest): Promise<GenerateResult>;
  /** Seconds spent inside the runtime so far (for the bench split). */
  readonly inferenceSeconds: number;
  close(): Promise<void>;
}
