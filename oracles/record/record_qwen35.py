#!/usr/bin/env python3
"""numgate's oracle recorder for Qwen3.5 (hybrid GatedDeltaNet + gated full attention, a vision
tower without DeepStack). Same outputs as record.py (manifest.json + one safetensors dump per
prompt, family "qwen3.5"), recorded per qwen35_capture.py; optionally ONNX candidates in numgate's
layout with the planted faults a hybrid port has had (qwen35_candidates.py).

Tiny fixture (random init, trained on the colour/counting task with long counting prompts):
  python3 oracles/record/record_qwen35.py --config oracles/record/configs/qwen3.5-tiny.json --seed 0 \
      --train-steps 1500 --name qwen3.5-tiny --out oracles/qwen3.5-tiny --candidates
Re-record from the committed weights:
  python3 oracles/record/record_qwen35.py --config oracles/record/configs/qwen3.5-tiny.json \
      --weights oracles/qwen3.5-tiny/model/model.safetensors --name qwen3.5-tiny --out oracles/qwen3.5-tiny --candidates
A real checkpoint (hub id or local folder; the config file only names the architecture):
  python3 oracles/record/record_qwen35.py --config oracles/record/configs/qwen3.5-2b.json --hf-id Qwen/Qwen3.5-2B \
      --image photo.jpg --prompt "Describe the image." --name qwen3.5-2b --out oracles/qwen3.5-2b
"""
from __future__ import annotations

import inspect
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import qwen35_capture  # noqa: E402
import qwen35_gdn  # noqa: E402
import qwen35_task  # noqa: E402
import record  # noqa: E402
import tiny_task  # noqa: E402
from record import image_prompts, log, ready_model, record_prompts, save_fixture_weights  # noqa: E402


def build_from_config(config_path: str, seed: int):
    from transformers import Qwen3_5Config, Qwen3_5ForConditionalGeneration
    return record.build_from_config(config_path, seed, config_class=Qwen3_5Config,
                                    model_class=Qwen3_5ForConditionalGeneration)


def tiny_prompts(cfg, seed: int) -> list[dict]:
    """Two image prompts (tiny_task's), a short text prompt and one longer than a GatedDeltaNet chunk."""
    out = image_prompts(cfg, random.Random(seed + 7))
    for name, start, prefix in [("text-count", 205, 0), ("text-count-long", 120, 70)]:
        ids, answer = qwen35_task.text_prompt(start, prefix)
        out.append({"name": name, "input_ids": ids, "pixel_values": None, "image_grid_thw": None, "expected": answer,
                    "description": f"text only: count from {start}" + (f", {prefix} numbers already in the prompt" if prefix else "")})
    return out


def gdn_chunk_size() -> int:
    from transformers.models.qwen3_5 import modeling_qwen3_5 as mq
    return int(inspect.signature(mq.torch_chunk_gated_delta_rule).parameters["chunk_size"].default)


def main() -> None:
    ap = record.recorder_args(__doc__, config_required=True)
    ap.add_argument("--candidates", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    if args.hf_id:
        from transformers import Qwen3_5ForConditionalGeneration
        model, raw_cfg = record.build_from_hf(args.hf_id, Qwen3_5ForConditionalGeneration)
    else:
        model, raw_cfg = build_from_config(args.config, args.seed)
    cfg = model.config
    model, train_info, tied = ready_model(model, cfg, args, qwen35_task.train, t0)
    dev = "cpu"

    os.makedirs(args.out, exist_ok=True)
    if not args.hf_id:
        save_fixture_weights(model, raw_cfg, args.out, tied)

    prompts, render, names = record.oracle_prompts(args, cfg, tiny_prompts)
    for p in prompts:
        # The exported graphs take at most MAX_STEP_TOKENS per step (qwen35_gdn.py).
        assert len(p["input_ids"]) + 24 <= qwen35_gdn.MAX_STEP_TOKENS, f"prompt {p['name']} too long for one graph step"
    versions = record.tool_versions()
    st_meta = record.dump_metadata(args.name, versions)
    entries, recorded, _ = record_prompts(
        prompts, lambda p: qwen35_capture.record_prompt(model, cfg, p, dev), args.out, st_meta, render,
        detail=lambda meta: (f"; cached vs full max |dlogit| {meta['cache_vs_full_forward_max_abs_logit_diff']:.3g} "
                             f"(cached greedy same: {meta['cached_greedy_equals_full_reforward_greedy']})"))
    batches = []
    try:
        batches.append(record.record_left_padded_batch(model, cfg, prompts, args.out, st_meta))
    except Exception as e:  # noqa: BLE001 - positions of padded batches are optional evidence
        log(f"left-padded batch not recorded: {type(e).__name__}: {e}")

    tc = cfg.text_config
    rp = tc.rope_parameters
    la = next(l.linear_attn for l in model.model.language_model.layers if hasattr(l, "linear_attn"))
    rotary_dim = int(tc.head_dim * float(rp.get("partial_rotary_factor", 1.0)))
    manifest = {
        "format": "numgate.oracle", "version": 1, "model": args.name, "family": "qwen3.5",
        "source": ({"kind": "hf", "config_file": os.path.relpath(args.config), "seed": None, "hf_id": args.hf_id,
                    "image": args.image, "prompt": args.prompt} if args.hf_id else
                   {"kind": "config", "config_file": os.path.relpath(args.config), "seed": args.seed, "hf_id": None,
                    "weights": "model/model.safetensors", "train_steps": args.train_steps if not args.weights else 0,
                    "train_final": train_info,
                    "task": "qwen35_task.py: name the colour of each of 2x3 image blocks, then continue a counting run "
                            "(text prompts may already hold up to 80 numbers of the run)",
                    "label_noise": tiny_task.LABEL_NOISE}),
        "recorder": record.recorder_entry("oracles/record/record_qwen35.py", versions),
        "dtype": "float32",
        "attn_implementation": "eager",
        "text": {**record.text_dims(tc), "partial_rotary_factor": float(rp.get("partial_rotary_factor", 1.0)),
                 "rotary_dim": rotary_dim, "mrope_section": list(rp.get("mrope_section", [])),
                 "mrope_interleaved": bool(rp.get("mrope_interleaved", True)), "tied_head": bool(tied),
                 "layer_types": list(tc.layer_types), "rms_norm_gain": "1 + w", "attention_output_gate": True,
                 "linear": {"num_key_heads": la.num_k_heads, "num_value_heads": la.num_v_heads, "key_head_dim": la.head_k_dim,
                            "value_head_dim": la.head_v_dim, "conv_kernel": la.conv_kernel_size, "conv_dim": la.conv_dim,
                            "torch_chunk_size": gdn_chunk_size()}},
        "vision": {**record.vision_dims(cfg.vision_config), "deepstack": False},
        "tokens": record.tokens_entry(cfg, names),
        "conventions": {
            "decoder.hidden.i": "output of decoder layer i (no DeepStack in Qwen3.5: also what layer i+1 receives)",
            "cache.i.key / cache.i.value": "full-attention layer i's prefill K/V [1, kv_heads, S, head_dim] (after k_norm and rotary)",
            "cache.i.conv": "linear-attention layer i's conv window after the prefill [1, conv_dim, kernel]: the last `kernel` inputs of its causal conv",
            "cache.i.recurrent": "linear-attention layer i's recurrent state after the prefill [1, value_heads, key_head_dim, value_head_dim]",
            "reference": "full fp32 forwards without a cache: greedy.* by 24 full re-forwards; greedy_cached.* is transformers' cached generate(), recorded for comparison only",
            "positions.decode": "position of each fed greedy token (last column of each full re-forward's rotary input), [3, 1, 23]",
            "margins": "top-1 minus top-2 logit, unit: logits",
            "teacher": "one full forward over prompt + greedy[:15]; logits rows predict greedy[0..15]",
        },
        "prompts": entries,
        "positions_batches": batches,
    }
    record.write_manifest(args.out, manifest)
    log(f"oracle written to {args.out} in {time.time() - t0:.1f}s")
    if args.candidates:
        import qwen35_candidates
        qwen35_candidates.export_all(model, cfg, recorded, prompts, args.out, args.name, versions, log)
    log(f"done in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
