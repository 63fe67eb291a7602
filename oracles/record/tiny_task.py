"""The synthetic task that gives the tiny fixtures trained, confident weights.

Random weights give near-uniform logits, so every top-1 gate would sit on a knife-edge tie and
quantization noise would look nothing like a trained model's. A tiny Qwen3-VL trained for a
minute on a task that needs the image (name the colour of each image block, then continue a
counting run) learns it fully, gives top-2 margins of several logits, and grows the activation
outliers that make int8 behave as it does on real models.

Token ids (vocab 512): 0 pad, 1 bos, 2 "colours", 3 "count", 4 ":", 10..15 colour names,
100..399 the numbers 0..299, 500..503 image pad / video pad / vision start / vision end.
"""
from __future__ import annotations

import math
import random

import torch

from capture import token_types

PAD, BOS, COLOURS, COUNT, COLON = 0, 1, 2, 3, 4
COLOUR_BASE, NUMBER_BASE, MAX_NUMBER = 10, 100, 299
COLOUR_NAMES = ["red", "green", "blue", "yellow", "white", "black"]
COLOUR_RGB = [(230, 25, 25), (25, 200, 25), (25, 25, 230), (230, 230, 25), (240, 240, 240), (15, 15, 15)]

# A 64x96 image is a (1, 4, 6) patch grid: 24 patches, merged 2x2 into 2 rows x 3 columns = 6 tokens.
IMAGE_H, IMAGE_W, BLOCK = 64, 96, 32
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
ANSWER_LEN = 24


def token_names(vocab_size: int, image_token_id: int, video_token_id: int, vs_id: int, ve_id: int) -> list[str]:
    names = [f"<{i}>" for i in range(vocab_size)]
    for i, n in [(PAD, "<pad>"), (BOS, "<bos>"), (COLOURS, "colours"), (COUNT, "count"), (COLON, ":")]:
        names[i] = n
    for i, n in enumerate(COLOUR_NAMES):
        names[COLOUR_BASE + i] = n
    for n in range(MAX_NUMBER + 1):
        names[NUMBER_BASE + n] = str(n)
    names[image_token_id] = "<|image_pad|>"
    names[video_token_id] = "<|video_pad|>"
    names[vs_id] = "<|vision_start|>"
    names[ve_id] = "<|vision_end|>"
    return names


def word_level_tokenizer(cfg):
    """The tiny vocab as a `tokenizers` word-level tokenizer (one token per whitespace-separated
    name), for the checkpoint folders that other tools load with their own tokenizer code."""
    from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers
    names = token_names(cfg.text_config.vocab_size, cfg.image_token_id, cfg.video_token_id,
                        cfg.vision_start_token_id, cfg.vision_end_token_id)
    tok = Tokenizer(models.WordLevel(vocab={n: i for i, n in enumerate(names)}, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens([AddedToken(s, special=True) for s in
                            ["<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>", "<bos>", "<pad>"]])
    return tok


def make_image(rng: random.Random, colours: list[int]) -> torch.Tensor:
    """uint8 HWC image of 2x3 solid blocks (row-major colours) with mild noise."""
    img = torch.zeros(IMAGE_H, IMAGE_W, 3, dtype=torch.float32)
    for b, c in enumerate(colours):
        r, col = divmod(b, IMAGE_W // BLOCK)
        img[r * BLOCK:(r + 1) * BLOCK, col * BLOCK:(col + 1) * BLOCK] = torch.tensor(COLOUR_RGB[c], dtype=torch.float32)
    g = torch.Generator().manual_seed(rng.randrange(1 << 30))
    img = img + torch.randint(-12, 13, img.shape, generator=g).float()
    return img.clamp(0, 255).round().to(torch.uint8)


def patchify(img_hwc_u8: torch.Tensor, patch: int = 16, merge: int = 2, temporal: int = 2) -> tuple[torch.Tensor, list[int]]:
    """Same layout as Qwen2VLImageProcessor.patchify (rescale 1/255, CLIP normalisation, frame
    repeated temporally). Returns pixel_values [grid_h*grid_w, C*T*P*P] and grid_thw."""
    x = img_hwc_u8.float().permute(2, 0, 1) / 255.0
    mean = torch.tensor(CLIP_MEAN).view(3, 1, 1)
    std = torch.tensor(CLIP_STD).view(3, 1, 1)
    x = ((x - mean) / std).unsqueeze(0)
    b, c, h, w = x.shape
    gh, gw = h // patch, w // patch
    p = x.reshape(b, c, gh // merge, merge, patch, gw // merge, merge, patch)
    p = p.permute(0, 2, 5, 3, 6, 1, 4, 7)
    p = p.unsqueeze(6).expand(-1, -1, -1, -1, -1, -1, temporal, -1, -1)
    p = p.reshape(b, gh * gw, c * temporal * patch * patch)
    return p[0].contiguous(), [1, gh, gw]


def n_image_tokens(grid: list[int], merge: int = 2) -> int:
    return grid[0] * (grid[1] // merge) * (grid[2] // merge)


def multimodal_prompt(cfg, colours: list[int], start: int) -> tuple[list[int], list[int]]:
    """Text before the image (so the image does not start at position 0) and after it."""
    n_img = len(colours)
    prompt = [BOS, COLOURS, cfg.vision_start_token_id] + [cfg.image_token_id] * n_img + [cfg.vision_end_token_id, COUNT, NUMBER_BASE + start, COLON]
    answer = [COLOUR_BASE + c for c in colours] + [NUMBER_BASE + start + i for i in range(ANSWER_LEN - n_img)]
    return prompt, answer


def text_prompt(start: int) -> tuple[list[int], list[int]]:
    prompt = [BOS, COUNT, NUMBER_BASE + start, COLON]
    answer = [NUMBER_BASE + start + i for i in range(ANSWER_LEN)]
    return prompt, answer


def noisy(rng: random.Random, answer: list[int], p: float) -> list[int]:
    """With probability p a token becomes its one fixed alternative (next colour, next number).
    The model then learns p(right) = 1 - p at every answer step: a top-2 margin of log((1-p)/p)
    logits (1.39 for p = 0.2), the "several logits, not fourteen" of a real model's confident
    steps, so that a damaged head can flip a step while a healthy quantized one cannot."""
    out = []
    for t in answer:
        if rng.random() < p:
            if COLOUR_BASE <= t < COLOUR_BASE + len(COLOUR_NAMES):
                t = COLOUR_BASE + (t - COLOUR_BASE + 1) % len(COLOUR_NAMES)
            elif t < NUMBER_BASE + MAX_NUMBER:
                t = t + 1
        out.append(t)
    return out


LABEL_NOISE = 0.2


def sample_batch(cfg, rng: random.Random, batch: int, multimodal: bool, device, noise: float = LABEL_NOISE):
    n_blocks = (IMAGE_H // BLOCK) * (IMAGE_W // BLOCK)
    seqs, pvs, grids, n_prompt = [], [], [], 0
    for _ in range(batch):
        if multimodal:
            colours = [rng.randrange(len(COLOUR_NAMES)) for _ in range(n_blocks)]
            start = rng.randrange(0, MAX_NUMBER - ANSWER_LEN)
            prompt, answer = multimodal_prompt(cfg, colours, start)
            pv, grid = patchify(make_image(rng, colours))
            pvs.append(pv)
            grids.append(grid)
        else:
            prompt, answer = text_prompt(rng.randrange(0, MAX_NUMBER - ANSWER_LEN))
        n_prompt = len(prompt)
        seqs.append(prompt + noisy(rng, answer, noise))
    ids = torch.tensor(seqs, dtype=torch.long, device=device)
    tt = torch.tensor([token_types(cfg, s) for s in seqs], dtype=torch.long, device=device)
    out = {"input_ids": ids, "mm_token_type_ids": tt}
    if multimodal:
        out["pixel_values"] = torch.cat(pvs).to(device)
        out["image_grid_thw"] = torch.tensor(grids, dtype=torch.long, device=device)
    return out, n_prompt


def fit(model, steps: int, seed: int, sample, log=print, log_every: int = 100) -> dict:
    """Teacher-forced cross-entropy on the answer tokens, AdamW 3e-3 with a 5% warmup then a cosine
    down to a tenth; both families train by it. sample(rng, step) returns the batch, its prompt
    length, the fields a logged step's record keeps, and the batch's name in the log line."""
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
    for step in range(steps):
        batch, n_prompt, info, label = sample(rng, step)
        ids = batch["input_ids"]
        model.model.rope_deltas = None
        out = model(**batch, use_cache=False)
        logits = out.logits[:, n_prompt - 1:-1].float()
        target = ids[:, n_prompt:]
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % log_every == 0 or step == steps - 1:
            acc = (logits.argmax(-1) == target).float().mean().item()
            last = {"step": step, "loss": loss.item(), "acc": acc, **info}
            log(f"train step {step:5d} loss {loss.item():.4f} acc {acc:.3f} ({label})")
    model.eval()
    model.model.rope_deltas = None
    return last


def train(model, cfg, steps: int, seed: int, device, log=print) -> dict:
    """Two multimodal batches of 48, then one text batch."""
    def sample(rng: random.Random, step: int):
        multimodal = step % 3 != 2
        batch, n_prompt = sample_batch(cfg, rng, 48, multimodal, device)
        return batch, n_prompt, {"multimodal": multimodal}, "mm" if multimodal else "text"

    return fit(model, steps, seed, sample, log)
