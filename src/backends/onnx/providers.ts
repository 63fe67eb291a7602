/**
 * Execution providers: which one runs a candidate (`--ep` or the candidate manifest's
 * `execution_provider`), checked against what the installed onnxruntime-node can load.
 */
import * as ort from "onnxruntime-node";
import { NumgateError } from "../../errors/numgate-error.ts";

export const PROVIDERS = ["cpu", "cuda", "coreml", "webgpu"] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface ProviderChoice {
  name: Provider;
  /** Options passed to onnxruntime with the provider (recorded in the report). */
  options: Readonly<Record<string, string | number | boolean>>;
  /** onnxruntime's intra-op threads (recorded in the report beside the options). */
  threads: number;
}

/**
 * Providers this onnxruntime-node can run here: those its binding lists as bundled (CUDA and
 * TensorRT are listed but unbundled until their libraries are installed).
 */
export function availableProviders(): string[] {
  const list = (ort as { listSupportedBackends?: () => { name: string; bundled: boolean }[] }).listSupportedBackends?.() ?? [{ name: "cpu", bundled: true }];
  return list.filter((b) => b.bundled).map((b) => b.name);
}

export function chooseProvider(name: string | undefined, where: { file?: string; field?: string } = {}, threads = 1): ProviderChoice {
  const want = name ?? "cpu";
  const have = availableProviders();
  if (!(PROVIDERS as readonly string[]).includes(want) || !have.includes(want)) {
    throw new NumgateError("candidate_invalid", `execution provider "${want}" is not available in this onnxruntime-node (available: ${have.join(", ")})`, where);
  }
  return { name: want as Provider, options: {}, threads };
}

export function describeProvider(p: ProviderChoice): string {
  const opts = Object.entries({ ...p.options, ...(p.threads === 1 ? {} : { threads: p.threads }) });
  return opts.length === 0 ? p.name : `${p.name} (${opts.map(([k, v]) => `${k}=${v}`).join(", ")})`;
}
