/**
 * The "transformers-js" backend: a model folder in the onnx-community layout, run the way
 * transformers.js (@huggingface/transformers, on onnxruntime-node) runs it for its users. Its own
 * `generate()` makes the greedy rollout, and its own position ids (its JavaScript
 * `get_rope_index` and decode-step formula) are recorded from every feed it gives the merged
 * decoder session, so the positions rung judges what the runtime used. The layer, seeded and
 * teacher-forced rungs drive the same graph files through the onnx-community layout adapter
 * (per-layer outputs need an edited copy of the decoder, which transformers.js would not load),
 * fed the positions transformers.js itself gave.
 *
 * Local files only: remote models are disabled before anything loads, so nothing reaches the hub.
 */
import { relative, resolve, dirname, basename } from "node:path";
import type { Candidate } from "../../candidate/candidate.ts";
import { NumgateError } from "../../errors/numgate-error.ts";
import { importExternal } from "../../files/external-import.ts";
import type { Backend, BackendOpenOptions, GenerateRequest, GenerateResult, ModelShape } from "../backend.ts";
import { openOnnxBackend } from "../onnx/open.ts";
import { TransformersJsBackend, type TjsModel, type TjsTensorCtor } from "./backend.ts";
import { shareOnnxRuntimeWithTransformersJs } from "./shared-onnxruntime.ts";

export async function openTransformersJsBackend(candidate: Candidate, shape: ModelShape, root: string, options: BackendOpenOptions = {}): Promise<Backend> {
  const manifest = relative(process.cwd(), candidate.manifestPath) || candidate.manifestPath;
  const folder = candidate.paths["folder"];
  if (folder === undefined) throw new NumgateError("candidate_invalid", "a transformers-js candidate names its model folder in files.folder", { file: manifest, field: "files.folder" });
  if ((candidate.manifest.layout ?? "onnx-community") !== "onnx-community") {
    throw new NumgateError("candidate_invalid", `transformers.js loads the onnx-community layout, not "${candidate.manifest.layout}"`, { file: manifest, field: "layout" });
  }
  const provider = options.executionProvider ?? candidate.manifest.execution_provider ?? "cpu";
  const graphs = await openOnnxBackend({ ...candidate, manifest: { ...candidate.manifest, layout: "onnx-community" } }, shape, root, { executionProvider: provider });
  try {
    shareOnnxRuntimeWithTransformersJs();
    const tjs = await importExternal<typeof import("@huggingface/transformers")>("@huggingface/transformers");
    tjs.env.allowRemoteModels = false;
    tjs.env.allowLocalModels = true;
    const abs = resolve(folder);
    tjs.env.localModelPath = dirname(abs) + "/";
    const dtype = candidate.manifest.variant ?? "fp32";
    let model: TjsModel;
    try {
      model = (await tjs.AutoModelForImageTextToText.from_pretrained(basename(abs), {
        local_files_only: true,
        dtype: dtype as "fp32",
        device: provider as "cpu",
      })) as unknown as TjsModel;
    } catch (e) {
      throw new NumgateError("backend_failed", `transformers.js could not load ${folder}: ${(e as Error).message}`, { file: manifest, field: "files.folder", cause: e });
    }
    return new TransformersJsBackend(graphs, model, tjs.Tensor as unknown as TjsTensorCtor, `transformers.js ${String((tjs.env as { version?: string }).version ?? "?")} on ${graphs.name}`, dtype);
  } catch (e) {
    await graphs.close();
    throw e;
  }
}

export type { GenerateRequest, GenerateResult };
