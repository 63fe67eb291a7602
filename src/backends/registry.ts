/**
 * The backends numgate can run a candidate on, keyed by the candidate manifest's `backend`.
 * A new runtime is one folder under backends/ and one line here.
 */
import { relative } from "node:path";
import type { Candidate } from "../candidate/candidate.ts";
import { NumgateError } from "../errors/numgate-error.ts";
import type { Backend, BackendOpenOptions, ModelShape } from "./backend.ts";

export type BackendFactory = (candidate: Candidate, shape: ModelShape, root: string, options?: BackendOpenOptions) => Promise<Backend>;

/**
 * Each backend's module is imported when a candidate names it: a run on onnxruntime never loads
 * the engine backend (child_process, its recorder's zlib and crypto) nor transformers.js's, which
 * was a tenth of a tiny gate's start-up beyond the raw onnxruntime script's.
 */
export const BACKENDS: Readonly<Record<string, () => Promise<BackendFactory>>> = {
  onnx: async () => (await import("./onnx/open.ts")).openOnnxBackend,
  engine: async () => (await import("./engine/open.ts")).openEngineBackend,
  "transformers-js": async () => (await import("./transformers-js/open.ts")).openTransformersJsBackend,
};

export async function openBackend(candidate: Candidate, shape: ModelShape, root: string, options: BackendOpenOptions = {}): Promise<Backend> {
  // Own keys only: "toString" must be an unknown backend, not Object.prototype's function.
  const name = candidate.manifest.backend;
  const load = Object.hasOwn(BACKENDS, name) ? BACKENDS[name] : undefined;
  if (load === undefined) {
    throw new NumgateError("candidate_invalid", `unknown backend "${candidate.manifest.backend}" (backends: ${Object.keys(BACKENDS).join(", ")})`, {
      file: relative(process.cwd(), candidate.manifestPath) || candidate.manifestPath,
      field: "backend",
    });
  }
  return (await load())(candidate, shape, root, options);
}
