"""Exports ONNX candidates of a Qwen3-VL model, healthy and with planted faults.

Three graphs per candidate, the split the on-device ports use:
- embed:   input_ids [1,S] -> inputs_embeds [1,S,H]            (TorchScript exporter)
- vision:  pixel_values [N, C*T*P*P] for ONE fixed grid -> image_embeds and deepstack_k
           (TorchScript exporter: the dynamo exporter fails on the tower's data-dependent splits)
- decoder: inputs_embeds, 3-plane position_ids, dense DeepStack [K,1,S,H] (zeros at text
           positions: adding 0.0 is exact), stacked past keys/values -> logits, every layer's
           hidden state (the residual after the layer, DeepStack included), present keys/values,
           and the rotary cos/sin tables it used (so positions and section layout can be gated).
           Dynamo exporter, opset 18, dynamic sequence and past length.

The decoder wrapper calls transformers' own decoder layers; only the loop around them (mask,
cache, DeepStack addition, rotary table) is ours, so that faults can be planted in it.
"""
from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import nn


# ----------------------------------------------------------------------------- rotary tables

def frequency_planes(section: list[int], half: int, style: str) -> list[int]:
    """0=T, 1=H, 2=W for each rotary frequency. Interleaved is Qwen3-VL's layout (THW repeated,
    then T); chunked is Qwen2-VL's (all T, then H, then W) -- the planted fault."""
    if style == "interleaved":
        planes = []
        for j in range(half):
            if j % 3 == 1 and j < section[1] * 3:
                planes.append(1)
            elif j % 3 == 2 and j < section[2] * 3:
                planes.append(2)
            else:
                planes.append(0)
        return planes
    if style == "chunked":
        return [0] * section[0] + [1] * section[1] + [2] * section[2]
    raise ValueError(style)


class ExportCache:
    """The one cache method the attention layers call; keeps the presents for the graph outputs."""
    is_compileable = False

    def __init__(self, past_keys: torch.Tensor, past_values: torch.Tensor):
        self.pk, self.pv = past_keys, past_values
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []

    def update(self, key_states, value_states, layer_idx, *args, **kwargs):
        k = torch.cat([self.pk[layer_idx], key_states], dim=2)
        v = torch.cat([self.pv[layer_idx], value_states], dim=2)
        self.keys.append(k)
        self.values.append(v)
        return k, v

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.pk.shape[3]


class ExportedDecoder(nn.Module):
    """What every family's exported decoder has around its layers, where planted faults go: the
    untied head, the M-RoPE table from 3-plane positions (inv_freq, the section layout), and the
    causal mask over past + new tokens."""

    def __init__(self, model, inv_freq: torch.Tensor, section: list[int], rope_style: str, fp16_boundaries: bool):
        super().__init__()
        lm = model.model.language_model
        self.layers = lm.layers
        self.norm = lm.norm
        # The head is untied here on purpose: int8 recipes quantize it separately from the embeddings.
        self.lm_head_weight = nn.Parameter(model.lm_head.weight.detach().clone(), requires_grad=False)
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        planes = frequency_planes(section, inv_freq.numel(), rope_style)
        self.register_buffer("sel_h", torch.tensor([p == 1 for p in planes]), persistent=False)
        self.register_buffer("sel_w", torch.tensor([p == 2 for p in planes]), persistent=False)
        self.fp16_boundaries = fp16_boundaries

    def rope(self, position_ids):
        freqs = position_ids[..., None].float() * self.inv_freq  # [3,B,S,F]
        f = torch.where(self.sel_h, freqs[1], torch.where(self.sel_w, freqs[2], freqs[0]))
        emb = torch.cat([f, f], dim=-1)
        return emb.cos(), emb.sin()

    def begin(self, inputs_embeds, position_ids, past_len):
        """The residual stream's start, the rotary (cos, sin) and the additive causal mask."""
        h = inputs_embeds
        if self.fp16_boundaries:
            h = h.half().float()
        S = h.shape[1]
        cos, sin = self.rope(position_ids)
        q_idx = torch.arange(S, device=h.device) + past_len
        k_idx = torch.arange(past_len + S, device=h.device)
        mask = torch.where(k_idx[None, :] <= q_idx[:, None], 0.0, torch.finfo(torch.float32).min)[None, None]
        return h, cos, sin, mask


class DecoderWrapper(ExportedDecoder):
    def __init__(self, model, rope_style: str = "interleaved", deepstack_shift: int = 0, fp16_boundaries: bool = False):
        rotary = model.model.language_model.rotary_emb
        super().__init__(model, rotary.inv_freq.detach().float().clone(), list(rotary.mrope_section), rope_style,
                         fp16_boundaries)
        self.deepstack_shift = deepstack_shift

    def forward(self, inputs_embeds, position_ids, deepstack, past_keys, past_values, isolate_layer=None,
                isolate_input=None):
        # isolate_layer/isolate_input let a gate feed layer k the oracle's input to layer k (isolated
        # error); isolate_layer = -1 runs the model normally.
        h, cos, sin, mask = self.begin(inputs_embeds, position_ids, past_keys.shape[3])
        cache = ExportCache(past_keys, past_values)
        hiddens = []
        K = deepstack.shape[0]
        for i, layer in enumerate(self.layers):
            if isolate_layer is not None:
                h = torch.where(isolate_layer == i, isolate_input, h)
            out = layer(h, position_embeddings=(cos, sin), attention_mask=mask, past_key_values=cache, use_cache=True)
            h = out[0] if isinstance(out, tuple) else out
            k = i - self.deepstack_shift
            if 0 <= k < K:
                h = h + deepstack[k]
            if self.fp16_boundaries:
                h = h.half().float()
            hiddens.append(h)
        logits = F.linear(self.norm(h), self.lm_head_weight)
        return logits, torch.stack(hiddens), torch.stack(cache.keys), torch.stack(cache.values), cos, sin


class VisionWrapper(nn.Module):
    def __init__(self, visual, grid: list[int], fp16_outputs: bool = False, merge_order: str = "row"):
        super().__init__()
        self.visual = visual
        self.register_buffer("grid", torch.tensor([grid], dtype=torch.long), persistent=False)
        self.fp16_outputs = fp16_outputs
        # "column" emits the merged tokens column-major: the spatial-merge permutation bug.
        self.merge_order = merge_order
        m = visual.spatial_merge_size
        self.merged_hw = (grid[1] // m, grid[2] // m)

    def forward(self, pixel_values):
        out = self.visual(pixel_values, grid_thw=self.grid, return_dict=True)
        outs = [out.pooler_output] + list(out.deepstack_features)
        if self.merge_order == "column":
            h, w = self.merged_hw
            outs = [o.reshape(h, w, -1).transpose(0, 1).reshape(h * w, -1) for o in outs]
        if self.fp16_outputs:
            outs = [o.half().float() for o in outs]
        return tuple(outs)


class EmbedWrapper(nn.Module):
    def __init__(self, weight):
        super().__init__()
        self.weight = nn.Parameter(weight.detach().clone(), requires_grad=False)

    def forward(self, input_ids):
        return F.embedding(input_ids, self.weight)


# ----------------------------------------------------------------------------- quantization

def int8_blocks(w: torch.Tensor, block: int = 32, clip: str = "mse", sigma: float = 3.0,
                percentile: float = 99.9) -> torch.Tensor:
    """Weight-only symmetric int8 in blocks of `block` along the input dimension, dequantized
    back to fp32 (baked into an fp32 graph). clip: "absmax" (no clipping), "mse" (per-block
    clipping ratio that minimises squared error: the body recipe), "sigma" (clip at sigma x the
    block's RMS), "percentile" (one clipping limit for the whole tensor at a percentile of |w|, then
    per-block scales: outlier rows are crushed against the rest, the trap a clipped head falls in)."""
    out_f, in_f = w.shape
    assert in_f % block == 0, f"input dim {in_f} not a multiple of {block}"
    wb = w.detach().double().reshape(out_f, in_f // block, block)
    amax = wb.abs().amax(-1, keepdim=True).clamp_min(1e-12)

    def qdq(limit):
        scale = limit / 127.0
        return (wb / scale).round().clamp(-127, 127) * scale

    if clip == "absmax":
        deq = qdq(amax)
    elif clip == "percentile":
        limit = torch.quantile(wb.abs().flatten().float(), percentile / 100.0).double()
        wb = wb.clamp(-limit, limit)
        deq = qdq(wb.abs().amax(-1, keepdim=True).clamp_min(1e-12))
    elif clip == "sigma":
        rms = wb.pow(2).mean(-1, keepdim=True).sqrt().clamp_min(1e-12)
        deq = qdq(torch.minimum(amax, sigma * rms))
    elif clip == "mse":
        best, best_err = None, None
        for ratio in [1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7]:
            d = qdq(amax * ratio)
            err = (d - wb).pow(2).sum(-1, keepdim=True)
            if best is None:
                best, best_err = d, err
            else:
                better = err < best_err
                best = torch.where(better, d, best)
                best_err = torch.where(better, err, best_err)
        deq = best
    else:
        raise ValueError(clip)
    return deq.reshape(out_f, in_f).to(w.dtype)


BODY_LINEARS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")


def quantize_body_int8(model) -> None:
    lm = model.model.language_model
    for layer in lm.layers:
        for name in BODY_LINEARS:
            mod = layer.get_submodule(name)
            mod.weight.data = int8_blocks(mod.weight.data, clip="mse")


def round_to_fp16(module: nn.Module) -> None:
    for p in module.parameters():
        p.data = p.data.half().float()


# ----------------------------------------------------------------------------- export

def export_embed(model, path: str) -> None:
    w = EmbedWrapper(model.model.language_model.embed_tokens.weight).eval()
    ids = torch.tensor([[1, 2, 3, 4, 5]], dtype=torch.long)
    torch.onnx.export(w, (ids,), path, dynamo=False, opset_version=18, input_names=["input_ids"],
                      output_names=["inputs_embeds"], dynamic_axes={"input_ids": {1: "seq"}, "inputs_embeds": {1: "seq"}})


def export_vision(visual, grid: list[int], pixel_values: torch.Tensor, path: str, fp16_outputs: bool = False,
                  merge_order: str = "row") -> list[str]:
    w = VisionWrapper(visual, grid, fp16_outputs, merge_order).eval()
    n_ds = len(visual.deepstack_visual_indexes)
    names = ["image_embeds"] + [f"deepstack_{k}" for k in range(n_ds)]
    with torch.no_grad():
        torch.onnx.export(w, (pixel_values,), path, dynamo=False, opset_version=18, input_names=["pixel_values"],
                          output_names=names)
    return names


DECODER_INPUTS = ["inputs_embeds", "position_ids", "deepstack", "past_keys", "past_values", "isolate_layer",
                  "isolate_input"]
DECODER_OUTPUTS = ["logits", "hidden_states", "present_keys", "present_values", "rope_cos", "rope_sin"]


def decoder_example(model, S: int = 5, P: int = 3):
    tc = model.config.text_config
    L, H = tc.num_hidden_layers, tc.hidden_size
    K = len(model.config.vision_config.deepstack_visual_indexes)
    kvh, hd = tc.num_key_value_heads, tc.head_dim
    pos = (torch.arange(S) + P).view(1, 1, S).expand(3, 1, S).clone()
    return (torch.randn(1, S, H), pos, torch.zeros(K, 1, S, H), torch.randn(L, 1, kvh, P, hd), torch.randn(L, 1, kvh, P, hd),
            torch.tensor([-1], dtype=torch.long), torch.zeros(1, S, H))


def export_decoder(wrapper: DecoderWrapper, model, path: str) -> str:
    wrapper = wrapper.eval()
    args = decoder_example(model)
    seq = torch.export.Dim("seq", min=1, max=4096)
    past = torch.export.Dim("past", min=0, max=4096)
    dyn = {"inputs_embeds": {1: seq}, "position_ids": {2: seq}, "deepstack": {2: seq},
           "past_keys": {3: past}, "past_values": {3: past}, "isolate_layer": None, "isolate_input": {1: seq}}
    try:
        with torch.no_grad():
            prog = torch.onnx.export(wrapper, args, dynamo=True, opset_version=18, input_names=DECODER_INPUTS,
                                     output_names=DECODER_OUTPUTS, dynamic_shapes=dyn, optimize=True)
        prog.save(path)
        return "dynamo"
    except Exception as e:  # noqa: BLE001 - fall back and say so in the candidate manifest
        print(f"  dynamo export failed ({type(e).__name__}: {str(e)[:300]}); trying TorchScript")
        axes = {"inputs_embeds": {1: "seq"}, "position_ids": {2: "seq"}, "deepstack": {2: "seq"},
                "past_keys": {3: "past"}, "past_values": {3: "past"}, "isolate_input": {1: "seq"}, "logits": {1: "seq"},
                "hidden_states": {2: "seq"}, "present_keys": {3: "total"}, "present_values": {3: "total"},
                "rope_cos": {1: "seq"}, "rope_sin": {1: "seq"}}
        with torch.no_grad():
            torch.onnx.export(wrapper, args, path, dynamo=False, opset_version=18, input_names=DECODER_INPUTS,
                              output_names=DECODER_OUTPUTS, dynamic_axes=axes)
        return "torchscript"


# protobuf's 2 GiB ceiling on one message, less room for the graph itself.
INLINE_LIMIT = 1_900_000_000


def _all_tensors(graph):
    """Initializers and the tensors inside node attributes (a Constant's value, subgraphs): past 2 GB
    the TorchScript exporter writes both out as files of their own."""
    yield from graph.initializer
    for node in graph.node:
        for a in node.attribute:
            if a.HasField("t"):
                yield a.t
            yield from a.tensors
            if a.HasField("g"):
                yield from _all_tensors(a.g)
            for g in a.graphs:
                yield from _all_tensors(g)


def finish_graph(path: str, limit: int | None = None) -> None:
    """Leaves the graph as its users receive it: one self-contained file where the model fits in
    protobuf (the tiny fixtures), else the graph plus ONE weights file `<graph>.data` beside it (how
    torch's exporter and onnxruntime-genai ship models past 2 GB), whatever the exporter wrote."""
    import onnx
    from onnx.external_data_helper import load_external_data_for_model
    limit = INLINE_LIMIT if limit is None else limit
    folder = os.path.dirname(path) or "."
    base = os.path.basename(path)
    m = onnx.load(path, load_external_data=False)
    ext = {e.value for t in _all_tensors(m.graph) for e in t.external_data if e.key == "location"}
    size = os.path.getsize(path) + sum(os.path.getsize(os.path.join(folder, f)) for f in ext)
    if ext == {base + ".data"} and size >= limit:
        return
    if ext:
        load_external_data_for_model(m, folder)
        for f in ext:
            os.remove(os.path.join(folder, f))
    if size < limit:
        onnx.save_model(m, path, save_as_external_data=False)
    else:
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True, location=base + ".data",
                        size_threshold=1024)
