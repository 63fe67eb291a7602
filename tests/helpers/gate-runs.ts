/** In-process gate runs on the embedded tiny model, memoised per (candidate, options). */
import { resolve } from "node:path";
import type { PromptResult, Run, Rung } from "../../src/report/schema.ts";
import { runGate } from "../../src/run/run-gate.ts";

export const ROOT = resolve(import.meta.dirname, "..", "..");

const cache = new Map<string, Promise<Run>>();

export function gateRun(candidate: string, opts: { keepGoing?: boolean; only?: string[] } = {}): Promise<Run> {
  const key = JSON.stringify([candidate, opts.keepGoing ?? false, opts.only ?? null]);
  let p = cache.get(key);
  if (p === undefined) {
    p = runGate({ root: ROOT, model: "qwen3-vl-tiny", candidate, keepGoing: opts.keepGoing ?? false, ...(opts.only === undefined ? {} : { only: opts.only }) }).then((r) => r.run);
    cache.set(key, p);
  }
  return p;
}

export function rung(run: Run, id: string): Rung {
  const r = run.rungs.find((x) => x.id === id);
  if (r === undefined) throw new Error(`run ${run.id} has no rung ${id} (rungs: ${run.rungs.map((x) => x.id).join(", ")})`);
  return r;
}

export function prompt(r: Rung, name: string): PromptResult {
  const p = r.prompts.find((x) => x.prompt === name);
  if (p === undefined) throw new Error(`rung ${r.id} has no prompt ${name}`);
  return p;
}

export const MM = "mm-colours-a";
export const TEXT = "text-count";
