/**
 * What every family's session does the same way over a Backend: say which capabilities the
 * runtime lacks, and decode one token at a time from a prefill. A family supplies only what
 * differs (its extra inputs, its positions, what its state is called in messages).
 */
import type { Backend, GenerateResult, StateHandle, VisionOutputs } from "../backends/backend.ts";
import { NumgateError } from "../errors/numgate-error.ts";
import type { Oracle, OracleDump } from "../oracle/oracle.ts";
import { Tensor } from "../tensor/tensor.ts";
import { embedTokens } from "./embeds.ts";
import type { Prefill, ReadPlan } from "./read-plan.ts";
import type { Capability, DecodeRun } from "./session.ts";

/** The capabilities a session lacks because its backend does, each with the reason; `state` names the family's decoder state. */
export function missingFromBackend(backend: Backend, state: string): Partial<Record<Capability, string>> {
  const caps = backend.capabilities;
  const missing: Partial<Record<Capability, string>> = {};
  if (!caps.ropeTables) missing.rope_tables = `${backend.name} does not expose its rotary tables`;
  if (!caps.layerOutputs) missing.layer_outputs = `${backend.name} does not expose per-layer hidden states`;
  if (!caps.isolatedLayers) missing.isolated_layers = `${backend.name} cannot feed one layer an external input`;
  if (!caps.seededState) missing.seeded_state = `${backend.name} cannot load an external ${state}`;
  return missing;
}

export interface DecodeLoop {
  backend: Backend;
  hidden: number;
  oracle: Pick<Oracle, "manifestPath">;
  /** The prefill's last logits row (step 0's) and its state, after `seqLen` tokens. */
  lastRow: Float32Array;
  state: StateHandle;
  seqLen: number;
  /** The host's position for the token fed at this cache index. */
  decodeAt(cacheIndex: number): number[];
  /** The family's extra inputs for a one-token step. */
  extras(): Readonly<Record<string, Tensor>>;
  steps: number;
  /** The token fed after `step` (the argmax for greedy, the oracle's for teacher forcing). */
  choose(step: number, logits: Float32Array): number;
  /** A stale-cache host keeps the older state at this step: the token fed there is lost to later steps. */
  dropStateAt?: number | null;
}

/** Feeds one token at a time after the prefill; logits row i predicts step i. */
export async function decodeLoop(o: DecodeLoop): Promise<DecodeRun> {
  const V = o.lastRow.length;
  const logits: Float32Array[] = [o.lastRow];
  const tokens: number[] = [o.choose(0, o.lastRow)];
  let state = o.state;
  let cacheIndex = o.seqLen;
  for (let step = 1; step < o.steps; step++) {
    const out = await o.backend.step({
      inputsEmbeds: await embedTokens(o.backend, [tokens[step - 1] ?? 0], o.hidden, o.oracle),
      seqLen: 1,
      positionIds: Int32Array.from(o.decodeAt(cacheIndex)),
      extras: o.extras(),
      state,
      wantLayers: false,
    });
    const row = out.logits.toFloat32().slice(0, V);
    logits.push(row);
    tokens.push(o.choose(step, row));
    if (o.dropStateAt !== step) state = out.state;
    cacheIndex++;
  }
  return { logits, tokens };
}

/**
 * decodeLoop from a prompt's prefill: its state and last logits row taken through the plan
 * (ReadPlan.takeDecode), decode positions from the prefill's host positions.
 */
export function decodeFromPrefill(
  name: string,
  pre: Prefill,
  plan: ReadPlan,
  o: Omit<DecodeLoop, "lastRow" | "state" | "seqLen" | "decodeAt">,
): Promise<DecodeRun> {
  const decode = plan.takeDecode(pre);
  if (decode === undefined) throw new NumgateError("internal", `no prefill state for prompt "${name}"`);
  return decodeLoop({ ...o, ...decode, decodeAt: (c) => pre.positions.decodeAt(c) });
}

/** Rows of [n, w] tensors stacked into one [sum n, w] tensor. */
export function concatRows(ts: readonly Tensor[]): Tensor {
  const width = ts[0]?.shape[1] ?? 0;
  const data = new Float32Array(ts.reduce((a, t) => a + t.size, 0));
  let off = 0;
  for (const t of ts) {
    data.set(t.toFloat32(), off);
    off += t.size;
  }
  return Tensor.from("f32", [data.length / Math.max(1, width), width], data);
}

/**
 * The vision tower over every image of a dump's prompt, once per image as ports run it (a
 * fixed-grid tower cannot do otherwise), outputs concatenated in image order; null without images.
 * A tower exported for one grid (`fixedGrid`) given another is an error naming both grids.
 */
export async function towerPerImage(backend: Backend, dump: OracleDump, prompt: string, fixedGrid: readonly number[] | undefined): Promise<VisionOutputs | null> {
  if (!dump.has("inputs.pixel_values")) return null;
  const pixels = dump.get("inputs.pixel_values");
  const grids = dump.get("inputs.image_grid_thw").toNumbers();
  const width = pixels.shape[1] ?? 0;
  const all = pixels.toFloat32();
  const outs: VisionOutputs[] = [];
  let row = 0;
  for (let k = 0; k < grids.length / 3; k++) {
    const grid = grids.slice(3 * k, 3 * k + 3);
    if (fixedGrid !== undefined && grid.some((g, i) => g !== fixedGrid[i])) {
      throw new NumgateError(
        "candidate_invalid",
        `the candidate's vision tower was exported for grid (${fixedGrid.join(", ")}) but image ${k} of prompt "${prompt}" has grid (${grid.join(", ")}); export a tower for that grid or one with a dynamic grid`,
        { field: "vision_grid" },
      );
    }
    const rows = (grid[0] ?? 0) * (grid[1] ?? 0) * (grid[2] ?? 0);
    outs.push(await backend.vision(Tensor.from("f32", [rows, width], all.slice(row * width, (row + rows) * width)), grid));
    row += rows;
  }
  if (outs.length === 1) return outs[0] ?? null;
  const levels = outs[0]?.extra.length ?? 0;
  return {
    embeds: concatRows(outs.map((o) => o.embeds)),
    extra: Array.from({ length: levels }, (_, k) => concatRows(outs.map((o) => o.extra[k] as Tensor))),
  };
}

function rows3(xs: readonly number[]): number[][] {
  return Array.from({ length: xs.length / 3 }, (_, i) => xs.slice(3 * i, 3 * i + 3));
}

/**
 * The runtime's own generate() over a prompt or a recorded padded batch, as its users call it:
 * token ids, mask, and the processor's pixel values. As many new tokens as the oracle generated.
 * `promptDump` reads a recorded prompt's dump the way the family's session does (with its checks).
 */
export async function runtimeGenerate(backend: Backend, oracle: Oracle, name: string, promptDump: (prompt: string) => OracleDump): Promise<GenerateResult> {
  const generate = backend.generate?.bind(backend);
  if (generate === undefined) throw new NumgateError("internal", `${backend.name} has no generate()`);
  const batch = oracle.manifest.positions_batches.find((b) => b.name === name);
  const dump = batch === undefined ? promptDump(name) : oracle.dump(name);
  const idsT = dump.get("inputs.input_ids");
  const [B = 1, S = 0] = idsT.shape;
  const ids = idsT.toNumbers();
  const mask = dump.has("inputs.attention_mask") ? dump.get("inputs.attention_mask").toNumbers() : ids.map(() => 1);
  const rows = (xs: number[]) => Array.from({ length: B }, (_, b) => xs.slice(b * S, (b + 1) * S));
  // A batch dump stores no pixels; its rows are recorded prompts, whose pixels are.
  const pixelDumps = batch === undefined ? [dump] : batch.rows.map((r) => promptDump(r));
  const pixels = pixelDumps.filter((d) => d.has("inputs.pixel_values")).map((d) => d.get("inputs.pixel_values"));
  const steps = dump.get("greedy.tokens").shape.at(-1) ?? 1;
  return generate({
    inputIds: rows(ids),
    attentionMask: rows(mask),
    maxNewTokens: steps,
    ...(pixels.length === 0 || !dump.has("inputs.image_grid_thw")
      ? {}
      : {
          pixelValues: concatRows(pixels),
          imageGridThw: rows3(dump.get("inputs.image_grid_thw").toNumbers()),
        }),
  });
}
