"""The tiny Qwen3.5's task: tiny_task.py's (name the colour of each image block, then count),
plus text prompts whose counting run already covers up to 80 tokens of the prompt, so that a
recorded prompt can be longer than one GatedDeltaNet chunk (64 tokens in transformers' torch
implementation) and the chunk boundary is inside what the gates compare.

Training uses qwen35_gdn's loop-free gated delta rule (transformers' own pure-torch rule spends
seconds per step in triangular solves on a CPU); the oracle is then recorded with transformers'
own code.
"""
from __future__ import annotations

import math
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
    """tiny_task.train's recipe (AdamW 3e-3, warmup, cosine), multimodal and text batches alternating."""
    rng = random.Random(seed + 1)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.98), weight_decay=0.0)
    warmup = max(1, steps // 20)

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        t = (step - warmup) / max(1, steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    last: dict = {}
    with qwen35_gdn.fast_training_rule():
        for step in range(steps):
            multimodal = step % 2 == 0
            if multimodal:
                b, n_prompt = tt.sample_batch(cfg, rng, batch, True, device)
            else:
                b, n_prompt = sample_text_batch(rng, batch, device)
            ids = b["input_ids"]
            model.model.rope_deltas = None
            out = model(**b, use_cache=False)
            logits = out.logits[:, n_prompt - 1:-1].float()
            target = ids[:, n_prompt:]
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            if step % 50 == 0 or step == steps - 1:
                acc = (logits.argmax(-1) == target).float().mean().item()
                last = {"step": step, "loss": loss.item(), "acc": acc, "multimodal": multimodal, "prompt_tokens": n_prompt}
                log(f"train step {step:5d} loss {loss.item():.4f} acc {acc:.3f} ({'mm' if multimodal else f'text S={n_prompt}'})")
    model.eval()
    model.model.rope_deltas = None
    return last
