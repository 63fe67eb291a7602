/** The ONNX export layouts numgate can drive, by the name a candidate manifest gives (`layout`). */
import { genaiLayout } from "./genai.ts";
import type { OnnxLayout } from "./layout.ts";
import { numgateLayout } from "./numgate.ts";
import { onnxCommunityLayout } from "./onnx-community.ts";

export const LAYOUTS: Readonly<Record<string, OnnxLayout>> = {
  numgate: numgateLayout,
  "onnx-community": onnxCommunityLayout,
  genai: genaiLayout,
};

/** The layout called `name` (own keys only: "constructor" is no layout), or undefined. */
export function layoutNamed(name: string): OnnxLayout | undefined {
  return Object.hasOwn(LAYOUTS, name) ? LAYOUTS[name] : undefined;
}

/** The layout a model folder is in, by the files its runtime looks for; null when none fits. */
export function detectLayout(folder: string): string | null {
  for (const [name, layout] of Object.entries(LAYOUTS)) {
    if (layout.inFolder?.(folder, undefined) != null) return name;
  }
  return null;
}

export type { OnnxLayout, LayoutOpenOptions } from "./layout.ts";
