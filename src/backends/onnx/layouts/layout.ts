/**
 * A layout: how one exporter lays a model out in ONNX graphs (graph roles, tensor names and
 * shapes, state naming, where family inputs go), as a small adapter from numgate's `Backend`
 * calls onto an `OnnxRunner`. Registered by name in ./index.ts.
 */
import type { Backend, ModelShape } from "../../backend.ts";
import type { ProviderChoice } from "../providers.ts";
import type { OnnxRunner } from "../runner.ts";

export interface LayoutOpenOptions {
  provider: ProviderChoice;
  /** The model folder, for layouts found in one. */
  folder?: string;
  /** Residual-stream tensors of the edited decoder copy (layouts with `editsLayerOutputs`), or why none. */
  layerTensors?: { names: string[]; how: string } | { reason: string };
}

export interface OnnxLayout {
  readonly name: string;
  /** The graph roles this layout needs (in the manifest's `files`, or found by `inFolder`). */
  readonly roles: readonly string[];
  /**
   * For layouts shipped as a model folder: the graph of each role the way the layout's own runtime
   * finds it (`variant`: e.g. transformers.js's dtype suffix), or null when the folder is not
   * laid out this way.
   */
  inFolder?(folder: string, variant: string | undefined): Record<string, string> | null;
  /** The decoder exposes no per-layer outputs of its own: numgate marks them in an edited copy. */
  readonly editsLayerOutputs?: boolean;
  /** Checks the graphs fit the layout (a clear error naming graph and tensor if not). */
  open(runner: OnnxRunner, shape: ModelShape, options?: LayoutOpenOptions): Backend;
}
