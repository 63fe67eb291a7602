/**
 * Manifest fields that mean the same in every family that has them, as zod shapes a family spreads
 * into its own objects where its recorder writes them. Each call builds fresh schemas, so a family
 * composing them keeps its own field paths and messages (`text.head_dim`, `tokens.image_token_id`).
 */
import { z } from "zod";
import { OraclePromptSchema } from "../oracle/manifest.ts";

// One instance for every integer field of every family's manifest (zod schemas are immutable;
// .positive() and such return new ones).
const INT = z.number().int();
export const int = () => INT;

/** `text`: the decoder's attention dimensions, vocabulary and rotary base. */
export function decoderDimensions() {
  return {
    num_layers: int().positive(),
    hidden_size: int().positive(),
    num_heads: int().positive(),
    num_kv_heads: int().positive(),
    head_dim: int().positive(),
    vocab_size: int().positive(),
    rope_theta: z.number().positive(),
  };
}

/** `text`: how the rotary frequencies are split between the T, H and W position planes. */
export function mropeSections() {
  return {
    mrope_section: z.array(int().nonnegative()).length(3),
    mrope_interleaved: z.boolean(),
  };
}

/** `vision`: how the tower cuts an image into patches and merges them into tokens. */
export function visionPatching() {
  return {
    patch_size: int().positive(),
    temporal_patch_size: int().positive(),
    spatial_merge_size: int().positive(),
    depth: int().positive(),
  };
}

/** `tokens`: the ids that mark images and video in a prompt. */
export function visionTokensSchema() {
  return z.looseObject({
    image_token_id: int().nonnegative(),
    video_token_id: int().nonnegative(),
    vision_start_token_id: int().nonnegative(),
    vision_end_token_id: int().nonnegative(),
    names: z.array(z.string()).optional(),
  });
}

/** A recorded prompt with what its images add to it. */
export function imagePromptSchema() {
  return OraclePromptSchema.extend({
    image_tokens: int().nonnegative(),
    rope_delta: int(),
    image_grid_thw: z.array(z.tuple([int(), int(), int()])).optional(),
  });
}

/** Candidate manifest: the exported vision tower's fixed grid, if it has one. */
export function fixedVisionGrid() {
  return {
    /** The one (t, h, w) patch grid the exported vision tower was traced for, if it is fixed-grid. */
    vision_grid: z.tuple([int(), int(), int()]).optional(),
  };
}

/** Candidate runtime: the position the host gives a decode step. */
export function decodePositions() {
  return {
    /** Decode-step position: cache index plus the rope delta (correct), or the bare cache index. */
    decode_positions: z.enum(["rope-delta", "cache-index"]).default("rope-delta"),
  };
}
