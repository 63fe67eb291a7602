#!/usr/bin/env python3
"""numgate's oracle recorder for Qwen3-VL (the only Python in numgate).

Runs the model in fp32 with eager attention through the real transformers code and writes, per
prompt, a safetensors dump plus one manifest.json (format documented in oracles/README.md,
validated by numgate's zod schema). Optionally exports ONNX candidates (healthy and planted
faults) next to the oracle.

Tiny fixture (random init, trained for a minute on the colour/counting task):
  python3 oracles/record/record.py --config oracles/record/configs/qwen3-vl-tiny.json --seed 0 \
      --train-steps 1500 --name qwen3-vl-tiny --out oracles/qwen3-vl-tiny --candidates
Re-record from committed weights (no training):
  python3 oracles/record/record.py --config oracles/record/configs/qwen3-vl-tiny.json \
      --weights oracles/qwen3-vl-tiny/model/model.safetensors --name qwen3-vl-tiny --out oracles/qwen3-vl-tiny --candidates
A real checkpoint on your own machine:
  python3 oracles/record/record.py --hf-id Qwen/Qwen3-VL-4B-Instruct --image photo.jpg \
      --prompt "Describe the image." --name qwen3-vl-4b --out oracles/qwen3-vl-4b
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import capture  # noqa: E402
import tiny_task  # noqa: E402


def log(*a):
    print(*a, flush=True)


def save_st(path: str, tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> None:
    from safetensors.torch import save_file
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file({k: v.contiguous() for k, v in sorted(tensors.items())}, path, metadata=meta)


def build_from_config(config_path: str, seed: int, device: str = "cpu", config_class=None, model_class=None):
    """A randomly initialised model of the config file, in fp32 with eager attention; Qwen3-VL
    unless the family passes its own classes."""
    if config_class is None:
        from transformers import Qwen3VLConfig as config_class, Qwen3VLForConditionalGeneration as model_class
    with open(config_path) as f:
        raw = json.load(f)
    raw.pop("model_type", None)
    raw.pop("_numgate", None)  # provenance notes of the real-size configs, not a config key
    torch.manual_seed(seed)
    cfg = config_class(**raw)
    with torch.device(device):
        model = model_class._from_config(cfg, attn_implementation="eager", dtype=torch.float32)
    return model.to("cpu"), raw


def build_from_hf(hf_id: str, model_class=None):
    """A real checkpoint (a hub id or a local folder), in fp32 with eager attention; Qwen3-VL
    unless the family passes its own class."""
    if model_class is None:
        from transformers import Qwen3VLForConditionalGeneration as model_class
    model = model_class.from_pretrained(hf_id, dtype=torch.float32, attn_implementation="eager")
    return model, model.config.to_dict()


def hf_prompts(hf_id: str, image_path: str | None, question: str):
    """One multimodal prompt through the model's own processor and chat template (text before and
    after the image), and one text-only prompt."""
    from PIL import Image
    from transformers import AutoProcessor
    if not image_path:
        raise SystemExit("--hf-id needs --image PATH for the multimodal prompt")
    processor = AutoProcessor.from_pretrained(hf_id)
    out = []
    image = Image.open(image_path).convert("RGB")
    chats = [
        ("mm-image", [{"role": "user", "content": [{"type": "text", "text": "Here is a picture."}, {"type": "image"},
                                                   {"type": "text", "text": question}]}], [image]),
        ("text", [{"role": "user", "content": [{"type": "text", "text": "Count from one to twenty."}]}], None),
    ]
    for name, messages, images in chats:
        text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        enc = processor(text=[text], images=images, return_tensors="pt")
        out.append({"name": name, "input_ids": enc["input_ids"][0].tolist(),
                    "pixel_values": enc.get("pixel_values") if images else None,
                    "image_grid_thw": enc["image_grid_thw"].tolist() if images else None,
                    "expected": None, "description": text})
    return out, lambda ids: processor.tokenizer.decode(ids)


def image_prompts(cfg, rng: random.Random) -> list[dict]:
    """The tiny task's two image prompts (both families' fixtures record them)."""
    out = []
    for name, start in [("mm-colours-a", 37), ("mm-colours-b", 150)]:
        colours = [rng.randrange(len(tiny_task.COLOUR_NAMES)) for _ in range(6)]
        ids, answer = tiny_task.multimodal_prompt(cfg, colours, start)
        pv, grid = tiny_task.patchify(tiny_task.make_image(rng, colours))
        out.append({"name": name, "input_ids": ids, "pixel_values": pv, "image_grid_thw": [grid], "expected": answer,
                    "description": f"2x3 colour blocks {[tiny_task.COLOUR_NAMES[c] for c in colours]}, then count from {start}"})
    return out


def tiny_prompts(cfg, seed: int) -> list[dict]:
    out = image_prompts(cfg, random.Random(seed + 7))
    ids, answer = tiny_task.text_prompt(205)
    out.append({"name": "text-count", "input_ids": ids, "pixel_values": None, "image_grid_thw": None, "expected": answer,
                "description": "text only: count from 205"})
    return out


def ready_model(model, cfg, args, train, t0: float):
    """Loads --weights or trains --train-steps (on a GPU when there is one), then readies the model
    for recording: the oracle itself is recorded on the CPU in true fp32 (no TF32, deterministic
    kernels). Returns (model, train info or None, whether the head is tied)."""
    train_info = None
    if args.weights:
        from safetensors.torch import load_file
        missing, unexpected = model.load_state_dict(load_file(args.weights), strict=False)
        log(f"loaded {args.weights}; missing {missing} unexpected {unexpected}")
    elif args.train_steps > 0:
        dev = "cuda" if torch.cuda.is_available() else "cpu"
        model.to(dev)
        torch.backends.cuda.matmul.allow_tf32 = True
        train_info = train(model, cfg, args.train_steps, args.seed, dev, log)
        train_info["device"] = dev
        model.to("cpu")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    model = model.float().eval()
    tied = model.lm_head.weight.data_ptr() == model.model.language_model.embed_tokens.weight.data_ptr()
    log(f"model ready in {time.time() - t0:.1f}s; tied head: {tied}")
    return model, train_info, tied


def save_fixture_weights(model, raw_cfg: dict, out: str, tied: bool) -> None:
    """Tiny fixtures keep their weights next to the oracle so anyone can re-record them."""
    from safetensors.torch import save_file
    os.makedirs(os.path.join(out, "model"), exist_ok=True)
    sd = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    if tied:
        sd.pop("lm_head.weight", None)
    save_file(sd, os.path.join(out, "model", "model.safetensors"))
    with open(os.path.join(out, "model", "config.json"), "w") as f:
        json.dump(raw_cfg, f, indent=2)


def record_prompts(prompts: list[dict], record_prompt, out: str, st_meta: dict[str, str], render,
                   detail=lambda meta: "") -> tuple[list[dict], dict, float]:
    """Records and writes each prompt's dump (`record_prompt`: the family's capture). Returns the
    manifest entries, the recorded tensors by prompt and the smallest top-2 margin, which it flags
    below 0.1 logits; `detail` adds a family's own figures to each prompt's log line."""
    entries, recorded, worst = [], {}, None
    for p in prompts:
        t, meta = record_prompt(p)
        rel = f"prompts/{p['name']}.safetensors"
        save_st(os.path.join(out, rel), t, st_meta)
        recorded[p["name"]] = t
        meta.update({"file": rel, "text": render(p["input_ids"]), "description": p["description"]})
        if p.get("expected") is not None:
            meta.update({"task_answer": p["expected"], "greedy_equals_task_answer": meta["greedy_tokens"] == p["expected"]})
        if p["image_grid_thw"] is not None:
            meta["image_grid_thw"] = p["image_grid_thw"]
        entries.append(meta)
        m = min(meta["min_margin_teacher_forced"], meta["min_margin_greedy"])
        worst = m if worst is None else min(worst, m)
        flag = "  <-- BELOW 0.1: near-tie" if m < 0.1 else ""
        log(f"prompt {p['name']}: S={meta['sequence_length']} delta={meta['rope_delta']} "
            f"task answer reproduced: {meta.get('greedy_equals_task_answer', 'n/a')} "
            f"min top-2 margin {m:.3f} logits{flag}{detail(meta)}")
    log(f"smallest top-2 margin over gated positions: {worst:.3f} logits" + ("  <-- FLAG: below 0.1" if worst < 0.1 else ""))
    return entries, recorded, worst


def render_tokens(names: list[str], ids: list[int]) -> str:
    parts, i = [], 0
    while i < len(ids):
        j = i
        while j < len(ids) and ids[j] == ids[i]:
            j += 1
        n = names[ids[i]] if ids[i] < len(names) else f"<{ids[i]}>"
        parts.append(f"{n}x{j - i}" if j - i > 2 else " ".join([n] * (j - i)))
        i = j
    return " ".join(parts)


def recorder_args(doc: str, config_required: bool = False) -> argparse.ArgumentParser:
    """The arguments every family's recorder takes; a family adds its own after them."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=config_required)
    ap.add_argument("--hf-id")
    ap.add_argument("--image")
    ap.add_argument("--prompt", default="Describe the image.")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-steps", type=int, default=0)
    ap.add_argument("--weights")
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", required=True)
    return ap


def oracle_prompts(args, cfg, tiny_prompts) -> tuple[list[dict], object, list[str] | None]:
    """The checkpoint's own processor and chat template for --hf-id, else the family's
    `tiny_prompts(cfg, seed)` in the tiny vocab. Returns the prompts, how to render token ids, and
    the tiny vocab's token names (None for a checkpoint)."""
    if args.hf_id:
        prompts, render = hf_prompts(args.hf_id, args.image, args.prompt)
        return prompts, render, None
    names = tiny_task.token_names(cfg.text_config.vocab_size, cfg.image_token_id, cfg.video_token_id,
                                  cfg.vision_start_token_id, cfg.vision_end_token_id)
    return tiny_prompts(cfg, args.seed), lambda ids: render_tokens(names, ids), names


def tool_versions() -> dict[str, str]:
    """What an oracle must say it was recorded with (4.57 and 5.x differ in positions and padding)."""
    import transformers
    return {"transformers": transformers.__version__, "torch": torch.__version__.split("+")[0],
            "python": platform.python_version()}


def dump_metadata(name: str, versions: dict[str, str]) -> dict[str, str]:
    return {"numgate_format": "numgate.oracle/1", "model": name, **versions}


def record_left_padded_batch(model, cfg, prompts: list[dict], out: str, st_meta: dict[str, str]) -> dict:
    """Positions of the first image prompt and the first text prompt left-padded into one batch;
    writes the dump and returns its positions_batches entry."""
    mm_prompt = next(p for p in prompts if p["pixel_values"] is not None)
    text_prompt = next(p for p in prompts if p["pixel_values"] is None)
    bt, bmeta = capture.record_padded_batch(model, cfg, [mm_prompt, text_prompt], "cpu")
    bmeta["file"] = "prompts/batch-left-padded.safetensors"
    save_st(os.path.join(out, bmeta["file"]), bt, st_meta)
    return bmeta


def recorder_entry(script: str, versions: dict[str, str]) -> dict:
    return {"script": script, **versions, "device": "cpu",
            "recorded_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}


def text_dims(tc) -> dict:
    """The manifest's `text` fields every family has; a family adds its own after them."""
    return {"num_layers": tc.num_hidden_layers, "hidden_size": tc.hidden_size, "num_heads": tc.num_attention_heads,
            "num_kv_heads": tc.num_key_value_heads, "head_dim": tc.head_dim, "vocab_size": tc.vocab_size,
            "rope_theta": float(tc.rope_parameters["rope_theta"])}


def vision_dims(vc) -> dict:
    """The manifest's `vision` fields every family has."""
    return {"patch_size": vc.patch_size, "temporal_patch_size": vc.temporal_patch_size,
            "spatial_merge_size": vc.spatial_merge_size, "depth": vc.depth}


def tokens_entry(cfg, names: list[str] | None) -> dict:
    return {"image_token_id": cfg.image_token_id, "video_token_id": cfg.video_token_id,
            "vision_start_token_id": cfg.vision_start_token_id, "vision_end_token_id": cfg.vision_end_token_id,
            **({"names": names} if names is not None else {})}


def write_manifest(out: str, manifest: dict) -> None:
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def main() -> None:
    ap = recorder_args(__doc__)
    ap.add_argument("--candidates", nargs="?", const="all", choices=["all", "fp32"],
                    help="also export ONNX candidates: all (healthy builds and planted faults; the default) or fp32 "
                         "(the healthy fp32 build alone, for real-size models)")
    ap.add_argument("--no-weights", action="store_true",
                    help="do not save the model's weights beside the oracle (real-size random-weight models: gigabytes "
                         "nobody re-records from)")
    ap.add_argument("--init-device", default="cpu",
                    help="where a --config model is built and randomly initialised (cuda: seconds instead of minutes at "
                         "real size; the oracle is still recorded on the CPU)")
    args = ap.parse_args()
    if not args.config and not args.hf_id:
        ap.error("give --config (random init, for fixtures) or --hf-id")
    t0 = time.time()
    if args.hf_id:
        model, raw_cfg = build_from_hf(args.hf_id)
    else:
        model, raw_cfg = build_from_config(args.config, args.seed, args.init_device)
    cfg = model.config
    if args.hf_id and (args.weights or args.train_steps):
        ap.error("--weights and --train-steps are for --config fixtures, not --hf-id checkpoints")
    model, train_info, tied = ready_model(model, cfg, args, tiny_task.train, t0)
    dev = "cpu"

    os.makedirs(args.out, exist_ok=True)
    if not args.hf_id and not args.no_weights:
        save_fixture_weights(model, raw_cfg, args.out, tied)

    prompts, render, names = oracle_prompts(args, cfg, tiny_prompts)
    versions = tool_versions()
    st_meta = dump_metadata(args.name, versions)
    prompt_entries, recorded, _ = record_prompts(prompts, lambda p: capture.record_prompt(model, cfg, p, dev), args.out,
                                                 st_meta, render)
    bmeta = record_left_padded_batch(model, cfg, prompts, args.out, st_meta)

    tc = cfg.text_config
    rp = tc.rope_parameters
    manifest = {
        "format": "numgate.oracle",
        "version": 1,
        "model": args.name,
        "family": "qwen3-vl",
        "source": ({"kind": "hf", "config_file": None, "seed": None, "hf_id": args.hf_id, "image": args.image,
                    "prompt": args.prompt} if args.hf_id else
                   {"kind": "config", "config_file": os.path.relpath(args.config), "seed": args.seed, "hf_id": None,
                    "weights": None if args.no_weights else "model/model.safetensors", "train_steps": args.train_steps if not args.weights else 0,
                    "train_final": train_info,
                    "task": "tiny_task.py: name the colour of each of 2x3 image blocks, then continue a counting run",
                    "label_noise": tiny_task.LABEL_NOISE}),
        "recorder": recorder_entry("oracles/record/record.py", versions),
        "dtype": "float32",
        "attn_implementation": "eager",
        "text": {**text_dims(tc), "mrope_section": list(rp.get("mrope_section", [])),
                 "mrope_interleaved": bool(rp.get("mrope_interleaved", True)), "tied_head": bool(tied),
                 "deepstack_levels": len(cfg.vision_config.deepstack_visual_indexes)},
        "vision": {**vision_dims(cfg.vision_config),
                   "deepstack_visual_indexes": list(cfg.vision_config.deepstack_visual_indexes)},
        "tokens": tokens_entry(cfg, names),
        "conventions": {
            "decoder.hidden.i": "residual stream after decoder layer i, DeepStack addition included (what layer i+1 receives)",
            "decoder.layer_out.i": "output of decoder layer module i, before any DeepStack addition",
            "positions": "int64 [3, batch, seq] as passed to the text rotary embedding (T, H, W planes)",
            "positions.decode": "positions generate() used for each fed greedy token, [3, batch, steps]",
            "margins": "top-1 minus top-2 logit, unit: logits",
            "teacher": "one full forward over prompt + greedy[:15]; logits rows predict greedy[0..15]",
        },
        "prompts": prompt_entries,
        "positions_batches": [bmeta],
    }
    write_manifest(args.out, manifest)
    log(f"oracle written to {args.out} in {time.time() - t0:.1f}s")

    if args.candidates == "all":
        import candidates
        candidates.export_all(model, cfg, recorded, prompts, args.out, args.name, versions, log)
    elif args.candidates == "fp32":
        import candidates
        candidates.export_fp32(model, cfg, prompts, args.out, args.name, versions, log)
    log(f"done in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
