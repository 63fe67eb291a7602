/**
 * The backends numgate can run a candidate on, keyed by the candidate manifest's `backend`.
 * A new runtime is one folder under backends/ and one line here.
 */
import { relative } from "node:path";
import type { Candidate } from "../candidate/candidate.ts";
import { NumgateError } from "../errors/numgate-error.ts";
import type { Backend, BackendOpenOptions, ModelShape } from "./backend.ts";
import { openEngineBackend } from "./engine/open.ts";
import { openOnnxBackend } from "./onnx/open.ts";
import { openTransformersJsBackend } from "./transformers-js/open.ts";

export type BackendFactory = (candidate: Candidate, shape: ModelShape, root: string, options?: BackendOpenOptions) => Promise<Backend>;

export const BACKENDS: Readonly<Record<string, BackendFactory>> = {
  onnx: openOnnxBackend,
  engine: openEngineBackend,
  "transformers-js": openTransformersJsBackend,
};

export async function openBackend(candidate: Candidate, shape: ModelShape, root: string, options: BackendOpenOptions = {}): Promise<Backend> {
  const open = BACKENDS[candidate.manifest.backend];
  if (open === undefined) {
    throw new NumgateError("candidate_invalid", `unknown backend "${candidate.manifest.backend}" (backends: ${Object.keys(BACKENDS).join(", ")})`, {
      file: relative(process.cwd(), candidate.manifestPath) || candidate.manifestPath,
      field: "backend",
    });
  }
  return open(candidate, shape, root, options);
}
