/**
 * Qwen3.5 at real size. What differs from Qwen3-VL's estimate (../qwen3-vl/estimate.ts): linear-
 * attention layers (projections, conv, delta-rule state instead of K/V), gated full attention (q
 * projection twice as wide), no DeepStack, no separate layer_out dump, and a greedy reference made
 * of 24 full re-forwards without a cache, which dominates the compute.
 */
import { z } from "../../schema/zod.ts";
import { FP32, REAL_PROMPTS, recordEstimate, type RecordEstimate } from "../../oracle/record-estimate.ts";
import { TextConfigSchema, VisionConfigSchema, parseConfig, positiveInt, visionParameters } from "../qwen3-vl/estimate.ts";

const int = positiveInt;

const ConfigSchema = z.looseObject({
  tie_word_embeddings: z._default(z.boolean(), false),
  text_config: z.extend(TextConfigSchema, {
    layer_types: z.array(z.enum(["linear_attention", "full_attention"])).check(z.minLength(1)),
    linear_conv_kernel_dim: int(),
    linear_key_head_dim: int(),
    linear_value_head_dim: int(),
    linear_num_key_heads: int(),
    linear_num_value_heads: int(),
  }),
  vision_config: VisionConfigSchema,
});

export function qwen35Estimate(config: unknown, file: string): RecordEstimate {
  const c = parseConfig(ConfigSchema, config, file);
  const t = c.text_config;
  const H = t.hidden_size;
  const full = t.layer_types.filter((x) => x === "full_attention").length;
  const lin = t.layer_types.length - full;
  const keyDim = t.linear_num_key_heads * t.linear_key_head_dim;
  const valueDim = t.linear_num_value_heads * t.linear_value_head_dim;
  const convDim = 2 * keyDim + valueDim;
  const fullAttn = H * t.num_attention_heads * t.head_dim * 2 + 2 * H * t.num_key_value_heads * t.head_dim + t.num_attention_heads * t.head_dim * H + 2 * t.head_dim;
  const linAttn = H * convDim + H * valueDim + 2 * H * t.linear_num_value_heads + convDim * t.linear_conv_kernel_dim + 2 * t.linear_num_value_heads + t.linear_value_head_dim + valueDim * H;
  const mlp = 3 * H * t.intermediate_size + 2 * H;
  const embed = t.vocab_size * H;
  const body = full * (fullAttn + mlp) + lin * (linAttn + mlp) + H;
  const head = c.tie_word_embeddings ? 0 : embed;
  const vision = visionParameters({ ...c.vision_config, deepstack_visual_indexes: [] });
  const parameters = embed + body + head + vision;
  const mm = REAL_PROMPTS.multimodal;
  const S2 = [mm.tokens, REAL_PROMPTS.text.tokens];
  const patchWidth = c.vision_config.in_channels * c.vision_config.temporal_patch_size * c.vision_config.patch_size ** 2;
  const logitRows = 1 + 16 + 16 + 16; // prefill, greedy.logits, teacher.logits, greedy_cached.logits
  const linState = lin * (convDim * t.linear_conv_kernel_dim + t.linear_num_value_heads * t.linear_key_head_dim * t.linear_value_head_dim) * FP32;
  const oracleParts = {
    "hidden states": S2.reduce((a, S) => a + (t.layer_types.length + 1) * S * H * FP32, 0),
    "prefill state": S2.reduce((a, S) => a + 2 * full * t.num_key_value_heads * S * t.head_dim * FP32 + linState, 0),
    logits: 2 * logitRows * t.vocab_size * FP32,
    "pixels + vision outputs": mm.patches * patchWidth * FP32 + mm.imageTokens * H * FP32,
  };
  // Per prompt: forward, cached forward, 24 re-forwards of S..S+23 tokens, cached generate, teacher.
  const tokens = (S: number) => S + S + (24 * S + 276) + (S + 23) + (S + 15);
  const perToken = 2 * (body + embed);
  const visionRuns = 29; // get_image_features and every forward that carries pixel_values
  return recordEstimate({
    parameters,
    parameterParts: { text: embed + body + head, "of which embeddings": embed, vision },
    oracleParts,
    flops: perToken * S2.reduce((a, S) => a + tokens(S), 0) + visionRuns * 2 * vision * mm.patches,
    largestLogitsBytes: (mm.tokens + 23) * t.vocab_size * FP32,
    tiedHead: c.tie_word_embeddings,
    assumptions: [
      `two prompts (record_qwen35.py --hf-id): one with a 448x448 image (${mm.patches} patches, ${mm.imageTokens} image tokens, ${mm.tokens} tokens) and one of ${REAL_PROMPTS.text.tokens} text tokens`,
      `${lin} linear-attention + ${full} full-attention layers; per prompt every layer's hidden state, the prefill state (K/V of full layers, conv window + recurrent state of linear ones), ${logitRows} logit rows of ${t.vocab_size}, all fp32`,
      `greedy reference = 24 full re-forwards without a cache (about ${Math.round(tokens(mm.tokens) / mm.tokens)}x the tokens of one prefill)`,
    ],
  });
}
