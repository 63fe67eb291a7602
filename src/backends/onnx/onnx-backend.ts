/**
 * onnxruntime-node backend: three sessions (embed, vision, decoder) per candidate, CPU provider.
 * Inputs and outputs follow the contract in oracles/record/export_onnx.py.
 */
import * as ort from "onnxruntime-node";
import { relative } from "node:path";
import { NumgateError } from "../../errors/numgate-error.ts";
import { Tensor } from "../../tensor/tensor.ts";
import type { DecoderBackend, DecoderStepInputs, DecoderStepOutputs, KvCache, VisionOutputs } from "../backend.ts";

interface OnnxKvCache extends KvCache {
  keys: ort.Tensor;
  values: ort.Tensor;
}

export interface OnnxGraphs {
  embed: string;
  vision: string;
  decoder: string;
}

/** Everything the decoder graph shape needs that the graph itself cannot tell us cheaply. */
export interface DecoderDims {
  layers: number;
  kvHeads: number;
  headDim: number;
  hidden: number;
  deepstackLevels: number;
}

export function onnxruntimeVersion(): string | null {
  const v = (ort.env as { versions?: { common?: string } }).versions?.common;
  return typeof v === "string" ? v : null;
}

export class OnnxBackend implements DecoderBackend {
  readonly name = "onnxruntime-node";
  readonly capabilities;
  private seconds = 0;

  private constructor(
    private readonly graphs: OnnxGraphs,
    private readonly embedS: ort.InferenceSession,
    private readonly visionS: ort.InferenceSession,
    private readonly decoderS: ort.InferenceSession,
    private readonly dims: DecoderDims,
  ) {
    const inputs = new Set(decoderS.inputNames);
    const outputs = new Set(decoderS.outputNames);
    this.capabilities = {
      isolatedLayers: inputs.has("isolate_layer") && inputs.has("isolate_input"),
      ropeTables: outputs.has("rope_cos") && outputs.has("rope_sin"),
      seededCache: true,
    };
  }

  static async open(graphs: OnnxGraphs, dims: DecoderDims): Promise<OnnxBackend> {
    const opts: ort.InferenceSession.SessionOptions = {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
      // Determinism beats speed for a gate: one intra-op thread keeps reductions in a fixed order.
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    };
    const open = async (role: keyof OnnxGraphs) => {
      try {
        return await ort.InferenceSession.create(graphs[role], opts);
      } catch (e) {
        throw new NumgateError("backend_failed", `onnxruntime could not load the ${role} graph: ${(e as Error).message}`, {
          file: relative(process.cwd(), graphs[role]) || graphs[role],
          cause: e,
        });
      }
    };
    const [embed, vision, decoder] = [await open("embed"), await open("vision"), await open("decoder")];
    for (const name of ["inputs_embeds", "position_ids", "deepstack", "past_keys", "past_values"]) {
      if (!decoder.inputNames.includes(name)) {
        throw new NumgateError("candidate_invalid", `decoder graph has no input "${name}" (inputs: ${decoder.inputNames.join(", ")})`, {
          file: relative(process.cwd(), graphs.decoder),
        });
      }
    }
    return new OnnxBackend(graphs, embed, vision, decoder, dims);
  }

  get inferenceSeconds(): number {
    return this.seconds;
  }

  private async run(session: ort.InferenceSession, role: keyof OnnxGraphs, feeds: Record<string, ort.Tensor>) {
    const t0 = performance.now();
    try {
      return await session.run(feeds);
    } catch (e) {
      throw new NumgateError("backend_failed", `onnxruntime failed running the ${role} graph: ${(e as Error).message}`, {
        file: relative(process.cwd(), this.graphs[role]) || this.graphs[role],
        cause: e,
      });
    } finally {
      this.seconds += (performance.now() - t0) / 1000;
    }
  }

  async embed(ids: readonly number[]): Promise<Float32Array> {
    const t = new ort.Tensor("int64", BigInt64Array.from(ids, (x) => BigInt(x)), [1, ids.length]);
    const out = await this.run(this.embedS, "embed", { [this.embedS.inputNames[0] ?? "input_ids"]: t });
    return floatData(out[this.embedS.outputNames[0] ?? "inputs_embeds"], "embed", "inputs_embeds");
  }

  async vision(pixelValues: Tensor): Promise<VisionOutputs> {
    const t = new ort.Tensor("float32", pixelValues.toFloat32(), [...pixelValues.shape]);
    const out = await this.run(this.visionS, "vision", { [this.visionS.inputNames[0] ?? "pixel_values"]: t });
    const names = this.visionS.outputNames;
    const toTensor = (name: string): Tensor => {
      const o = out[name];
      if (o === undefined) throw new NumgateError("backend_failed", `vision graph returned no "${name}"`, { file: this.graphs.vision });
      return Tensor.from("f32", o.dims.map(Number), floatData(o, "vision", name));
    };
    const [first, ...rest] = names;
    if (first === undefined) throw new NumgateError("candidate_invalid", "vision graph has no outputs", { file: this.graphs.vision });
    return { embeds: toTensor(first), deepstack: rest.map(toTensor) };
  }

  async decode(x: DecoderStepInputs): Promise<DecoderStepOutputs> {
    const { layers, kvHeads, headDim, hidden, deepstackLevels } = this.dims;
    const S = x.seqLen;
    const empty = () => new ort.Tensor("float32", new Float32Array(0), [layers, 1, kvHeads, 0, headDim]);
    const cache = x.cache as OnnxKvCache | null;
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor("float32", x.inputsEmbeds, [1, S, hidden]),
      position_ids: new ort.Tensor("int64", BigInt64Array.from(x.positionIds, (v) => BigInt(v)), [3, 1, S]),
      deepstack: new ort.Tensor("float32", x.deepstack, [deepstackLevels, 1, S, hidden]),
      past_keys: cache?.keys ?? empty(),
      past_values: cache?.values ?? empty(),
    };
    if (this.capabilities.isolatedLayers) {
      feeds["isolate_layer"] = new ort.Tensor("int64", BigInt64Array.of(BigInt(x.isolate?.layer ?? -1)), [1]);
      feeds["isolate_input"] = new ort.Tensor("float32", x.isolate?.input ?? new Float32Array(S * hidden), [1, S, hidden]);
    } else if (x.isolate !== undefined) {
      throw new NumgateError("candidate_invalid", "this decoder graph cannot isolate a layer (no isolate_layer input)", {
        file: this.graphs.decoder,
      });
    }
    const out = await this.run(this.decoderS, "decoder", feeds);
    const get = (name: string): ort.Tensor => {
      const o = out[name];
      if (o === undefined) throw new NumgateError("candidate_invalid", `decoder graph returned no "${name}"`, { file: this.graphs.decoder });
      return o;
    };
    const t = (name: string) => {
      const o = get(name);
      return Tensor.from("f32", o.dims.map(Number), floatData(o, "decoder", name));
    };
    const keys = get("present_keys");
    const values = get("present_values");
    const result: DecoderStepOutputs = {
      logits: t("logits"),
      hidden: t("hidden_states"),
      cache: { keys, values, length: Number(keys.dims[3]) } as OnnxKvCache,
    };
    if (this.capabilities.ropeTables) {
      result.ropeCos = t("rope_cos");
      result.ropeSin = t("rope_sin");
    }
    return result;
  }

  async seedCache(keys: Tensor, values: Tensor): Promise<KvCache> {
    const k = new ort.Tensor("float32", keys.toFloat32(), [...keys.shape]);
    const v = new ort.Tensor("float32", values.toFloat32(), [...values.shape]);
    return { keys: k, values: v, length: keys.shape[3] ?? 0 } as OnnxKvCache;
  }

  async close(): Promise<void> {
    await Promise.all([this.embedS.release(), this.visionS.release(), this.decoderS.release()]);
  }
}

function floatData(t: ort.Tensor | undefined, role: string, name: string): Float32Array {
  if (t === undefined || !(t.data instanceof Float32Array)) {
    throw new NumgateError("candidate_invalid", `${role} graph output "${name}" is not float32`, { field: name });
  }
  return t.data;
}
