/**
 * What recording an oracle will cost at a model's real size: disk, RAM and time, computed by the
 * model's family from the recorder config (`oracles/record/configs/<model>.json`, or the
 * `--config` of the spec's record command) and printed with the record command when the oracle
 * is missing, so nobody starts a 30 GB recording on a laptop by accident.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { NumgateError } from "../errors/numgate-error.ts";

/** The recorder runs the oracle on the CPU in fp32 (oracles/README.md): what eager torch sustains on a 16-core server. */
export const RECORD_CPU_FLOPS = 100e9;
/** A one-token decode step reads every fp32 weight once: memory-bound at about this. */
export const RECORD_MEMORY_BYTES_PER_S = 20e9;
/** Reading and converting checkpoint shards to fp32. */
export const LOAD_BYTES_PER_S = 500e6;
/** Python, torch and transformers themselves, plus the allocator's slack. */
export const RUNTIME_OVERHEAD_BYTES = 2 * 2 ** 30;

/** The prompts a real-size recording makes (record.py --hf-id): one image prompt and one text prompt. */
export const REAL_PROMPTS = {
  /** A 448x448 image is a (1, 28, 28) patch grid: 784 patches, 196 merged tokens; 211 tokens in all with the chat template. */
  multimodal: { tokens: 211, patches: 784, imageTokens: 196 },
  text: { tokens: 24 },
} as const;

export interface RecordEstimate {
  parameters: number;
  /** e.g. {"text": ..., "vision": ...}. */
  parameterParts: Record<string, number>;
  /** fp32 weights in memory: parameters x 4 bytes. */
  weightsBytes: number;
  /** The checkpoint on disk as published (bf16: parameters x 2 bytes). */
  checkpointBytes: number;
  oracleBytes: number;
  /** What the dump holds, by kind of tensor, over all prompts. */
  oracleParts: Record<string, number>;
  peakRamBytes: number;
  flops: number;
  /** One-token cached decode steps (each reads all weights). */
  decodeSteps: number;
  seconds: number;
  assumptions: string[];
}

export const FP32 = 4;

export function gb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function billions(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : `${(n / 1e6).toFixed(1)} M`;
}

function duration(seconds: number): string {
  return seconds >= 5400 ? `${(seconds / 3600).toFixed(1)} h` : `${Math.max(1, Math.round(seconds / 60))} min`;
}

/** The recorder config an estimate is computed from: `--config X` in the record command, else configs/<model>.json. */
export function recordConfigPath(root: string, model: string, recordCommand: string | undefined): string {
  const m = recordCommand === undefined ? null : /--config\s+(\S+)/.exec(recordCommand);
  return m?.[1] !== undefined ? resolve(root, m[1]) : join(root, "oracles", "record", "configs", `${model}.json`);
}

export function readRecordConfig(path: string, file: string): unknown {
  if (!existsSync(path)) throw new NumgateError("file_not_found", `no recorder config to estimate the recording from: ${file}`, { file });
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new NumgateError("schema_violation", `${file}: not valid JSON: ${(e as Error).message}`, { file });
  }
}

/** The lines printed under the record command. */
export function formatEstimate(e: RecordEstimate, configFile: string): string[] {
  const parts = Object.entries(e.parameterParts)
    .map(([k, v]) => `${k} ${billions(v)}`)
    .join(", ");
  const dump = Object.entries(e.oracleParts)
    .map(([k, v]) => `${k} ${gb(v)}`)
    .join(", ");
  return [
    `At this size (from ${configFile}): ${billions(e.parameters)} parameters (${parts}).`,
    `  disk: ${gb(e.checkpointBytes + e.oracleBytes)} = ${gb(e.checkpointBytes)} checkpoint (bf16, as published) + ${gb(e.oracleBytes)} oracle dump (${dump})`,
    `  RAM:  about ${gb(e.peakRamBytes)} peak (${gb(e.weightsBytes)} of it the fp32 weights: parameters x 4 bytes)`,
    `  time: about ${duration(e.seconds)} (${(e.flops / 1e12).toFixed(1)} TFLOP of fp32 forwards on the CPU, ${e.decodeSteps} memory-bound one-token steps, loading)`,
    `  assumptions: ${e.assumptions.join("; ")}`,
  ];
}

/** Compute-bound forwards, memory-bound decode steps and loading the checkpoint. */
export function recordSeconds(flops: number, decodeSteps: number, weightsBytes: number, checkpointBytes: number): number {
  return flops / RECORD_CPU_FLOPS + (decodeSteps * weightsBytes) / RECORD_MEMORY_BYTES_PER_S + checkpointBytes / LOAD_BYTES_PER_S;
}

/** What a family computes for its model; the rest of an estimate follows the same way for every family. */
export interface RecordCostInputs {
  parameters: number;
  parameterParts: Record<string, number>;
  oracleParts: Record<string, number>;
  flops: number;
  /** The largest full-sequence logit tensor one forward makes, in bytes. */
  largestLogitsBytes: number;
  tiedHead: boolean;
  /** The family's own assumptions (prompts, what a dump holds), first in the list. */
  assumptions: string[];
}

/** Weights, checkpoint, peak RAM and time from a family's figures, with the assumptions they rest on. */
export function recordEstimate(x: RecordCostInputs): RecordEstimate {
  const weightsBytes = x.parameters * FP32;
  // generate()'s cached steps: 23 per prompt, and 7 for the left-padded positions batch.
  const decodeSteps = 2 * 23 + 7;
  const checkpointBytes = x.parameters * 2;
  const oracleBytes = Object.values(x.oracleParts).reduce((a, b) => a + b, 0);
  return {
    parameters: x.parameters,
    parameterParts: x.parameterParts,
    weightsBytes,
    checkpointBytes,
    oracleBytes,
    oracleParts: x.oracleParts,
    peakRamBytes: 1.1 * weightsBytes + oracleBytes + 3 * x.largestLogitsBytes + RUNTIME_OVERHEAD_BYTES,
    flops: x.flops,
    decodeSteps,
    seconds: recordSeconds(x.flops, decodeSteps, weightsBytes, checkpointBytes),
    assumptions: [
      ...x.assumptions,
      `fp32 on the CPU at ${RECORD_CPU_FLOPS / 1e9} GFLOP/s sustained (2 x parameters FLOP per token, logits for every position); a one-token step reads all fp32 weights at ${RECORD_MEMORY_BYTES_PER_S / 1e9} GB/s; the checkpoint loads at 0.5 GB/s`,
      `peak RAM = 1.1 x fp32 weights (load and cast) + the dump + three full-sequence logit tensors + ${RUNTIME_OVERHEAD_BYTES / 2 ** 30} GiB runtime`,
      x.tiedHead ? "tied head (no separate lm_head weights)" : "untied lm_head (counted separately)",
    ],
  };
}
