#!/usr/bin/env python3
"""Exports the tiny Qwen3.5 into the onnx-community layout, as transformers.js 4.3.2 loads it:

  candidates/tjs/   config.json (model_type qwen3_5, text_config.layer_types), generation_config.json,
                    tokenizer files, preprocessor_config.json, and
                    onnx/{vision_encoder,embed_tokens,decoder_model_merged}{,_quantized}.onnx

The decoder's state is named the way transformers.js feeds it (getCacheNames for qwen3_5_text,
getPastKeyValues for the present -> past renaming), one entry per layer of the kind that has it:

  linear-attention layer i:  past_conv.{i} [batch_size, conv_dim, kernel]
                             past_recurrent.{i} [batch_size, value_heads, key_head_dim, value_head_dim]
                          -> present_conv.{i}, present_recurrent.{i}
  full-attention layer i:    past_key_values.{i}.key/.value [batch_size, kv_heads, past_sequence_length, head_dim]
                          -> present.{i}.key/.value

plus inputs_embeds, attention_mask [B, past + S] and position_ids [3, B, S] (Qwen3.5 inherits
Qwen3-VL's get_rope_index in transformers.js). transformers.js makes the first step's state from
the session's input metadata, every symbolic dim but `batch_size` becoming 0: the conv and
recurrent states therefore keep static non-batch dims, so they start as zeros of their real size.

The layers are the numgate-layout wrapper's own (qwen35_export.DecoderWrapper.block: the
loop-free gated delta rule that exports with a dynamic length), called from modules named
`model.layers.N` so TorchScript scopes each layer's ops as optimum's exports are scoped (numgate
finds the per-layer residuals by that naming). The vision tower and embedding graphs are
export_layouts.py's.

    python3 oracles/record/export_layouts_qwen35.py --out oracles/qwen3.5-tiny
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import export_layouts as el  # noqa: E402
import qwen35_export as qx  # noqa: E402


class TjsLayer(nn.Module):
    """Decoder layer N's submodules under `model.layers.N`, run by the numgate wrapper's block."""

    def __init__(self, core: qx.DecoderWrapper, index: int, layer):
        super().__init__()
        # Not a submodule: its parameters are the layers' own, reached through this module's names.
        object.__setattr__(self, "core", core)
        self.index = index
        self.input_layernorm = layer.input_layernorm
        self.post_attention_layernorm = layer.post_attention_layernorm
        self.mlp = layer.mlp
        if core.types[index] == "full_attention":
            self.self_attn = layer.self_attn
        else:
            self.linear_attn = layer.linear_attn

    def forward(self, h, cos, sin, mask, token_mask, a, b):
        return self.core.block(self.index, self, h, cos, sin, mask, (a, b), token_mask)


class TjsTextModel(nn.Module):
    def __init__(self, core: qx.DecoderWrapper, lm):
        super().__init__()
        self.layers = nn.ModuleList(TjsLayer(core, i, layer) for i, layer in enumerate(lm.layers))
        self.norm = lm.norm

    def forward(self, h, cos, sin, mask, token_mask, past_flat):
        outs = []
        for i, layer in enumerate(self.layers):
            h, a, b = layer(h, cos, sin, mask, token_mask, past_flat[2 * i], past_flat[2 * i + 1])
            outs += [a, b]
        return self.norm(h), outs


class TjsMergedDecoder(nn.Module):
    """decoder_model_merged: past length 0 at the prefill, the same graph at every decode step."""

    def __init__(self, model, core: qx.DecoderWrapper):
        super().__init__()
        object.__setattr__(self, "core", core)
        self.model = TjsTextModel(core, model.model.language_model)
        self.lm_head = model.lm_head
        self.first_full = core.types.index("full_attention")

    def forward(self, inputs_embeds, attention_mask, position_ids, *past_flat):
        S = inputs_embeds.shape[1]
        P = past_flat[2 * self.first_full].shape[2]
        mask = el.padded_causal_mask(attention_mask, S, P)
        cos, sin = self.core.rope(position_ids)
        h, outs = self.model(inputs_embeds, cos, sin, mask, attention_mask[:, -S:], past_flat)
        return (self.lm_head(h), *outs)


def state_io(model) -> list[tuple[str, str, tuple, dict]]:
    """(input, output, example shape for batch 2 / past 3, dynamic axes) per state tensor, in layer order."""
    tc = model.config.text_config
    la = next(layer.linear_attn for layer in model.model.language_model.layers if hasattr(layer, "linear_attn"))
    B, P = 2, 3
    io = []
    for i, t in enumerate(tc.layer_types):
        if t == "full_attention":
            for r in ("key", "value"):
                io.append((f"past_key_values.{i}.{r}", f"present.{i}.{r}", (B, tc.num_key_value_heads, P, tc.head_dim),
                           {"in": {0: "batch_size", 2: "past_sequence_length"}, "out": {0: "batch_size", 2: "total_sequence_length"}}))
        else:
            fixed = {"in": {0: "batch_size"}, "out": {0: "batch_size"}}
            io.append((f"past_conv.{i}", f"present_conv.{i}", (B, la.conv_dim, la.conv_kernel_size), fixed))
            io.append((f"past_recurrent.{i}", f"present_recurrent.{i}", (B, la.num_v_heads, la.head_k_dim, la.head_v_dim), fixed))
    return io


def export_merged_decoder(model, path: str, **faults) -> None:
    w = TjsMergedDecoder(model, qx.DecoderWrapper(model, **faults)).eval()
    H = model.config.text_config.hidden_size
    io = state_io(model)
    B, S, P = 2, 5, 3
    pos = (torch.arange(S) + P).view(1, 1, S).expand(3, B, S).clone()
    # Left padding in the example, so the traced mask path is the padded one too.
    mask = torch.ones(B, P + S, dtype=torch.long)
    mask[1, 0] = 0
    past = [torch.randn(shape) * (0.1 if name.startswith("past_recurrent") else 1.0) for name, _, shape, _ in io]
    axes = {"inputs_embeds": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {1: "batch_size", 2: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for name_in, name_out, _, ax in io:
        axes[name_in], axes[name_out] = ax["in"], ax["out"]
    with torch.no_grad():
        torch.onnx.export(w, (torch.randn(B, S, H), mask, pos, *past), path, dynamo=False, opset_version=18,
                          input_names=["inputs_embeds", "attention_mask", "position_ids", *[x[0] for x in io]],
                          output_names=["logits", *[x[1] for x in io]], dynamic_axes=axes)
    fixed_state_outputs(path)
    check_decoder(w, model, path)


def fixed_state_outputs(path: str) -> None:
    """The tracer leaves the conv / recurrent outputs' sizes symbolic; they are the inputs' own."""
    import onnx
    m = onnx.load(path)
    inputs = {i.name: i for i in m.graph.input}
    for o in m.graph.output:
        src = inputs.get(o.name.replace("present_", "past_"))
        if src is not None and o.name.startswith(("present_conv.", "present_recurrent.")):
            o.type.CopyFrom(src.type)
    onnx.save_model(m, path)


@torch.no_grad()
def check_decoder(w: TjsMergedDecoder, model, path: str, tol: float = 1e-4) -> None:
    """The graph against its torch module at shapes other than the traced ones (a prefill from the
    empty state, then single-token steps carrying the state), so no traced size is baked in."""
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    H = model.config.text_config.hidden_size
    io = state_io(model)
    gen = torch.Generator().manual_seed(1)
    state = [torch.zeros((1, *shape[1:2], 0, *shape[3:]) if "past_sequence_length" in ax["in"].values() else (1, *shape[1:]))
             for _, _, shape, ax in io]
    total = 0
    worst = 0.0
    for S in (9, 1, 1):
        x = torch.randn(1, S, H, generator=gen)
        pos = (torch.arange(S) + total).view(1, 1, S).expand(3, 1, S).clone()
        mask = torch.ones(1, total + S, dtype=torch.long)
        ref = w(x, mask, pos, *state)
        feeds = {"inputs_embeds": x.numpy(), "attention_mask": mask.numpy(), "position_ids": pos.numpy()}
        feeds.update({name: t.numpy() for (name, _, _, _), t in zip(io, state)})
        got = sess.run(None, feeds)
        for r, g in zip(ref, got):
            assert r.shape == g.shape, f"{path}: shape {g.shape} vs torch {tuple(r.shape)} at S={S}, past={total}"
            worst = max(worst, float(np.abs(r.numpy() - g).max()))
        state = [torch.from_numpy(g) for g in got[1:]]
        total += S
    assert worst < tol, f"{path}: max |onnx - torch| {worst:.3g} over a prefill and two steps"
    print(f"  decoder graph vs torch: max |d| {worst:.2g} (prefill 9, then 2 steps)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, help="the oracle folder (oracles/qwen3.5-tiny)")
    args = ap.parse_args()
    from safetensors import safe_open
    from safetensors.torch import load_file
    import record_qwen35
    root = os.path.dirname(os.path.dirname(HERE))
    model, _ = record_qwen35.build_from_config(os.path.join(root, "oracles/record/configs/qwen3.5-tiny.json"), 0)
    missing, unexpected = model.load_state_dict(load_file(os.path.join(args.out, "model/model.safetensors")), strict=False)
    assert not unexpected and all("lm_head" in k for k in missing), (missing, unexpected)
    model.tie_weights()
    model = model.float().eval()
    assert torch.equal(model.lm_head.weight, model.model.language_model.embed_tokens.weight), "head not tied"
    with safe_open(os.path.join(args.out, "prompts/mm-colours-a.safetensors"), "pt") as s:
        pv = s.get_tensor("inputs.pixel_values")
        grid = s.get_tensor("inputs.image_grid_thw")[0].tolist()
    tjs = os.path.join(args.out, "candidates", "tjs")
    shutil.rmtree(tjs, ignore_errors=True)
    el.write_tjs(model, model.config, grid, pv, tjs, export_decoder=export_merged_decoder)


if __name__ == "__main__":
    main()
