/**
 * Manifest fields that mean the same in every family that has them, as zod shapes a family spreads
 * into its own objects where its recorder writes them. Each call builds fresh schemas, so a family
 * composing them keeps its own field paths and messages (`text.head_dim`, `tokens.image_token_id`).
 */
import { z } from "../schema/zod.ts";
import { OraclePromptSchema } from "../oracle/manifest.ts";

// One instance for every integer field of every family's manifest (zod schemas are immutable;
// .check() and z.optional() return new ones).
const INT = z.number().check(z.int());
export const int = () => INT;

/** `text`: the decoder's attention dimensions, vocabulary and rotary base. */
export function decoderDimensions() {
  return {
    num_layers: int().check(z.positive()),
    hidden_size: int().check(z.positive()),
    num_heads: int().check(z.positive()),
    num_kv_heads: int().check(z.positive()),
    head_dim: int().check(z.positive()),
    vocab_size: int().check(z.positive()),
    rope_theta: z.number().check(z.positive()),
  };
}

/** `text`: how the rotary frequencies are split between the T, H and W position planes. */
export function mropeSections() {
  return {
    mrope_section: z.array(int().check(z.nonnegative())).check(z.length(3)),
    mrope_interleaved: z.boolean(),
  };
}

/** `vision`: how the tower cuts an image into patches and merges them into tokens. */
export function visionPatching() {
  return {
    patch_size: int().check(z.positive()),
    temporal_patch_size: int().check(z.positive()),
    spatial_merge_size: int().check(z.positive()),
    depth: int().check(z.positive()),
  };
}

/** `tokens`: the ids that mark images and video in a prompt. */
export function visionTokensSchema() {
  return z.looseObject({
    image_token_id: int().check(z.nonnegative()),
    video_token_id: int().check(z.nonnegative()),
    vision_start_token_id: int().check(z.nonnegative()),
    vision_end_token_id: int().check(z.nonnegative()),
    names: z.optional(z.array(z.string())),
  });
}

/** A recorded prompt with what its images add to it. */
export function imagePromptSchema() {
  return z.extend(OraclePromptSchema, {
    image_tokens: int().check(z.nonnegative()),
    rope_delta: int(),
    image_grid_thw: z.optional(z.array(z.tuple([int(), int(), int()]))),
  });
}

/** Candidate manifest: the exported vision tower's fixed grid, if it has one. */
export function fixedVisionGrid() {
  return {
    /** The one (t, h, w) patch grid the exported vision tower was traced for, if it is fixed-grid. */
    vision_grid: z.optional(z.tuple([int(), int(), int()])),
  };
}

/** Candidate runtime: the position the host gives a decode step. */
export function decodePositions() {
  return {
    /** Decode-step position: cache index plus the rope delta (correct), or the bare cache index. */
    decode_positions: z._default(z.enum(["rope-delta", "cache-index"]), "rope-delta"),
  };
}
