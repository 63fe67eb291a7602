"""The tiny Qwen3.5's task: tiny_task.py's (name the colour of each image block, then count),
plus text prompts whose counting run already covers up to 80 tokens of the prompt, so that a
recorded prompt can be longer than one GatedDeltaNet chunk (64 tokens in transformers' torch
implementation) and the chunk boundary is inside what the gates compare.

Training uses qwen35_gdn's loop-free gated delta rule (transformers' own pure-torch rule spends
seconds per step in triangular solves on a CPU); the oracle is then recorded with transformers'
own code.
"""
from __future__ import annotations

import random

import torch

import qwen35_gdn
import tiny_task as tt

MAX_PREFIX = 80


def text_prompt(start: int, prefix: int) -> tuple[list[int], list[int]]:
    """count <start> : start start+1 ... start+prefix-1 | answer start+prefix ... (24 tokens)."""
    prompt = [tt.BOS, tt.COUNT, tt.NUMBER_BASE + start, tt.COLON] + [tt.NUMBER_BASE + start + i for i in range(prefix)]
    answer = [tt.NUMBER_BASE + start + prefix + i for i in range(tt.ANSWER_LEN)]
    return prompt, answer


def sample_text_batch(rng: random.Random, batch: int, device, noise: float = tt.LABEL_NOISE):
    prefix = rng.choice([0, 0, rng.randrange(1, MAX_PREFIX + 1)])
    seqs = []
    for _ in range(batch):
        start = rng.randrange(0, tt.MAX_NUMBER - tt.ANSWER_LEN - prefix)
        prompt, answer = text_prompt(start, prefix)
        seqs.append(prompt + tt.noisy(rng, answer, noise))
    ids = torch.tensor(seqs, dtype=torch.long, device=device)
    return {"input_ids": ids, "mm_token_type_ids": torch.zeros_like(ids)}, len(prompt)


def train(model, cfg, steps: int, seed: int, device, log=print, batch: int = 32) -> dict:
    """tiny_task's recipe, multimodal and text batches alternating, through qwen35_gdn's fast rule."""
    def sample(rng: random.Random, step: int):
        multimodal = step % 2 == 0
        if multimodal:
            b, n_prompt = tt.sample_batch(cfg, rng, batch, True, device)
        else:
            b, n_prompt = sample_text_batch(rng, batch, device)
        return (b, n_prompt, {"multimodal": multimodal, "prompt_tokens": n_prompt},
                "mm" if multimodal else f"text S={n_prompt}")

    with qwen35_gdn.fast_training_rule():
        return tt.fit(model, steps, seed, sample, log, log_every=50)
