/**
 * getRopeIndex throughput on one core (no workers), on the same layouts that
 * oracles/record/rope_vectors.py --bench times transformers on:
 * - one qwen3-vl prompt with a 256-frame video, each frame grid (1, 28, 28) at merge 2 (196 tokens + timestamp
 *   text + vision_start/end): 51,748 tokens;
 * - a batch of 8 x 3,700 slots, left padding 16 * row, two (1, 76, 76) images (1,444 tokens each) a row.
 */
import { getRopeIndex, type RopeIndexInput } from "../src/rope/get-rope-index.ts";

/** Qwen token ids: image and video pads, vision start and end, text padding. Shared with tests/rope. */
export const IMG = 151655;
export const VID = 151656;
export const VS = 151652;
export const VE = 151653;
export const PAD = 151643;

/** A qwen3-vl input (merge 2, the ids above) of `batchSize` x `seqLen` `inputIds`, with `extra` on top. Shared with tests/rope. */
export function qwen3VlInput(inputIds: Int32Array, batchSize: number, seqLen: number, extra: Partial<RopeIndexInput> = {}): RopeIndexInput {
  return {
    family: "qwen3-vl",
    imageTokenId: IMG,
    videoTokenId: VID,
    visionStartTokenId: VS,
    spatialMergeSize: 2,
    batchSize,
    seqLen,
    inputIds,
    ...extra,
  };
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % 151000;
  };
}

function types(ids: Int32Array): Int32Array {
  return ids.map((id) => (id === IMG ? 1 : id === VID ? 2 : 0));
}

export function videoPrompt(): RopeIndexInput {
  const rnd = lcg(7);
  const row: number[] = [];
  const txt = (n: number) => {
    for (let i = 0; i < n; i++) row.push(rnd());
  };
  txt(14);
  row.push(VS);
  for (let f = 0; f < 256; f++) {
    txt(4);
    row.push(VS);
    for (let i = 0; i < 196; i++) row.push(VID);
    row.push(VE);
  }
  row.push(VE);
  txt(20);
  const ids = Int32Array.from(row);
  return qwen3VlInput(ids, 1, ids.length, { mmTokenTypeIds: types(ids), videoGridThw: Int32Array.from([256, 28, 28]) });
}

export function batchPrompt(): RopeIndexInput {
  const rnd = lcg(8);
  const B = 8;
  const S = 3700;
  const ids = new Int32Array(B * S);
  const mask = new Int32Array(B * S);
  const grids: number[] = [];
  for (let r = 0; r < B; r++) {
    const n = S - 16 * r;
    const row: number[] = [];
    const txt = (k: number) => {
      for (let i = 0; i < k; i++) row.push(rnd());
    };
    const img = () => {
      row.push(VS);
      for (let i = 0; i < 1444; i++) row.push(IMG);
      row.push(VE);
      grids.push(1, 76, 76);
    };
    txt(20);
    img();
    txt(300);
    img();
    txt(n - 20 - 300 - 2 * 1446);
    for (let j = 0; j < S - n; j++) ids[r * S + j] = PAD;
    for (let j = 0; j < n; j++) {
      ids[r * S + S - n + j] = row[j]!;
      mask[r * S + S - n + j] = 1;
    }
  }
  return qwen3VlInput(ids, B, S, { mmTokenTypeIds: types(ids), attentionMask: mask, imageGridThw: Int32Array.from(grids) });
}

export interface RopeBenchResult {
  name: string;
  tokens: number;
  bestSeconds: number;
  tokensPerSecond: number;
}

function timeBest(input: RopeIndexInput, minRuns: number, minSeconds: number): number {
  let best = Infinity;
  const t0 = performance.now();
  for (let i = 0; i < minRuns || performance.now() - t0 < minSeconds * 1000; i++) {
    const a = performance.now();
    getRopeIndex(input);
    const dt = (performance.now() - a) / 1000;
    if (dt < best) best = dt;
  }
  return best;
}

export function measureRope(): RopeBenchResult[] {
  const out: RopeBenchResult[] = [];
  for (const [name, input] of [
    ["qwen3-vl 256-frame video prompt", videoPrompt()],
    ["qwen3-vl batch 8 x 3.7k", batchPrompt()],
  ] as const) {
    // warm-up lets the JIT settle before timing
    timeBest(input, 20, 0.2);
    const best = timeBest(input, 50, 0.5);
    const tokens = input.batchSize * input.seqLen;
    out.push({ name, tokens, bestSeconds: best, tokensPerSecond: tokens / best });
  }
  return out;
}

export async function run(): Promise<void> {
  for (const r of measureRope()) {
    console.log(
      `rope ${r.name}: ${r.tokens} tokens, best ${(r.bestSeconds * 1e3).toFixed(3)} ms, ` +
        `${(r.tokensPerSecond / 1e6).toFixed(1)} M tokens/s (one core)`,
    );
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) void run();
