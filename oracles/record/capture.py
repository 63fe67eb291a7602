"""Records one prompt's fp32 oracle from the real transformers forward.

Positions are taken from a hook on the text rotary module (what the model actually used), not from
a return value alone; hidden states from hooks on the decoder layers, so we know exactly which
side of the DeepStack addition each tensor sits on.
"""
from __future__ import annotations

import torch

GREEDY_STEPS = 24
TEACHER_STEPS = 16


class RotaryCapture:
    """Collects the position_ids passed to the text rotary embedding, one entry per forward."""

    def __init__(self, rotary: torch.nn.Module):
        self.calls: list[torch.Tensor] = []
        self._h = rotary.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module, args, kwargs):
        pos = args[1] if len(args) > 1 else kwargs["position_ids"]
        self.calls.append(pos.detach().to("cpu", torch.long).clone())

    def close(self):
        self._h.remove()


class LayerCapture:
    """Layer module outputs and the residual each layer receives (which includes DeepStack)."""

    def __init__(self, lm: torch.nn.Module):
        self.outs: dict[int, torch.Tensor] = {}
        self.ins: dict[int, torch.Tensor] = {}
        self._hs = []
        n = len(lm.layers)
        for i, layer in enumerate(lm.layers):
            self._hs.append(layer.register_forward_hook(self._out_hook(i)))
            self._hs.append(layer.register_forward_pre_hook(self._in_hook(i), with_kwargs=True))
        self._hs.append(lm.norm.register_forward_pre_hook(self._norm_hook(n)))

    def _out_hook(self, i):
        def hook(module, args, out):
            t = out[0] if isinstance(out, tuple) else out
            self.outs[i] = t.detach().float().cpu().clone()
        return hook

    def _in_hook(self, i):
        def hook(module, args, kwargs):
            t = args[0] if args else kwargs["hidden_states"]
            self.ins[i] = t.detach().float().cpu().clone()
        return hook

    def _norm_hook(self, n):
        def hook(module, args):
            self.ins[n] = args[0].detach().float().cpu().clone()
        return hook

    def close(self):
        for h in self._hs:
            h.remove()


def margins(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-1 token and top-1 minus top-2 logit (unit: logits) per row."""
    top = torch.topk(logits.double(), 2, dim=-1)
    return top.indices[:, 0], (top.values[:, 0] - top.values[:, 1])


def token_types(cfg, ids: list[int]) -> list[int]:
    return [1 if t == cfg.image_token_id else 2 if t == cfg.video_token_id else 0 for t in ids]


def full_forward(model, ids, tt, mm, **kw):
    # The model caches the rope deltas of its last call (generate() reads them); every recorded call
    # starts without them, as a freshly loaded model would.
    model.model.rope_deltas = None
    return model(input_ids=ids, mm_token_type_ids=tt, use_cache=False, **mm, **kw)


def prompt_inputs(cfg, prompt: dict, device):
    """prompt: {name, input_ids (list), pixel_values (tensor|None), image_grid_thw (list|None)}.
    Returns the model inputs (ids, tt, mm) and the dump and manifest entry started with them."""
    ids = torch.tensor([prompt["input_ids"]], dtype=torch.long, device=device)
    tt = torch.tensor([token_types(cfg, prompt["input_ids"])], dtype=torch.long, device=device)
    mm = {}
    if prompt.get("pixel_values") is not None:
        mm = {"pixel_values": prompt["pixel_values"].to(device),
              "image_grid_thw": torch.tensor(prompt["image_grid_thw"], dtype=torch.long, device=device)}
    t: dict[str, torch.Tensor] = {"inputs.input_ids": ids.cpu(), "inputs.mm_token_type_ids": tt.cpu()}
    if mm:
        t["inputs.pixel_values"] = mm["pixel_values"].float().cpu()
        t["inputs.image_grid_thw"] = mm["image_grid_thw"].cpu()
    meta: dict = {"name": prompt["name"], "kind": "multimodal" if mm else "text", "sequence_length": ids.shape[1],
                  "image_tokens": int((tt == 1).sum().item())}
    return ids, tt, mm, t, meta


def rope_index(model, ids, tt, mm, t: dict, meta: dict) -> torch.Tensor:
    """get_rope_index as transformers computes it for this prompt (returned, and recorded)."""
    model.model.rope_deltas = None
    pos_ref, delta = model.model.get_rope_index(ids, mm_token_type_ids=tt, image_grid_thw=mm.get("image_grid_thw"),
                                                 attention_mask=None)
    t["positions.get_rope_index"] = pos_ref.cpu().long()
    t["positions.rope_delta"] = delta.cpu().long().reshape(1, 1)
    meta["rope_delta"] = int(delta.reshape(-1)[0].item())
    return pos_ref


def hooked_prefill(model, ids, tt, mm, pos_ref, t: dict, meta: dict, **kw):
    """The reference prefill, one full forward without a cache, with the rotary and layer hooks on.
    Records the positions the rotary module received and layer 0's input; returns the output and
    the LayerCapture for the family to read its layers from."""
    lm = model.model.language_model
    rot = RotaryCapture(lm.rotary_emb)
    cap = LayerCapture(lm)
    out = full_forward(model, ids, tt, mm, **kw)
    rot.close()
    cap.close()
    assert len(rot.calls) == 1, f"expected one rotary call in prefill, got {len(rot.calls)}"
    t["positions.prefill"] = rot.calls[0]
    meta["prefill_positions_equal_get_rope_index"] = bool(torch.equal(rot.calls[0], pos_ref.cpu().long()))
    t["decoder.inputs_embeds"] = cap.ins[0][0]
    return out, cap


def generate_greedy(model, ids, tt, mm):
    """GREEDY_STEPS tokens through transformers' own generate() (the KV-cached path), hooked.
    Returns the tokens, their logits, and the positions the rotary module received at the prefill
    and at each decode step ([3, 1, steps])."""
    from transformers import GenerationConfig
    gc = GenerationConfig(max_new_tokens=GREEDY_STEPS, min_new_tokens=GREEDY_STEPS, do_sample=False,
                          pad_token_id=0, bos_token_id=1, eos_token_id=None)
    rot = RotaryCapture(model.model.language_model.rotary_emb)
    model.model.rope_deltas = None
    gen = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), mm_token_type_ids=tt,
                         generation_config=gc, output_logits=True, return_dict_in_generate=True, **mm)
    rot.close()
    tokens = gen.sequences[0, ids.shape[1]:].cpu().long()
    logits = torch.stack([l[0] for l in gen.logits]).float().cpu()
    decode = torch.cat([c.reshape(3, 1, -1) for c in rot.calls[1:]], dim=2)
    return tokens, logits, rot.calls[0], decode


def teacher_forced(model, ids, tt, mm, tokens: torch.Tensor, t: dict, meta: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """One full forward over prompt + the first 15 greedy tokens; returns its logits rows that
    predict greedy[0..15] and their top-2 margins."""
    S, device = ids.shape[1], ids.device
    tf_ids = torch.cat([ids, tokens[:TEACHER_STEPS - 1].to(device).view(1, -1)], dim=1)
    tf_tt = torch.cat([tt, torch.zeros(1, TEACHER_STEPS - 1, dtype=tt.dtype, device=device)], dim=1)
    tf_logits = full_forward(model, tf_ids, tf_tt, mm).logits[0, S - 1:S - 1 + TEACHER_STEPS].float().cpu()
    tf_top1, tf_margin = margins(tf_logits)
    t["teacher.tokens"] = tokens[:TEACHER_STEPS].long().clone()
    t["teacher.logits"] = tf_logits
    t["teacher.margins"] = tf_margin.float()
    meta["teacher_top1_equals_greedy"] = bool(torch.equal(tf_top1, tokens[:TEACHER_STEPS]))
    return tf_logits, tf_margin


@torch.no_grad()
def record_prompt(model, cfg, prompt: dict, device) -> tuple[dict[str, torch.Tensor], dict]:
    n_layers = len(model.model.language_model.layers)
    ids, tt, mm, t, meta = prompt_inputs(cfg, prompt, device)
    pos_ref = rope_index(model, ids, tt, mm, t, meta)

    # Vision: merged embeds and every DeepStack feature.
    if mm:
        vout = model.model.get_image_features(mm["pixel_values"], mm["image_grid_thw"], return_dict=True)
        embeds = torch.cat(list(vout.pooler_output), dim=0)
        t["vision.embeds"] = embeds.float().cpu()
        for k, f in enumerate(vout.deepstack_features):
            t[f"vision.deepstack.{k}"] = f.float().cpu()
        meta["deepstack_levels"] = len(vout.deepstack_features)

    out, cap = hooked_prefill(model, ids, tt, mm, pos_ref, t, meta, output_hidden_states=True)
    for i in range(n_layers):
        t[f"decoder.layer_out.{i}"] = cap.outs[i][0]
        t[f"decoder.hidden.{i}"] = cap.ins[i + 1][0]
    t["decoder.prefill_logits"] = out.logits[0, -1:].float().cpu()
    # Find out what output_hidden_states reports, so users of HF hidden states know what they compare.
    hs = out.hidden_states
    meta["output_hidden_states_count"] = len(hs)
    if mm and len(hs) == n_layers + 1:
        img = (tt[0] == 1).cpu()
        h1 = hs[1][0].float().cpu()
        meta["output_hidden_states_includes_deepstack"] = bool(torch.equal(h1[img], cap.ins[1][0][img]))
        meta["output_hidden_states_equals_layer_out"] = bool(torch.equal(h1, cap.outs[0][0]))

    # The prefill KV cache, [L, 1, kv_heads, S, head_dim]: the cache-seeded decode rung loads it into
    # the candidate and decodes one step, which isolates decode from prefill. generate() decodes its
    # first step from exactly this cache, so greedy.logits[1] is that step's reference.
    model.model.rope_deltas = None
    cached = model(input_ids=ids, mm_token_type_ids=tt, use_cache=True, **mm).past_key_values
    t["cache.keys"] = torch.stack([layer.keys for layer in cached.layers]).float().cpu()
    t["cache.values"] = torch.stack([layer.values for layer in cached.layers]).float().cpu()

    # Greedy rollout with the KV cache, through transformers' own generate().
    tokens, glogits, prefill_pos, dec = generate_greedy(model, ids, tt, mm)
    assert tokens.numel() == GREEDY_STEPS, f"generate returned {tokens.numel()} tokens"
    top1, gmargin = margins(glogits)
    assert torch.equal(top1, tokens), "generate's tokens are not the argmax of its logits"
    t["greedy.tokens"] = tokens
    t["greedy.margins"] = gmargin.float()
    t["greedy.logits"] = glogits[:TEACHER_STEPS].clone()
    assert torch.equal(prefill_pos, t["positions.prefill"]), "generate's prefill positions differ from forward's"
    t["positions.decode"] = dec
    meta["decode_steps_recorded"] = int(dec.shape[2])

    tf_logits, tf_margin = teacher_forced(model, ids, tt, mm, tokens, t, meta)
    meta["cache_vs_full_forward_max_abs_logit_diff"] = float((tf_logits - glogits[:TEACHER_STEPS]).abs().max().item())

    meta["greedy_tokens"] = [int(x) for x in tokens.tolist()]
    meta["min_margin_teacher_forced"] = float(tf_margin.min().item())
    meta["min_margin_greedy"] = float(gmargin.min().item())
    model.model.rope_deltas = None
    return t, meta


@torch.no_grad()
def record_padded_batch(model, cfg, prompts: list[dict], device, steps: int = 8) -> tuple[dict[str, torch.Tensor], dict]:
    """Positions for a left-padded batch, prefill and decode resume, as generate() uses them."""
    lm = model.model.language_model
    S = max(len(p["input_ids"]) for p in prompts)
    rows, masks = [], []
    for p in prompts:
        pad = S - len(p["input_ids"])
        rows.append([0] * pad + p["input_ids"])
        masks.append([0] * pad + [1] * len(p["input_ids"]))
    ids = torch.tensor(rows, dtype=torch.long, device=device)
    am = torch.tensor(masks, dtype=torch.long, device=device)
    tt = torch.tensor([[1 if x == cfg.image_token_id else 0 for x in r] for r in rows], dtype=torch.long, device=device)
    pvs = [p["pixel_values"] for p in prompts if p.get("pixel_values") is not None]
    grids = [g for p in prompts if p.get("image_grid_thw") is not None for g in p["image_grid_thw"]]
    mm = {}
    if pvs:
        mm = {"pixel_values": torch.cat(pvs).to(device), "image_grid_thw": torch.tensor(grids, dtype=torch.long, device=device)}
    model.model.rope_deltas = None
    pos_ref, delta = model.model.get_rope_index(ids, mm_token_type_ids=tt, image_grid_thw=mm.get("image_grid_thw"),
                                                 attention_mask=am)
    from transformers import GenerationConfig
    gc = GenerationConfig(max_new_tokens=steps, min_new_tokens=steps, do_sample=False, pad_token_id=0, eos_token_id=None)
    rot = RotaryCapture(lm.rotary_emb)
    model.model.rope_deltas = None
    gen = model.generate(input_ids=ids, attention_mask=am, mm_token_type_ids=tt, generation_config=gc,
                         return_dict_in_generate=True, **mm)
    rot.close()
    t = {
        "inputs.input_ids": ids.cpu(),
        "inputs.attention_mask": am.cpu(),
        "inputs.mm_token_type_ids": tt.cpu(),
        "positions.get_rope_index": pos_ref.cpu().long(),
        "positions.rope_delta": delta.cpu().long().reshape(-1, 1),
        "positions.prefill": rot.calls[0],
        "positions.decode": torch.cat([c.reshape(3, ids.shape[0], -1) for c in rot.calls[1:]], dim=2),
        "greedy.tokens": gen.sequences[:, S:].cpu().long(),
    }
    if mm:
        t["inputs.image_grid_thw"] = mm["image_grid_thw"].cpu()
    meta = {"name": "batch-left-padded", "kind": "positions-batch", "batch": ids.shape[0], "sequence_length": S,
            "rows": [p["name"] for p in prompts], "rope_deltas": [int(x) for x in delta.reshape(-1).tolist()],
            "prefill_positions_equal_get_rope_index": bool(torch.equal(rot.calls[0], pos_ref.cpu().long()))}
    model.model.rope_deltas = None
    return t, meta
