#!/usr/bin/env node
/**
 * The floor a numgate gate run is measured against: a plain onnxruntime-node script (plain JS, so
 * no transpiling) that loads the same three graphs with the same session options and runs the
 * same inference passes the qwen3-vl ladder runs, and nothing else (no spec, no metrics, no
 * reports). Inputs come from the oracle dumps, positions included (numgate computes those itself;
 * for a healthy candidate they are the same numbers).
 *
 *   node bench/raw-ort.mjs [candidate.json [oracle-dir]]   (default: the tiny model's fp32 candidate)
 *
 * RAW_ORT_THREADS=n runs onnxruntime with n intra-op threads (numgate's `--threads n`). The last
 * line is JSON: seconds per group of passes (load, vision, prefill, seeded, teacher, greedy), the
 * raw inference each rung of numgate's ladder needs.
 *
 * Passes per prompt, as src/models/qwen3-vl/session.ts memoises them across the rungs:
 *   vision once per image; embed + one prefill; one seeded decode step from the oracle's cache
 *   (embed + decode); teacher forcing over 16 steps (15 decode steps after the prefill); greedy over
 *   24 steps (23 decode steps after the prefill). The layers rung runs a layer on the oracle's input
 *   (one prefill per layer) only from the first layer that fails, so on this healthy candidate
 *   never; RAW_ORT_ISOLATE=1 adds one isolated prefill per layer (what `isolated: always` costs).
 * Each pass fetches what numgate's session reads of it: decode steps no hidden states or rotary
 * tables, isolated prefills their hidden states alone.
 * The greedy tokens are checked against the oracle's, so the passes are known to compute the model.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ORACLE = resolve(process.argv[3] ?? join(ROOT, "oracles", "qwen3-vl-tiny"));
const TEACHER_FORCED_STEPS = 16;
const GREEDY_STEPS = 24;

/** The tensors of a .safetensors file, as typed arrays (copied, so they are aligned). */
function readSafetensors(path) {
  const buf = readFileSync(path);
  const headerLength = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLength).toString("utf8"));
  const base = 8 + headerLength;
  const tensors = new Map();
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const [start, end] = info.data_offsets;
    const bytes = new Uint8Array(buf.subarray(base + start, base + end)).buffer;
    const data = info.dtype === "F32" ? new Float32Array(bytes) : info.dtype === "I64" ? new BigInt64Array(bytes) : null;
    if (data !== null) tensors.set(name, { shape: info.shape, data });
  }
  return tensors;
}

function argmax(row) {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

const candidatePath = resolve(process.argv[2] ?? join(ORACLE, "candidates", "fp32.json"));
const candidate = JSON.parse(readFileSync(candidatePath, "utf8"));
const manifest = JSON.parse(readFileSync(join(ORACLE, "manifest.json"), "utf8"));
const { num_layers: L, num_kv_heads: kvHeads, head_dim: headDim, hidden_size: H, deepstack_levels: K } = manifest.text;
const imageTokenId = manifest.tokens.image_token_id;

// onnxruntime's environment as numgate sets it up (src/backends/onnx/runner.ts): telemetry off
// unless ORT_DISABLE_TELEMETRY is set (bench/startup.ts also times this script with it left on).
process.env.ORT_DISABLE_TELEMETRY ??= "1";
// The options of src/backends/onnx/runner.ts.
const threads = Number(process.env.RAW_ORT_THREADS ?? 1);
const sessionOptions = { executionProviders: ["cpu"], graphOptimizationLevel: "all", intraOpNumThreads: threads, interOpNumThreads: 1 };
const seconds = { load: 0, vision: 0, prefill: 0, isolated: 0, seeded: 0, teacher: 0, greedy: 0 };
const t0 = performance.now();
const graph = (role) => join(dirname(candidatePath), candidate.files[role]);
const embedSession = await ort.InferenceSession.create(graph("embed"), sessionOptions);
const visionSession = await ort.InferenceSession.create(graph("vision"), sessionOptions);
const decoderSession = await ort.InferenceSession.create(graph("decoder"), sessionOptions);
seconds.load = (performance.now() - t0) / 1000;
/** Adds the wall time of `f` to a bucket. */
async function timed(bucket, f) {
  const t = performance.now();
  try {
    return await f();
  } finally {
    seconds[bucket] += (performance.now() - t) / 1000;
  }
}
const canIsolate = decoderSession.inputNames.includes("isolate_layer");
const isolateEveryLayer = canIsolate && process.env.RAW_ORT_ISOLATE === "1";

const runs = { embed: 0, vision: 0, decoder: 0 };

async function embed(ids) {
  runs.embed++;
  const out = await embedSession.run({ [embedSession.inputNames[0]]: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, ids.length]) });
  return out[embedSession.outputNames[0]].data;
}

/** One decoder pass; `positions` is [3][S] (T, H, W planes), `cache` null for a prefill. */
async function decode({ inputsEmbeds, seqLen, positions, deepstack, cache, isolate }) {
  runs.decoder++;
  const emptyCache = () => new ort.Tensor("float32", new Float32Array(0), [L, 1, kvHeads, 0, headDim]);
  const feeds = {
    inputs_embeds: new ort.Tensor("float32", inputsEmbeds, [1, seqLen, H]),
    position_ids: new ort.Tensor("int64", positions, [3, 1, seqLen]),
    deepstack: new ort.Tensor("float32", deepstack, [K, 1, seqLen, H]),
    past_keys: cache?.keys ?? emptyCache(),
    past_values: cache?.values ?? emptyCache(),
  };
  if (canIsolate) {
    feeds.isolate_layer = new ort.Tensor("int64", BigInt64Array.of(BigInt(isolate?.layer ?? -1)), [1]);
    feeds.isolate_input = new ort.Tensor("float32", isolate?.input ?? new Float32Array(seqLen * H), [1, seqLen, H]);
  }
  if (isolate !== undefined) return (await decoderSession.run(feeds, ["hidden_states"])).hidden_states.data;
  const fetches = ["logits", "present_keys", "present_values", ...(cache === null ? decoderSession.outputNames.filter((n) => n === "hidden_states" || n.startsWith("rope_")) : [])];
  const out = await decoderSession.run(feeds, fetches);
  return { logits: out.logits.data, cache: { keys: out.present_keys, values: out.present_values } };
}

/** Feeds one token after the prefill per step; `choose` picks step i's token from its logits row. */
async function decodeRun(prefill, S, decodePositions, steps, choose) {
  const V = prefill.logits.length / S;
  const tokens = [choose(0, prefill.logits.subarray((S - 1) * V))];
  let cache = prefill.cache;
  for (let step = 1; step < steps; step++) {
    const out = await decode({
      inputsEmbeds: await embed([tokens[step - 1]]),
      seqLen: 1,
      positions: decodePositions(step - 1),
      deepstack: new Float32Array(K * H),
      cache,
    });
    tokens.push(choose(step, out.logits));
    cache = out.cache;
  }
  return tokens;
}

let mismatches = 0;
for (const prompt of manifest.prompts) {
  const dump = readSafetensors(join(ORACLE, prompt.file));
  const ids = Array.from(dump.get("inputs.input_ids").data, Number);
  const S = ids.length;
  const prefillPositions = dump.get("positions.prefill").data;
  const recordedDecode = dump.get("positions.decode"); // [3, 1, steps]: the position of decode step k
  const decodeSteps = recordedDecode.shape[2];
  const decodePositions = (k) => BigInt64Array.from([0, 1, 2], (p) => recordedDecode.data[p * decodeSteps + k]);

  // Vision tower once per image, then the image rows spliced into the token embeddings.
  const inputsEmbeds = await embed(ids);
  const deepstack = new Float32Array(K * S * H);
  if (dump.has("inputs.pixel_values")) {
    const pixels = dump.get("inputs.pixel_values");
    const width = pixels.shape[1];
    const grids = Array.from(dump.get("inputs.image_grid_thw").data, Number);
    const slots = ids.flatMap((t, i) => (t === imageTokenId ? [i] : []));
    let row = 0;
    for (let k = 0; k < grids.length / 3; k++) {
      const rows = grids[3 * k] * grids[3 * k + 1] * grids[3 * k + 2];
      runs.vision++;
      const out = await timed("vision", () => visionSession.run({
        [visionSession.inputNames[0]]: new ort.Tensor("float32", pixels.data.slice(row * width, (row + rows) * width), [rows, width]),
      }));
      row += rows;
      const [embeds, ...levels] = visionSession.outputNames.map((n) => out[n].data);
      const imageSlots = slots.splice(0, embeds.length / H);
      imageSlots.forEach((pos, r) => inputsEmbeds.set(embeds.subarray(r * H, (r + 1) * H), pos * H));
      levels.slice(0, K).forEach((level, l) => imageSlots.forEach((pos, r) => deepstack.set(level.subarray(r * H, (r + 1) * H), (l * S + pos) * H)));
    }
  }

  const prefill = await timed("prefill", () => decode({ inputsEmbeds, seqLen: S, positions: prefillPositions, deepstack, cache: null }));

  // layers rung with isolated: always: each layer run on the oracle's input to it.
  if (isolateEveryLayer) {
    for (let layer = 0; layer < L; layer++) {
      const input = dump.get(layer === 0 ? "decoder.inputs_embeds" : `decoder.hidden.${layer - 1}`).data;
      await timed("isolated", () => decode({ inputsEmbeds, seqLen: S, positions: prefillPositions, deepstack, cache: null, isolate: { layer, input } }));
    }
  }

  // seeded_decode rung: one step from the oracle's own prefill cache.
  const oracleGreedy = Array.from(dump.get("greedy.tokens").data, Number);
  const seedKeys = dump.get("cache.keys");
  const seedValues = dump.get("cache.values");
  await timed("seeded", async () => decode({
    inputsEmbeds: await embed([oracleGreedy[0]]),
    seqLen: 1,
    positions: decodePositions(0),
    deepstack: new Float32Array(K * H),
    cache: { keys: new ort.Tensor("float32", seedKeys.data, seedKeys.shape), values: new ort.Tensor("float32", seedValues.data, seedValues.shape) },
  }));

  // teacher_forced and greedy rungs, both continuing from the one prefill.
  const forced = Array.from(dump.get("teacher.tokens").data, Number);
  await timed("teacher", () => decodeRun(prefill, S, decodePositions, Math.min(TEACHER_FORCED_STEPS, forced.length), (step) => forced[step]));
  const greedy = await timed("greedy", () => decodeRun(prefill, S, decodePositions, GREEDY_STEPS, (_step, row) => argmax(row)));
  if (greedy.some((t, i) => t !== oracleGreedy[i])) {
    mismatches++;
    process.stderr.write(`raw-ort: ${prompt.name}: greedy tokens ${greedy.join(" ")} differ from the oracle's ${oracleGreedy.join(" ")}\n`);
  }
}

await Promise.all([embedSession.release(), visionSession.release(), decoderSession.release()]);
process.stdout.write(`raw-ort: ${manifest.prompts.length} prompts, ${runs.vision} vision, ${runs.embed} embed, ${runs.decoder} decoder passes${mismatches === 0 ? ", greedy as the oracle" : ""}\n`);
process.stdout.write(`${JSON.stringify({ threads, seconds: Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, Math.round(v * 1000) / 1000])) })}\n`);
process.exitCode = mismatches === 0 ? 0 : 1;
