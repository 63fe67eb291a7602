/** The "engine" backend: a candidate served by an external process speaking numgate's engine protocol. */
import { dirname, relative, resolve } from "node:path";
import type { Candidate } from "../../candidate/candidate.ts";
import { NumgateError } from "../../errors/numgate-error.ts";
import type { Backend, ModelShape } from "../backend.ts";
import { EngineBackend } from "./engine-backend.ts";

/**
 * The interpreter "{python}" stands for: $NUMGATE_PYTHON (a virtualenv with the engine's
 * requirements), else python3 on PATH. One variable, so a candidate file stays machine-neutral.
 */
export function enginePython(): string {
  return process.env["NUMGATE_PYTHON"] || "python3";
}

/** "{root}", "{candidate_dir}" and "{python}" in an engine command, resolved. */
export function engineCommand(command: readonly string[], root: string, candidateDir: string): string[] {
  return command.map((a) => a.replaceAll("{root}", resolve(root)).replaceAll("{candidate_dir}", candidateDir).replaceAll("{python}", enginePython()));
}

export async function openEngineBackend(candidate: Candidate, shape: ModelShape, root: string): Promise<Backend> {
  const manifest = relative(process.cwd(), candidate.manifestPath) || candidate.manifestPath;
  const engine = candidate.manifest.engine;
  if (engine === undefined) throw new NumgateError("candidate_invalid", 'an "engine" candidate needs engine: {command: [...]}', { file: manifest, field: "engine" });
  const command = engineCommand(engine.command, root, resolve(dirname(candidate.manifestPath)));
  return EngineBackend.open({ command, cwd: resolve(root), timeoutSeconds: engine.timeout_s, manifest }, shape);
}
