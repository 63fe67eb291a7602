/**
 * The adapter shared by layouts whose decoder takes one past key and one past value per layer by
 * name (onnx-community / transformers.js, onnxruntime-genai): inputs_embeds, attention_mask,
 * 3-plane position_ids and `past...{i}.key/.value` in; logits and `present...{i}.key/.value` out.
 * A layout gives the tensor names; numgate's canonical `past.<layer>.key/value` map onto them.
 * Per-layer hidden states come from the extra outputs of an edited copy of the decoder (see
 * ../graph/layer-outputs.ts) when one could be made.
 */
import * as ort from "onnxruntime-node";
import { NumgateError } from "../../../errors/numgate-error.ts";
import { Tensor } from "../../../tensor/tensor.ts";
import type { Backend, BackendCapabilities, ModelShape, StateHandle, StepInputs, StepOutputs, VisionOutputs } from "../../backend.ts";
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
  /** canonical name -> tensor [1, kv, P, hd] */
  tensors: Map<string, ort.Tensor>;
}

export class KvDecoderBackend implements Backend {
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  readonly executionProvider: ProviderChoice;
  /** Why per-layer outputs are missing (when they are). */
  readonly layerOutputsReason: string | undefined;

  constructor(
    private readonly runner: OnnxRunner,
    private readonly shape: ModelShape,
    private readonly o: KvLayoutOptions,
  ) {
    const d = o.names.decoder;
    const kv = shape.state.flatMap((s) => (s.role === "key" ? [d.pastKey(s.layer)] : s.role === "value" ? [d.pastValue(s.layer)] : []));
    const other = shape.state.find((s) => s.role !== "key" && s.role !== "value");
    if (other !== undefined) throw new NumgateError("candidate_invalid", `the ${o.layout} layout adapter has no naming for ${other.role} state (${other.name})`, { file: runner.file("decoder") });
    requireInputs(runner, "decoder", [d.inputsEmbeds, d.attentionMask, d.positionIds, ...kv], o.layout);
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

  private kvSpecs(): { name: string; input: string; output: string }[] {
    const d = this.o.names.decoder;
    return this.shape.state.map((s) => ({
      name: s.name,
      input: s.role === "key" ? d.pastKey(s.layer) : d.pastValue(s.layer),
      output: s.role === "key" ? d.presentKey(s.layer) : d.presentValue(s.layer),
    }));
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
    for (const s of this.shape.state) {
      const spec = this.kvSpecs().find((k) => k.name === s.name);
      if (spec === undefined) continue;
      feeds[spec.input] = past?.get(s.name) ?? new ort.Tensor("float32", new Float32Array(0), s.emptyShape);
    }
    const wantLayers = this.capabilities.layerOutputs && x.wantLayers !== false && "names" in this.o.layerTensors;
    const fetches = [d.logits, ...this.kvSpecs().map((k) => k.output), ...(wantLayers && "names" in this.o.layerTensors ? this.o.layerTensors.names : [])];
    const out = await this.runner.run("decoder", feeds, fetches);
    const file = this.runner.file("decoder");
    const get = (name: string): ort.Tensor => {
      const t = out[name];
      if (t === undefined) throw new NumgateError("candidate_invalid", `decoder graph returned no "${name}" (outputs: ${Object.keys(out).join(", ")})`, { file, field: name });
      return t;
    };
    const next = new Map<string, ort.Tensor>();
    for (const k of this.kvSpecs()) next.set(k.name, get(k.output));
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
    for (const k of this.kvSpecs()) {
      const t = tensors.get(k.name);
      if (t === undefined) throw new NumgateError("tensor_missing", `no state tensor "${k.name}" to seed the decoder with`, { field: k.name });
      m.set(k.name, toOrt(t));
    }
    return { tensors: m, length } as KvState;
  }

  async close(): Promise<void> {
    await this.runner.close();
  }
}
