/** Hand-derived M-RoPE cases, validation errors, frequency planes and the engine formula. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NumgateError } from "../../src/errors/numgate-error.ts";
import {
  decodePosition,
  enginePrefillPositions,
  engineDecodePosition,
  expectedRopeAngles,
  firstPositionMismatch,
  getRopeIndex,
  hostShiftFor,
  mropeFrequencyPlanes,
  ropeInvFreq,
  runPositionsFile,
  type RopeIndexInput,
} from "../../src/rope/index.ts";
import { IMG, PAD, qwen3VlInput, VE, VID, VS } from "../../bench/rope.ts";

function text(n: number, base = 1000): number[] {
  return Array.from({ length: n }, (_, i) => base + i);
}
function image(n: number): number[] {
  return [VS, ...new Array<number>(n).fill(IMG), VE];
}

function base(ids: number[][], extra: Partial<RopeIndexInput> = {}): RopeIndexInput {
  return qwen3VlInput(Int32Array.from(ids.flat()), ids.length, ids[0]!.length, extra);
}

function plane(r: { positionIds: Int32Array; batchSize: number; seqLen: number }, p: number, b = 0): number[] {
  const { batchSize: B, seqLen: S } = r;
  return Array.from(r.positionIds.subarray((p * B + b) * S, (p * B + b + 1) * S));
}

function expectPositionsError(f: () => unknown, ...fragments: string[]): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(NumgateError);
    expect((e as NumgateError).code).toBe("positions_invalid");
    for (const frag of fragments) expect((e as NumgateError).message).toContain(frag);
    return;
  }
  throw new Error("expected a positions_invalid NumgateError");
}

describe("issue example: 211 tokens, one 448x448 image", () => {
  // patch 16: 448/16 = 28 -> grid (1, 28, 28), merge 2 -> 14 x 14 = 196 tokens
  const row = [...text(5), ...image(196), ...text(8)];
  it("has 211 tokens and delta -182", () => {
    expect(row.length).toBe(211);
    const r = getRopeIndex(base([row], { imageGridThw: [1, 28, 28] }));
    expect(Array.from(r.mropePositionDeltas)).toEqual([-182]);
    const T = plane(r, 0);
    const H = plane(r, 1);
    const W = plane(r, 2);
    // text, vision_start: 0..5; image starts at 6
    expect(T.slice(0, 6)).toEqual([0, 1, 2, 3, 4, 5]);
    expect([T[6], H[6], W[6]]).toEqual([6, 6, 6]);
    expect([T[6 + 15], H[6 + 15], W[6 + 15]]).toEqual([6, 7, 7]); // slot 15: row 1, col 1
    expect([T[6 + 195], H[6 + 195], W[6 + 195]]).toEqual([6, 19, 19]);
    // vision_end follows at 6 + 14 = 20, then text to 28
    expect(T[202]).toBe(20);
    expect(T[210]).toBe(28);
    expect(decodePosition(r, 0, 0)).toBe(29);
    expect(decodePosition(r, 0, 3)).toBe(32);
  });

  it("left padding: padded slots 0 (5.x) or 1 (4.57); delta vs unpadded (5.x) or padded length (4.57)", () => {
    const padded = [PAD, PAD, PAD, ...row];
    const mask = [0, 0, 0, ...new Array<number>(211).fill(1)];
    const r5 = getRopeIndex(base([padded], { imageGridThw: [1, 28, 28], attentionMask: mask }));
    expect(plane(r5, 0).slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(plane(r5, 2)[3 + 6 + 195]).toBe(19);
    expect(r5.mropePositionDeltas[0]).toBe(-182);
    const r4 = getRopeIndex(base([padded], { imageGridThw: [1, 28, 28], attentionMask: mask, convention: "transformers-4.57" }));
    expect(plane(r4, 1).slice(0, 4)).toEqual([1, 1, 1, 0]);
    expect(r4.mropePositionDeltas[0]).toBe(-185);
    expect(decodePosition(r4, 0, 0)).toBe(29);
  });
});

describe("validation errors name batch row and token", () => {
  const row0 = [...text(3), ...image(4), ...text(2)];
  it("more vision groups than grids", () => {
    const ids = [row0, [...text(1), ...image(4), ...text(4)]];
    expectPositionsError(() => getRopeIndex(base(ids, { imageGridThw: [1, 4, 4] })), "batch row 1, token 2", "image_grid_thw has 1");
    expectPositionsError(() => getRopeIndex(base([row0])), "batch row 0, token 4", "0 grid");
  });
  it("grid not divisible by the merge size", () => {
    expectPositionsError(() => getRopeIndex(base([row0], { imageGridThw: [1, 3, 4] })), "batch row 0, token 4", "not divisible");
  });
  it("group length different from its grid", () => {
    expectPositionsError(() => getRopeIndex(base([row0], { imageGridThw: [1, 2, 2] })), "batch row 0, token 5", "longer");
    expectPositionsError(() => getRopeIndex(base([row0], { imageGridThw: [1, 4, 6] })), "batch row 0, token 4", "has 4 tokens");
  });
  it("mask and ids of different shapes", () => {
    expectPositionsError(() => getRopeIndex(base([row0], { imageGridThw: [1, 4, 4], attentionMask: [1, 1, 1] })), "attention_mask");
  });
  it("token types that disagree with the ids", () => {
    const types = row0.map((id) => (id === IMG ? 1 : 0));
    types[1] = 1;
    expectPositionsError(
      () => getRopeIndex(base([row0], { imageGridThw: [1, 4, 4], mmTokenTypeIds: types })),
      "batch row 0, token 1",
      "mm_token_type_ids is 1",
    );
  });
  it("4.57: a vision block must follow vision_start", () => {
    const bad = [...text(3), IMG, IMG, IMG, IMG, ...text(2)];
    expectPositionsError(
      () => getRopeIndex(base([bad], { imageGridThw: [1, 4, 4], convention: "transformers-4.57" })),
      "batch row 0, token 3",
    );
  });
  it("wrong dims and mask values", () => {
    expectPositionsError(() => getRopeIndex({ ...base([row0]), seqLen: 5 }), "input_ids");
    expectPositionsError(() => getRopeIndex(base([row0], { imageGridThw: [1, 4] })), "image_grid_thw");
    const mask = row0.map(() => 1);
    mask[2] = 2;
    expectPositionsError(() => getRopeIndex(base([row0], { imageGridThw: [1, 4, 4], attentionMask: mask })), "batch row 0, token 2");
  });
});

describe("qwen2-vl / qwen2.5-vl temporal spacing", () => {
  const vid = (n: number) => [VS, ...new Array<number>(n).fill(VID), VE];
  const row = [...text(2), ...vid(3 * 2 * 2), ...text(3)];
  it("qwen2.5-vl: interval = tokens_per_second * int(second_per_grid_ts); text resumes at start + max(h, w) (5.x)", () => {
    const r = getRopeIndex(
      base([row], { family: "qwen2.5-vl", tokensPerSecond: 2, videoGridThw: [3, 4, 4], secondPerGridTs: [1.9] }),
    );
    const T = plane(r, 0);
    expect(T.slice(3, 15)).toEqual([3, 3, 3, 3, 5, 5, 5, 5, 7, 7, 7, 7]);
    expect(T[15]).toBe(5); // vision_end: 3 + max(2, 2)
    expect(r.mropePositionDeltas[0]).toBe(8 + 1 - row.length); // last text at 5 + 3 = 8 > video max 7
    const r4 = getRopeIndex(
      base([row], { family: "qwen2.5-vl", tokensPerSecond: 2, videoGridThw: [3, 4, 4], secondPerGridTs: [1.9], convention: "transformers-4.57" }),
    );
    expect(plane(r4, 0)[15]).toBe(8); // 4.57: block max + 1
  });
  it("float32 rounding before truncation of second_per_grid_ts", () => {
    const r = getRopeIndex(
      base([row], { family: "qwen2.5-vl", tokensPerSecond: 1, videoGridThw: [3, 4, 4], secondPerGridTs: [2.9999999] }),
    );
    expect(plane(r, 0)[7]).toBe(3 + 3);
  });
});

describe("mrope frequency planes", () => {
  it("interleaved [24, 20, 20] / head 128", () => {
    const p = mropeFrequencyPlanes([24, 20, 20], 128, "interleaved");
    expect(p.length).toBe(64);
    for (let j = 0; j < 60; j++) expect(p[j]).toBe(["T", "H", "W"][j % 3]);
    expect(p.slice(60)).toEqual(["T", "T", "T", "T"]);
  });
  it("chunked [16, 24, 24] / head 128", () => {
    const p = mropeFrequencyPlanes([16, 24, 24], 128, "chunked");
    expect(p.slice(0, 16).every((x) => x === "T")).toBe(true);
    expect(p.slice(16, 40).every((x) => x === "H")).toBe(true);
    expect(p.slice(40).every((x) => x === "W")).toBe(true);
  });
  it("rejects a section that does not sum to head_dim / 2", () => {
    expect(() => mropeFrequencyPlanes([24, 20, 24], 128, "interleaved")).toThrow(NumgateError);
  });
  it("angles take the plane's position", () => {
    const inv = ropeInvFreq(5_000_000, 128);
    expect(inv[0]).toBe(1);
    const planes = mropeFrequencyPlanes([24, 20, 20], 128, "interleaved");
    const a = expectedRopeAngles({ t: 10, h: 20, w: 30 }, inv, planes);
    expect(a[0]).toBe(10);
    expect(a[1]).toBeCloseTo(20 * inv[1]!, 15);
    expect(a[2]).toBeCloseTo(30 * inv[2]!, 15);
    expect(a[63]).toBeCloseTo(10 * inv[63]!, 15);
    const seq = expectedRopeAngles({ t: [1, 2], h: [1, 3], w: [1, 4] }, inv, planes);
    expect(seq.length).toBe(128);
    expect(seq[64 + 2]).toBeCloseTo(4 * inv[2]!, 15);
  });
});

describe("engine formula", () => {
  const cfg = { imageTokenId: IMG, visionStartTokenId: VS, videoTokenId: VID };
  const layouts: [number, number, number, number][] = [
    [5, 14, 14, 8],
    [0, 3, 5, 2],
    [12, 6, 2, 0],
    [1, 1, 1, 1],
  ];
  for (const [pre, h, w, post] of layouts) {
    it(`equals getRopeIndex on a single image (${h}x${w}, ${pre} + ${post} text)`, () => {
      const row = [...text(pre), ...image(h * w), ...text(post)];
      const ref = getRopeIndex(base([row], { imageGridThw: [1, 2 * h, 2 * w] }));
      const grid = { t: 1, h, w };
      const shift = hostShiftFor(row, grid, cfg);
      expect(shift.expressible).toBe(true);
      if (!shift.expressible) return;
      const eng = enginePrefillPositions(row, grid, shift.shift, cfg);
      expect(eng.expressible).toBe(true);
      if (!eng.expressible) return;
      expect(firstPositionMismatch(ref.positionIds, eng.positions, row.length)).toBeNull();
      for (let step = 0; step < 4; step++) {
        expect(engineDecodePosition(row.length + step, shift.shift).t).toBe(decodePosition(ref, 0, step));
      }
    });
  }
  it("text-only rows need no shift", () => {
    const row = text(9);
    const shift = hostShiftFor(row, null, cfg);
    expect(shift).toEqual({ expressible: true, shift: { amount: 0, start: 0 } });
  });
  it("says not expressible for two images and for video", () => {
    const two = [...text(2), ...image(4), ...text(2), ...image(4)];
    const r = enginePrefillPositions(two, { t: 1, h: 2, w: 2 }, { amount: 0, start: 0 }, cfg);
    expect(r.expressible).toBe(false);
    if (!r.expressible) expect(r.reason).toMatch(/second image/);
    const vid = [...text(2), VS, VID, VID, VE];
    const v = hostShiftFor(vid, null, cfg);
    expect(v.expressible).toBe(false);
    if (!v.expressible) expect(v.reason).toMatch(/video/);
    const padded = enginePrefillPositions(text(3), null, { amount: 0, start: 0 }, cfg, [0, 1, 1]);
    expect(padded.expressible).toBe(false);
  });
  it("detects an off-by-one shift at the first text token after the image", () => {
    const row = [...text(5), ...image(196), ...text(8)];
    const grid = { t: 1, h: 14, w: 14 };
    const ref = getRopeIndex(base([row], { imageGridThw: [1, 28, 28] }));
    const good = hostShiftFor(row, grid, cfg);
    if (!good.expressible) throw new Error("expected expressible");
    expect(good.shift).toEqual({ amount: 196 - 14, start: 6 + 196 });
    const bad = enginePrefillPositions(row, grid, { ...good.shift, amount: good.shift.amount + 1 }, cfg);
    if (!bad.expressible) throw new Error("expected expressible");
    expect(firstPositionMismatch(ref.positionIds, bad.positions, row.length)).toEqual({
      token: 6 + 196,
      plane: "T",
      expected: 20,
      actual: 19,
    });
  });
});

describe("numgate positions file", () => {
  it("round-trips a file and ignores unknown fields", async () => {
    const d = mkdtempSync(join(tmpdir(), "rope-"));
    const row = [...text(5), ...image(196), ...text(8)];
    const input = {
      family: "qwen3-vl",
      image_token_id: IMG,
      video_token_id: VID,
      vision_start_token_id: VS,
      cases: [
        { input_ids: [row], image_grid_thw: [[1, 28, 28]], spatial_merge_size: 2, note: "extra" },
        { input_ids: [text(4), text(4)], attention_mask: [[0, 1, 1, 1], [1, 1, 1, 1]], spatial_merge_size: 2, video_grid_thw: null },
      ],
    };
    writeFileSync(join(d, "in.json"), JSON.stringify(input));
    await runPositionsFile(join(d, "in.json"), join(d, "out.json"));
    const out = JSON.parse(readFileSync(join(d, "out.json"), "utf8")) as {
      cases: { position_ids: number[][][]; mrope_position_deltas: number[] }[];
    };
    expect(out.cases.length).toBe(2);
    expect(out.cases[0]!.mrope_position_deltas).toEqual([-182]);
    expect(out.cases[1]!.position_ids[0]).toEqual([
      [0, 0, 1, 2],
      [0, 1, 2, 3],
    ]);
    expect(out.cases[1]!.mrope_position_deltas).toEqual([0, 0]);
  });
  it("schema errors name the case index and field", async () => {
    const d = mkdtempSync(join(tmpdir(), "rope-"));
    writeFileSync(
      join(d, "in.json"),
      JSON.stringify({ family: "qwen3-vl", image_token_id: 1, video_token_id: 2, vision_start_token_id: 3, cases: [{ input_ids: [[1]] }, { input_ids: [[1.5]] }] }),
    );
    await expect(runPositionsFile(join(d, "in.json"), join(d, "out.json"))).rejects.toMatchObject({
      code: "schema_violation",
      field: "cases[1].input_ids[0][0]",
    });
  });
  it("positions errors name the case index, batch row and token", async () => {
    const d = mkdtempSync(join(tmpdir(), "rope-"));
    writeFileSync(
      join(d, "in.json"),
      JSON.stringify({
        family: "qwen2-vl",
        image_token_id: IMG,
        video_token_id: VID,
        vision_start_token_id: VS,
        spatial_merge_size: 2,
        cases: [{ input_ids: [text(3)] }, { input_ids: [text(8), [...text(2), ...image(4)]], image_grid_thw: [] }],
      }),
    );
    await expect(runPositionsFile(join(d, "in.json"), join(d, "out.json"))).rejects.toMatchObject({
      code: "positions_invalid",
      message: expect.stringContaining("case 1: batch row 1, token 3") as unknown,
    });
  });
});
