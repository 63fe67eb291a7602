/**
 * The onnxruntime-genai layout: a folder with `genai_config.json`, whose `model.decoder` names
 * the decoder file and its tensors (`inputs.past_key_names` "past_key_values.%d.key", ...), and,
 * for a multimodal model (`model.type` "qwen3_vl"), `model.vision` and `model.embedding`
 * sections (the Olive recipes' graphs): vision pixel_values, image_grid_thw -> image_features;
 * embedding input_ids, image_features -> inputs_embeds. The decoder comes from genai's model
 * builder: fused ops, no per-layer outputs (marked in an edited copy), no DeepStack input.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "../../../schema/zod.ts";
import { NumgateError } from "../../../errors/numgate-error.ts";
import { onnxruntimeVersion } from "../runner.ts";
import { KvDecoderBackend, type KvNames } from "./kv-decoder.ts";
import type { OnnxLayout } from "./layout.ts";

const Section = z.looseObject({
  filename: z.string().check(z.minLength(1)),
  inputs: z._default(z.record(z.string(), z.string()), {}),
  outputs: z._default(z.record(z.string(), z.string()), {}),
});

const GenaiConfig = z.looseObject({
  model: z.looseObject({
    type: z.string(),
    decoder: Section,
    vision: z.optional(Section),
    embedding: z.optional(Section),
  }),
});
type GenaiConfig = z.infer<typeof GenaiConfig>;

function readConfig(folder: string): GenaiConfig {
  const path = join(folder, "genai_config.json");
  const parsed = GenaiConfig.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new NumgateError("candidate_invalid", `genai_config.json does not fit the onnxruntime-genai layout: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? ""}`, { file: path, field: issue?.path.join(".") ?? "" });
  }
  return parsed.data;
}

function need(section: z.infer<typeof Section>, side: "inputs" | "outputs", key: string, file: string, where: string): string {
  const v = section[side][key];
  if (v === undefined) throw new NumgateError("candidate_invalid", `genai_config.json has no ${where}.${side}.${key}`, { file, field: `${where}.${side}.${key}` });
  return v;
}

export function genaiNames(folder: string): KvNames {
  const c = readConfig(folder).model;
  const file = join(folder, "genai_config.json");
  const d = c.decoder;
  const pattern = (p: string) => (i: number) => p.replace("%d", String(i));
  if (c.vision === undefined || c.embedding === undefined) {
    throw new NumgateError("candidate_invalid", `genai_config.json of a "${c.type}" model has no vision/embedding sections: a text-only export cannot be gated against a vision-language oracle`, { file, field: "model.vision" });
  }
  return {
    decoder: {
      inputsEmbeds: need(d, "inputs", "inputs_embeds", file, "model.decoder"),
      attentionMask: need(d, "inputs", "attention_mask", file, "model.decoder"),
      positionIds: need(d, "inputs", "position_ids", file, "model.decoder"),
      pastKey: pattern(need(d, "inputs", "past_key_names", file, "model.decoder")),
      pastValue: pattern(need(d, "inputs", "past_value_names", file, "model.decoder")),
      presentKey: pattern(need(d, "outputs", "present_key_names", file, "model.decoder")),
      presentValue: pattern(need(d, "outputs", "present_value_names", file, "model.decoder")),
      logits: need(d, "outputs", "logits", file, "model.decoder"),
    },
    embed: {
      inputIds: need(c.embedding, "inputs", "input_ids", file, "model.embedding"),
      imageFeatures: need(c.embedding, "inputs", "image_features", file, "model.embedding"),
      output: need(c.embedding, "outputs", "inputs_embeds", file, "model.embedding"),
    },
    vision: {
      pixelValues: need(c.vision, "inputs", "pixel_values", file, "model.vision"),
      gridThw: need(c.vision, "inputs", "image_grid_thw", file, "model.vision"),
      output: need(c.vision, "outputs", "image_features", file, "model.vision"),
    },
  };
}

export function genaiFiles(folder: string): Record<string, string> | null {
  if (!existsSync(join(folder, "genai_config.json"))) return null;
  const c = readConfig(folder).model;
  const files: Record<string, string> = { decoder: join(folder, c.decoder.filename) };
  if (c.vision !== undefined) files["vision"] = join(folder, c.vision.filename);
  if (c.embedding !== undefined) files["embed"] = join(folder, c.embedding.filename);
  for (const [role, p] of Object.entries(files)) {
    if (!existsSync(p)) throw new NumgateError("file_not_found", `genai_config.json names the ${role} graph ${p}, which does not exist`, { file: join(folder, "genai_config.json"), field: role });
  }
  return files;
}

export const genaiLayout: OnnxLayout = {
  name: "genai",
  roles: ["embed", "vision", "decoder"],
  inFolder: (folder) => genaiFiles(folder),
  editsLayerOutputs: true,
  open: (runner, shape, options) => {
    if (options?.folder === undefined) throw new NumgateError("internal", "the genai layout opens from a folder");
    return new KvDecoderBackend(runner, shape, {
      layout: "genai",
      names: genaiNames(options.folder),
      layerTensors: options.layerTensors ?? { reason: "no edited decoder copy was made" },
      provider: options.provider,
      runtime: `onnxruntime-node ${onnxruntimeVersion() ?? "?"}`,
    });
  },
};
