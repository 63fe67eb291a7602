/**
 * What a gate needs from a runtime that executes a candidate, and nothing else. Every backend
 * (onnxruntime-node today; an external engine process, TF.js, MLX dumps later) implements this
 * one interface, so gates and model adapters never know which runtime they talk to.
 *
 * Shapes follow the Qwen3-VL decoder contract (see oracles/record/export_onnx.py): one row,
 * `S` new tokens, `P` cached tokens, `L` layers, `K` DeepStack levels, hidden size `H`.
 */
import type { Tensor } from "../tensor/tensor.ts";

export interface VisionOutputs {
  /** Merged image embeddings [n, H]. */
  embeds: Tensor;
  /** DeepStack features, one [n, H] tensor per level. */
  deepstack: Tensor[];
}

/** The backend's KV cache; opaque to callers except for its length. */
export interface KvCache {
  readonly length: number;
}

export interface DecoderStepInputs {
  /** [1, S, H] float32. */
  inputsEmbeds: Float32Array;
  seqLen: number;
  /** [3, 1, S] planes T, H, W. */
  positionIds: Int32Array;
  /** [K, 1, S, H] float32, zeros at non-image positions. */
  deepstack: Float32Array;
  /** null for a prefill from an empty cache. */
  cache: KvCache | null;
  /** Feed layer `layer` this [1, S, H] input instead of its own (isolated error). */
  isolate?: { layer: number; input: Float32Array };
}

export interface DecoderStepOutputs {
  /** [1, S, V]. */
  logits: Tensor;
  /** [L, 1, S, H]: the residual after every layer, DeepStack additions included. */
  hidden: Tensor;
  cache: KvCache;
  /** [1, S, head_dim] rotary tables the graph used, when it exposes them. */
  ropeCos?: Tensor;
  ropeSin?: Tensor;
}

export interface BackendCapabilities {
  /** Can feed one layer an external input (isolated per-layer error). */
  isolatedLayers: boolean;
  /** Exposes the rotary cos/sin tables it computed. */
  ropeTables: boolean;
  /** Can start decoding from a KV cache given from outside (the oracle's). */
  seededCache: boolean;
}

export interface DecoderBackend {
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  /** Token embeddings [S, H] for the given ids. */
  embed(ids: readonly number[]): Promise<Float32Array>;
  vision(pixelValues: Tensor): Promise<VisionOutputs>;
  decode(inputs: DecoderStepInputs): Promise<DecoderStepOutputs>;
  /** A cache holding these keys and values, [L, 1, kv_heads, P, head_dim] each (when seededCache). */
  seedCache(keys: Tensor, values: Tensor): Promise<KvCache>;
  /** Seconds spent inside the runtime so far (for the bench split). */
  readonly inferenceSeconds: number;
  close(): Promise<void>;
}
