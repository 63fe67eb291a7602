/**
 * getRopeIndex against vectors recorded from the real transformers get_rope_index by
 * oracles/record/rope_vectors.py. Equality is exact, every case.
 *
 * ROPE_VECTORS_DIR overrides the fixture directory (default tests/fixtures/rope).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { computePositionsCase, resultToJson, type PositionsCase } from "../../src/rope/positions-file.ts";
import type { RopeConvention, RopeFamily } from "../../src/rope/get-rope-index.ts";

const dir = process.env["ROPE_VECTORS_DIR"] ?? join(import.meta.dirname, "..", "fixtures", "rope");

interface RecordedCase extends PositionsCase {
  index: number;
  family: RopeFamily;
  source: string;
  padding: string;
  image_token_id: number;
  video_token_id: number;
  vision_start_token_id: number;
  position_ids: number[][][];
  mrope_position_deltas: number[];
}

interface VectorsFile {
  transformers_version: string;
  failures: unknown[];
  cases: RecordedCase[];
}

function load(path: string): VectorsFile {
  return JSON.parse(readFileSync(path, "utf8")) as VectorsFile;
}

function runCase(c: RecordedCase, convention: RopeConvention, dropTypes = false) {
  const header = {
    family: c.family,
    image_token_id: c.image_token_id,
    video_token_id: c.video_token_id,
    vision_start_token_id: c.vision_start_token_id,
    convention,
  };
  const kase = dropTypes ? { ...c, mm_token_type_ids: null } : c;
  return resultToJson(computePositionsCase(header, kase));
}

function checkAll(file: VectorsFile, convention: RopeConvention, dropTypes = false): void {
  let mismatches = 0;
  const first: string[] = [];
  for (const c of file.cases) {
    const got = runCase(c, convention, dropTypes);
    const okPos = JSON.stringify(got.position_ids) === JSON.stringify(c.position_ids);
    const okDelta = JSON.stringify(got.mrope_position_deltas) === JSON.stringify(c.mrope_position_deltas);
    if (!okPos || !okDelta) {
      mismatches++;
      if (first.length < 5) first.push(`case ${c.index} (${c.source}, ${c.padding}): ${okPos ? "" : "position_ids "}${okDelta ? "" : "deltas"}`);
    }
  }
  expect(first, first.join("\n")).toEqual([]);
  expect(mismatches).toBe(0);
}

// Both files are committed: a missing one is a failure, never a skip.
const v5Path = join(dir, "rope-vectors-tf5.17.json");
const v457Path = join(dir, "rope-vectors-tf4.57.json");

describe("getRopeIndex vs recorded transformers 5.17 vectors", () => {
  it("has at least 200 recorded cases covering the required layouts", () => {
    const f = load(v5Path);
    expect(f.transformers_version.startsWith("5.17")).toBe(true);
    expect(f.cases.length).toBeGreaterThanOrEqual(200);
    const has = (p: (c: RecordedCase) => boolean) => f.cases.some(p);
    expect(has((c) => c.padding === "left")).toBe(true);
    expect(has((c) => c.padding === "right")).toBe(true);
    expect(has((c) => c.spatial_merge_size === 1)).toBe(true);
    expect(has((c) => c.spatial_merge_size === 2)).toBe(true);
    expect(has((c) => c.family === "qwen2.5-vl" && c.second_per_grid_ts != null)).toBe(true);
    expect(has((c) => c.family === "qwen2.5-vl" && c.second_per_grid_ts == null && c.video_grid_thw != null)).toBe(true);
    expect(has((c) => c.family === "qwen2-vl")).toBe(true);
    expect(has((c) => c.family === "qwen3-vl" && c.video_grid_thw != null)).toBe(true);
  });

  it("matches every case exactly (transformers-5 convention)", () => {
    checkAll(load(v5Path), "transformers-5");
  });

  it("matches every case exactly with mm_token_type_ids derived from the ids", () => {
    checkAll(load(v5Path), "transformers-5", true);
  });
});

describe("getRopeIndex vs recorded transformers 4.57 vectors", () => {
  it("matches every case exactly (transformers-4.57 convention)", () => {
    const f = load(v457Path);
    expect(f.transformers_version.startsWith("4.57")).toBe(true);
    expect(f.cases.length).toBeGreaterThanOrEqual(200);
    checkAll(f, "transformers-4.57");
  });
});
