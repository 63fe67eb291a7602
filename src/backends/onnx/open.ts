/** The "onnx" backend: a candidate's graphs run in-process by onnxruntime-node, through its layout. */
import { relative } from "node:path";
import type { Candidate } from "../../candidate/candidate.ts";
import { NumgateError } from "../../errors/numgate-error.ts";
import type { Backend, ModelShape } from "../backend.ts";
import { LAYOUTS } from "./layouts/index.ts";
import { OnnxRunner } from "./runner.ts";

export async function openOnnxBackend(candidate: Candidate, shape: ModelShape): Promise<Backend> {
  const manifest = relative(process.cwd(), candidate.manifestPath) || candidate.manifestPath;
  const name = candidate.manifest.layout ?? "numgate";
  const layout = LAYOUTS[name];
  if (layout === undefined) {
    throw new NumgateError("candidate_invalid", `unknown layout "${name}" (layouts: ${Object.keys(LAYOUTS).join(", ")})`, { file: manifest, field: "layout" });
  }
  const files: Record<string, string> = {};
  for (const role of layout.roles) {
    const p = candidate.paths[role];
    if (p === undefined) {
      throw new NumgateError("candidate_invalid", `the ${name} layout needs files.${role} (files: ${Object.keys(candidate.paths).join(", ") || "none"})`, { file: manifest, field: `files.${role}` });
    }
    files[role] = p;
  }
  const runner = await OnnxRunner.open(files);
  try {
    return layout.open(runner, shape);
  } catch (e) {
    await runner.close();
    throw e;
  }
}
