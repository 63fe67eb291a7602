#!/usr/bin/env python3
"""Runs onnxruntime-genai's own generate() on the genai fixture folder for the oracle's text-only
prompt and writes what it produced beside the oracle's greedy tokens (onnxruntime-genai is a
Python/C++ package, so numgate's Node suite cannot call it; this records it once).

    python oracles/record/genai_generate.py oracles/qwen3-vl-tiny   # with onnxruntime-genai installed
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import onnxruntime_genai as og
from safetensors.numpy import load_file


def main() -> None:
    oracle = sys.argv[1]
    folder = os.path.join(oracle, "candidates", "genai")
    manifest = json.load(open(os.path.join(oracle, "manifest.json")))
    results = []
    for p in manifest["prompts"]:
        if p["kind"] != "text":
            continue  # image prompts need genai's own image processor on a picture; the oracle stores pixels
        dump = load_file(os.path.join(oracle, p["file"]))
        ids = dump["inputs.input_ids"].astype(np.int32)
        ref = dump["greedy.tokens"].tolist()
        model = og.Model(folder)
        params = og.GeneratorParams(model)
        params.set_search_options(max_length=ids.shape[1] + len(ref), do_sample=False)
        gen = og.Generator(model, params)
        gen.append_tokens(ids)
        out = []
        while not gen.is_done():
            gen.generate_next_token()
            out.append(int(gen.get_next_tokens()[0]))
        same = next((i for i, (a, b) in enumerate(zip(out, ref)) if a != b), None)
        results.append({"prompt": p["name"], "tokens": out, "oracle": ref, "identical": out == ref, "first_divergence": same})
        print(p["name"], "identical" if out == ref else f"diverges at step {same}")
    path = os.path.join(oracle, "candidates", "genai-generate.json")
    with open(path, "w") as f:
        json.dump({"runtime": f"onnxruntime-genai {og.__version__}", "folder": "genai", "results": results}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
