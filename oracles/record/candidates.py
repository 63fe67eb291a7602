"""Builds every committed candidate of a tiny model: healthy builds and planted faults.

Healthy: fp32; fp16 (weights and layer-boundary activations rounded to fp16, fp32 arithmetic);
int8 (the seeds' recipe: body weight-only int8 in blocks of 32 with MSE clipping, untied head in
plain absmax int8 blocks of 32, embeddings and norms untouched, vision tower fp16).

Planted faults, each the bug a real port has had. Severities that depend on the trained weights
(how hard to perturb a layer, how hard to clip the head) are calibrated here in torch so each
fault is the mildest that the rung must catch, and the chosen value is written to the candidate.
Faults of the host runtime (positions, cache) reuse the fp32 graphs with a different `runtime`.
"""
from __future__ import annotations

import copy
import json
import os

import torch

import export_onnx as ex
import pipeline


def _write(path: str, obj: dict) -> None:
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


# The host runtime of numgate's own exports: positions from the engine's formula, decode positions
# offset by the rope delta, every KV entry appended.
ENGINE_RUNTIME = {"positions": "engine-formula", "text_shift_bias": 0, "decode_positions": "rope-delta", "stale_kv_step": None}


def _manifest(name: str, model_name: str, desc: str, healthy: bool, fault, files: dict, grid, exporters: dict,
              versions: dict, runtime: dict) -> dict:
    import onnx
    import onnxruntime
    return {"format": "numgate.candidate", "version": 1, "name": name, "model": model_name, "backend": "onnx",
            "description": desc, "healthy": healthy, "fault": fault, "files": files, "vision_grid": grid,
            "exporters": {"embed": "torchscript", "vision": "torchscript",
                          "decoder": exporters.get(files["decoder"].removesuffix(".onnx"), "unknown"), "opset": 18},
            "versions": {**versions, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__},
            "runtime": runtime}


def export_fp32(model, cfg, prompts: list[dict], out_dir: str, model_name: str, versions: dict, log) -> None:
    """The healthy fp32 build alone, as a real-size model gets it: no planted faults, no calibration and
    no Python-side check (numgate gates it). Graphs past 2 GB keep their weights in `<graph>.data`."""
    import time
    cdir = os.path.join(out_dir, "candidates")
    os.makedirs(cdir, exist_ok=True)
    mm_prompt = next(p for p in prompts if p["pixel_values"] is not None)
    grid = mm_prompt["image_grid_thw"][0]
    t0 = time.time()
    ex.export_embed(model, os.path.join(cdir, "embed.onnx"))
    ex.finish_graph(os.path.join(cdir, "embed.onnx"))
    log(f"  embed.onnx in {time.time() - t0:.1f}s")
    t1 = time.time()
    ex.export_vision(model.model.visual, grid, mm_prompt["pixel_values"], os.path.join(cdir, "vision-fp32.onnx"))
    ex.finish_graph(os.path.join(cdir, "vision-fp32.onnx"))
    log(f"  vision-fp32.onnx in {time.time() - t1:.1f}s")
    t2 = time.time()
    path = os.path.join(cdir, "decoder-fp32.onnx")
    exporters = {"decoder-fp32": ex.export_decoder(ex.DecoderWrapper(model), model, path)}
    ex.finish_graph(path)
    log(f"  decoder-fp32.onnx ({exporters['decoder-fp32']}) in {time.time() - t2:.1f}s")
    files = {"embed": "embed.onnx", "vision": "vision-fp32.onnx", "decoder": "decoder-fp32.onnx"}
    _write(os.path.join(cdir, "fp32.json"), _manifest("fp32", model_name, "fp32 export of the recorded model", True, None,
                                                      files, grid, exporters, versions, ENGINE_RUNTIME))
    log(f"exported fp32 in {time.time() - t0:.1f}s")


def export_all(model, cfg, recorded: dict, prompts: list[dict], out_dir: str, model_name: str, versions: dict, log) -> None:
    cdir = os.path.join(out_dir, "candidates")
    os.makedirs(cdir, exist_ok=True)
    tc = cfg.text_config
    L, K = tc.num_hidden_layers, len(cfg.vision_config.deepstack_visual_indexes)
    mm_name = next(p["name"] for p in prompts if p["pixel_values"] is not None)
    mm_prompt = next(p for p in prompts if p["pixel_values"] is not None)
    grid = mm_prompt["image_grid_thw"][0]
    pv = mm_prompt["pixel_values"]
    exporters: dict[str, str] = {}

    def decoder(name: str, m, **kw) -> str:
        path = os.path.join(cdir, f"decoder-{name}.onnx")
        how = ex.export_decoder(ex.DecoderWrapper(m, **kw), m, path)
        ex.finish_graph(path)
        exporters[f"decoder-{name}"] = how
        log(f"  decoder-{name}.onnx ({how}, {os.path.getsize(path) / 1e6:.2f} MB)")
        return os.path.basename(path)

    def vision(name: str, m, fp16_outputs: bool, merge_order: str = "row") -> str:
        path = os.path.join(cdir, f"vision-{name}.onnx")
        ex.export_vision(m.model.visual, grid, pv, path, fp16_outputs, merge_order)
        ex.finish_graph(path)
        log(f"  vision-{name}.onnx ({os.path.getsize(path) / 1e6:.2f} MB)")
        return os.path.basename(path)

    log("exporting candidates")
    ex.export_embed(model, os.path.join(cdir, "embed.onnx"))
    ex.finish_graph(os.path.join(cdir, "embed.onnx"))

    # Healthy builds.
    m_fp16 = copy.deepcopy(model)
    ex.round_to_fp16(m_fp16)
    m_int8 = copy.deepcopy(model)
    ex.quantize_body_int8(m_int8)
    files = {
        "fp32": {"embed": "embed.onnx", "vision": vision("fp32", model, False), "decoder": decoder("fp32", model)},
        "fp16": {"embed": "embed.onnx", "vision": vision("fp16", m_fp16, True),
                 "decoder": decoder("fp16", m_fp16, fp16_boundaries=True)},
    }
    head_absmax = ex.int8_blocks(model.lm_head.weight.data, clip="absmax")
    w_int8 = ex.DecoderWrapper(m_int8)
    w_int8.lm_head_weight.data = head_absmax.clone()
    path = os.path.join(cdir, "decoder-int8.onnx")
    exporters["decoder-int8"] = ex.export_decoder(w_int8, m_int8, path)
    ex.finish_graph(path)
    # The int8 recipe keeps the vision tower in fp16: the same graph as the fp16 build's.
    files["int8"] = {"embed": "embed.onnx", "vision": files["fp16"]["vision"], "decoder": "decoder-int8.onnx"}

    # Calibrate the clipped head: the mildest tensor-wide clipping percentile that flips at least
    # two teacher-forced top-1s (per-block clipping keeps each row's scale and flips nothing here).
    clip_report = []
    chosen = None
    for pct in [99.9, 99.5, 99.0, 98.0, 96.0, 93.0, 90.0, 85.0, 80.0, 70.0, 60.0, 50.0, 40.0, 30.0, 20.0]:
        w = ex.DecoderWrapper(m_int8)
        w.lm_head_weight.data = ex.int8_blocks(model.lm_head.weight.data, clip="percentile", percentile=pct)
        flips = 0
        for p in prompts:
            logits, _ = pipeline.torch_teacher_forced(model, w, recorded[p["name"]], cfg)
            flips += int((logits.argmax(-1) != recorded[p["name"]]["teacher.tokens"]).sum())
        clip_report.append({"percentile": pct, "flips": flips})
        log(f"  clipped head at the {pct}th percentile of |w|: {flips} teacher-forced flips over {len(prompts)} prompts")
        if flips >= 2:
            chosen = pct
            break
    if chosen is None:
        chosen = 20.0
    w_clip = ex.DecoderWrapper(m_int8)
    w_clip.lm_head_weight.data = ex.int8_blocks(model.lm_head.weight.data, clip="percentile", percentile=chosen)
    path = os.path.join(cdir, "decoder-int8-clipped-head.onnx")
    exporters["decoder-int8-clipped-head"] = ex.export_decoder(w_clip, m_int8, path)
    ex.finish_graph(path)

    # Calibrate the perturbed layer: the mildest noise that takes that layer below cos 0.9999.
    bad_layer = L // 2
    perturb_report, chosen_scale, m_pert = [], None, None
    for scale in [0.01, 0.02, 0.05, 0.1, 0.2, 0.5]:
        m = copy.deepcopy(model)
        g = torch.Generator().manual_seed(1234)
        lyr = m.model.language_model.layers[bad_layer]
        for name in ("self_attn.o_proj", "mlp.down_proj"):
            wt = lyr.get_submodule(name).weight
            wt.data = wt.data + scale * wt.data.std() * torch.randn(wt.shape, generator=g)
        _, hidden = pipeline.torch_teacher_forced(model, ex.DecoderWrapper(m), recorded[mm_name], cfg)
        S = recorded[mm_name]["inputs.input_ids"].shape[1]
        cos = pipeline.cosine(recorded[mm_name][f"decoder.hidden.{bad_layer}"].numpy(), hidden[bad_layer, 0, :S].numpy())
        cos_prev = pipeline.cosine(recorded[mm_name][f"decoder.hidden.{bad_layer - 1}"].numpy(), hidden[bad_layer - 1, 0, :S].numpy())
        perturb_report.append({"scale": scale, "cos": cos, "cos_previous_layer": cos_prev})
        log(f"  perturb layer {bad_layer} scale {scale}: cos {cos:.7f} (layer {bad_layer - 1}: {cos_prev:.9f})")
        if cos < 0.9999:
            chosen_scale, m_pert = scale, m
            break
    if m_pert is None:
        chosen_scale, m_pert = 0.5, m
    files["fault-layer-perturbed"] = {"embed": "embed.onnx", "vision": files["fp32"]["vision"],
                                      "decoder": decoder("layer-perturbed", m_pert)}
    files["fault-deepstack-shifted"] = {"embed": "embed.onnx", "vision": files["fp32"]["vision"],
                                        "decoder": decoder("deepstack-shifted", model, deepstack_shift=1)}
    files["fault-vision-merge-order"] = {"embed": "embed.onnx", "vision": vision("merge-order", model, False, "column"),
                                         "decoder": files["fp32"]["decoder"]}
    files["fault-mrope-chunked"] = {"embed": "embed.onnx", "vision": files["fp32"]["vision"],
                                    "decoder": decoder("mrope-chunked", model, rope_style="chunked")}
    # fp16 overflow: one layer's MLP grows activations past 65504, which fp16 storage turns into inf.
    m_over = copy.deepcopy(m_fp16)
    over_layer = 2
    m_over.model.language_model.layers[over_layer].mlp.down_proj.weight.data *= float(2 ** 24)
    files["fault-fp16-overflow"] = {"embed": "embed.onnx", "vision": files["fp16"]["vision"],
                                    "decoder": decoder("fp16-overflow", m_over, fp16_boundaries=True)}
    files["fault-int8-clipped-head"] = {"embed": "embed.onnx", "vision": files["int8"]["vision"],
                                  "decoder": "decoder-int8-clipped-head.onnx"}
    for host_fault in ("fault-text-shift", "fault-decode-position", "fault-stale-kv"):
        files[host_fault] = dict(files["fp32"])

    engine = ENGINE_RUNTIME
    describe = {
        "fp32": (True, "fp32 export of the recorded model", None, engine),
        "fp16": (True, "fp16 weights and fp16 storage of every layer's output (fp32 arithmetic inside ops)", None, engine),
        "int8": (True, "int8 recipe: body weight-only int8 blocks of 32 with MSE clipping; untied head absmax int8 blocks of 32; vision fp16 weights", None, engine),
        "fault-int8-clipped-head": (False, "int8 recipe but the untied head clipped (one limit for the tensor at a percentile of |w|) instead of absmax",
                              {"kind": "int8-head-clipped", "percentile": chosen, "calibration": clip_report}, engine),
        "fault-layer-perturbed": (False, f"decoder layer {bad_layer} o_proj/down_proj weights perturbed",
                                  {"kind": "layer-perturbed", "layer": bad_layer, "scale": chosen_scale, "calibration": perturb_report}, engine),
        "fault-deepstack-shifted": (False, "DeepStack level k added after decoder layer k+1 instead of k",
                                    {"kind": "deepstack-shifted", "shift": 1}, engine),
        "fault-vision-merge-order": (False, "vision tower emits the merged 2x2 tokens column-major instead of row-major",
                                     {"kind": "vision-merge-order"}, engine),
        "fault-mrope-chunked": (False, "M-RoPE sections laid out chunked (Qwen2-VL) instead of interleaved",
                                {"kind": "mrope-chunked"}, engine),
        "fault-fp16-overflow": (False, f"fp16 build whose layer {over_layer} MLP output overflows fp16 to inf",
                                {"kind": "fp16-overflow", "layer": over_layer}, engine),
        "fault-text-shift": (False, "host sets the text shift after the image one too small",
                             {"kind": "text-shift-off-by-one"}, {**engine, "text_shift_bias": -1}),
        "fault-decode-position": (False, "decode steps use the cache index as position, forgetting the rope delta",
                                  {"kind": "decode-position"}, {**engine, "decode_positions": "cache-index"}),
        "fault-stale-kv": (False, "the host does not append the KV entry of decode step 5 (the cache goes stale)",
                           {"kind": "stale-kv", "step": 5}, {**engine, "stale_kv_step": 5}),
    }
    log("checking candidates with onnxruntime (oracle positions, python chain)")
    summary = {}
    for name, f in files.items():
        healthy, desc, fault, runtime = describe[name]
        _write(os.path.join(cdir, f"{name}.json"),
               _manifest(name, model_name, desc, healthy, fault, f, grid, exporters, versions, runtime))
        if name in ("fault-text-shift", "fault-decode-position", "fault-stale-kv"):
            continue
        oc = pipeline.OrtCandidate({k: os.path.join(cdir, v) for k, v in f.items()})
        rows = {}
        for p in prompts:
            r = pipeline.check_candidate(oc, recorded[p["name"]], cfg, L, tc.num_key_value_heads, tc.head_dim, K)
            rows[p["name"]] = r
            cos = " ".join(f"{c:.7f}" for c in r["layer_cos"])
            log(f"  {name:26s} {p['name']:13s} finite={r['finite']} greedy {r['greedy_matches']}/24 layer cos {cos}"
                f" isolated L{L // 2} {r['isolated_cos_middle_layer']:.7f}")
        summary[name] = rows
    _write(os.path.join(cdir, "ort-check.json"), summary)
