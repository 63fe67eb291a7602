/** The "engine" backend: a candidate served by an external process speaking numgate's engine protocol. */
import { dirname, relative, resolve } from "node:path";
import type { Candidate } from "../../candidate/candidate.ts";
import { NumgateError } from "../../errors/numgate-error.ts";
import type { Backend, ModelShape } from "../backend.ts";
import { EngineBackend } from "./engine-backend.ts";

export async function openEngineBackend(candidate: Candidate, shape: ModelShape, root: string): Promise<Backend> {
  const manifest = relative(process.cwd(), candidate.manifestPath) || candidate.manifestPath;
  const engine = candidate.manifest.engine;
  if (engine === undefined) throw new NumgateError("candidate_invalid", 'an "engine" candidate needs engine: {command: [...]}', { file: manifest, field: "engine" });
  const candidateDir = resolve(dirname(candidate.manifestPath));
  const command = engine.command.map((a) => a.replaceAll("{root}", resolve(root)).replaceAll("{candidate_dir}", candidateDir));
  return EngineBackend.open({ command, cwd: resolve(root), timeoutSeconds: engine.timeout_s, manifest }, shape);
}
