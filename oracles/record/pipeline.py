"""The candidate chain in Python: vision -> image splice -> decoder prefill -> KV-cache decode.

Used on the GPU machine only, to calibrate the planted faults in torch and to smoke-test every
exported ONNX candidate before it is committed. numgate's TypeScript backend runs the same chain.
"""
from __future__ import annotations

import numpy as np
import torch


def splice_inputs(embeds: np.ndarray, ids: np.ndarray, image_token_id: int, vision_outs: list[np.ndarray] | None,
                  n_deepstack: int):
    """embeds [1,S,H]; returns (inputs_embeds, dense deepstack [K,1,S,H])."""
    S, H = embeds.shape[1], embeds.shape[2]
    dense = np.zeros((n_deepstack, 1, S, H), dtype=np.float32)
    if vision_outs is not None:
        mask = ids[0] == image_token_id
        embeds = embeds.copy()
        embeds[0, mask] = vision_outs[0]
        for k in range(n_deepstack):
            dense[k, 0, mask] = vision_outs[1 + k]
    return embeds.astype(np.float32), dense


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 and nb == 0:
        return 1.0
    if na == 0 or nb == 0:
        return 0.0
    return float(a @ b / (na * nb))


class OrtCandidate:
    def __init__(self, files: dict[str, str]):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = 4
        self.embed = ort.InferenceSession(files["embed"], so, providers=["CPUExecutionProvider"])
        self.vision = ort.InferenceSession(files["vision"], so, providers=["CPUExecutionProvider"])
        self.decoder = ort.InferenceSession(files["decoder"], so, providers=["CPUExecutionProvider"])

    def run_decoder(self, emb, pos, ds, pk, pv):
        return self.decoder.run(None, {"inputs_embeds": emb, "position_ids": pos, "deepstack": ds,
                                       "past_keys": pk, "past_values": pv,
                                       "isolate_layer": np.array([-1], dtype=np.int64),
                                       "isolate_input": np.zeros_like(emb)})


def check_candidate(cand: OrtCandidate, prompt: dict[str, torch.Tensor], cfg, n_layers: int, kvh: int, hd: int,
                    n_deepstack: int) -> dict:
    """Per-layer cosine on the prefill and greedy agreement over 24 tokens, using the oracle's positions."""
    ids = prompt["inputs.input_ids"].numpy()
    S = ids.shape[1]
    emb = cand.embed.run(None, {"input_ids": ids})[0]
    vis = None
    if "inputs.pixel_values" in prompt:
        vis = cand.vision.run(None, {"pixel_values": prompt["inputs.pixel_values"].numpy()})
    emb, ds = splice_inputs(emb, ids, cfg.image_token_id, vis, n_deepstack)
    pos = prompt["positions.get_rope_index"].numpy().astype(np.int64)
    empty = np.zeros((n_layers, 1, kvh, 0, hd), dtype=np.float32)
    logits, hidden, pk, pv, _, _ = cand.run_decoder(emb, pos, ds, empty, empty)
    layer_cos = [cosine(prompt[f"decoder.hidden.{i}"].numpy(), hidden[i, 0]) for i in range(n_layers)]
    finite = bool(np.isfinite(hidden).all() and np.isfinite(logits).all())
    # Isolated run of the middle layer: feed it the oracle's input.
    k = n_layers // 2
    iso = cand.decoder.run(None, {"inputs_embeds": emb, "position_ids": pos, "deepstack": ds, "past_keys": empty,
                                  "past_values": empty, "isolate_layer": np.array([k], dtype=np.int64),
                                  "isolate_input": prompt[f"decoder.hidden.{k - 1}"].numpy()[None]})[1]
    isolated_cos = cosine(prompt[f"decoder.hidden.{k}"].numpy(), iso[k, 0])
    delta = int(prompt["positions.rope_delta"].reshape(-1)[0])
    tokens = [int(np.argmax(logits[0, -1]))]
    for step in range(1, 24):
        e = cand.embed.run(None, {"input_ids": np.array([[tokens[-1]]], dtype=np.int64)})[0]
        p = np.full((3, 1, 1), S + step - 1 + delta, dtype=np.int64)
        z = np.zeros((n_deepstack, 1, 1, e.shape[2]), dtype=np.float32)
        logits, _, pk, pv, _, _ = cand.run_decoder(e.astype(np.float32), p, z, pk, pv)
        tokens.append(int(np.argmax(logits[0, -1])))
    oracle = [int(x) for x in prompt["greedy.tokens"].tolist()]
    matches = sum(int(a == b) for a, b in zip(tokens, oracle))
    return {"layer_cos": layer_cos, "isolated_cos_middle_layer": isolated_cos, "finite": finite, "greedy_matches": matches, "greedy_tokens": tokens}


@torch.no_grad()
def torch_teacher_forced(model, wrapper, prompt: dict[str, torch.Tensor], cfg, vision_outs=None) -> torch.Tensor:
    """Full forward of prompt + 15 oracle tokens through a DecoderWrapper; logits [16, V]."""
    ids = prompt["inputs.input_ids"]
    forced = prompt["teacher.tokens"][:15].view(1, -1)
    ext = torch.cat([ids, forced], dim=1)
    S = ids.shape[1]
    tt = (ext == cfg.image_token_id).long()
    grid = prompt.get("inputs.image_grid_thw")
    model.model.rope_deltas = None
    pos, _ = model.model.get_rope_index(ext, mm_token_type_ids=tt, image_grid_thw=grid, attention_mask=None)
    emb = model.model.language_model.embed_tokens(ext).numpy()
    if vision_outs is None and "vision.embeds" in prompt:
        vision_outs = [prompt["vision.embeds"].numpy()] + [prompt[f"vision.deepstack.{k}"].numpy()
                                                            for k in range(len(cfg.vision_config.deepstack_visual_indexes))]
    K = len(cfg.vision_config.deepstack_visual_indexes)
    emb, ds = splice_inputs(emb, ext.numpy(), cfg.image_token_id, vision_outs, K)
    tc = cfg.text_config
    empty = torch.zeros(tc.num_hidden_layers, 1, tc.num_key_value_heads, 0, tc.head_dim)
    logits, hidden, *_ = wrapper(torch.from_numpy(emb), pos, torch.from_numpy(ds), empty, empty)
    return logits[0, S - 1:S - 1 + 16], hidden
