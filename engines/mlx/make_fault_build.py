#!/usr/bin/env python3
"""Plants the MLX fault `mlx-fault-head-2bit`: an mlx-vlm build whose output head was quantized far
too coarsely for its rows, the way a hand-written mixed recipe goes wrong ("the head is just one
more Linear": 2 bits, groups of 64 across the whole 64-wide row, so each row's outliers set one
scale for everything else).

From an 8-bit build (mlx_vlm convert -q --q-bits 8 --q-group-size 64), it unties the head: a
separate `language_model.lm_head`, quantized with mx.quantize at 2 bits, group 64, from the
dequantized 8-bit embedding, declared per path in config["quantization"] as mlx-vlm's loader reads
it. Embedding and every layer stay as they were, so every layer still passes; the logits do not.

  .venv-mlx/bin/python engines/mlx/make_fault_build.py oracles/qwen3-vl-tiny/candidates/mlx/8bit \\
      oracles/qwen3-vl-tiny/candidates/mlx/fault-head-2bit
"""
from __future__ import annotations

import json
import os
import shutil
import sys

import mlx.core as mx

HEAD = "language_model.lm_head"
EMBED = "language_model.model.embed_tokens"


def main(src: str, out: str, bits: int = 2, group: int = 64) -> None:
    shutil.copytree(src, out, dirs_exist_ok=True)
    with open(os.path.join(src, "config.json")) as f:
        cfg = json.load(f)
    q = cfg["quantization"]
    weights = mx.load(os.path.join(src, "model.safetensors"))
    table = mx.dequantize(weights[f"{EMBED}.weight"], weights[f"{EMBED}.scales"], weights[f"{EMBED}.biases"],
                          group_size=q["group_size"], bits=q["bits"])
    wq, scales, biases = mx.quantize(table, group_size=group, bits=bits)
    weights.update({f"{HEAD}.weight": wq, f"{HEAD}.scales": scales, f"{HEAD}.biases": biases})
    mx.save_safetensors(os.path.join(out, "model.safetensors"), weights, metadata={"format": "mlx"})

    cfg["tie_word_embeddings"] = False
    cfg["text_config"]["tie_word_embeddings"] = False
    for key in ("quantization", "quantization_config"):
        cfg[key][HEAD] = {"group_size": group, "bits": bits}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=4)
    index_path = os.path.join(out, "model.safetensors.index.json")
    with open(index_path) as f:
        index = json.load(f)
    for k in (f"{HEAD}.weight", f"{HEAD}.scales", f"{HEAD}.biases"):
        index["weight_map"][k] = "model.safetensors"
    with open(index_path, "w") as f:
        json.dump(index, f, indent=4)
    print(f"wrote {out}: {HEAD} at {bits} bits, group {group}, untied from the {q['bits']}-bit embedding")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
