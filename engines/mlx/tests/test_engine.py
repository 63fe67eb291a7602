"""The MLX engine's ops on the committed unquantized build, against the tiny oracle: which side of
the DeepStack addition hidden_states is read on, state handles, load_state, and the positions
mlx-vlm's own generate_step fed."""
from __future__ import annotations

import io
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import mlx.core as mx  # noqa: E402

from engine import Engine, serve  # noqa: E402
from wire import PROTOCOL, Message, encode_message, read_message  # noqa: E402

BUILD = os.path.join(ROOT, "oracles/qwen3-vl-tiny/candidates/mlx/fp32")
PROMPTS = os.path.join(ROOT, "oracles/qwen3-vl-tiny/prompts")
SHAPE = {"family": "qwen3-vl", "layers": 6, "hidden": 64, "positionPlanes": 3, "state": [], "extraInputs": []}


def dump(name: str) -> dict[str, np.ndarray]:
    return {k: np.array(v) for k, v in mx.load(os.path.join(PROMPTS, f"{name}.safetensors")).items()}


@pytest.fixture(scope="module")
def engine() -> Engine:
    e = Engine(BUILD)
    e.handle(Message({"op": "hello", "protocol": PROTOCOL, "model": SHAPE}, {}))
    return e


def ask(e: Engine, op: str, tensors: dict[str, np.ndarray] | None = None, **fields: object):
    return e.handle(Message({"op": op, **fields}, tensors or {}))


def prefill(e: Engine, d: dict[str, np.ndarray]):
    """The prompt as numgate feeds it: the oracle's embeddings (image rows spliced), its positions,
    dense DeepStack from the oracle's vision outputs."""
    ids = d["inputs.input_ids"][0]
    S, H = ids.shape[0], 64
    deepstack = np.zeros((3, 1, S, H), np.float32)
    rows = np.nonzero(ids == 500)[0]
    for k in range(3):
        if rows.size:
            deepstack[k, 0, rows] = d[f"vision.deepstack.{k}"]
    return ask(e, "decode", {"inputs_embeds": d["decoder.inputs_embeds"][None], "position_ids": d["positions.prefill"],
                             "deepstack": deepstack}, state=None, want_layers=True)


def test_frames_round_trip() -> None:
    t = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([[1, -2]], dtype=np.int64)}
    m = read_message(io.BytesIO(encode_message({"id": 7, "op": "x"}, t)))
    assert m is not None and m.header["id"] == 7
    assert all(np.array_equal(m.tensors[k], t[k]) and m.tensors[k].dtype == t[k].dtype for k in t)


def test_a_malformed_frame_is_answered_once_and_ends_the_engine() -> None:
    out = io.BytesIO()
    assert serve(Engine(BUILD), io.BytesIO(b"\x00\x00\x00\x00"), out) == 2
    m = read_message(io.BytesIO(out.getvalue()))
    assert m is not None and m.header["ok"] is False and "malformed frame" in m.header["error"]


def test_hidden_states_are_read_after_the_deepstack_addition(engine: Engine) -> None:
    d = dump("mm-colours-a")
    _, out = prefill(engine, d)
    hidden = out["hidden_states"][:, 0]
    for i in range(6):
        assert np.abs(hidden[i] - d[f"decoder.hidden.{i}"]).max() < 1e-4, f"layer {i}"
    # DeepStack is added after layers 0-2, so there the module output (before it) differs.
    for i in range(3):
        assert np.abs(hidden[i] - d[f"decoder.layer_out.{i}"]).max() > 1e-2, f"layer {i}"
    assert engine.model.capabilities()["hiddenStates"] == "after-deepstack"


def test_a_handle_stays_valid_after_decoding_from_it(engine: Engine) -> None:
    d = dump("text-count")
    fields, _ = prefill(engine, d)
    emb = engine.model.embed(np.array([[305]]))
    step = {"inputs_embeds": emb, "position_ids": np.full((3, 1, 1), 4, np.int64), "deepstack": np.zeros((3, 1, 1, 64), np.float32)}
    a = ask(engine, "decode", step, state=fields["state"], want_layers=False)
    b = ask(engine, "decode", step, state=fields["state"], want_layers=False)
    assert a[0]["state_length"] == b[0]["state_length"] == 5
    assert np.array_equal(a[1]["logits"], b[1]["logits"])


def test_load_state_decodes_like_the_oracle(engine: Engine) -> None:
    d = dump("mm-colours-a")
    keys, values = d["cache.keys"], d["cache.values"]
    state = {f"past.{i}.{r}": t[i] for i in range(6) for r, t in (("key", keys), ("value", values))}
    fields, _ = ask(engine, "load_state", state, length=keys.shape[3])
    tok = int(d["greedy.tokens"][0])
    step = {"inputs_embeds": engine.model.embed(np.array([[tok]])), "position_ids": np.full((3, 1, 1), 10, np.int64),
            "deepstack": np.zeros((3, 1, 1, 64), np.float32)}
    _, out = ask(engine, "decode", step, state=fields["state"], want_layers=False)
    assert np.abs(out["logits"][0, 0] - d["greedy.logits"][1]).max() < 1e-3


def test_generate_reports_the_positions_mlx_vlm_fed(engine: Engine) -> None:
    d = dump("mm-colours-a")
    ids = d["inputs.input_ids"]
    fields, out = ask(engine, "generate", {"input_ids": ids, "attention_mask": np.ones_like(ids), "pixel_values": d["inputs.pixel_values"],
                                           "image_grid_thw": d["inputs.image_grid_thw"]}, max_new_tokens=24)
    assert out["tokens"][0].tolist() == d["greedy.tokens"].tolist()
    assert fields["position_feeds"] == 24
    assert np.array_equal(out["position_feed_0"], d["positions.prefill"])
    decode = np.concatenate([out[f"position_feed_{k}"] for k in range(1, 24)], axis=2)
    assert np.array_equal(decode, d["positions.decode"])
    assert out["logits"].shape == (24, 512)
