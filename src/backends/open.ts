/** Opens the backend a candidate manifest asks for. */
import { dirname, relative, resolve } from "node:path";
import type { Candidate } from "../candidate/candidate.ts";
import { NumgateError } from "../errors/numgate-error.ts";
import type { DecoderBackend } from "./backend.ts";
import { EngineBackend } from "./engine/engine-backend.ts";
import { OnnxBackend, type DecoderDims } from "./onnx/onnx-backend.ts";

export async function openBackend(candidate: Candidate, dims: DecoderDims, root: string): Promise<DecoderBackend> {
  const m = candidate.manifest;
  if (m.backend === "engine") {
    if (m.engine === undefined) throw new NumgateError("candidate_invalid", "engine candidate without engine.command", { file: candidate.manifestPath, field: "engine" });
    const candidateDir = resolve(dirname(candidate.manifestPath));
    const command = m.engine.command.map((a) => a.replaceAll("{root}", resolve(root)).replaceAll("{candidate_dir}", candidateDir));
    const manifest = relative(process.cwd(), candidate.manifestPath) || candidate.manifestPath;
    return EngineBackend.open({ command, cwd: resolve(root), timeoutSeconds: m.engine.timeout_s, manifest }, dims);
  }
  if (candidate.paths === undefined) throw new NumgateError("candidate_invalid", "onnx candidate without files", { file: candidate.manifestPath, field: "files" });
  return OnnxBackend.open(candidate.paths, dims);
}
