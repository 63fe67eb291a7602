/**
 * The ladder at Qwen3-VL-4B shapes (36 layers, hidden 2560, 8 KV heads of 128, vocab 151,936),
 * three text prompts of 211 tokens: a synthetic oracle written with numgate's own safetensors
 * writer into a temp dir (the real format, synthetic values, ~0.5 GB), and a backend that answers
 * with outputs of the real shapes (the oracle's own values, so every rung passes and every metric
 * runs at full size; a fresh KV cache per step, as onnxruntime-node returns every output in a new
 * ArrayBuffer). Inference itself is not modelled: the figures are numgate's own cost at that size.
 * Each backend call resolves through the event loop, as an onnxruntime-node run does (its result
 * comes back from a worker thread): a backend that resolved in microtasks alone would keep the
 * whole ladder in one job, and V8 keeps every WeakRef target read during a job alive until it
 * ends, so the oracle tensors numgate reads through WeakRefs (src/tensor/safetensors.ts) were never
 * released and peak RSS was ~2x what a real runtime gives.
 *
 * The ladder runs in a child process so that writing the oracle does not count: per-rung time,
 * the child's peak RSS (the kernel's high-water mark, and the largest of samples taken every
 * 10 ms), against the largest tensor set one rung reads (candidate outputs and oracle tensors of
 * all its prompts; per prompt too, which is what a run that releases each prompt's outputs needs).
 * Target: peak RSS < 1.5x that set.
 *
 *   npx tsx bench/scaled.ts
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { setImmediate as macrotask } from "node:timers/promises";
import type { Backend, BackendCapabilities, StateHandle, StepInputs, StepOutputs, VisionOutputs } from "../src/backends/backend.ts";
import { isGateKind } from "../src/gates/registry.ts";
import { runLadder, type RungPlan } from "../src/ladder/run.ts";
import { loadFamily } from "../src/models/registry.ts";
import type { Qwen3VLOracleManifest } from "../src/models/qwen3-vl/manifest.ts";
import { Oracle } from "../src/oracle/oracle.ts";
import { LadderSchema } from "../src/spec/ladder.ts";
import { loadYamlFile } from "../src/spec/yaml.ts";
import { writeSafetensorsSync } from "../src/tensor/safetensors.ts";
import { Tensor } from "../src/tensor/tensor.ts";

const ROOT = resolve(import.meta.dirname, "..");
const L = 36;
const H = 2560;
const KV = 8;
const HD = 128;
const V = 151_936;
const S = 211;
const PROMPTS = 3;
const TF = 16;
const GREEDY = 24;
const MB = 1024 * 1024;

/** Deterministic values in [-1, 1): the figures do not depend on them. */
function noise(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) / 2147483648 - 1;
  }
  return out;
}

/** A logits row whose top-1 is `token`, by a margin of 1. */
function rowFor(token: number, seed: number): Float32Array {
  const row = noise(V, seed);
  row[token] = 2;
  return row;
}

const f32 = (shape: number[], data: Float32Array) => Tensor.from("f32", shape, data);
const i64 = (shape: number[], xs: number[]) => Tensor.from("i64", shape, BigInt64Array.from(xs, (v) => BigInt(v)));

/** Writes the oracle (manifest + one dump per prompt), one prompt's tensors in memory at a time. */
function writeOracle(dir: string): void {
  mkdirSync(join(dir, "prompts"), { recursive: true });
  const tiny = JSON.parse(readFileSync(join(ROOT, "oracles", "qwen3-vl-tiny", "manifest.json"), "utf8")) as Qwen3VLOracleManifest;
  const prompts = [];
  for (let p = 0; p < PROMPTS; p++) {
    const name = `text-${p}`;
    const ids = Array.from({ length: S }, (_, i) => 1000 + ((i * 7919 + p * 104729) % 100_000));
    const greedy = Array.from({ length: GREEDY }, (_, i) => 2000 + p * 100 + i);
    const positions = [0, 1, 2].flatMap(() => Array.from({ length: S }, (_, i) => i));
    const decodePositions = [0, 1, 2].flatMap(() => Array.from({ length: GREEDY - 1 }, (_, k) => S + k));
    const tensors: Record<string, Tensor> = {
      "inputs.input_ids": i64([1, S], ids),
      "inputs.mm_token_type_ids": i64([1, S], ids.map(() => 0)),
      "positions.prefill": i64([3, 1, S], positions),
      "positions.get_rope_index": i64([3, 1, S], positions),
      "positions.decode": i64([3, 1, GREEDY - 1], decodePositions),
      "positions.rope_delta": i64([1, 1], [0]),
      "greedy.tokens": i64([GREEDY], greedy),
      "teacher.tokens": i64([TF], greedy.slice(0, TF)),
      "cache.keys": f32([L, 1, KV, S, HD], noise(L * KV * S * HD, 11 + p)),
      "cache.values": f32([L, 1, KV, S, HD], noise(L * KV * S * HD, 13 + p)),
      "decoder.inputs_embeds": f32([S, H], noise(S * H, 17 + p)),
      "decoder.prefill_logits": f32([1, V], rowFor(greedy[0] ?? 0, 19 + p)),
      "teacher.logits": f32([TF, V], concat(Array.from({ length: TF }, (_, k) => rowFor(greedy[k] ?? 0, 100 * p + k)))),
      "teacher.margins": f32([TF], new Float32Array(TF).fill(1)),
      "greedy.logits": f32([TF, V], concat(Array.from({ length: TF }, (_, k) => rowFor(greedy[k] ?? 0, 100 * p + k)))),
      "greedy.margins": f32([GREEDY], new Float32Array(GREEDY).fill(1)),
    };
    for (let i = 0; i < L; i++) tensors[`decoder.hidden.${i}`] = f32([S, H], noise(S * H, 1000 * p + i + 1));
    writeSafetensorsSync(join(dir, "prompts", `${name}.safetensors`), tensors, { model: "qwen3-vl-4b-shaped", numgate_format: "numgate.oracle/1" });
    prompts.push({
      name, kind: "text", sequence_length: S, image_tokens: 0, rope_delta: 0, file: `prompts/${name}.safetensors`, text: `synthetic prompt ${p}`,
      greedy_tokens: greedy, min_margin_teacher_forced: 1, min_margin_greedy: 1,
    });
  }
  const manifest = {
    ...tiny,
    model: "qwen3-vl-4b-shaped",
    text: { ...tiny.text, num_layers: L, hidden_size: H, num_heads: 32, num_kv_heads: KV, head_dim: HD, vocab_size: V, mrope_section: [24, 20, 20] },
    tokens: { image_token_id: 151655, video_token_id: 151656, vision_start_token_id: 151652, vision_end_token_id: 151653 },
    prompts,
    positions_batches: [],
  };
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest, null, 2));
}

function concat(rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows.reduce((a, r) => a + r.length, 0));
  let off = 0;
  for (const r of rows) {
    out.set(r, off);
    off += r.length;
  }
  return out;
}

interface ScaledState extends StateHandle {
  prompt: number;
  keys: Float32Array;
  values: Float32Array;
}

/**
 * Outputs of the real shapes, with the oracle's values: the prefill returns full-sequence logits,
 * every layer's hidden state and a KV cache; each decode step a new cache one token longer, as
 * onnxruntime returns a fresh `present` tensor, and a logits row whose top-1 is the oracle's token.
 */
class ScaledBackend implements Backend {
  readonly name = "4B-shaped synthetic backend";
  readonly capabilities: BackendCapabilities = { layerOutputs: true, isolatedLayers: true, ropeTables: false, seededState: true };
  private readonly byFirstId = new Map<number, number>();

  constructor(private readonly oracle: Oracle<Qwen3VLOracleManifest>) {
    oracle.prompts.forEach((p, k) => this.byFirstId.set(oracle.dump(p.name).get("inputs.input_ids").toNumbers()[0] ?? -1, k));
  }

  get inferenceSeconds(): number {
    return 0;
  }

  async embed(ids: readonly number[]): Promise<Float32Array> {
    await macrotask(); // a real run resolves through the event loop (see the module doc)
    // The first value says which prompt this is: at prefill by its first id, in decode by the
    // token fed (the synthetic greedy tokens of prompt p are 2000 + 100p + step).
    const out = new Float32Array(ids.length * H);
    out[0] = ids.length > 1 ? (this.byFirstId.get(ids[0] ?? -1) ?? -1) : Math.floor(((ids[0] ?? 0) - 2000) / 100);
    return out;
  }

  async vision(): Promise<VisionOutputs> {
    throw new Error("text prompts only");
  }

  private dump(prompt: number) {
    const meta = this.oracle.prompts[prompt];
    if (meta === undefined) throw new Error(`no prompt ${prompt}`);
    return this.oracle.dump(meta.name);
  }

  async step(x: StepInputs): Promise<StepOutputs> {
    await macrotask();
    const prev = x.state as ScaledState | null;
    // A state seeded from the oracle's cache does not know its prompt; the token fed does.
    const prompt = prev === null || prev.prompt < 0 ? (x.inputsEmbeds[0] ?? 0) : prev.prompt;
    const dump = this.dump(prompt);
    const length = (prev?.length ?? 0) + x.seqLen;
    const kvSize = L * KV * length * HD;
    const state: ScaledState = { prompt, length, keys: new Float32Array(kvSize), values: new Float32Array(kvSize) };
    if (prev === null) {
      const hidden = new Float32Array(L * S * H);
      for (let i = 0; i < L; i++) hidden.set(dump.get(`decoder.hidden.${i}`).toFloat32(), i * S * H);
      const logits = new Float32Array(S * V);
      logits.set(dump.get("decoder.prefill_logits").toFloat32(), (S - 1) * V);
      return { logits: f32([1, S, V], logits), hidden: f32([L, 1, S, H], hidden), state };
    }
    const step = length - S; // the step whose logits this row is
    const token = dump.get("greedy.tokens").toNumbers()[step] ?? 0;
    const out: StepOutputs = { logits: f32([1, 1, V], rowFor(token, 100 * prompt + step)), state };
    if (x.wantLayers !== false) out.hidden = f32([L, 1, 1, H], new Float32Array(L * H));
    return out;
  }

  async seedState(_tensors: ReadonlyMap<string, Tensor>, length: number): Promise<StateHandle> {
    return { prompt: -1, length, keys: new Float32Array(0), values: new Float32Array(0) } as ScaledState;
  }

  async close(): Promise<void> {}
}

/** Bytes each rung reads, per prompt: the candidate's outputs it reads plus the oracle tensors. */
function tensorSets(): { rung: string; perPrompt: number; all: number }[] {
  const f = 4;
  const kv = 2 * L * KV * S * HD * f;
  const hidden = L * S * H * f;
  const prefillOutputs = S * V * f + hidden + kv; // what the prefill returns, read by layers (hidden) and kept for decode (state)
  const rows = (n: number) => n * V * f;
  const sets = [
    { rung: "positions", perPrompt: 6 * 3 * S * 8 },
    { rung: "layers", perPrompt: prefillOutputs + hidden /* oracle */ },
    { rung: "seeded_decode", perPrompt: 2 * kv + rows(2) },
    // The prefill's cache and the one a step returns; the candidate's logits rows and the oracle's.
    { rung: "teacher_forced", perPrompt: 2 * kv + rows(2 * TF) },
    { rung: "greedy", perPrompt: 2 * kv + rows(GREEDY + TF) },
  ];
  return sets.map((s) => ({ ...s, all: s.perPrompt * PROMPTS }));
}

/** The child: runs the ladder over the oracle in `dir`, prints one JSON line of figures. */
async function child(dir: string): Promise<void> {
  let sampled = process.memoryUsage().rss;
  const sampler = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage().rss)), 10);
  const family = await loadFamily("qwen3-vl");
  const oracle = Oracle.open(dir, family.oracleSchema) as Oracle<Qwen3VLOracleManifest>;
  const ladder = loadYamlFile(join(ROOT, "ladders", "qwen3-vl.yaml"), LadderSchema, "ladder");
  // The rungs a gate run plans (src/run/resolve.ts planRungs) for a spec that asks for no opt-in
  // rung: engine_vs_reference and repeat would only be skipped here, and their reads would keep
  // every prompt's decode state to the end.
  const plans: RungPlan[] = ladder.rungs
    .filter((r) => isGateKind(r.kind) && !r.opt_in)
    .map((spec) => ({ spec, thresholds: { ...spec.thresholds } as Record<string, number>, options: { ...spec.options } }));
  const session = family.openSession(new ScaledBackend(oracle), oracle, family.candidateSchema.parse({ runtime: {} }));
  const baseline = process.memoryUsage().rss;
  const t0 = performance.now();
  // The high-water mark of each rung: the sampled maximum while it ran.
  const rungPeaks: number[] = [];
  const result = await runLadder(ladder, plans, session, oracle, {
    keepGoing: true,
    candidate: "4b-shaped fake",
    prompts: oracle.prompts.map((p) => p.name),
    onRungStart: () => (sampled = process.memoryUsage().rss),
    onRungDone: () => rungPeaks.push(Math.max(sampled, process.memoryUsage().rss)),
  });
  const total = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  sampled = Math.max(sampled, process.memoryUsage().rss);
  const figures = {
    rungs: result.rungs.map((r, i) => ({ id: r.id, verdict: r.verdict, seconds: r.duration_s, message: r.message, peakRss: rungPeaks[i] ?? 0 })),
    total,
    baselineRss: baseline,
    peakRssSampled: sampled,
    peakRssKernel: process.resourceUsage().maxRSS * 1024,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

interface ChildFigures {
  rungs: { id: string; verdict: string; seconds: number; message: string; peakRss: number }[];
  total: number;
  baselineRss: number;
  peakRssSampled: number;
  peakRssKernel: number;
}

/**
 * The ladder's peak RSS moves from run to run by when V8 collects the per-step KV caches a decode
 * leaves behind (~31 MB each at these shapes, the size where glibc serves them from its heap and
 * zeroes recycled pages): the child runs NUMGATE_BENCH_SCALED_RUNS times (default 3) and the figures
 * are the min and median over the runs; the per-rung lines are the median run's.
 */
export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "numgate-bench-4b-"));
  try {
    const t0 = performance.now();
    writeOracle(dir);
    const writeSeconds = (performance.now() - t0) / 1000;
    const runs = Math.max(1, Number(process.env["NUMGATE_BENCH_SCALED_RUNS"] ?? 3));
    const all: ChildFigures[] = [];
    for (let i = 0; i < runs; i++) {
      const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "bench", "scaled.ts"), "--child", dir], { cwd: ROOT, encoding: "utf8", maxBuffer: 16 * MB });
      if (r.status !== 0) throw new Error(`the 4B-shaped child failed (${String(r.status)}):\n${r.stderr}`);
      all.push(JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as ChildFigures);
    }
    const peakOf = (f: ChildFigures) => Math.max(f.peakRssKernel, f.peakRssSampled);
    const byPeak = [...all].sort((a, b) => peakOf(a) - peakOf(b));
    const f = byPeak[Math.floor((byPeak.length - 1) / 2)] as ChildFigures;
    const lowest = byPeak[0] as ChildFigures;
    const sets = tensorSets();
    const largest = sets.reduce((a, b) => (b.all > a.all ? b : a));
    const largestPerPrompt = sets.reduce((a, b) => (b.perPrompt > a.perPrompt ? b : a));
    const mb = (b: number) => `${(b / MB).toFixed(0)} MB`;
    const peak = peakOf(f);
    const minPeak = peakOf(lowest);
    console.log(`4B-shaped ladder (${L} layers, hidden ${H}, vocab ${V}, ${PROMPTS} prompts x ${S} tokens; synthetic oracle written in ${writeSeconds.toFixed(1)} s, no inference; ${runs} runs, the median run's rungs)`);
    for (const rung of f.rungs) {
      const set = sets.find((s) => s.rung === rung.id);
      console.log(
        `  ${rung.id.padEnd(16)} ${`${(rung.seconds * 1000).toFixed(0)} ms`.padStart(9)}  peak RSS ${mb(rung.peakRss).padStart(7)}` +
          `${set === undefined ? "" : `  reads ${mb(set.all).padStart(7)} (${mb(set.perPrompt)} a prompt)`}  ${rung.verdict}`,
      );
    }
    console.log(`  ${"total".padEnd(16)} ${`${(f.total * 1000).toFixed(0)} ms`.padStart(9)}`);
    console.log(`  largest single-rung tensor set: ${largest.rung}, ${mb(largest.all)} over ${PROMPTS} prompts (${mb(largestPerPrompt.perPrompt)} per prompt)`);
    console.log(`  peak RSS min ${mb(minPeak)}, median ${mb(peak)} over ${runs} runs (median run: kernel high-water ${mb(f.peakRssKernel)}, sampled ${mb(f.peakRssSampled)}; ${mb(f.baselineRss)} before the ladder, node + modules)`);
    console.log(`  peak RSS / largest single-rung set: min ${(minPeak / largest.all).toFixed(2)}x, median ${(peak / largest.all).toFixed(2)}x (target < 1.5x)${peak < 1.5 * largest.all ? "" : "  OVER TARGET"}`);
    console.log(
      `  peak RSS / largest single-rung set of one prompt: min ${(minPeak / largestPerPrompt.perPrompt).toFixed(2)}x, median ${(peak / largestPerPrompt.perPrompt).toFixed(2)}x` +
        ` (median run ${mb(peak - f.baselineRss)} above node + modules: ${((peak - f.baselineRss) / largestPerPrompt.perPrompt).toFixed(2)}x)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf("--child");
  if (at >= 0) await child(process.argv[at + 1] ?? "");
  else await run();
}
