"""Records one prompt's fp32 oracle of a Qwen3.5 model (hybrid GatedDeltaNet + full attention).

Differs from capture.py (Qwen3-VL) where the model does:
- the reference is a full forward WITHOUT a cache, and greedy is 24 full re-forwards without a cache:
  transformers' cached GatedDeltaNet path (prefill by 64-token chunks, then a per-token recurrent
  kernel) is a different computation that has diverged from the full forward in reported issues.
  The cached rollout is recorded too (greedy_cached.*), and how far it is from the full forwards
  goes into the manifest;
- the prefill cache holds attention K/V for the full-attention layers and the conv window and the
  recurrent state for the linear-attention ones (cache.{i}.key/value, cache.{i}.conv/recurrent),
  which is what the seeded-decode rung loads into a candidate;
- there is no DeepStack: decoder.hidden.i is layer i's output.
"""
from __future__ import annotations

import torch

from capture import GREEDY_STEPS, TEACHER_STEPS, LayerCapture, RotaryCapture, margins


def token_types(cfg, ids: list[int]) -> list[int]:
    return [1 if t == cfg.image_token_id else 2 if t == cfg.video_token_id else 0 for t in ids]


def _forward(model, ids, tt, mm):
    model.model.rope_deltas = None
    return model(input_ids=ids, mm_token_type_ids=tt, use_cache=False, **mm)


@torch.no_grad()
def record_prompt(model, cfg, prompt: dict, device) -> tuple[dict[str, torch.Tensor], dict]:
    lm = model.model.language_model
    types = list(cfg.text_config.layer_types)
    L = len(lm.layers)
    ids = torch.tensor([prompt["input_ids"]], dtype=torch.long, device=device)
    tt = torch.tensor([token_types(cfg, prompt["input_ids"])], dtype=torch.long, device=device)
    mm = {}
    if prompt.get("pixel_values") is not None:
        mm = {"pixel_values": prompt["pixel_values"].to(device),
              "image_grid_thw": torch.tensor(prompt["image_grid_thw"], dtype=torch.long, device=device)}
    S = ids.shape[1]
    t: dict[str, torch.Tensor] = {"inputs.input_ids": ids.cpu(), "inputs.mm_token_type_ids": tt.cpu()}
    if mm:
        t["inputs.pixel_values"] = mm["pixel_values"].float().cpu()
        t["inputs.image_grid_thw"] = mm["image_grid_thw"].cpu()
    meta: dict = {"name": prompt["name"], "kind": "multimodal" if mm else "text", "sequence_length": S,
                  "image_tokens": int((tt == 1).sum().item()), "longer_than_one_gdn_chunk": S > 64}

    model.model.rope_deltas = None
    pos_ref, delta = model.model.get_rope_index(ids, mm_token_type_ids=tt, image_grid_thw=mm.get("image_grid_thw"),
                                                 attention_mask=None)
    t["positions.get_rope_index"] = pos_ref.cpu().long()
    t["positions.rope_delta"] = delta.cpu().long().reshape(1, 1)
    meta["rope_delta"] = int(delta.reshape(-1)[0].item())

    if mm:
        vout = model.model.get_image_features(mm["pixel_values"], mm["image_grid_thw"], return_dict=True)
        t["vision.embeds"] = torch.cat(list(vout.pooler_output), dim=0).float().cpu()
        meta["vision_has_deepstack"] = hasattr(vout, "deepstack_features") and vout.deepstack_features is not None

    # The reference prefill: one full forward, no cache, hooked.
    rot = RotaryCapture(lm.rotary_emb)
    cap = LayerCapture(lm)
    out = _forward(model, ids, tt, mm)
    rot.close()
    cap.close()
    assert len(rot.calls) == 1, f"expected one rotary call in prefill, got {len(rot.calls)}"
    t["positions.prefill"] = rot.calls[0]
    meta["prefill_positions_equal_get_rope_index"] = bool(torch.equal(rot.calls[0], pos_ref.cpu().long()))
    t["decoder.inputs_embeds"] = cap.ins[0][0]
    for i in range(L):
        t[f"decoder.hidden.{i}"] = cap.outs[i][0]
        assert torch.equal(cap.outs[i][0], cap.ins[i + 1][0]), "no DeepStack: layer i's output is layer i+1's input"
    full_logits = out.logits[0].float().cpu()
    t["decoder.prefill_logits"] = full_logits[-1:].clone()

    # The prefill cache, per layer by its type; also whether a cached prefill gives the same logits.
    model.model.rope_deltas = None
    cached = model(input_ids=ids, mm_token_type_ids=tt, use_cache=True, **mm)
    meta["cached_prefill_vs_full_max_abs_logit_diff"] = float((cached.logits[0, -1].float().cpu() - full_logits[-1]).abs().max())
    for i, layer in enumerate(cached.past_key_values.layers):
        if types[i] == "full_attention":
            t[f"cache.{i}.key"] = layer.keys.float().cpu().contiguous()
            t[f"cache.{i}.value"] = layer.values.float().cpu().contiguous()
        else:
            t[f"cache.{i}.conv"] = layer.conv_states[0].float().cpu().contiguous()
            t[f"cache.{i}.recurrent"] = layer.recurrent_states[0].float().cpu().contiguous()

    # Greedy by full re-forwards without a cache (the reference), recording the position each fed
    # token got (the last column of each re-forward's rotary input).
    seq, stt = ids, tt
    tokens, rows, dec_pos = [], [], []
    for step in range(GREEDY_STEPS):
        rot = RotaryCapture(lm.rotary_emb)
        o = _forward(model, seq, stt, mm)
        rot.close()
        if step > 0:
            dec_pos.append(rot.calls[0][:, :, -1:])
        row = o.logits[0, -1].float().cpu()
        tok = int(row.argmax())
        rows.append(row)
        tokens.append(tok)
        seq = torch.cat([seq, torch.tensor([[tok]], device=device)], dim=1)
        stt = torch.cat([stt, torch.zeros(1, 1, dtype=stt.dtype, device=device)], dim=1)
    glogits = torch.stack(rows)
    top1, gmargin = margins(glogits)
    tokens_t = torch.tensor(tokens, dtype=torch.long)
    assert torch.equal(top1, tokens_t)
    t["greedy.tokens"] = tokens_t
    t["greedy.margins"] = gmargin.float()
    t["greedy.logits"] = glogits[:TEACHER_STEPS].clone()
    t["positions.decode"] = torch.cat(dec_pos, dim=2)
    meta["decode_steps_recorded"] = GREEDY_STEPS - 1

    # The cached path, through generate(): recorded to compare, never the reference.
    from transformers import GenerationConfig
    gc = GenerationConfig(max_new_tokens=GREEDY_STEPS, min_new_tokens=GREEDY_STEPS, do_sample=False,
                          pad_token_id=0, bos_token_id=1, eos_token_id=None)
    rot = RotaryCapture(lm.rotary_emb)
    model.model.rope_deltas = None
    gen = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), mm_token_type_ids=tt,
                         generation_config=gc, output_logits=True, return_dict_in_generate=True, **mm)
    rot.close()
    ctoks = gen.sequences[0, S:].cpu().long()
    clogits = torch.stack([l[0] for l in gen.logits]).float().cpu()
    t["greedy_cached.tokens"] = ctoks
    t["greedy_cached.logits"] = clogits[:TEACHER_STEPS].clone()
    cdec = torch.cat([c.reshape(3, 1, -1) for c in rot.calls[1:]], dim=2)
    meta["cached_greedy_equals_full_reforward_greedy"] = bool(torch.equal(ctoks, tokens_t))
    if torch.equal(ctoks, tokens_t):
        diff = (clogits - glogits).abs()
        meta["cache_vs_full_forward_max_abs_logit_diff"] = float(diff.max())
        meta["cache_vs_full_forward_max_abs_logit_diff_per_step"] = [float(x) for x in diff.amax(-1)]
    else:
        first = int((ctoks != tokens_t).nonzero()[0])
        meta["cached_greedy_first_divergence_step"] = first
        meta["cache_vs_full_forward_max_abs_logit_diff"] = float((clogits[:first + 1] - glogits[:first + 1]).abs().max())
    meta["cached_decode_positions_equal_full_reforward"] = bool(torch.equal(cdec, t["positions.decode"]))

    # Teacher-forced: one full forward over prompt + the first 15 greedy tokens.
    tf_ids = torch.cat([ids, tokens_t[:TEACHER_STEPS - 1].to(device).view(1, -1)], dim=1)
    tf_tt = torch.cat([tt, torch.zeros(1, TEACHER_STEPS - 1, dtype=tt.dtype, device=device)], dim=1)
    tf_logits = _forward(model, tf_ids, tf_tt, mm).logits[0, S - 1:S - 1 + TEACHER_STEPS].float().cpu()
    tf_top1, tf_margin = margins(tf_logits)
    t["teacher.tokens"] = tokens_t[:TEACHER_STEPS].clone()
    t["teacher.logits"] = tf_logits
    t["teacher.margins"] = tf_margin.float()
    meta["teacher_top1_equals_greedy"] = bool(torch.equal(tf_top1, tokens_t[:TEACHER_STEPS]))
    meta["teacher_vs_reforward_max_abs_logit_diff"] = float((tf_logits - glogits[:TEACHER_STEPS]).abs().max())
    meta["greedy_tokens"] = tokens
    meta["min_margin_teacher_forced"] = float(tf_margin.min())
    meta["min_margin_greedy"] = float(gmargin.min())
    model.model.rope_deltas = None
    return t, meta
