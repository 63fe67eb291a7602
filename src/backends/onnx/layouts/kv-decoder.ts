/**
 * The adapter shared by layouts whose decoder takes its state as one tensor per layer and role by
 * name (onnx-community / transformers.js, onnxruntime-genai): inputs_embeds, attention_mask,
 * 3-plane position_ids and `past...{i}.key/.value` in; logits and `present...{i}.key/.value` out.
 * Hybrid decoders add the linear-attention layers' conv window and recurrent state under their
 * own names (transformers.js: `past_conv.{i}` / `past_recurrent.{i}`), only for the layers that
 * have them, as the model's `ModelShape.state` lists them. A layout gives the tensor names;
 * numgate's canonical `past.<layer>.<role>` map onto them.
 * Per-layer hidden states come from the extra outputs of an edited copy of the decoder (see
 * ../graph/layer-outputs.ts) when one could be made.
 */
import * as ort from "onnxruntime-node";
import { NumgateError } from "../../../errors/numgate-error.ts";
import { Tensor } from "../../../tensor/tensor.ts";
import type { Backend, BackendCapabilities, ModelShape, StateHandle, StateTensorSpec, StepInputs, StepOutputs, VisionOutputs } from "../../backend.ts";
import { describeProvider, type ProviderChoice } from "../providers.ts";
import type { OnnxRunner } from "../runner.ts";
import { floatTensor, requireInputs, toOrt } from "../tensors.ts";

export interface KvNames {
  decoder: {
    inputsEmbeds: string;
    attentionMask: string;
    positionIds: string;
    pastKey: (layer: number) => string;
    pastValue: (layer: number) => string;
    presentKey: (layer: number) => string;
    presentValue: (layer: number) => string;
    /** A linear-attention layer's conv window and recurrent state (layouts that name them). */
    pastConv?: (layer: number) => string;
    pastRecurrent?: (layer: number) => string;
    presentConv?: (layer: number) => string;
    presentRecurrent?: (layer: number) => string;
    logits: string;
  };
  embed: { inputIds: string; output: string; /** an embedding graph that also scatters image features (genai) */ imageFeatures?: string };
  vision: { pixelValues: string; gridThw: string; output: string };
}

export interface KvLayoutOptions {
  layout: string;
  names: KvNames;
  /** The residual-stream tensors of the edited decoder, in layer order; or why there are none. */
  layerTensors: { names: string[]; how: string } | { reason: string };
  provider: ProviderChoice;
  runtime: string;
}

interface KvState extends StateHandle {
  /** canonical name -> tensor ([1, kv, P, hd] for K/V; the fixed per-layer shape for conv / recurrent) */
  tensors: Map<string, ort.Tensor>;
}

/** One canonical state tensor with the graph input it is fed as and the output it comes back as. */
interface StateIo {
  spec: StateTensorSpec;
  input: string;
  output: string;
}

const ROLE_NAMES = {
  key: ["pastKey", "presentKey"],
  value: ["pastValue", "presentValue"],
  conv: ["pastConv", "presentConv"],
  recurrent: ["pastRecurrent", "presentRecurrent"],
} as const satisfies Record<StateTensorSpec["role"], readonly [keyof KvNames["decoder"], keyof KvNames["decoder"]]>;

/** The graph names of every state tensor of the model, or an error for a role the layout does not name. */
function stateIo(shape: ModelShape, names: KvNames["decoder"], layout: string, file: string): StateIo[] {
  return shape.state.map((spec) => {
    const [pastKey, presentKey] = ROLE_NAMES[spec.role];
    const past = names[pastKey];
    const present = names[presentKey];
    if (typeof past !== "function" || typeof present !== "function") {
      throw new NumgateError("candidate_invalid", `the ${layout} layout adapter has no naming for ${spec.role} state (${spec.name})`, { file });
    }
    return { spec, input: past(spec.layer), output: present(spec.layer) };
  });
}

export class KvDecoderBackend implements Backend {
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  readonly executionProvider: ProviderChoice;
  /** Why per-layer outputs are missing (when they are). */
  readonly layerOutputsReason: string | undefined;
  private readonly io: StateIo[];

  constructor(
    private readonly runner: OnnxRunner,
    private readonly shape: ModelShape,
    private readonly o: KvLayoutOptions,
  ) {
    const d = o.names.decoder;
    const file = runner.file("decoder");
    this.io = stateIo(shape, d, o.layout, file);
    requireInputs(runner, "decoder", [d.inputsEmbeds, d.attentionMask, d.positionIds, ...this.io.map((s) => s.input)], o.layout);
    const outputs = new Set(runner.outputNames("decoder"));
    for (const s of [{ output: d.logits, spec: undefined }, ...this.io]) {
      if (!outputs.has(s.output)) {
        const what = s.spec === undefined ? "" : ` (layer ${s.spec.layer}'s ${s.spec.role} state, ${s.spec.name})`;
        throw new NumgateError("candidate_invalid", `the decoder graph does not fit the ${o.layout} layout: it has no output "${s.output}"${what} (outputs: ${[...outputs].join(", ")})`, { file, field: s.output });
      }
    }
    // A state input the model has no such state for (e.g. a key/value input on a linear-attention
    // layer) would go unfed: refuse it here, by name, rather than fail inside onnxruntime.
    const fed = new Set([d.inputsEmbeds, d.attentionMask, d.positionIds, ...this.io.map((s) => s.input)]);
    const stateLike = /(^|[._])(past|cache)[._]/;
    const unfed = runner.inputNames("decoder").find((n) => !fed.has(n) && stateLike.test(n));
    if (unfed !== undefined) {
      throw new NumgateError("candidate_invalid", `the decoder graph does not fit the ${o.layout} layout for this model: it takes state input "${unfed}", which no layer of the model has (fed state: ${this.io.map((s) => s.input).join(", ")})`, { file, field: unfed });
    }
    requireInputs(runner, "embed", [o.names.embed.inputIds, ...(o.names.embed.imageFeatures === undefined ? [] : [o.names.embed.imageFeatures])], o.layout);
    requireInputs(runner, "vision", [o.names.vision.pixelValues, o.names.vision.gridThw], o.layout);
    const inputs = new Set(runner.inputNames("decoder"));
    const dropped = shape.extraInputs.filter((e) => !inputs.has(e.name)).map((e) => e.name);
    this.layerOutputsReason = "reason" in o.layerTensors ? o.layerTensors.reason : undefined;
    this.capabilities = {
      layerOutputs: !("reason" in o.layerTensors),
      isolatedLayers: false,
      ropeTables: false,
      seededState: true,
      droppedInputs: dropped,
    };
    this.executionProvider = o.provider;
    this.name = `${o.runtime} (${o.layout} layout, ${describeProvider(o.provider)})`;
  }

  get inferenceSeconds(): number {
    return this.runner.inferenceSeconds;
  }

  async embed(ids: readonly number[]): Promise<Float32Array> {
    const e = this.o.names.embed;
    const feeds: Record<string, ort.Tensor> = { [e.inputIds]: new ort.Tensor("int64", BigInt64Array.from(ids, (x) => BigInt(x)), [1, ids.length]) };
    // An embedding graph that scatters image features gets zero rows (one per token, enough for any
    // image-token count); the session splices the tower's own rows in afterwards.
    if (e.imageFeatures !== undefined) feeds[e.imageFeatures] = new ort.Tensor("float32", new Float32Array(ids.length * this.shape.hidden), [ids.length, this.shape.hidden]);
    const out = await this.runner.run("embed", feeds);
    return floatTensor(out[e.output], this.runner.file("embed"), e.output).toFloat32();
  }

  async vision(pixelValues: Tensor, gridThw: readonly number[]): Promise<VisionOutputs> {
    const v = this.o.names.vision;
    const grid = new ort.Tensor("int64", BigInt64Array.from(gridThw, (x) => BigInt(x)), [1, 3]);
    const out = await this.runner.run("vision", { [v.pixelValues]: toOrt(pixelValues), [v.gridThw]: grid });
    return { embeds: floatTensor(out[v.output], this.runner.file("vision"), v.output), extra: [] };
  }

  async step(x: StepInputs): Promise<StepOutputs> {
    if (x.isolate !== undefined) throw new NumgateError("candidate_invalid", `the ${this.o.layout} layout cannot isolate a layer`, { file: this.runner.file("decoder") });
    const d = this.o.names.decoder;
    const S = x.seqLen;
    const H = this.shape.hidden;
    const past = (x.state as KvState | null)?.tensors;
    const P = x.state?.length ?? 0;
    const feeds: Record<string, ort.Tensor> = {
      [d.inputsEmbeds]: new ort.Tensor("float32", x.inputsEmbeds, [1, S, H]),
      [d.attentionMask]: new ort.Tensor("int64", new BigInt64Array(P + S).fill(1n), [1, P + S]),
      [d.positionIds]: new ort.Tensor("int64", BigInt64Array.from(x.positionIds, (v) => BigInt(v)), [this.shape.positionPlanes, 1, S]),
    };
    for (const { spec, input } of this.io) {
      // K/V start empty (0 along the sequence); a conv window or recurrent state starts as zeros of its fixed size.
      feeds[input] = past?.get(spec.name) ?? new ort.Tensor("float32", new Float32Array(spec.emptyShape.reduce((a, n) => a * n, 1)), spec.emptyShape);
    }
    const wantLayers = this.capabilities.layerOutputs && x.wantLayers !== false && "names" in this.o.layerTensors;
    const fetches = [d.logits, ...this.io.map((k) => k.output), ...(wantLayers && "names" in this.o.layerTensors ? this.o.layerTensors.names : [])];
    const out = await this.runner.run("decoder", feeds, fetches);
    const file = this.runner.file("decoder");
    const get = (name: string): ort.Tensor => {
      const t = out[name];
      if (t === undefined) throw new NumgateError("candidate_invalid", `decoder graph returned no "${name}" (outputs: ${Object.keys(out).join(", ")})`, { file, field: name });
      return t;
    };
    const next = new Map<string, ort.Tensor>();
    for (const k of this.io) next.set(k.spec.name, get(k.output));
    const result: StepOutputs = { logits: floatTensor(get(d.logits), file, d.logits), state: { tensors: next, length: P + S } as KvState };
    if (wantLayers && "names" in this.o.layerTensors) {
      const L = this.o.layerTensors.names.length;
      const data = new Float32Array(L * S * H);
      this.o.layerTensors.names.forEach((n, i) => data.set(floatTensor(get(n), file, n).toFloat32(), i * S * H));
      result.hidden = Tensor.from("f32", [L, 1, S, H], data);
    }
    return result;
  }

  async seedState(tensors: ReadonlyMap<string, Tensor>, length: number): Promise<StateHandle> {
    const m = new Map<string, ort.Tensor>();
    for (const { spec } of this.io) {
      const t = tensors.get(spec.name);
      if (t === undefined) throw new NumgateError("tensor_missing", `no state tensor "${spec.name}" to seed the decoder with`, { field: spec.name });
      m.set(spec.name, toOrt(t));
    }
    return { tensors: m, length } as KvState;
  }

  async close(): Promise<void> {
    await this.runner.close();
  }
}
