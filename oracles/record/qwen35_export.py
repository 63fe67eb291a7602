"""ONNX candidates of a Qwen3.5 (hybrid GatedDeltaNet + gated full attention) model, numgate layout.

Three graphs, as for Qwen3-VL (export_onnx.py):
- embed:   input_ids [1,S] -> inputs_embeds [1,S,H]                              (TorchScript)
- vision:  pixel_values [N, C*T*P*P] for ONE fixed grid -> image_embeds [n,H]    (TorchScript; no DeepStack)
- decoder: inputs_embeds [1,S,H], position_ids [3,1,S], the state stacked per role over the layers
           that have it -- past_keys/past_values [F,1,kv,P,hd] (full-attention layers),
           past_convs [Lin,1,conv_dim,kernel] and past_recurrents [Lin,1,v_heads,dk,dv]
           (linear-attention layers) -- and isolate_layer [1] / isolate_input [1,S,H]
        -> logits [1,S,V], hidden_states [L,1,S,H], present_keys/values/convs/recurrents,
           rope_cos/rope_sin [1,S,rotary_dim] (the rotated quarter of head_dim only).

Unlike export_onnx.py's wrapper, this decoder is written out here rather than calling
transformers' layers: transformers' GatedDeltaNet keeps its state in a cache object and scans
64-token chunks in a Python loop, neither of which exports with a dynamic sequence length. It uses
transformers' modules' weights and qwen35_gdn's loop-free gated delta rule, and the recorder
checks it against transformers' forward before exporting (max |logit| difference written to each
candidate). Planted faults are switches on this wrapper.
"""
from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import nn

import qwen35_gdn
from export_onnx import ExportedDecoder, finish_graph, int8_blocks, round_to_fp16  # noqa: F401


def rms(x: torch.Tensor, weight: torch.Tensor, eps: float, plus_one: bool = True) -> torch.Tensor:
    """Qwen3.5's RMSNorm: gain (1 + w) (weights stored zero-centred); plus_one=False is the fault."""
    x = x.float()
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return x * ((1.0 + weight.float()) if plus_one else weight.float())


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class DecoderWrapper(ExportedDecoder):
    def __init__(self, model, fp16_boundaries: bool = False, rotary: str = "partial", norm_as_w_layer: int | None = None,
                 drop_conv_state: bool = False, reset_recurrent_state: bool = False):
        tc = model.config.text_config
        rp = tc.rope_parameters
        if rotary == "partial":
            inv = model.model.language_model.rotary_emb.inv_freq.detach().float().clone()
        else:  # the fault: frequencies over the whole head, and the whole head rotated
            inv = 1.0 / (float(rp["rope_theta"]) ** (torch.arange(0, tc.head_dim, 2, dtype=torch.float) / tc.head_dim))
        super().__init__(model, inv, list(rp["mrope_section"]), "interleaved", fp16_boundaries)
        self.types = list(tc.layer_types)
        self.eps = tc.rms_norm_eps
        self.n_heads, self.n_kv, self.hd = tc.num_attention_heads, tc.num_key_value_heads, tc.head_dim
        self.norm_as_w_layer = norm_as_w_layer
        self.drop_conv_state = drop_conv_state
        self.reset_recurrent_state = reset_recurrent_state

    def attention(self, attn, x, cos, sin, pk, pv, mask):
        B, S = x.shape[0], x.shape[1]
        qg = attn.q_proj(x).view(B, S, self.n_heads, 2 * self.hd)
        q, gate = qg[..., : self.hd], qg[..., self.hd:]
        gate = gate.reshape(B, S, self.n_heads * self.hd)
        q = rms(q, attn.q_norm.weight, self.eps).transpose(1, 2)
        k = rms(attn.k_proj(x).view(B, S, self.n_kv, self.hd), attn.k_norm.weight, self.eps).transpose(1, 2)
        v = attn.v_proj(x).view(B, S, self.n_kv, self.hd).transpose(1, 2)
        rd = cos.shape[-1]
        c, s = cos[:, None], sin[:, None]
        q = torch.cat([q[..., :rd] * c + rotate_half(q[..., :rd]) * s, q[..., rd:]], dim=-1)
        k = torch.cat([k[..., :rd] * c + rotate_half(k[..., :rd]) * s, k[..., rd:]], dim=-1)
        k_all = torch.cat([pk, k], dim=2)
        v_all = torch.cat([pv, v], dim=2)
        rep = self.n_heads // self.n_kv
        kr = k_all.repeat_interleave(rep, dim=1)
        vr = v_all.repeat_interleave(rep, dim=1)
        w = torch.softmax((q @ kr.transpose(2, 3)) * (self.hd ** -0.5) + mask, dim=-1)
        o = (w @ vr).transpose(1, 2).reshape(B, S, self.n_heads * self.hd)
        return attn.o_proj(o * torch.sigmoid(gate)), k_all, v_all

    def linear_attention(self, la, x, conv_state, rec_state):
        B, S = x.shape[0], x.shape[1]
        K = la.conv_kernel_size
        mixed = la.in_proj_qkv(x).transpose(1, 2)  # [B, C, S]
        if self.drop_conv_state:
            conv_state = torch.zeros_like(conv_state)
        if self.reset_recurrent_state:
            rec_state = torch.zeros_like(rec_state)
        conv_in = torch.cat([conv_state, mixed], dim=-1)  # the last K inputs before this step, then this step's
        new_conv = conv_in[..., -K:]
        conv = F.silu(F.conv1d(conv_in, la.conv1d.weight, None, groups=conv_in.shape[1])[..., -S:])
        conv = conv.transpose(1, 2)
        q, k, v = torch.split(conv, [la.key_dim, la.key_dim, la.value_dim], dim=-1)
        q = q.reshape(B, S, -1, la.head_k_dim)
        k = k.reshape(B, S, -1, la.head_k_dim)
        v = v.reshape(B, S, -1, la.head_v_dim)
        beta = la.in_proj_b(x).sigmoid()
        g = -la.A_log.float().exp() * F.softplus(la.in_proj_a(x).float() + la.dt_bias)
        rep = la.num_v_heads // la.num_k_heads
        if rep > 1:
            q = q.repeat_interleave(rep, dim=2)
            k = k.repeat_interleave(rep, dim=2)
        core, new_rec = qwen35_gdn.gated_delta_rule(q, k, v, g, beta, rec_state, True)
        z = la.in_proj_z(x).reshape(B, S, -1, la.head_v_dim)
        # The gated norm inside GatedDeltaNet is a plain w gain (weights stored around 1), not (1 + w).
        core = core * torch.rsqrt(core.pow(2).mean(-1, keepdim=True) + la.norm.variance_epsilon)
        core = (la.norm.weight * core) * F.silu(z.float())
        return la.out_proj(core.reshape(B, S, -1)), new_conv, new_rec

    def block(self, i, layer, h, cos, sin, mask, state, token_mask=None):
        """Decoder layer i over the residual h; `state` is its (key, value) or (conv, recurrent).
        `layer` is anything with the decoder layer's submodules (another wrapper's module, so that
        its exporter scopes these ops under that module). token_mask [B,S] zeroes padded tokens
        before the linear attention, as transformers' apply_mask_to_padding_states does."""
        residual = h
        x = rms(h, layer.input_layernorm.weight, self.eps, plus_one=self.norm_as_w_layer != i)
        if self.types[i] == "full_attention":
            x, a, b = self.attention(layer.self_attn, x, cos, sin, state[0], state[1], mask)
        else:
            if token_mask is not None:
                x = x * token_mask[:, :, None].to(x.dtype)
            x, a, b = self.linear_attention(layer.linear_attn, x, state[0], state[1])
        h = residual + x
        h = h + layer.mlp(rms(h, layer.post_attention_layernorm.weight, self.eps))
        if self.fp16_boundaries:
            h = h.half().float()
        return h, a, b

    def forward(self, inputs_embeds, position_ids, past_keys, past_values, past_convs, past_recurrents,
                isolate_layer, isolate_input):
        h, cos, sin, mask = self.begin(inputs_embeds, position_ids, past_keys.shape[3])
        keys, values, convs, recs, hiddens = [], [], [], [], []
        fi = li = 0
        for i, layer in enumerate(self.layers):
            h = torch.where(isolate_layer == i, isolate_input, h)
            if self.types[i] == "full_attention":
                h, k, v = self.block(i, layer, h, cos, sin, mask, (past_keys[fi], past_values[fi]))
                keys.append(k)
                values.append(v)
                fi += 1
            else:
                h, c, r = self.block(i, layer, h, cos, sin, mask, (past_convs[li], past_recurrents[li]))
                convs.append(c)
                recs.append(r)
                li += 1
            hiddens.append(h)
        logits = F.linear(rms(h, self.norm.weight, self.eps), self.lm_head_weight)
        return (logits, torch.stack(hiddens), torch.stack(keys), torch.stack(values), torch.stack(convs),
                torch.stack(recs), cos, sin)


class VisionWrapper(nn.Module):
    def __init__(self, visual, grid: list[int], fp16_outputs: bool = False):
        super().__init__()
        self.visual = visual
        self.register_buffer("grid", torch.tensor([grid], dtype=torch.long), persistent=False)
        self.fp16_outputs = fp16_outputs

    def forward(self, pixel_values):
        out = self.visual(pixel_values, grid_thw=self.grid, return_dict=True).pooler_output
        return out.half().float() if self.fp16_outputs else out


BODY_LINEARS = {
    "linear_attention": ("linear_attn.in_proj_qkv", "linear_attn.in_proj_z", "linear_attn.in_proj_b",
                         "linear_attn.in_proj_a", "linear_attn.out_proj"),
    "full_attention": ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"),
}


def quantize_body_int8(model) -> None:
    """The seeds' body recipe: weight-only int8, blocks of 32, MSE clipping, every projection."""
    lm = model.model.language_model
    for i, layer in enumerate(lm.layers):
        for name in BODY_LINEARS[model.config.text_config.layer_types[i]] + ("mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"):
            mod = layer.get_submodule(name)
            mod.weight.data = int8_blocks(mod.weight.data, clip="mse")


def state_shapes(model) -> dict[str, tuple]:
    tc = model.config.text_config
    la = next(l.linear_attn for l in model.model.language_model.layers if hasattr(l, "linear_attn"))
    n_full = sum(t == "full_attention" for t in tc.layer_types)
    n_lin = len(tc.layer_types) - n_full
    return {"keys": (n_full, 1, tc.num_key_value_heads, 0, tc.head_dim),
            "convs": (n_lin, 1, la.conv_dim, la.conv_kernel_size),
            "recurrents": (n_lin, 1, la.num_v_heads, la.head_k_dim, la.head_v_dim)}


def empty_state(model, past: int = 0):
    sh = state_shapes(model)
    kshape = sh["keys"][:3] + (past,) + sh["keys"][4:]
    return (torch.zeros(kshape), torch.zeros(kshape), torch.zeros(sh["convs"]), torch.zeros(sh["recurrents"]))


DECODER_INPUTS = ["inputs_embeds", "position_ids", "past_keys", "past_values", "past_convs", "past_recurrents",
                  "isolate_layer", "isolate_input"]
DECODER_OUTPUTS = ["logits", "hidden_states", "present_keys", "present_values", "present_convs", "present_recurrents",
                   "rope_cos", "rope_sin"]


def decoder_example(model, S: int = 5, P: int = 3):
    H = model.config.text_config.hidden_size
    pk, pv, pc, pr = empty_state(model, P)
    pos = (torch.arange(S) + P).view(1, 1, S).expand(3, 1, S).clone()
    return (torch.randn(1, S, H), pos, torch.randn_like(pk), torch.randn_like(pv), torch.randn_like(pc),
            torch.randn_like(pr) * 0.1, torch.tensor([-1], dtype=torch.long), torch.zeros(1, S, H))


def export_decoder(wrapper: DecoderWrapper, model, path: str, log=print) -> str:
    wrapper = wrapper.eval()
    args = decoder_example(model)
    seq = torch.export.Dim("seq", min=1, max=qwen35_gdn.MAX_STEP_TOKENS)
    past = torch.export.Dim("past", min=0, max=4096)
    dyn = {"inputs_embeds": {1: seq}, "position_ids": {2: seq}, "past_keys": {3: past}, "past_values": {3: past},
           "past_convs": None, "past_recurrents": None, "isolate_layer": None, "isolate_input": {1: seq}}
    try:
        with torch.no_grad():
            prog = torch.onnx.export(wrapper, args, dynamo=True, opset_version=18, input_names=DECODER_INPUTS,
                                     output_names=DECODER_OUTPUTS, dynamic_shapes=dyn, optimize=True)
        prog.save(path)
        how = "dynamo"
    except Exception as e:  # noqa: BLE001 - fall back and say so in the candidate manifest
        log(f"  dynamo export failed ({type(e).__name__}: {str(e)[:300]}); trying TorchScript")
        axes = {"inputs_embeds": {1: "seq"}, "position_ids": {2: "seq"}, "past_keys": {3: "past"}, "past_values": {3: "past"},
                "isolate_input": {1: "seq"}, "logits": {1: "seq"}, "hidden_states": {2: "seq"},
                "present_keys": {3: "total"}, "present_values": {3: "total"}, "rope_cos": {1: "seq"}, "rope_sin": {1: "seq"}}
        with torch.no_grad():
            torch.onnx.export(wrapper, args, path, dynamo=False, opset_version=18, input_names=DECODER_INPUTS,
                              output_names=DECODER_OUTPUTS, dynamic_axes=axes)
        how = "torchscript"
    finish_graph(path)
    return how


def export_embed(model, path: str) -> None:
    from export_onnx import export_embed as qwen3vl_export_embed
    qwen3vl_export_embed(model, path)
    finish_graph(path)


def export_vision(visual, grid: list[int], pixel_values: torch.Tensor, path: str, fp16_outputs: bool = False) -> None:
    w = VisionWrapper(visual, grid, fp16_outputs).eval()
    with torch.no_grad():
        torch.onnx.export(w, (pixel_values,), path, dynamo=False, opset_version=18, input_names=["pixel_values"],
                          output_names=["image_embeds"])
    finish_graph(path)
