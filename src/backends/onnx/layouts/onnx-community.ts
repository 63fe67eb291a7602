/**
 * The onnx-community layout, as transformers.js loads it: a model folder with config.json and
 *
 *   onnx/vision_encoder{suffix}.onnx        pixel_values, image_grid_thw -> image_features
 *   onnx/embed_tokens{suffix}.onnx          input_ids -> inputs_embeds
 *   onnx/decoder_model_merged{suffix}.onnx  inputs_embeds, attention_mask, position_ids [3,B,S],
 *                                           past_key_values.{i}.key/.value (attention layers),
 *                                           past_conv.{i} [B,conv_dim,kernel] and
 *                                           past_recurrent.{i} [B,v_heads,dk,dv] (linear-attention
 *                                           layers of a hybrid decoder)
 *                                        -> logits, present.{i}.key/.value, present_conv.{i},
 *                                           present_recurrent.{i}
 *
 * where the suffix is transformers.js's dtype: "" (fp32), _fp16, _q4, _q4f16, _quantized (q8).
 * No per-layer outputs (numgate marks them in an edited copy), no rotary tables, no DeepStack.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { NumgateError } from "../../../errors/numgate-error.ts";
import { onnxruntimeVersion } from "../runner.ts";
import { KvDecoderBackend, type KvNames } from "./kv-decoder.ts";
import type { OnnxLayout } from "./layout.ts";

/** transformers.js's dtype -> file suffix (its DEFAULT_DTYPE_SUFFIX_MAPPING). */
export const DTYPE_SUFFIX: Readonly<Record<string, string>> = {
  fp32: "",
  fp16: "_fp16",
  q8: "_quantized",
  int8: "_int8",
  uint8: "_uint8",
  q4: "_q4",
  q4f16: "_q4f16",
  bnb4: "_bnb4",
};

const GRAPHS = { vision: "vision_encoder", embed: "embed_tokens", decoder: "decoder_model_merged" } as const;

export const ONNX_COMMUNITY_NAMES: KvNames = {
  decoder: {
    inputsEmbeds: "inputs_embeds",
    attentionMask: "attention_mask",
    positionIds: "position_ids",
    pastKey: (i) => `past_key_values.${i}.key`,
    pastValue: (i) => `past_key_values.${i}.value`,
    presentKey: (i) => `present.${i}.key`,
    presentValue: (i) => `present.${i}.value`,
    // transformers.js's getCacheNames for its hybrid (GatedDeltaNet) decoders, and getPastKeyValues's present_* -> past_* renaming.
    pastConv: (i) => `past_conv.${i}`,
    pastRecurrent: (i) => `past_recurrent.${i}`,
    presentConv: (i) => `present_conv.${i}`,
    presentRecurrent: (i) => `present_recurrent.${i}`,
    logits: "logits",
  },
  embed: { inputIds: "input_ids", output: "inputs_embeds" },
  vision: { pixelValues: "pixel_values", gridThw: "image_grid_thw", output: "image_features" },
};

export function onnxCommunityFiles(folder: string, dtype: string | undefined): Record<string, string> | null {
  if (!existsSync(join(folder, "onnx", `${GRAPHS.decoder}.onnx`)) && dtype === undefined) return null;
  const suffix = DTYPE_SUFFIX[dtype ?? "fp32"];
  if (suffix === undefined) {
    throw new NumgateError("candidate_invalid", `unknown transformers.js dtype "${dtype}" (dtypes: ${Object.keys(DTYPE_SUFFIX).join(", ")})`, { field: "dtype" });
  }
  const files: Record<string, string> = {};
  for (const [role, base] of Object.entries(GRAPHS)) files[role] = join(folder, "onnx", `${base}${suffix}.onnx`);
  for (const [role, p] of Object.entries(files)) {
    if (!existsSync(p)) throw new NumgateError("file_not_found", `the onnx-community layout (dtype ${dtype ?? "fp32"}) needs the ${role} graph ${p}, which does not exist`, { file: p, field: `files.${role}` });
  }
  return files;
}

export const onnxCommunityLayout: OnnxLayout = {
  name: "onnx-community",
  roles: ["embed", "vision", "decoder"],
  inFolder: onnxCommunityFiles,
  editsLayerOutputs: true,
  open: (runner, shape, options) => {
    if (options === undefined) throw new NumgateError("internal", "the onnx-community layout opens with options");
    return new KvDecoderBackend(runner, shape, {
      layout: "onnx-community",
      names: ONNX_COMMUNITY_NAMES,
      layerTensors: options.layerTensors ?? { reason: "no edited decoder copy was made" },
      provider: options.provider,
      runtime: `onnxruntime-node ${onnxruntimeVersion() ?? "?"}`,
    });
  },
};
