/**
 * numgate's own export layout (oracles/record/export_onnx.py), one layout among several:
 *
 *   embed    input_ids i64 [1,S]                         -> inputs_embeds [1,S,H]
 *   vision   pixel_values f32 [patches, C*T*P*P]          -> embeds [n,H], then the extra outputs
 *   decoder  inputs_embeds [1,S,H], position_ids i64 [P,1,S], every family extra input by its
 *            name, past_<role>s stacked over the layers that have that state role
 *            (past_keys / past_values [L,1,kv,P,hd]; past_convs / past_recurrents likewise),
 *            optional isolate_layer i64 [1] + isolate_input [1,S,H]
 *         -> logits [1,S,V], hidden_states [L,1,S,H], present_<role>s, optional rope_cos/rope_sin
 */
import * as ort from "onnxruntime-node";
import { NumgateError } from "../../../errors/numgate-error.ts";
import { Tensor } from "../../../tensor/tensor.ts";
import type { Backend, BackendCapabilities, ModelShape, StateHandle, StateTensorSpec, StepInputs, StepOutputs, VisionOutputs } from "../../backend.ts";
import type { OnnxRunner } from "../runner.ts";
import { describeProvider, type ProviderChoice } from "../providers.ts";
import { floatTensor, requireInputs, toOrt } from "../tensors.ts";
import type { OnnxLayout } from "./layout.ts";

type Role = StateTensorSpec["role"];
const ROLES: readonly Role[] = ["key", "value", "conv", "recurrent"];
const pastName = (role: Role) => `past_${role}s`;
const presentName = (role: Role) => `present_${role}s`;

/** The stacked state: one ort tensor per role, [layers of that role, ...per-layer shape]. */
interface StackedState extends StateHandle {
  tensors: Map<Role, ort.Tensor>;
}

class NumgateLayoutBackend implements Backend {
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  /** The state roles this model has, each with its layers in order. */
  private readonly roles: Map<Role, StateTensorSpec[]>;

  constructor(
    private readonly runner: OnnxRunner,
    private readonly shape: ModelShape,
    provider?: ProviderChoice,
  ) {
    // The provider is named only where it is not the default (cpu, one thread), so reports of
    // default runs read as they always have.
    const custom = provider !== undefined && describeProvider(provider) !== "cpu";
    this.name = `onnxruntime-node (numgate layout${custom ? `, ${describeProvider(provider as ProviderChoice)}` : ""})`;
    this.roles = new Map();
    for (const role of ROLES) {
      const specs = shape.state.filter((s) => s.role === role);
      if (specs.length > 0) this.roles.set(role, specs);
    }
    requireInputs(runner, "decoder", ["inputs_embeds", "position_ids", ...shape.extraInputs.map((e) => e.name), ...[...this.roles.keys()].map(pastName)], "numgate");
    const inputs = new Set(runner.inputNames("decoder"));
    const outputs = new Set(runner.outputNames("decoder"));
    this.capabilities = {
      layerOutputs: outputs.has("hidden_states"),
      isolatedLayers: inputs.has("isolate_layer") && inputs.has("isolate_input"),
      ropeTables: outputs.has("rope_cos") && outputs.has("rope_sin"),
      seededState: true,
    };
  }

  get inferenceSeconds(): number {
    return this.runner.inferenceSeconds;
  }

  async embed(ids: readonly number[]): Promise<Float32Array> {
    const t = new ort.Tensor("int64", BigInt64Array.from(ids, (x) => BigInt(x)), [1, ids.length]);
    const input = this.runner.inputNames("embed")[0] ?? "input_ids";
    const out = await this.runner.run("embed", { [input]: t });
    const name = this.runner.outputNames("embed")[0] ?? "inputs_embeds";
    return floatTensor(out[name], this.runner.file("embed"), name).toFloat32();
  }

  async vision(pixelValues: Tensor): Promise<VisionOutputs> {
    const input = this.runner.inputNames("vision")[0] ?? "pixel_values";
    const out = await this.runner.run("vision", { [input]: toOrt(pixelValues) });
    const [first, ...rest] = this.runner.outputNames("vision");
    if (first === undefined) throw new NumgateError("candidate_invalid", "vision graph has no outputs", { file: this.runner.file("vision") });
    const file = this.runner.file("vision");
    return { embeds: floatTensor(out[first], file, first), extra: rest.map((n) => floatTensor(out[n], file, n)) };
  }

  private emptyState(): Map<Role, ort.Tensor> {
    const m = new Map<Role, ort.Tensor>();
    for (const [role, specs] of this.roles) {
      const per = specs[0]?.emptyShape ?? [];
      // K/V start empty (0 along the sequence); a conv window or recurrent state starts as zeros of its fixed size.
      const dims = [specs.length, ...per];
      m.set(role, new ort.Tensor("float32", new Float32Array(dims.reduce((a, d) => a * d, 1)), dims));
    }
    return m;
  }

  async step(x: StepInputs): Promise<StepOutputs> {
    const S = x.seqLen;
    const H = this.shape.hidden;
    const state = (x.state as StackedState | null)?.tensors ?? this.emptyState();
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor("float32", x.inputsEmbeds, [1, S, H]),
      position_ids: new ort.Tensor("int64", BigInt64Array.from(x.positionIds, (v) => BigInt(v)), [this.shape.positionPlanes, 1, S]),
    };
    for (const e of this.shape.extraInputs) {
      const t = x.extras[e.name];
      if (t === undefined) throw new NumgateError("internal", `decoder step without the family input "${e.name}"`);
      feeds[e.name] = toOrt(t);
    }
    for (const [role, t] of state) feeds[pastName(role)] = t;
    if (this.capabilities.isolatedLayers) {
      feeds["isolate_layer"] = new ort.Tensor("int64", BigInt64Array.of(BigInt(x.isolate?.layer ?? -1)), [1]);
      feeds["isolate_input"] = new ort.Tensor("float32", x.isolate?.input ?? new Float32Array(S * H), [1, S, H]);
    } else if (x.isolate !== undefined) {
      throw new NumgateError("candidate_invalid", "this decoder graph cannot isolate a layer (no isolate_layer input)", { file: this.runner.file("decoder") });
    }
    // Only what the caller reads: an isolated pass is read for one layer's hidden state, a decode
    // step for its logits row and state; rotary tables are read at the prefill only.
    const isolated = x.isolate !== undefined;
    const wantLayers = this.capabilities.layerOutputs && (isolated || x.wantLayers !== false);
    const wantRope = this.capabilities.ropeTables && x.state === null && !isolated;
    const fetches = isolated
      ? ["hidden_states"]
      : ["logits", ...[...this.roles.keys()].map(presentName), ...(wantLayers ? ["hidden_states"] : []), ...(wantRope ? ["rope_cos", "rope_sin"] : [])];
    const out = await this.runner.run("decoder", feeds, fetches);
    const file = this.runner.file("decoder");
    const get = (name: string): ort.Tensor => {
      const o = out[name];
      if (o === undefined) throw new NumgateError("candidate_invalid", `decoder graph returned no "${name}" (outputs: ${Object.keys(out).join(", ")})`, { file });
      return o;
    };
    if (isolated) {
      // Nothing but the hidden states is read of an isolated pass: no logits, and a state of nothing.
      return { logits: Tensor.from("f32", [1, 0, 0], new Float32Array(0)), hidden: floatTensor(get("hidden_states"), file, "hidden_states"), state: { tensors: new Map(), length: 0 } as StackedState };
    }
    const next = new Map<Role, ort.Tensor>();
    for (const role of this.roles.keys()) next.set(role, get(presentName(role)));
    const keys = next.get("key");
    const result: StepOutputs = {
      logits: floatTensor(get("logits"), file, "logits"),
      // Attention state grows along dim 3 of [L,1,kv,P,hd]; a model without attention counts tokens itself.
      state: { tensors: next, length: keys === undefined ? ((x.state?.length ?? 0) + S) : Number(keys.dims[3]) } as StackedState,
    };
    if (wantLayers) result.hidden = floatTensor(get("hidden_states"), file, "hidden_states");
    if (wantRope) {
      result.ropeCos = floatTensor(get("rope_cos"), file, "rope_cos");
      result.ropeSin = floatTensor(get("rope_sin"), file, "rope_sin");
    }
    return result;
  }

  async seedState(tensors: ReadonlyMap<string, Tensor>, length: number): Promise<StateHandle> {
    const stacked = new Map<Role, ort.Tensor>();
    for (const [role, specs] of this.roles) {
      const parts = specs.map((s) => {
        const t = tensors.get(s.name);
        if (t === undefined) throw new NumgateError("tensor_missing", `no state tensor "${s.name}" to seed the decoder with`, { field: s.name });
        return t;
      });
      const per = parts[0]?.shape ?? [];
      const data = new Float32Array(parts.reduce((a, t) => a + t.size, 0));
      let off = 0;
      for (const t of parts) {
        data.set(t.toFloat32(), off);
        off += t.size;
      }
      stacked.set(role, new ort.Tensor("float32", data, [parts.length, ...per]));
    }
    return { tensors: stacked, length } as StackedState;
  }

  async close(): Promise<void> {
    await this.runner.close();
  }
}

export const numgateLayout: OnnxLayout = {
  name: "numgate",
  roles: ["embed", "vision", "decoder"],
  open: (runner, shape, options) => new NumgateLayoutBackend(runner, shape, options?.provider),
};
