/**
 * Qwen3-VL at real size: parameters from the recorder config, and what record.py --hf-id will
 * hold and compute (see src/oracle/record-estimate.ts for the shared assumptions).
 */
import { z } from "../../schema/zod.ts";
import { NumgateError } from "../../errors/numgate-error.ts";
import { FP32, REAL_PROMPTS, recordEstimate, type RecordEstimate } from "../../oracle/record-estimate.ts";

// One instance for every such field, here and in Qwen3.5's estimate (zod schemas are immutable).
const POSITIVE_INT = z.number().check(z.int(), z.positive());
export const positiveInt = () => POSITIVE_INT;
const int = positiveInt;

export const VisionConfigSchema = z.looseObject({
  depth: int(),
  hidden_size: int(),
  intermediate_size: int(),
  in_channels: z._default(int(), 3),
  patch_size: int(),
  temporal_patch_size: int(),
  spatial_merge_size: int(),
  out_hidden_size: int(),
  num_position_embeddings: int(),
  deepstack_visual_indexes: z._default(z.array(z.number().check(z.int(), z.nonnegative())), []),
});

/** The decoder fields every Qwen family's estimate reads (Qwen3.5 extends it with its linear layers). */
export const TextConfigSchema = z.looseObject({
  vocab_size: int(),
  hidden_size: int(),
  intermediate_size: int(),
  num_hidden_layers: int(),
  num_attention_heads: int(),
  num_key_value_heads: int(),
  head_dim: int(),
});

const ConfigSchema = z.looseObject({
  tie_word_embeddings: z._default(z.boolean(), false),
  text_config: TextConfigSchema,
  vision_config: VisionConfigSchema,
});

export function parseConfig<T>(schema: z.ZodMiniType<T>, config: unknown, file: string): T {
  const r = schema.safeParse(config);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue?.path.join(".") ?? "";
  throw new NumgateError("schema_violation", `${file}: ${field}: ${issue?.message ?? "invalid"}`, { file, field });
}

/** Parameters of a Qwen3-VL / Qwen3.5 vision tower (patch embed, blocks, merger, DeepStack mergers). */
export function visionParameters(v: z.infer<typeof VisionConfigSchema>): number {
  const h = v.hidden_size;
  const patch = v.in_channels * v.temporal_patch_size * v.patch_size ** 2 * h + h;
  const block = 4 * h + (3 * h * h + 3 * h) + (h * h + h) + (h * v.intermediate_size + v.intermediate_size) + (v.intermediate_size * h + h);
  const m = h * v.spatial_merge_size ** 2;
  const merger = (norm: number) => 2 * norm + (m * m + m) + (m * v.out_hidden_size + v.out_hidden_size);
  return patch + v.num_position_embeddings * h + v.depth * block + merger(h) + v.deepstack_visual_indexes.length * merger(m);
}

export function qwen3vlEstimate(config: unknown, file: string): RecordEstimate {
  const c = parseConfig(ConfigSchema, config, file);
  const t = c.text_config;
  const H = t.hidden_size;
  const L = t.num_hidden_layers;
  const attn = H * t.num_attention_heads * t.head_dim * 2 + 2 * H * t.num_key_value_heads * t.head_dim + 2 * t.head_dim;
  const layer = attn + 3 * H * t.intermediate_size + 2 * H;
  const embed = t.vocab_size * H;
  const body = L * layer + H;
  const head = c.tie_word_embeddings ? 0 : embed;
  const vision = visionParameters(c.vision_config);
  const parameters = embed + body + head + vision;
  const K = c.vision_config.deepstack_visual_indexes.length;
  const mm = REAL_PROMPTS.multimodal;
  const patchWidth = c.vision_config.in_channels * c.vision_config.temporal_patch_size * c.vision_config.patch_size ** 2;
  const hidden = (S: number) => (2 * L + 1) * S * H * FP32; // decoder.hidden + decoder.layer_out + inputs_embeds
  const kv = (S: number) => 2 * L * t.num_key_value_heads * S * t.head_dim * FP32;
  const logitRows = 1 + 16 + 16; // prefill, greedy.logits, teacher.logits
  const oracleParts = {
    "hidden states": hidden(mm.tokens) + hidden(REAL_PROMPTS.text.tokens),
    "KV cache": kv(mm.tokens) + kv(REAL_PROMPTS.text.tokens),
    logits: 2 * logitRows * t.vocab_size * FP32,
    "pixels + vision outputs": mm.patches * patchWidth * FP32 + (1 + K) * mm.imageTokens * H * FP32,
  };
  // Per prompt: forward without cache, forward with cache, generate (prefill + 23 steps), teacher (S + 15).
  const tokens = (S: number) => 4 * S + 38;
  const perToken = 2 * (body + embed); // the head runs on every position (transformers computes every row's logits)
  const visionRuns = 5; // get_image_features plus the four forwards that carry pixel_values
  return recordEstimate({
    parameters,
    parameterParts: { text: embed + body + head, "of which embeddings": embed, vision },
    oracleParts,
    flops: perToken * (tokens(mm.tokens) + tokens(REAL_PROMPTS.text.tokens)) + visionRuns * 2 * vision * mm.patches,
    largestLogitsBytes: (mm.tokens + 23) * t.vocab_size * FP32,
    tiedHead: c.tie_word_embeddings,
    assumptions: [
      `two prompts (record.py --hf-id): one with a 448x448 image (${mm.patches} patches, ${mm.imageTokens} image tokens, ${mm.tokens} tokens) and one of ${REAL_PROMPTS.text.tokens} text tokens`,
      `per prompt: every layer's hidden state and module output, the KV cache, ${logitRows} logit rows of ${t.vocab_size}, all fp32`,
    ],
  });
}
