/**
 * transformers.js as a numgate Backend: generation and positions from transformers.js itself,
 * graph-level steps through the onnx-community layout adapter over the same files.
 */
import type * as ort from "onnxruntime-node";
import { NumgateError } from "../../errors/numgate-error.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import type { Backend, BackendCapabilities, GenerateRequest, GenerateResult, StateHandle, StepInputs, StepOutputs, VisionOutputs } from "../backend.ts";

/** The parts of a transformers.js model numgate touches. */
export interface TjsModel {
  sessions: Record<string, { run: (feeds: Record<string, ort.Tensor>, ...rest: unknown[]) => Promise<Record<string, ort.Tensor>> }>;
  generate(args: Record<string, unknown>): Promise<{ tolist(): (number | bigint)[][] }>;
  dispose(): Promise<unknown>;
}

export type TjsTensorCtor = new (type: "int64" | "float32", data: BigInt64Array | Float32Array, dims: number[]) => unknown;

export class TransformersJsBackend implements Backend {
  readonly capabilities: BackendCapabilities;
  private seconds = 0;

  constructor(
    private readonly graphs: Backend,
    private readonly model: TjsModel,
    private readonly TjsTensor: TjsTensorCtor,
    readonly name: string,
    readonly dtype: string,
  ) {
    this.capabilities = graphs.capabilities;
  }

  get executionProvider(): NonNullable<Backend["executionProvider"]> {
    return this.graphs.executionProvider ?? { name: "cpu", options: {} };
  }

  get inferenceSeconds(): number {
    return this.graphs.inferenceSeconds + this.seconds;
  }

  embed(ids: readonly number[]): Promise<Float32Array> {
    return this.graphs.embed(ids);
  }

  vision(pixelValues: Tensor, gridThw: readonly number[]): Promise<VisionOutputs> {
    return this.graphs.vision(pixelValues, gridThw);
  }

  step(inputs: StepInputs): Promise<StepOutputs> {
    return this.graphs.step(inputs);
  }

  seedState(tensors: ReadonlyMap<string, Tensor>, length: number): Promise<StateHandle> {
    return this.graphs.seedState(tensors, length);
  }

  /**
   * transformers.js's own generate(), greedy. Every feed it gives the merged decoder is observed
   * (position_ids as fed, and the last logit row of batch row 0), not altered.
   */
  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const session = this.model.sessions["decoder_model_merged"];
    if (session === undefined) throw new NumgateError("backend_failed", `transformers.js opened no decoder_model_merged session (sessions: ${Object.keys(this.model.sessions).join(", ")})`);
    const B = req.inputIds.length;
    const S = req.inputIds[0]?.length ?? 0;
    const T = this.TjsTensor;
    const i64 = (rows: readonly (readonly number[])[]) => new T("int64", BigInt64Array.from(rows.flat(), (v) => BigInt(v)), [rows.length, rows[0]?.length ?? 0]);
    const feeds: GenerateResult["positionFeeds"] = [];
    const logits: Float32Array[] = [];
    const run = session.run.bind(session);
    session.run = async (f, ...rest) => {
      const pos = f["position_ids"];
      if (pos !== undefined) {
        const dims = pos.dims.map(Number);
        feeds.push({ planes: dims[0] ?? 0, batch: dims[1] ?? 0, seqLen: dims[2] ?? 0, data: Int32Array.from(pos.data as BigInt64Array, (v) => Number(v)) });
      }
      const out = await run(f, ...rest);
      const l = out["logits"];
      if (l !== undefined) {
        const [, s, v] = l.dims.map(Number);
        const data = l.data as Float32Array;
        logits.push(data.slice(((s ?? 1) - 1) * (v ?? 0), (s ?? 1) * (v ?? 0)));
      }
      return out;
    };
    const args: Record<string, unknown> = {
      input_ids: i64(req.inputIds),
      attention_mask: i64(req.attentionMask),
      max_new_tokens: req.maxNewTokens,
      min_new_tokens: req.maxNewTokens,
      do_sample: false,
    };
    if (req.pixelValues !== undefined && req.imageGridThw !== undefined) {
      args["pixel_values"] = new T("float32", req.pixelValues.toFloat32(), [...req.pixelValues.shape]);
      args["image_grid_thw"] = i64(req.imageGridThw);
    }
    const t0 = performance.now();
    let out: { tolist(): (number | bigint)[][] };
    try {
      out = await this.model.generate(args);
    } catch (e) {
      throw new NumgateError("backend_failed", `transformers.js generate() failed: ${(e as Error).message}`, { cause: e });
    } finally {
      session.run = run;
      this.seconds += (performance.now() - t0) / 1000;
    }
    const tokens = out.tolist().map((row) => row.slice(S).map((v) => Number(v)));
    return { tokens, ...(B === 1 ? { logits } : {}), positionFeeds: feeds };
  }

  async close(): Promise<void> {
    await this.model.dispose();
    await this.graphs.close();
  }
}
