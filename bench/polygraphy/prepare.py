"""
Inputs and reference outputs for `polygraphy run --onnxrt`, from numgate's oracle dumps: the
field's reference tool comparing an ONNX graph with recorded outputs, on the tensors numgate's
layers rung compares (bench/polygraphy.ts runs both and prints them side by side).

For each prompt of the oracle, one iteration: the decoder prefill fed the oracle's own
inputs_embeds and DeepStack features (spliced at the image tokens, as numgate's session does),
its recorded positions, an empty KV cache and no isolated layer; the reference is the oracle's
per-layer residual stream decoder.hidden.* stacked as the graph's hidden_states [L, 1, S, H].

    python bench/polygraphy/prepare.py ORACLE_DIR OUT_DIR      (writes inputs.json, reference.json)
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
from polygraphy.comparator import RunResults
from polygraphy.comparator.struct import IterationResult
from polygraphy.json import save_json

DTYPES = {"F32": np.float32, "I64": np.int64}


def read_safetensors(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] not in DTYPES:
            continue
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(raw[base + start : base + end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def main(oracle_dir, out_dir):
    oracle = Path(oracle_dir)
    manifest = json.loads((oracle / "manifest.json").read_text())
    text = manifest["text"]
    L, H, K, kv, hd = text["num_layers"], text["hidden_size"], text["deepstack_levels"], text["num_kv_heads"], text["head_dim"]
    image_id = manifest["tokens"]["image_token_id"]
    feeds, iterations = [], []
    for prompt in manifest["prompts"]:
        dump = read_safetensors(oracle / prompt["file"])
        ids = dump["inputs.input_ids"].reshape(-1)
        S = ids.shape[0]
        deepstack = np.zeros((K, 1, S, H), dtype=np.float32)
        slots = np.nonzero(ids == image_id)[0]
        for k in range(K):
            if f"vision.deepstack.{k}" in dump:
                deepstack[k, 0, slots] = dump[f"vision.deepstack.{k}"]
        feeds.append({
            "inputs_embeds": dump["decoder.inputs_embeds"].reshape(1, S, H).copy(),
            "position_ids": dump["positions.prefill"].copy(),
            "deepstack": deepstack,
            "past_keys": np.zeros((L, 1, kv, 0, hd), dtype=np.float32),
            "past_values": np.zeros((L, 1, kv, 0, hd), dtype=np.float32),
            "isolate_layer": np.array([-1], dtype=np.int64),
            "isolate_input": np.zeros((1, S, H), dtype=np.float32),
        })
        hidden = np.stack([dump[f"decoder.hidden.{i}"] for i in range(L)])[:, None]
        iterations.append(IterationResult({"hidden_states": hidden.astype(np.float32)}, runner_name="oracle"))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_json(feeds, str(out / "inputs.json"))
    results = RunResults()
    results.append(("oracle", iterations))
    results.save(str(out / "reference.json"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
