/** The "onnx" backend: a candidate's graphs run in-process by onnxruntime-node, through its layout. */
import { relative } from "node:path";
import type { Candidate } from "../../candidate/candidate.ts";
import { NumgateError } from "../../errors/numgate-error.ts";
import type { Backend, BackendOpenOptions, ModelShape } from "../backend.ts";
import { detectLayout, LAYOUTS, layoutNamed, type OnnxLayout } from "./layouts/index.ts";
import { chooseProvider } from "./providers.ts";
import { OnnxRunner } from "./runner.ts";

function rel(p: string): string {
  return relative(process.cwd(), p) || p;
}

/** The layout's graphs by role: named in `files`, or found in the model folder `files.folder`. */
export function layoutFiles(candidate: Candidate): { layout: OnnxLayout; name: string; files: Record<string, string>; folder?: string } {
  const manifest = rel(candidate.manifestPath);
  const folder = candidate.paths["folder"];
  const name = candidate.manifest.layout ?? (folder === undefined ? "numgate" : detectLayout(folder));
  if (name === null) {
    throw new NumgateError("candidate_invalid", `the folder ${folder ?? "?"} is in no layout numgate knows (layouts: ${Object.keys(LAYOUTS).join(", ")}); name one in "layout"`, { file: manifest, field: "files.folder" });
  }
  const layout = layoutNamed(name);
  if (layout === undefined) {
    throw new NumgateError("candidate_invalid", `unknown layout "${name}" (layouts: ${Object.keys(LAYOUTS).join(", ")})`, { file: manifest, field: "layout" });
  }
  if (folder !== undefined) {
    const found = layout.inFolder?.(folder, candidate.manifest.variant) ?? null;
    if (found === null) throw new NumgateError("candidate_invalid", `the folder ${folder} is not in the ${name} layout`, { file: manifest, field: "files.folder" });
    return { layout, name, files: found, folder };
  }
  const files: Record<string, string> = {};
  for (const role of layout.roles) {
    const p = candidate.paths[role];
    if (p === undefined) {
      throw new NumgateError("candidate_invalid", `the ${name} layout needs files.${role} (files: ${Object.keys(candidate.paths).join(", ") || "none"})`, { file: manifest, field: `files.${role}` });
    }
    files[role] = p;
  }
  return { layout, name, files };
}

export async function openOnnxBackend(candidate: Candidate, shape: ModelShape, _root: string, options: BackendOpenOptions = {}): Promise<Backend> {
  const manifest = rel(candidate.manifestPath);
  const { layout, files, folder } = layoutFiles(candidate);
  const provider = chooseProvider(options.executionProvider ?? candidate.manifest.execution_provider, {
    file: manifest,
    field: options.executionProvider === undefined ? "execution_provider" : "--ep",
  }, options.threads);
  const load: Record<string, string> = {};
  let layerTensors: { names: string[]; how: string } | { reason: string } | undefined;
  const decoder = files["decoder"];
  if (layout.editsLayerOutputs === true && decoder !== undefined) {
    // Imported here: protobufjs and the ONNX schema cost start-up that layouts which export their
    // layer outputs themselves (numgate's own) never need.
    const { withLayerOutputs } = await import("./graph/layer-outputs.ts");
    const edited = withLayerOutputs(decoder, shape.layers, candidate.manifest.layer_outputs);
    if ("path" in edited) {
      load["decoder"] = edited.path;
      layerTensors = { names: edited.names, how: edited.how };
    } else {
      layerTensors = { reason: `${rel(decoder)}: ${edited.reason}` };
    }
  }
  const runner = await OnnxRunner.open(files, provider, load);
  try {
    return layout.open(runner, shape, { provider, ...(folder === undefined ? {} : { folder }), ...(layerTensors === undefined ? {} : { layerTensors }) });
  } catch (e) {
    await runner.close();
    throw e;
  }
}
