#!/usr/bin/env python3
"""Record M-RoPE test vectors from the REAL transformers `get_rope_index` (numgate issue 4).

=====================================================================================================
COMMAND FOR THE LEAD (GPU machine, torch + transformers 5.17; CPU is enough, nothing goes on the GPU):

    python3 oracles/record/rope_vectors.py --out "$OUT" --bench

  writes  $OUT/rope-vectors-tf5.17.json   -> commit as tests/fixtures/rope/rope-vectors-tf5.17.json
          $OUT/rope-bench-tf.json         -> bench figures of transformers' get_rope_index (not a fixture)

Optional, old conventions (transformers 4.57.x importable first on PYTHONPATH):

    PYTHONPATH=/path/to/transformers-4.57.6 python3 oracles/record/rope_vectors.py --out "$OUT"

  writes  $OUT/rope-vectors-tf4.57.json   -> commit as tests/fixtures/rope/rope-vectors-tf4.57.json
=====================================================================================================

Pure python + torch. Deterministic (seeded). Each family's get_rope_index is called unbound on a small
stand-in `self` carrying only what the method reads: `config.vision_config.spatial_merge_size`,
`config.vision_config.tokens_per_second` (qwen2.5-vl), `config.image_token_id`, `config.video_token_id`,
`config.vision_start_token_id` (4.57), and the class's own `get_vision_position_ids` (5.x). Arguments are passed
by keyword and only where the installed signature has them (4.57 has no `mm_token_type_ids`; only qwen2.5-vl
takes `second_per_grid_ts`). A family whose import fails is skipped with a message; a case that raises is
reported (index + exception) and recorded under "failures", and the run goes on. Exit code 0 unless no case at
all could be recorded.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import random
import sys
import time
import traceback
import types

import torch

SEED = 20240604
N_RANDOM = {"qwen3_vl": 90, "qwen3_5": 30, "qwen2_5_vl": 100, "qwen2_vl": 60}

# (family label in the fixture, module, class)
SOURCES = {
    "qwen3_vl": ("qwen3-vl", "transformers.models.qwen3_vl.modeling_qwen3_vl", "Qwen3VLModel"),
    "qwen3_5": ("qwen3-vl", "transformers.models.qwen3_5.modeling_qwen3_5", "Qwen3_5Model"),
    "qwen2_5_vl": ("qwen2.5-vl", "transformers.models.qwen2_5_vl.modeling_qwen2_5_vl", "Qwen2_5_VLModel"),
    "qwen2_vl": ("qwen2-vl", "transformers.models.qwen2_vl.modeling_qwen2_vl", "Qwen2VLModel"),
}

# Token id schemes: small ids keep the JSON small; "qwen" uses the real Qwen2/2.5/3-VL ids.
SMALL_IDS = dict(pad=0, vision_start=3, vision_end=4, image=5, video=6, text_lo=10, text_hi=200)
QWEN_IDS = dict(pad=151643, vision_start=151652, vision_end=151653, image=151655, video=151656, text_lo=0, text_hi=151000)


# ----------------------------------------------------------------------------------------------------------
# stand-in self


def _raw_attr(cls, name):
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def make_stub(model_cls, ids, merge, tps):
    """An object whose class borrows the model class's methods (looked up lazily) and carries a minimal config."""

    def __getattr__(self, name):  # only called for attributes not found normally
        raw = _raw_attr(model_cls, name)
        if raw is None:
            raise AttributeError(f"stand-in for {model_cls.__name__} has no attribute {name!r}")
        if hasattr(raw, "__get__"):
            return raw.__get__(self, type(self))
        return raw

    ns = {"__getattr__": __getattr__}
    for name in ("get_rope_index", "get_vision_position_ids"):
        raw = _raw_attr(model_cls, name)
        if raw is not None:
            ns[name] = raw
    stub = type("RopeStandIn_" + model_cls.__name__, (), ns)()
    vision = types.SimpleNamespace(spatial_merge_size=merge, tokens_per_second=tps, temporal_patch_size=2)
    stub.config = types.SimpleNamespace(
        vision_config=vision,
        image_token_id=ids["image"],
        video_token_id=ids["video"],
        vision_start_token_id=ids["vision_start"],
        vision_end_token_id=ids["vision_end"],
        spatial_merge_size=merge,
        tokens_per_second=tps,
    )
    stub.rope_deltas = None
    return stub


def rope_params(model_cls):
    fn = _raw_attr(model_cls, "get_rope_index")
    if isinstance(fn, (staticmethod, classmethod)):
        fn = fn.__func__
    return inspect.signature(fn).parameters


# ----------------------------------------------------------------------------------------------------------
# case generation


class CaseBuilder:
    def __init__(self, rng, source, ids, merge, tps):
        self.rng = rng
        self.source = source
        self.family = SOURCES[source][0]
        self.ids = ids
        self.merge = merge
        self.tps = tps
        self.image_grids = []
        self.video_grids = []
        self.spgt = []

    def text(self, n):
        return [self.rng.randrange(self.ids["text_lo"], self.ids["text_hi"]) for _ in range(n)]

    def image(self, t=1, h=None, w=None):
        m = self.merge
        h = h if h is not None else m * self.rng.randint(1, 6)
        w = w if w is not None else m * self.rng.randint(1, 6)
        self.image_grids.append([t, h, w])
        n = t * h * w // (m * m)
        return [self.ids["vision_start"]] + [self.ids["image"]] * n + [self.ids["vision_end"]]

    def video(self):
        m = self.merge
        t = self.rng.randint(1, 4)
        h = m * self.rng.randint(1, 4)
        w = m * self.rng.randint(1, 4)
        self.video_grids.append([t, h, w])
        if self.family == "qwen3-vl":
            # processor layout: per frame "<x.x seconds>" + <vision_start> frame pads <vision_end>, inside an outer
            # <vision_start> ... <vision_end> from the chat template (sometimes left out here)
            per_frame = h * w // (m * m)
            out = []
            outer = self.rng.random() < 0.7
            if outer:
                out.append(self.ids["vision_start"])
            for _ in range(t):
                out += self.text(self.rng.randint(2, 5))
                out += [self.ids["vision_start"]] + [self.ids["video"]] * per_frame + [self.ids["vision_end"]]
            if outer:
                out.append(self.ids["vision_end"])
            return out
        if self.family == "qwen2.5-vl":
            self.spgt.append(self.rng.choice([0.5, 1.0, 1.0, 2.0, 1.5, 0.25, 3.0, 0.3333333, 2.9999999, 4.0]))
        n = t * h * w // (m * m)
        return [self.ids["vision_start"]] + [self.ids["video"]] * n + [self.ids["vision_end"]]

    def row(self, text_only):
        rng = self.rng
        toks = self.text(rng.randint(1, 10))
        if not text_only:
            for _ in range(rng.randint(1, 3)):
                r = rng.random()
                if r < 0.55:
                    toks += self.image(t=2 if rng.random() < 0.06 else 1)
                else:
                    toks += self.video()
                toks += self.text(rng.randint(0, 8))
        else:
            toks += self.text(rng.randint(0, 20))
        return toks


def token_types(row, ids):
    return [1 if x == ids["image"] else 2 if x == ids["video"] else 0 for x in row]


def random_case(rng, source):
    ids = QWEN_IDS if rng.random() < 0.15 else SMALL_IDS
    merge = rng.choice([1, 2, 2])
    tps = rng.choice([1, 2, 2, 4, 25]) if source == "qwen2_5_vl" else 2
    cb = CaseBuilder(rng, source, ids, merge, tps)
    batch = rng.choice([1, 1, 2, 2, 3, 4])
    all_text = rng.random() < 0.06
    rows = [cb.row(all_text or (batch > 1 and rng.random() < 0.2)) for _ in range(batch)]
    padding = rng.choice(["none", "ones", "left", "left", "right", "right"])
    if padding in ("none", "ones"):
        # equal lengths: pad with extra text instead of padding tokens
        S = max(len(r) for r in rows)
        rows = [r + cb.text(S - len(r)) for r in rows]
    S = max(len(r) for r in rows)
    input_ids, mask, tt = [], [], []
    for r in rows:
        pad = S - len(r)
        if padding == "left":
            input_ids.append([ids["pad"]] * pad + r)
            mask.append([0] * pad + [1] * len(r))
            tt.append([0] * pad + token_types(r, ids))
        else:
            input_ids.append(r + [ids["pad"]] * pad)
            mask.append([1] * len(r) + [0] * pad)
            tt.append(token_types(r, ids) + [0] * pad)
    spgt = None
    if source == "qwen2_5_vl" and cb.video_grids and rng.random() < 0.6:
        spgt = cb.spgt
    return dict(
        source=source,
        family=cb.family,
        ids=ids,
        padding=padding,
        input_ids=input_ids,
        attention_mask=None if padding == "none" else mask,
        mm_token_type_ids=tt,
        image_grid_thw=cb.image_grids or None,
        video_grid_thw=cb.video_grids or None,
        second_per_grid_ts=spgt,
        spatial_merge_size=merge,
        tokens_per_second=tps,
    )


def issue_case(source):
    """The issue's hand case: 211 tokens, one 448x448 image -> grid (1, 28, 28), 196 merged tokens, delta -182."""
    rng = random.Random(211)
    ids = QWEN_IDS
    cb = CaseBuilder(rng, source, ids, 2, 2)
    row = cb.text(5) + cb.image(1, 28, 28) + cb.text(8)
    assert len(row) == 211, len(row)
    return dict(
        source=source,
        family=cb.family,
        ids=ids,
        padding="none",
        input_ids=[row],
        attention_mask=None,
        mm_token_type_ids=[token_types(row, ids)],
        image_grid_thw=cb.image_grids,
        video_grid_thw=None,
        second_per_grid_ts=None,
        spatial_merge_size=2,
        tokens_per_second=2,
    )


# ----------------------------------------------------------------------------------------------------------
# calling transformers


def call_rope(model_cls, params, case):
    stub, kw, passed = build_call(model_cls, params, case)
    pos, deltas = stub.get_rope_index(**kw)
    return pos, deltas, passed


def build_call(model_cls, params, case):
    stub = make_stub(model_cls, case["ids"], case["spatial_merge_size"], case["tokens_per_second"])
    kw = dict(input_ids=torch.tensor(case["input_ids"], dtype=torch.long))
    passed = {}
    kw["image_grid_thw"] = None if case["image_grid_thw"] is None else torch.tensor(case["image_grid_thw"], dtype=torch.long)
    kw["video_grid_thw"] = None if case["video_grid_thw"] is None else torch.tensor(case["video_grid_thw"], dtype=torch.long)
    kw["attention_mask"] = None if case["attention_mask"] is None else torch.tensor(case["attention_mask"], dtype=torch.long)
    passed["mm_token_type_ids"] = None
    if "mm_token_type_ids" in params:
        kw["mm_token_type_ids"] = torch.tensor(case["mm_token_type_ids"], dtype=torch.long)
        passed["mm_token_type_ids"] = case["mm_token_type_ids"]
    passed["second_per_grid_ts"] = None
    if "second_per_grid_ts" in params:
        if case["second_per_grid_ts"] is not None:
            kw["second_per_grid_ts"] = torch.tensor(case["second_per_grid_ts"], dtype=torch.float32)
            passed["second_per_grid_ts"] = case["second_per_grid_ts"]
        else:
            kw["second_per_grid_ts"] = None
    return stub, kw, passed


def record(args, tf_version):
    cases, failures, skipped = [], [], []
    counts = {}
    index = 0
    for source, (family, module, cls_name) in SOURCES.items():
        try:
            model_cls = getattr(importlib.import_module(module), cls_name)
            params = rope_params(model_cls)
        except Exception as e:  # noqa: BLE001
            print(f"[skip] {source}: cannot import {module}.{cls_name}: {type(e).__name__}: {e}", flush=True)
            skipped.append({"source": source, "reason": f"{type(e).__name__}: {e}"})
            continue
        print(f"[family] {source}: {module}.{cls_name}{inspect.signature(_raw_attr(model_cls, 'get_rope_index'))}", flush=True)
        fam_rng = random.Random(f"{SEED}-{source}")  # per family: same cases whichever families import
        specs = [issue_case(source)] + [random_case(fam_rng, source) for _ in range(N_RANDOM[source])]
        ok = bad = 0
        for spec in specs:
            try:
                pos, deltas, passed = call_rope(model_cls, params, spec)
                B, S = len(spec["input_ids"]), len(spec["input_ids"][0])
                if tuple(pos.shape) != (3, B, S):
                    raise RuntimeError(f"position_ids shape {tuple(pos.shape)} != (3, {B}, {S})")
                cases.append(
                    {
                        "index": index,
                        "family": family,
                        "source": source,
                        "padding": spec["padding"],
                        "image_token_id": spec["ids"]["image"],
                        "video_token_id": spec["ids"]["video"],
                        "vision_start_token_id": spec["ids"]["vision_start"],
                        "spatial_merge_size": spec["spatial_merge_size"],
                        "tokens_per_second": spec["tokens_per_second"],
                        "input_ids": spec["input_ids"],
                        "mm_token_type_ids": passed["mm_token_type_ids"],
                        "attention_mask": spec["attention_mask"],
                        "image_grid_thw": spec["image_grid_thw"],
                        "video_grid_thw": spec["video_grid_thw"],
                        "second_per_grid_ts": passed["second_per_grid_ts"],
                        "position_ids": pos.tolist(),
                        "mrope_position_deltas": deltas.reshape(-1).tolist(),
                        "position_ids_dtype": str(pos.dtype),
                        "deltas_dtype": str(deltas.dtype),
                    }
                )
                ok += 1
            except Exception as e:  # noqa: BLE001
                bad += 1
                msg = f"{type(e).__name__}: {e}"
                print(f"[fail] case {index} ({source}): {msg}", flush=True)
                tb = traceback.format_exc().strip().splitlines()
                print("       " + (tb[-2] if len(tb) >= 2 else "")[:300], flush=True)
                failures.append({"index": index, "family": family, "source": source, "error": msg[:2000]})
            index += 1
        counts[source] = {"ok": ok, "failed": bad}
    major_minor = ".".join(tf_version.split(".")[:2])
    out = {
        "generator": "oracles/record/rope_vectors.py",
        "seed": SEED,
        "transformers_version": tf_version,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "counts": counts,
        "skipped_families": skipped,
        "failures": failures,
        "cases": cases,
    }
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"rope-vectors-tf{major_minor}.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    size = os.path.getsize(path)
    print("\n=== rope vectors summary ===")
    print(f"transformers {tf_version}, torch {torch.__version__}")
    for source, c in counts.items():
        print(f"  {source:12s} ok {c['ok']:4d}  failed {c['failed']:3d}")
    for s in skipped:
        print(f"  {s['source']:12s} SKIPPED ({s['reason'][:120]})")
    print(f"  total ok {len(cases)}, failed {len(failures)}")
    print(f"wrote {path} ({size / 1e6:.2f} MB)")
    return len(cases)


# ----------------------------------------------------------------------------------------------------------
# bench (same layouts as bench/rope.ts)

BENCH_IDS = QWEN_IDS


def bench_video_prompt():
    """qwen3-vl, merge 2, one video of 256 frames of grid (1, 28, 28) -> 196 tokens a frame; 51,748 tokens."""
    rng = random.Random(7)
    ids = BENCH_IDS
    txt = lambda n: [rng.randrange(0, 151000) for _ in range(n)]  # noqa: E731
    row = txt(14) + [ids["vision_start"]]
    for _ in range(256):
        row += txt(4) + [ids["vision_start"]] + [ids["video"]] * 196 + [ids["vision_end"]]
    row += [ids["vision_end"]] + txt(20)
    return dict(input_ids=[row], attention_mask=None, image_grid_thw=None, video_grid_thw=[[256, 28, 28]])


def bench_batch_prompt():
    """qwen3-vl, merge 2, 8 rows x 3700 slots, left padding 16*r, each row two (1, 76, 76) images (1444 tokens)."""
    rng = random.Random(8)
    ids = BENCH_IDS
    txt = lambda n: [rng.randrange(0, 151000) for _ in range(n)]  # noqa: E731
    S = 3700
    input_ids, mask, grids = [], [], []
    for r in range(8):
        n = S - 16 * r
        img = [ids["vision_start"]] + [ids["image"]] * 1444 + [ids["vision_end"]]
        head = txt(20)
        mid = txt(300)
        tail = txt(n - len(head) - len(mid) - 2 * len(img))
        row = head + img + mid + img + tail
        grids += [[1, 76, 76], [1, 76, 76]]
        input_ids.append([ids["pad"]] * (S - n) + row)
        mask.append([0] * (S - n) + [1] * n)
    return dict(input_ids=input_ids, attention_mask=mask, image_grid_thw=grids, video_grid_thw=None)


def bench(args, tf_version):
    source = "qwen3_vl"
    _, module, cls_name = SOURCES[source]
    try:
        model_cls = getattr(importlib.import_module(module), cls_name)
    except Exception as e:  # noqa: BLE001
        print(f"[bench] skipped: cannot import {module}.{cls_name}: {e}")
        return
    params = rope_params(model_cls)
    results = []
    for name, spec in (("video-256-frames", bench_video_prompt()), ("batch-8x3700", bench_batch_prompt())):
        ids = BENCH_IDS
        case = dict(
            spec,
            ids=ids,
            mm_token_type_ids=[token_types(r, ids) for r in spec["input_ids"]],
            second_per_grid_ts=None,
            spatial_merge_size=2,
            tokens_per_second=2,
        )
        B, S = len(case["input_ids"]), len(case["input_ids"][0])
        tokens = B * S
        try:
            stub, kw, _ = build_call(model_cls, params, case)  # input tensors built once, outside the timing
            stub.get_rope_index(**kw)  # warm-up
            times = []
            for _ in range(args.bench_runs):
                t0 = time.perf_counter()
                stub.get_rope_index(**kw)
                times.append(time.perf_counter() - t0)
        except Exception as e:  # noqa: BLE001
            print(f"[bench] {name} failed: {type(e).__name__}: {e}")
            results.append({"name": name, "tokens": tokens, "error": f"{type(e).__name__}: {e}"})
            continue
        best = min(times)
        print(f"[bench] {name}: {tokens} tokens, best {best * 1e3:.2f} ms of {len(times)}, {tokens / best / 1e6:.3f} M tokens/s")
        results.append(
            {"name": name, "batch": B, "seq_len": S, "tokens": tokens, "best_s": best, "runs_s": times, "tokens_per_s": tokens / best}
        )
    out = {
        "what": "transformers Qwen3VLModel.get_rope_index on CPU tensors (input tensors built once, outside the timing)",
        "transformers_version": tf_version,
        "torch_version": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor(),
        "results": results,
    }
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "rope-bench-tf.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print(f"wrote {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--bench", action="store_true", help="also time transformers' get_rope_index")
    ap.add_argument("--bench-runs", type=int, default=7)
    ap.add_argument("--no-vectors", action="store_true", help="bench only")
    args = ap.parse_args()
    try:
        import transformers

        tf_version = transformers.__version__
        print(f"transformers {tf_version} from {os.path.dirname(transformers.__file__)}", flush=True)
    except Exception as e:  # noqa: BLE001
        print(f"cannot import transformers: {e}")
        return 2
    torch.manual_seed(0)
    n = -1
    if not args.no_vectors:
        n = record(args, tf_version)
    if args.bench:
        try:
            bench(args, tf_version)
        except Exception:  # noqa: BLE001
            traceback.print_exc()
    return 1 if n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
