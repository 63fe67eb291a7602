/** The ONNX export layouts numgate can drive, by the name a candidate manifest gives (`layout`). */
import type { OnnxLayout } from "./layout.ts";
import { numgateLayout } from "./numgate.ts";

export const LAYOUTS: Readonly<Record<string, OnnxLayout>> = {
  numgate: numgateLayout,
};

export type { OnnxLayout } from "./layout.ts";
