/**
 * What the conformance suite sends: the model shape numgate would negotiate, a prompt's ids and
 * one image, from a gate spec's oracle (`--model`) or from a small JSON file (`--shape`).
 */
import { readFileSync } from "node:fs";
import { z } from "../schema/zod.ts";
import { NumgateError } from "../errors/numgate-error.ts";
import { loadFamily } from "../models/registry.ts";
import { Oracle } from "../oracle/oracle.ts";
import { rel, resolveSpec } from "../run/resolve.ts";
import { loadJsonFile } from "../spec/json.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { CheckInputs } from "./checks.ts";

export async function inputsFromModel(root: string, model: string): Promise<CheckInputs> {
  const r = resolveSpec(root, model);
  const family = await loadFamily(r.spec.family, { file: rel(r.specPath), field: "family" });
  const oracle = Oracle.open(r.oracleDir, family.oracleSchema);
  const first = oracle.prompts[0];
  if (first === undefined) throw new NumgateError("oracle_invalid", `oracle ${rel(r.oracleDir)} has no prompts`, { file: rel(oracle.manifestPath), field: "prompts" });
  const inputs: CheckInputs = { shape: family.shape(oracle.manifest), inputIds: oracle.dump(first.name).get("inputs.input_ids").toNumbers() };
  for (const p of oracle.prompts) {
    const dump = oracle.dump(p.name);
    if (!dump.has("inputs.pixel_values")) continue;
    const grid = dump.get("inputs.image_grid_thw").toNumbers().slice(0, 3);
    const pixels = dump.get("inputs.pixel_values");
    const rows = grid.reduce((a, b) => a * b, 1);
    const width = pixels.shape[1] ?? 0;
    inputs.vision = { grid, pixels: Tensor.from("f32", [rows, width], pixels.toFloat32().slice(0, rows * width)) };
    break;
  }
  return inputs;
}

const ShapeFileSchema = z.strictObject({
  model: z.strictObject({
    family: z.string(),
    layers: z.number().check(z.int(), z.positive()),
    hidden: z.number().check(z.int(), z.positive()),
    positionPlanes: z.number().check(z.int(), z.positive()),
    state: z.array(z.strictObject({ name: z.string(), layer: z.number().check(z.int()), role: z.enum(["key", "value", "conv", "recurrent"]), emptyShape: z.array(z.number().check(z.int(), z.nonnegative())) })),
    extraInputs: z.array(z.strictObject({ name: z.string(), shape: z.array(z.number().check(z.int())) })),
  }),
  input_ids: z._default(z.array(z.number().check(z.int(), z.nonnegative())).check(z.minLength(1)), [1, 2, 3, 4, 5, 6, 7, 8]),
  /** Random pixels of this patch width for one image of this grid. */
  vision: z.optional(z.strictObject({ grid_thw: z.tuple([z.number().check(z.int(), z.positive()), z.number().check(z.int(), z.positive()), z.number().check(z.int(), z.positive())]), patch_dim: z.number().check(z.int(), z.positive()) })),
});

export function inputsFromShapeFile(path: string): CheckInputs {
  readFileSync(path); // a missing file is reported by loadJsonFile with its path
  const f = loadJsonFile(path, ShapeFileSchema, "engine check shape");
  const inputs: CheckInputs = { shape: f.model, inputIds: f.input_ids };
  if (f.vision !== undefined) {
    const rows = f.vision.grid_thw.reduce((a, b) => a * b, 1);
    inputs.vision = { grid: [...f.vision.grid_thw], pixels: Tensor.from("f32", [rows, f.vision.patch_dim], Float32Array.from({ length: rows * f.vision.patch_dim }, (_, i) => Math.sin(i))) };
  }
  return inputs;
}
