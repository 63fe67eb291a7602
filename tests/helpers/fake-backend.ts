/**
 * A Backend with no runtime behind it, for unit tests of family sessions: it records every call
 * and answers with tensors whose values say where they came from (an embedding row holds its
 * token id, an image row its index), and logits whose top-1 is a scripted function of the step.
 */
import type { Backend, BackendCapabilities, ModelShape, StateHandle, StepInputs, StepOutputs, VisionOutputs } from "../../src/backends/backend.ts";
import { Tensor } from "../../src/tensor/tensor.ts";

export interface FakeState extends StateHandle {
  id: number;
}

export interface FakeCalls {
  embeds: number[][];
  visions: { rows: number; grid: number[] }[];
  steps: (StepInputs & { stateId: number | null })[];
  seeds: { names: string[]; length: number }[];
}

export class FakeBackend implements Backend {
  readonly name = "fake backend";
  readonly calls: FakeCalls = { embeds: [], visions: [], steps: [], seeds: [] };
  private nextState = 1;

  constructor(
    private readonly shape: ModelShape,
    readonly capabilities: BackendCapabilities = { layerOutputs: true, isolatedLayers: true, ropeTables: false, seededState: true },
    /** The token the logits' top-1 names, given the step's position ids and the state length. */
    private readonly top1: (positions: Int32Array, stateLength: number) => number = (_p, len) => (len * 7) % 32,
    private readonly vocab = 512,
    private readonly extraLevels = 3,
  ) {}

  get inferenceSeconds(): number {
    return 0;
  }

  async embed(ids: readonly number[]): Promise<Float32Array> {
    this.calls.embeds.push([...ids]);
    const H = this.shape.hidden;
    const out = new Float32Array(ids.length * H);
    ids.forEach((id, i) => out.fill(id, i * H, (i + 1) * H));
    return out;
  }

  async vision(pixelValues: Tensor, gridThw: readonly number[]): Promise<VisionOutputs> {
    this.calls.visions.push({ rows: pixelValues.shape[0] ?? 0, grid: [...gridThw] });
    const H = this.shape.hidden;
    // 2x2 merge: one embedding per four patches; row r holds -(r + 1), level k's rows hold -(100k + r + 1).
    const n = (pixelValues.shape[0] ?? 0) / 4;
    const rows = (f: (r: number) => number) => {
      const d = new Float32Array(n * H);
      for (let r = 0; r < n; r++) d.fill(f(r), r * H, (r + 1) * H);
      return Tensor.from("f32", [n, H], d);
    };
    return { embeds: rows((r) => -(r + 1)), extra: Array.from({ length: this.extraLevels }, (_, k) => rows((r) => -(100 * (k + 1) + r + 1))) };
  }

  async step(x: StepInputs): Promise<StepOutputs> {
    const prev = x.state as FakeState | null;
    this.calls.steps.push({ ...x, stateId: prev?.id ?? null });
    const S = x.seqLen;
    const V = this.vocab;
    const length = (prev?.length ?? 0) + S;
    const logits = new Float32Array(S * V);
    for (let s = 0; s < S; s++) logits[s * V + this.top1(x.positionIds, length)] = 1;
    const L = this.shape.layers;
    const H = this.shape.hidden;
    return {
      logits: Tensor.from("f32", [1, S, V], logits),
      hidden: Tensor.from("f32", [L, 1, S, H], new Float32Array(L * S * H)),
      state: { id: this.nextState++, length } as FakeState,
    };
  }

  async seedState(tensors: ReadonlyMap<string, Tensor>, length: number): Promise<StateHandle> {
    this.calls.seeds.push({ names: [...tensors.keys()], length });
    return { id: this.nextState++, length } as FakeState;
  }

  async close(): Promise<void> {}
}
