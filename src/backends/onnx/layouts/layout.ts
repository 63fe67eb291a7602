/**
 * A layout: how one exporter lays a model out in ONNX graphs (graph roles, tensor names and
 * shapes, state naming, where family inputs go), as a small adapter from numgate's `Backend`
 * calls onto an `OnnxRunner`. Registered by name in ./index.ts.
 */
import type { Backend, ModelShape } from "../../backend.ts";
import type { OnnxRunner } from "../runner.ts";

export interface OnnxLayout {
  readonly name: string;
  /** The graph roles this layout needs in the candidate manifest's `files`. */
  readonly roles: readonly string[];
  /** Checks the graphs fit the layout (a clear error naming graph and tensor if not). */
  open(runner: OnnxRunner, shape: ModelShape): Backend;
}
