/** Qwen3-VL's parts of the oracle and candidate manifests. */
import { z } from "../../schema/zod.ts";
import { OracleManifestSchema } from "../../oracle/manifest.ts";
import { decodePositions, decoderDimensions, fixedVisionGrid, imagePromptSchema, int, mropeSections, visionPatching, visionTokensSchema } from "../manifest-parts.ts";

export const Qwen3VLOracleManifestSchema = z.extend(OracleManifestSchema, {
  family: z.literal("qwen3-vl"),
  text: z.object({
    ...decoderDimensions(),
    ...mropeSections(),
    tied_head: z.boolean(),
    deepstack_levels: int().check(z.nonnegative()),
  }),
  vision: z.object({
    ...visionPatching(),
    deepstack_visual_indexes: z.array(int().check(z.nonnegative())),
  }),
  tokens: visionTokensSchema(),
  prompts: z.array(imagePromptSchema()).check(z.minLength(1)),
});
export type Qwen3VLOracleManifest = z.infer<typeof Qwen3VLOracleManifestSchema>;

/** How the candidate's host runtime behaves (positions, decode, cache), as a porter's host does. */
export const Qwen3VLRuntimeSchema = z.strictObject({
  /** Where prefill positions come from: the engine's in-graph formula, or transformers' get_rope_index. */
  positions: z._default(z.enum(["engine-formula", "get-rope-index"]), "get-rope-index"),
  /** Added to the host-set text shift amount after an image (0 for a correct host; engine-formula only). */
  text_shift_bias: z._default(z.number().check(z.int()), 0),
  ...decodePositions(),
  /** Decode step whose new KV entry the host fails to keep (a stale cache), or null. */
  stale_kv_step: z._default(z.nullable(z.number().check(z.int(), z.nonnegative())), null),
});
export type Qwen3VLRuntime = z.infer<typeof Qwen3VLRuntimeSchema>;

export const Qwen3VLCandidateSchema = z.looseObject({
  ...fixedVisionGrid(),
  runtime: z._default(Qwen3VLRuntimeSchema, {
    positions: "get-rope-index",
    text_shift_bias: 0,
    decode_positions: "rope-delta",
    stale_kv_step: null,
  }),
});
export type Qwen3VLCandidate = z.infer<typeof Qwen3VLCandidateSchema>;
