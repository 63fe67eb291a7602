#!/usr/bin/env python3
"""Writes the tiny model as a Hugging Face checkpoint folder (weights, config, tokenizer,
processor with a chat template), so that record.py's --hf-id path -- the one a porter runs on a
real checkpoint -- can be exercised end to end on a machine with no network and no Qwen weights.

  python3 oracles/record/make_tiny_checkpoint.py OUT_DIR [--hub-config]
  python3 oracles/record/record.py --hf-id OUT_DIR --image OUT_DIR/blocks.png --prompt "colours" \
      --name qwen3-vl-tiny-hf --out /tmp/qwen3-vl-tiny-hf
"""
from __future__ import annotations

import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import record  # noqa: E402
import tiny_task  # noqa: E402

CHAT_TEMPLATE = (
    "{% for m in messages %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }} {% endif %}"
    "{% endfor %}{% endfor %}{% if add_generation_prompt %}count 37 :{% endif %}"
)


def write_hub_config(out: str) -> None:
    """Rewrites config.json with the keys the hub's Qwen3-VL-*-Instruct checkpoints carry (written
    by transformers 4.57), which is what MLX users convert from. transformers 5 saves the text rope
    as `rope_parameters` and names the vision tower `qwen3_vl_vision`; mlx-vlm 0.7.10 cannot read
    that: its qwen3_vl TextConfig requires `rope_theta` and `rope_scaling` (with `mrope_section`),
    and its VisionModel rejects any vision model_type but "qwen3_vl". transformers 5 still reads
    the old keys, so the folder stays valid for record.py too."""
    path = os.path.join(out, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    text = cfg["text_config"]
    rope = text.get("rope_parameters") or {}
    text["rope_theta"] = rope["rope_theta"]
    text["rope_scaling"] = {"rope_type": rope.get("rope_type", "default"), "mrope_section": rope["mrope_section"],
                            "mrope_interleaved": rope.get("mrope_interleaved", True)}
    cfg["vision_config"]["model_type"] = "qwen3_vl"
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


def main() -> None:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    from safetensors.torch import load_file
    from transformers import PreTrainedTokenizerFast, Qwen2VLImageProcessor, Qwen3VLProcessor, Qwen3VLVideoProcessor

    root = os.path.dirname(os.path.dirname(HERE))
    model, _ = record.build_from_config(os.path.join(root, "oracles/record/configs/qwen3-vl-tiny.json"), 0)
    model.load_state_dict(load_file(os.path.join(root, "oracles/qwen3-vl-tiny/model/model.safetensors")), strict=False)
    model.save_pretrained(out)

    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tiny_task.word_level_tokenizer(model.config), unk_token="<pad>",
                                        pad_token="<pad>", bos_token="<bos>")
    image_processor = Qwen2VLImageProcessor(patch_size=16, temporal_patch_size=2, merge_size=2,
                                            min_pixels=32 * 32, max_pixels=256 * 256)
    processor = Qwen3VLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                 video_processor=Qwen3VLVideoProcessor(), chat_template=CHAT_TEMPLATE)
    processor.save_pretrained(out)

    from PIL import Image
    rng = random.Random(11)
    img = tiny_task.make_image(rng, [rng.randrange(6) for _ in range(6)])
    Image.fromarray(img.numpy()).save(os.path.join(out, "blocks.png"))
    if "--hub-config" in sys.argv[2:]:
        write_hub_config(out)
    print(f"wrote a Hugging Face checkpoint of the tiny model to {out}")


if __name__ == "__main__":
    main()
