#!/usr/bin/env python3
"""Exports the tiny Qwen3-VL into the layouts other tools ship, the way their users get them:

  candidates/tjs/    an onnx-community style model folder, as transformers.js loads it:
                     config.json, generation_config.json, tokenizer.json + tokenizer_config.json,
                     preprocessor_config.json, and onnx/{vision_encoder,embed_tokens,
                     decoder_model_merged}{,_quantized}.onnx
  candidates/genai/  an onnxruntime-genai folder: the text decoder built by onnxruntime-genai's own
                     model builder (model.onnx + model.onnx.data, genai_config.json), and the vision
                     and embedding graphs of the Olive Qwen3-VL recipe, with the recipe's
                     genai_config.json patch (type qwen3_vl, vision and embedding sections).

Neither tool carries DeepStack, so neither export does: transformers.js's Qwen3VL class
(src/models/qwen3_vl/modeling_qwen3_vl.js) extends Qwen2.5-VL's, whose encode_image reads only
`image_features`, and whose decoder takes only inputs_embeds; the Olive recipe's vision graph
returns only `image_features` and onnxruntime-genai's builder makes a decoder with no DeepStack
input (onnxruntime-genai issue #1989; PR #2513 to add it is open). That is the port as shipped.

The vision towers are traced for the one image grid the oracle's prompts use (TorchScript: the
dynamo exporter fails on the tower's data-dependent splits); they still take `image_grid_thw`
as the real graphs do.

    python3 oracles/record/export_layouts.py --out oracles/qwen3-vl-tiny \
        [--genai-python /path/to/python-with-onnxruntime-genai]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import record  # noqa: E402
import tiny_task  # noqa: E402


# ----------------------------------------------------------------------------- graphs

class ListCache:
    """The one cache method the attention layers call, over per-layer past tensors."""
    is_compileable = False

    def __init__(self, past: list[tuple[torch.Tensor, torch.Tensor]]):
        self.past = past
        self.present: list[tuple[torch.Tensor, torch.Tensor]] = []

    def update(self, key_states, value_states, layer_idx, *args, **kwargs):
        pk, pv = self.past[layer_idx]
        k = torch.cat([pk, key_states], dim=2)
        v = torch.cat([pv, value_states], dim=2)
        self.present.append((k, v))
        return k, v

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.past[0][0].shape[2]


class TextModel(nn.Module):
    """The language model's own modules, called as `model` so TorchScript names nodes
    `/model/layers.N/...`, as optimum's exports of transformers models are named."""

    def __init__(self, lm):
        super().__init__()
        self.layers = lm.layers
        self.norm = lm.norm
        self.rotary_emb = lm.rotary_emb

    def forward(self, inputs_embeds, mask, position_ids, cache):
        cos, sin = self.rotary_emb(inputs_embeds, position_ids)
        h = inputs_embeds
        for layer in self.layers:
            out = layer(h, position_embeddings=(cos, sin), attention_mask=mask, past_key_values=cache, use_cache=True)
            h = out[0] if isinstance(out, tuple) else out
        return self.norm(h)


def padded_causal_mask(attention_mask, S: int, P: int) -> torch.Tensor:
    """Additive [B,1,S,P+S] mask: causal over past + new tokens, and no key a padded token."""
    q_idx = torch.arange(S, device=attention_mask.device) + P
    k_idx = torch.arange(P + S, device=attention_mask.device)
    causal = k_idx[None, :] <= q_idx[:, None]
    allowed = causal[None, None] & attention_mask[:, None, None, :].bool()
    return torch.where(allowed, 0.0, torch.finfo(torch.float32).min)


class MergedDecoder(nn.Module):
    """onnx-community's decoder_model_merged: one graph with and without past (past length 0)."""

    def __init__(self, model):
        super().__init__()
        self.model = TextModel(model.model.language_model)
        self.lm_head = model.lm_head
        self.num_layers = len(self.model.layers)

    def forward(self, inputs_embeds, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(self.num_layers)]
        mask = padded_causal_mask(attention_mask, inputs_embeds.shape[1], past[0][0].shape[2])
        cache = ListCache(past)
        logits = self.lm_head(self.model(inputs_embeds, mask, position_ids, cache))
        outs = [logits]
        for k, v in cache.present:
            outs += [k, v]
        return tuple(outs)


class EmbedTokens(nn.Module):
    def __init__(self, embed):
        super().__init__()
        self.embed_tokens = embed

    def forward(self, input_ids):
        return self.embed_tokens(input_ids)


class VisionEncoder(nn.Module):
    """pixel_values, image_grid_thw -> image_features (the merged embeddings only)."""

    def __init__(self, visual, grid: list[int]):
        super().__init__()
        self.visual = visual
        self.register_buffer("grid", torch.tensor([grid], dtype=torch.long), persistent=False)

    def forward(self, pixel_values, image_grid_thw):
        out = self.visual(pixel_values, grid_thw=self.grid, return_dict=True).pooler_output
        # The traced tower is fixed-grid; adding 0 keeps the grid input in the graph, as in the real one.
        return out + (image_grid_thw.sum() * 0).to(out.dtype)


class EmbeddingWithImage(nn.Module):
    """The Olive recipe's embedding graph: token embeddings with image features scattered in."""

    def __init__(self, embed, image_token_id: int):
        super().__init__()
        self.embed_tokens = embed
        self.image_token_id = image_token_id

    def forward(self, input_ids, image_features):
        e = self.embed_tokens(input_ids)
        mask = (input_ids == self.image_token_id).reshape(-1)
        flat = e.reshape(-1, e.shape[-1])
        idx = torch.cumsum(mask.long(), 0) - 1
        # One zero row appended: a text-only prompt (zero image rows, as onnxruntime-genai feeds it) still gathers in range.
        feats = torch.cat([image_features, torch.zeros_like(e[0, :1])], dim=0)
        picked = feats[idx.clamp(min=0)]
        flat = torch.where(mask[:, None], picked, flat)
        return flat.reshape(e.shape)


def export_merged_decoder(model, path: str) -> None:
    tc = model.config.text_config
    L, H, kvh, hd = tc.num_hidden_layers, tc.hidden_size, tc.num_key_value_heads, tc.head_dim
    w = MergedDecoder(model).eval()
    B, S, P = 2, 5, 3
    pos = (torch.arange(S) + P).view(1, 1, S).expand(3, B, S).clone()
    past = []
    names_in = ["inputs_embeds", "attention_mask", "position_ids"]
    names_out = ["logits"]
    axes = {"inputs_embeds": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {1: "batch_size", 2: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(L):
        for r in ("key", "value"):
            past.append(torch.randn(B, kvh, P, hd))
            names_in.append(f"past_key_values.{i}.{r}")
            names_out.append(f"present.{i}.{r}")
            axes[f"past_key_values.{i}.{r}"] = {0: "batch_size", 2: "past_sequence_length"}
            axes[f"present.{i}.{r}"] = {0: "batch_size", 2: "total_sequence_length"}
    args = (torch.randn(B, S, H), torch.ones(B, P + S, dtype=torch.long), pos, *past)
    with torch.no_grad():
        torch.onnx.export(w, args, path, dynamo=False, opset_version=18, input_names=names_in,
                          output_names=names_out, dynamic_axes=axes)


def export_embed_tokens(model, path: str) -> None:
    w = EmbedTokens(model.model.language_model.embed_tokens).eval()
    ids = torch.tensor([[1, 2, 3, 4, 5]], dtype=torch.long)
    torch.onnx.export(w, (ids,), path, dynamo=False, opset_version=18, input_names=["input_ids"],
                      output_names=["inputs_embeds"],
                      dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                                    "inputs_embeds": {0: "batch_size", 1: "sequence_length"}})


def export_vision_encoder(model, grid, pv, path: str, output_name: str) -> None:
    w = VisionEncoder(model.model.visual, grid).eval()
    with torch.no_grad():
        torch.onnx.export(w, (pv, torch.tensor([grid], dtype=torch.long)), path, dynamo=False, opset_version=18,
                          input_names=["pixel_values", "image_grid_thw"], output_names=[output_name])


def export_embedding_with_image(model, path: str, image_token_id: int) -> None:
    w = EmbeddingWithImage(model.model.language_model.embed_tokens, image_token_id).eval()
    H = model.config.text_config.hidden_size
    ids = torch.tensor([[1, 2, image_token_id, image_token_id, 3]], dtype=torch.long)
    torch.onnx.export(w, (ids, torch.randn(2, H)), path, dynamo=False, opset_version=18,
                      input_names=["input_ids", "image_features"], output_names=["inputs_embeds"],
                      dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                                    "image_features": {0: "num_logical_patches"},
                                    "inputs_embeds": {0: "batch_size", 1: "sequence_length"}})


def self_contained(path: str) -> None:
    """torch may write weights beside the graph; keep each fixture graph one file."""
    import onnx
    m = onnx.load(path, load_external_data=True)
    d = os.path.dirname(path)
    for f in os.listdir(d):
        if f.startswith(os.path.basename(path) + ".") or f.endswith(".onnx.data"):
            if f != os.path.basename(path) and os.path.basename(path) in f:
                os.remove(os.path.join(d, f))
    onnx.save_model(m, path, save_as_external_data=False)


# ----------------------------------------------------------------------------- folders

def write_tokenizer(cfg, out: str) -> None:
    tiny_task.word_level_tokenizer(cfg).save(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<bos>", "pad_token": "<pad>",
                   "unk_token": "<pad>", "eos_token": "<pad>", "model_max_length": 4096}, f, indent=2)


def write_preprocessor(out: str) -> None:
    # Qwen2VLImageProcessor's saved fields (the processor transformers.js reads for Qwen3-VL).
    cfg = {"image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen3VLProcessor",
           "do_resize": True, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
           "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "do_convert_rgb": True,
           "patch_size": 16, "temporal_patch_size": 2, "merge_size": 2,
           "min_pixels": 32 * 32, "max_pixels": 256 * 256, "size": {"shortest_edge": 32 * 32, "longest_edge": 256 * 256}}
    with open(os.path.join(out, "preprocessor_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def quantize_q8(src: str, dst: str) -> None:
    """transformers.js's `_quantized` (dtype q8): onnxruntime dynamic quantization to 8 bits."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    quantize_dynamic(src, dst, weight_type=QuantType.QUInt8)


def write_tjs(model, cfg, grid, pv, out: str, export_decoder=export_merged_decoder) -> None:
    """The model folder; `export_decoder(model, path)` writes the family's decoder_model_merged."""
    onnx_dir = os.path.join(out, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    cfg.save_pretrained(out)
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        # No eos: the gate asks for a fixed number of tokens, as the oracle's generate() did.
        json.dump({"bos_token_id": 1, "pad_token_id": 0, "do_sample": False}, f, indent=2)
    write_tokenizer(cfg, out)
    write_preprocessor(out)
    graphs = {
        "decoder_model_merged": lambda p: export_decoder(model, p),
        "embed_tokens": lambda p: export_embed_tokens(model, p),
        "vision_encoder": lambda p: export_vision_encoder(model, grid, pv, p, "image_features"),
    }
    for name, export in graphs.items():
        path = os.path.join(onnx_dir, f"{name}.onnx")
        export(path)
        self_contained(path)
        quantize_q8(path, os.path.join(onnx_dir, f"{name}_quantized.onnx"))
        print(f"  tjs/onnx/{name}.onnx (+ _quantized)")


def write_genai(model, cfg, grid, pv, out: str, genai_python: str) -> None:
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as hf:
        model.save_pretrained(hf)
        # The genai model builder, as its users run it (text decoder only; embeddings excluded).
        subprocess.run([genai_python, "-m", "onnxruntime_genai.models.builder", "-i", hf, "-o", out, "-p", "fp32",
                        "-e", "cpu", "--extra_options", "exclude_embeds=true"], check=True, stdout=subprocess.DEVNULL)
    export_vision_encoder(model, grid, pv, os.path.join(out, "vision.onnx"), "image_features")
    self_contained(os.path.join(out, "vision.onnx"))
    export_embedding_with_image(model, os.path.join(out, "embedding.onnx"), cfg.image_token_id)
    self_contained(os.path.join(out, "embedding.onnx"))
    write_tokenizer(cfg, out)
    # The Olive Qwen3-VL recipe's update_genai_config: model type, vision and embedding sections.
    path = os.path.join(out, "genai_config.json")
    with open(path) as f:
        gc = json.load(f)
    gc["model"]["type"] = "qwen3_vl"
    gc["model"]["image_token_id"] = cfg.image_token_id
    gc["model"]["video_token_id"] = cfg.video_token_id
    gc["model"]["vision_start_token_id"] = cfg.vision_start_token_id
    gc["model"]["vision"] = {"filename": "vision.onnx", "inputs": {"pixel_values": "pixel_values", "image_grid_thw": "image_grid_thw"},
                             "outputs": {"image_features": "image_features"}, "spatial_merge_size": 2}
    gc["model"]["embedding"] = {"filename": "embedding.onnx",
                                "inputs": {"input_ids": "input_ids", "image_features": "image_features"},
                                "outputs": {"inputs_embeds": "inputs_embeds"}}
    with open(path, "w") as f:
        json.dump(gc, f, indent=4)
    print("  genai/ (model.onnx from onnxruntime_genai.models.builder, vision.onnx, embedding.onnx)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, help="the oracle folder (oracles/qwen3-vl-tiny)")
    ap.add_argument("--genai-python", default=None, help="a python with onnxruntime-genai (its model builder)")
    args = ap.parse_args()
    from safetensors.torch import load_file
    root = os.path.dirname(os.path.dirname(HERE))
    model, _ = record.build_from_config(os.path.join(root, "oracles/record/configs/qwen3-vl-tiny.json"), 0)
    model.load_state_dict(load_file(os.path.join(args.out, "model/model.safetensors")), strict=False)
    model = model.float().eval()
    cfg = model.config
    from safetensors import safe_open
    with safe_open(os.path.join(args.out, "prompts/mm-colours-a.safetensors"), "pt") as s:
        pv = s.get_tensor("inputs.pixel_values")
        grid = s.get_tensor("inputs.image_grid_thw")[0].tolist()
    cdir = os.path.join(args.out, "candidates")
    tjs = os.path.join(cdir, "tjs")
    shutil.rmtree(tjs, ignore_errors=True)
    write_tjs(model, cfg, grid, pv, tjs)
    if args.genai_python is not None:
        genai = os.path.join(cdir, "genai")
        shutil.rmtree(genai, ignore_errors=True)
        write_genai(model, cfg, grid, pv, genai, args.genai_python)


if __name__ == "__main__":
    main()
