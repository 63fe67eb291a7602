/**
 * The stable JSON interface of `numgate positions --in cases.json --out result.json`.
 *
 * Input:
 * ```json
 * { "family": "qwen3-vl" | "qwen2.5-vl" | "qwen2-vl",
 *   "image_token_id": 151655, "video_token_id": 151656, "vision_start_token_id": 151652,
 *   "convention": "transformers-5" | "transformers-4.57",      // optional, default transformers-5
 *   "cases": [ { "input_ids": [[...]], "mm_token_type_ids": [[...]] | null, "attention_mask": [[...]] | null,
 *                "image_grid_thw": [[t,h,w], ...] | null, "video_grid_thw": [[t,h,w], ...] | null,
 *                "second_per_grid_ts": [s, ...] | null, "spatial_merge_size": 2, "tokens_per_second": 2 } ] }
 * ```
 * `spatial_merge_size` and `tokens_per_second` may also be given once at top level as defaults. Every optional
 * field may be null or absent; unknown extra fields are ignored.
 *
 * Output: `{ "cases": [ { "position_ids": [3][B][S], "mrope_position_deltas": [B] } ] }`, in input order.
 */
import { readFile, writeFile } from "node:fs/promises";
import { z } from "../schema/zod.ts";
import { NumgateError, isNumgateError } from "../errors/numgate-error.ts";
import { getRopeIndex, type RopeConvention, type RopeFamily, type RopeIndexResult } from "./get-rope-index.ts";

const Int = z.number().check(z.int());
const Matrix = z.array(z.array(Int));
const Grids = z.array(z.array(Int).check(z.length(3)));

export const PositionsCaseSchema = z.object({
  input_ids: Matrix,
  mm_token_type_ids: z.nullish(Matrix),
  attention_mask: z.nullish(Matrix),
  image_grid_thw: z.nullish(Grids),
  video_grid_thw: z.nullish(Grids),
  second_per_grid_ts: z.nullish(z.array(z.number())),
  spatial_merge_size: z.nullish(Int.check(z.positive())),
  tokens_per_second: z.nullish(Int.check(z.nonnegative())),
});

export const PositionsFileSchema = z.object({
  family: z.enum(["qwen3-vl", "qwen2.5-vl", "qwen2-vl"]),
  image_token_id: Int,
  video_token_id: Int,
  vision_start_token_id: Int,
  convention: z.nullish(z.enum(["transformers-5", "transformers-4.57"])),
  spatial_merge_size: z.nullish(Int.check(z.positive())),
  tokens_per_second: z.nullish(Int.check(z.nonnegative())),
  cases: z.array(PositionsCaseSchema),
});

export type PositionsCase = z.infer<typeof PositionsCaseSchema>;
export type PositionsFile = z.infer<typeof PositionsFileSchema>;

export interface PositionsCaseResult {
  position_ids: number[][][];
  mrope_position_deltas: number[];
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return out === "" ? "(root)" : out;
}

/** Validates a parsed positions file; NumgateError "schema_violation" naming the case index and field. */
export function parsePositionsFile(value: unknown, file?: string): PositionsFile {
  const r = PositionsFileSchema.safeParse(value);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  const field = first === undefined ? "(root)" : formatPath(first.path);
  const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more issue(s))` : "";
  const msg = `${first?.message ?? "invalid positions file"}${more}`;
  throw new NumgateError("schema_violation", file === undefined ? `${field}: ${msg}` : msg, {
    ...(file === undefined ? {} : { file }),
    field,
  });
}

interface Flat {
  data: Int32Array;
  rows: number;
  cols: number;
}

function flatten(name: string, m: readonly (readonly number[])[], like: Flat | null): Flat {
  const rows = m.length;
  if (rows === 0) throw new NumgateError("positions_invalid", `${name} has no rows`);
  const cols = like === null ? m[0]!.length : like.cols;
  if (like !== null && rows !== like.rows)
    throw new NumgateError("positions_invalid", `${name} has ${rows} rows but input_ids has ${like.rows}`);
  const data = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = m[r]!;
    if (row.length !== cols) {
      throw new NumgateError(
        "positions_invalid",
        like === null
          ? `${name} batch row ${r} has ${row.length} tokens but row 0 has ${cols}`
          : `${name} batch row ${r} has ${row.length} tokens but input_ids row ${r} has ${cols} (token ${Math.min(row.length, cols)} is where they part)`,
      );
    }
    for (let c = 0; c < cols; c++) {
      const v = row[c]!;
      if (v < -2147483648 || v > 2147483647)
        throw new NumgateError("positions_invalid", `${name} batch row ${r}, token ${c}: ${v} is outside int32`);
      data[r * cols + c] = v;
    }
  }
  return { data, rows, cols };
}

function flattenGrids(g: readonly (readonly number[])[] | null | undefined): Int32Array | null {
  if (g === null || g === undefined) return null;
  const out = new Int32Array(g.length * 3);
  g.forEach((row, i) => {
    out[3 * i] = row[0]!;
    out[3 * i + 1] = row[1]!;
    out[3 * i + 2] = row[2]!;
  });
  return out;
}

/** Runs getRopeIndex on one validated case. */
export function computePositionsCase(
  file: Omit<PositionsFile, "cases">,
  c: PositionsCase,
  conventionOverride?: RopeConvention,
): RopeIndexResult {
  const ids = flatten("input_ids", c.input_ids, null);
  const types = c.mm_token_type_ids == null ? null : flatten("mm_token_type_ids", c.mm_token_type_ids, ids);
  const mask = c.attention_mask == null ? null : flatten("attention_mask", c.attention_mask, ids);
  const merge = c.spatial_merge_size ?? file.spatial_merge_size;
  if (merge == null) throw new NumgateError("positions_invalid", "spatial_merge_size is missing (case or top level)");
  const tps = c.tokens_per_second ?? file.tokens_per_second ?? null;
  return getRopeIndex({
    family: file.family as RopeFamily,
    convention: conventionOverride ?? file.convention ?? "transformers-5",
    imageTokenId: file.image_token_id,
    videoTokenId: file.video_token_id,
    visionStartTokenId: file.vision_start_token_id,
    spatialMergeSize: merge,
    tokensPerSecond: tps,
    batchSize: ids.rows,
    seqLen: ids.cols,
    inputIds: ids.data,
    mmTokenTypeIds: types === null ? null : types.data,
    attentionMask: mask === null ? null : mask.data,
    imageGridThw: flattenGrids(c.image_grid_thw),
    videoGridThw: flattenGrids(c.video_grid_thw),
    secondPerGridTs: c.second_per_grid_ts ?? null,
  });
}

/** `[3][B][S]` nested arrays and `[B]` deltas, as the output file holds them. */
export function resultToJson(r: RopeIndexResult): PositionsCaseResult {
  const { batchSize: B, seqLen: S, positionIds } = r;
  const position_ids: number[][][] = [];
  for (let p = 0; p < 3; p++) {
    const plane: number[][] = [];
    for (let b = 0; b < B; b++) plane.push(Array.from(positionIds.subarray((p * B + b) * S, (p * B + b + 1) * S)));
    position_ids.push(plane);
  }
  return { position_ids, mrope_position_deltas: Array.from(r.mropePositionDeltas) };
}

/** Computes every case of a validated file, in order; errors name the case index. */
export function computePositionsFile(f: PositionsFile, file?: string): { cases: PositionsCaseResult[] } {
  const cases: PositionsCaseResult[] = [];
  f.cases.forEach((c, i) => {
    try {
      cases.push(resultToJson(computePositionsCase(f, c)));
    } catch (e) {
      if (isNumgateError(e)) {
        const field = `cases[${i}]${e.field === undefined ? "" : `.${e.field}`}`;
        const bare = e.file === undefined ? e.message : e.message.slice(e.message.indexOf(": ") + 2);
        throw new NumgateError(e.code, file === undefined ? `${field}: ${bare}` : `case ${i}: ${bare}`, {
          ...(file === undefined ? {} : { file }),
          field,
          cause: e,
        });
      }
      throw e;
    }
  });
  return { cases };
}

/** Reads `inPath`, validates it (zod), computes every case and writes `{"cases": [...]}` to `outPath`. */
export async function runPositionsFile(inPath: string, outPath: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(inPath, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code === "ENOENT" ? "file_not_found" : "file_unreadable";
    throw new NumgateError(code, code === "file_not_found" ? "no such file" : "cannot read file", { file: inPath, cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new NumgateError("invalid_json", `not valid JSON: ${(e as Error).message}`, { file: inPath, cause: e });
  }
  const parsed = parsePositionsFile(value, inPath);
  const out = computePositionsFile(parsed, inPath);
  try {
    await writeFile(outPath, JSON.stringify(out) + "\n", "utf8");
  } catch (e) {
    throw new NumgateError("file_unreadable", `cannot write output: ${(e as Error).message}`, { file: outPath, cause: e });
  }
}
