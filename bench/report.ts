/**
 * Report rendering benchmark: the SHAPE of a full Qwen3-VL run (36 layers, 211 prompt tokens,
 * 16 teacher-forced steps, 24 greedy tokens), rendered to JSON + JUnit + HTML.
 * Targets: all three renderings in < 1 s, HTML < 2 MB.
 *
 *   npx tsx bench/report.ts
 */
import { pathToFileURL } from "node:url";
import { serializeReport } from "../src/report/json.ts";
import { renderJunit } from "../src/report/junit.ts";
import { renderHtml } from "../src/report/html.ts";
import type { Report, Rung } from "../src/report/schema.ts";

const LAYERS = 36;
const TOKENS = 211;
const TF_STEPS = 16;
const GREEDY = 24;

function hex64(seed: number): string {
  let s = "";
  let x = seed >>> 0 || 1;
  while (s.length < 64) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    s += x.toString(16).padStart(8, "0");
  }
  return s.slice(0, 64);
}

/** A report with the size and shape of a 36-layer, 211-token run (two candidates, one failing). */
export function syntheticReport(opts: { layers?: number; tokens?: number; candidates?: string[]; prompts?: number } = {}): Report {
  const L = opts.layers ?? LAYERS;
  const T = opts.tokens ?? TOKENS;
  const candidates = opts.candidates ?? ["fp32", "int8"];
  const nPrompts = opts.prompts ?? 1;
  let seed = 12345;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const runs = candidates.map((candidate, ci) => {
    const bad = ci > 0;
    const prompts = Array.from({ length: nPrompts }, (_, i) => `prompt-${i}`);
    const rungs: Rung[] = [];
    rungs.push({
      id: "positions", kind: "positions", title: "M-RoPE positions", verdict: bad ? "fail" : "pass",
      message: bad ? "prefill: token 14 plane h expected 3 actual 14" : `${T} tokens integer-exact`,
      duration_s: 0.05, depends_on: [], thresholds: { max_mismatches: 0 }, units: {},
      prompts: prompts.map((prompt) => ({
        prompt, verdict: bad ? "fail" as const : "pass" as const, message: bad ? "prefill: token 14 plane h expected 3 actual 14" : "ok",
        evidence: {
          kind: "positions" as const,
          checks: ["prefill", "decode", "engine-formula", "rope-tables"].map((name, k) => {
            const rows = bad && k === 0
              ? Array.from({ length: 32 }, (_, r) => ({ token: 14 + r, token_id: 151655, expected: [14, 3 + (r >> 3), 2 + (r & 7)] as [number, number, number], actual: [14 + r, 14 + r, 14 + r] as [number, number, number] }))
              : [];
            return {
              name, compared: T * 3, mismatches: rows.length ? 140 : 0, expressible: true,
              ...(rows.length ? { first: { token: 14, plane: "h" as const, expected: 3, actual: 14 } } : {}),
              rows,
            };
          }),
        },
      })),
    });
    rungs.push({
      id: "vision", kind: "vision", title: "Vision tower", verdict: "pass", message: "ok", duration_s: 0.3, depends_on: [],
      thresholds: { min_cos: 0.9999 }, units: {},
      prompts: prompts.map((prompt) => ({
        prompt, verdict: "pass" as const, message: "ok",
        evidence: {
          kind: "vision" as const,
          tensors: Array.from({ length: 27 }, (_, k) => ({
            name: `vision.blocks.${k}`, rows: 1024, cos: 1 - 1e-7 * (1 + rnd()), cos_worst_row: 1 - 1e-6 * (1 + rnd()),
            worst_row: Math.floor(rnd() * 1024), max_abs: 1e-3 * rnd(), rel_l2: 1e-4 * rnd(), verdict: "pass" as const,
          })),
        },
      })),
    });
    rungs.push({
      id: "layers", kind: "layers", title: "Per-layer cosine", verdict: bad ? "fail" : "pass",
      message: bad ? "layer 17 token 88: cos 0.99987 < 0.99999" : "ok", duration_s: 1.2, depends_on: ["positions"],
      thresholds: { min_cos: 0.99999, min_cos_worst_row: 0.9999 }, units: {},
      prompts: prompts.map((prompt) => {
        const layers = Array.from({ length: L }, (_, l) => {
          const d = (bad && l >= 17 ? 1e-4 : 1e-7) * (1 + l / 10) * (1 + rnd());
          return {
            layer: l, cos: 1 - d, cos_worst_row: 1 - 8 * d, worst_token: Math.floor(rnd() * T), max_abs: d * 1e3,
            rel_l2: Math.sqrt(2 * d),
            // Isolated errors are computed from the first failing layer on (the layers rung's default).
            ...(bad && l >= 17 ? { isolated_cos: l === 17 ? 1 - d / 3 : 1 - 1e-7 } : {}),
            verdict: (1 - d < 0.99999 ? "fail" : "pass") as "fail" | "pass",
          };
        });
        return {
          prompt, verdict: bad ? "fail" as const : "pass" as const, message: bad ? "layer 17 token 88" : "ok",
          evidence: {
            kind: "layers" as const, mode: bad ? "isolated" as const : "cumulative" as const, layers,
            ...(bad ? { first_failing: { layer: 17, token: 88, cos: 0.99987 }, first_failing_isolated: { layer: 17, token: 88, cos: 0.9999 } } : {}),
          },
        };
      }),
    });
    rungs.push({
      id: "teacher_forced", kind: "teacher_forced", title: "Teacher-forced top-1", verdict: bad ? "fail" : "pass",
      message: bad ? "step 5: oracle 1234 candidate 4321 (margin 2.1 logits)" : "16/16", duration_s: 0.8, depends_on: ["layers"],
      thresholds: { min_matches: TF_STEPS }, units: { margin: "logits" },
      prompts: prompts.map((prompt) => {
        const steps = Array.from({ length: TF_STEPS }, (_, s) => ({
          step: s, oracle_token: 1000 + s, candidate_token: bad && s === 5 ? 4321 : 1000 + s, oracle_margin: 2 + rnd(), kl: 1e-4 * rnd(),
          topk_overlap: 1, match: !(bad && s === 5), near_tie: false, waived: false,
        }));
        return {
          prompt, verdict: bad ? "fail" as const : "pass" as const, message: "tf",
          evidence: { kind: "teacher_forced" as const, steps, matches: steps.filter((s) => s.match).length, total: TF_STEPS, near_tie_flips: 0, min_oracle_margin: Math.min(...steps.map((s) => s.oracle_margin)), k: 5 },
        };
      }),
    });
    rungs.push({
      id: "greedy", kind: "greedy", title: "Greedy rollout", verdict: bad ? "fail" : "pass", message: bad ? "step 9 diverged" : "24/24",
      duration_s: 2.5, depends_on: ["teacher_forced"], thresholds: { min_matches: GREEDY }, units: { margin: "logits" },
      prompts: prompts.map((prompt) => {
        const o = Array.from({ length: GREEDY }, (_, i) => 2000 + i);
        const c = o.map((t, i) => (bad && i >= 9 ? t + 7 : t));
        return {
          prompt, verdict: bad ? "fail" as const : "pass" as const, message: "greedy",
          evidence: {
            kind: "greedy" as const, oracle_tokens: o, candidate_tokens: c, matches: c.filter((t, i) => t === o[i]).length, total: GREEDY,
            ...(bad ? { first_divergence: { step: 9, oracle_token: 2009, candidate_token: 2016, oracle_margin: 0.4 } } : {}), tolerance: "exact" as const,
          },
        };
      }),
    });
    return {
      id: `qwen3-vl-2b/${candidate}`, model: "qwen3-vl-2b", candidate, spec_file: "gates/qwen3-vl-2b.yaml", ladder: "default", ladder_file: "ladders/default.yaml",
      oracle: { dir: "oracles/record/qwen3-vl-2b", transformers: "4.57.1", torch: "2.8.0", source: "Qwen/Qwen3-VL-2B-Instruct" },
      files: [
        { path: "gates/qwen3-vl-2b.yaml", sha256: hex64(1), role: "spec" as const },
        { path: "ladders/default.yaml", sha256: hex64(2), role: "ladder" as const },
        { path: "oracles/record/qwen3-vl-2b/hidden_states.safetensors", sha256: hex64(3), role: "oracle" as const },
        { path: `candidates/qwen3-vl-2b/model.${candidate}.onnx`, sha256: hex64(4 + ci), role: "candidate" as const },
      ],
      verdict: bad ? "fail" as const : "pass" as const, duration_s: 5, rungs,
    };
  });
  return {
    schema: "numgate.report", version: 1, generated_at: "2025-01-01T00:00:00.000Z",
    environment: { numgate: "0.1.0", node: process.version, onnxruntime: "1.30.0", platform: `${process.platform}-${process.arch}` },
    runs,
  };
}

export interface RenderTiming {
  ms: number;
  jsonBytes: number;
  junitBytes: number;
  htmlBytes: number;
}

/** Renders json + junit + html once and measures it. */
export function renderOnce(report: Report): RenderTiming {
  const t0 = performance.now();
  const json = serializeReport(report);
  const junit = renderJunit(report);
  const html = renderHtml(report);
  const ms = performance.now() - t0;
  return { ms, jsonBytes: Buffer.byteLength(json), junitBytes: Buffer.byteLength(junit), htmlBytes: Buffer.byteLength(html) };
}

export async function run(): Promise<void> {
  const report = syntheticReport();
  const cold = renderOnce(report);
  const warm: number[] = [];
  for (let i = 0; i < 10; i++) warm.push(renderOnce(report).ms);
  warm.sort((a, b) => a - b);
  const median = warm[Math.floor(warm.length / 2)] ?? cold.ms;
  const mb = (b: number): string => (b / 1024 / 1024).toFixed(3);
  console.log(`report render (${report.runs.length} runs x ${LAYERS} layers, ${TOKENS} tokens, ${TF_STEPS} tf steps, ${GREEDY} greedy tokens)`);
  console.log(`  json+junit+html: first ${cold.ms.toFixed(1)} ms, median of 10 ${median.toFixed(1)} ms (target < 1000 ms)`);
  console.log(`  sizes: report.json ${mb(cold.jsonBytes)} MB, junit.xml ${mb(cold.junitBytes)} MB, report.html ${mb(cold.htmlBytes)} MB (target < 2 MB)`);
  // The scale a CI matrix reaches: ten candidates, three prompts each.
  const wide = renderOnce(syntheticReport({ candidates: Array.from({ length: 10 }, (_, i) => `cand-${i}`), prompts: 3 }));
  console.log(`  10 candidates x 3 prompts: ${wide.ms.toFixed(0)} ms; report.json ${mb(wide.jsonBytes)} MB, report.html ${(wide.htmlBytes / 1e6).toFixed(3)} MB (${wide.htmlBytes} bytes; target < 2 MB)`);
  if (cold.ms >= 1000 || cold.htmlBytes >= 2 * 1024 * 1024 || wide.htmlBytes >= 2_000_000) {
    console.log("  OVER TARGET");
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
