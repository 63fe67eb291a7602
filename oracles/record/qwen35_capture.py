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

from capture import (GREEDY_STEPS, TEACHER_STEPS, RotaryCapture, full_forward, generate_greedy, hooked_prefill, margins,
                     prompt_inputs, rope_index, teacher_forced)


@torch.no_grad()
def record_prompt(model, cfg, prompt: dict, device) -> tuple[dict[str, torch.Tensor], dict]:
    lm = model.model.language_model
    types = list(cfg.text_config.layer_types)
    L = len(lm.layers)
    ids, tt, mm, t, meta = prompt_inputs(cfg, prompt, device)
    S = ids.shape[1]
    meta["longer_than_one_gdn_chunk"] = S > 64
    pos_ref = rope_index(model, ids, tt, mm, t, meta)

    if mm:
        vout = model.model.get_image_features(mm["pixel_values"], mm["image_grid_thw"], return_dict=True)
        t["vision.embeds"] = torch.cat(list(vout.pooler_output), dim=0).float().cpu()
        meta["vision_has_deepstack"] = hasattr(vout, "deepstack_features") and vout.deepstack_features is not None

    out, cap = hooked_prefill(model, ids, tt, mm, pos_ref, t, meta)
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
        o = full_forward(model, seq, stt, mm)
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
    ctoks, clogits, _, cdec = generate_greedy(model, ids, tt, mm)
    t["greedy_cached.tokens"] = ctoks
    t["greedy_cached.logits"] = clogits[:TEACHER_STEPS].clone()
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

    tf_logits, tf_margin = teacher_forced(model, ids, tt, mm, tokens_t, t, meta)
    meta["teacher_vs_reforward_max_abs_logit_diff"] = float((tf_logits - glogits[:TEACHER_STEPS]).abs().max())
    meta["greedy_tokens"] = tokens
    meta["min_margin_teacher_forced"] = float(tf_margin.min())
    meta["min_margin_greedy"] = float(gmargin.min())
    model.model.rope_deltas = None
    return t, meta
