#!/usr/bin/env python3
"""An mlx-vlm model folder served over numgate-engine/2 (src/backends/engine/PROTOCOL.md).

  engines/mlx/run --model DIR      (or NUMGATE_MLX_MODEL=DIR; the wrapper picks the interpreter;
                                    see engines/mlx/README.md)

Ops: hello, embed, vision, decode (from inputs_embeds, numgate's positions and dense DeepStack),
load_state (numgate's past.<i>.key/value into mlx-vlm's KVCache), generate (mlx-vlm's own
generate_step, greedy, with the position ids it fed) and shutdown. Every tensor goes out as f32.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Any, BinaryIO

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wire import PROTOCOL, FrameError, Message, encode_message, read_message  # noqa: E402

FAMILIES = ("qwen3-vl",)


class Engine:
    def __init__(self, model_dir: str):
        self.model_dir = model_dir
        self.model: Any = None
        self.states: dict[int, Any] = {}
        self.next_handle = 1

    def _keep(self, state: Any) -> dict[str, int]:
        # Handles stay valid until shutdown: numgate may resume from an older state.
        h = self.next_handle
        self.next_handle += 1
        self.states[h] = state
        return {"state": h, "state_length": state.length}

    def _opened(self) -> Any:
        if self.model is None:
            raise ValueError("hello first")
        return self.model

    def handle(self, m: Message) -> tuple[dict, dict[str, np.ndarray]]:
        op, h, t = m.header.get("op"), m.header, m.tensors

        def need(name: str) -> np.ndarray:
            if name not in t:
                raise ValueError(f"{op} request has no tensor {name!r} (has: {', '.join(t) or 'none'})")
            return t[name]

        if op == "hello":
            if h.get("protocol") != PROTOCOL:
                raise ValueError(f"this engine speaks {PROTOCOL}, not {h.get('protocol')!r}")
            family = (h.get("model") or {}).get("family")
            if family not in FAMILIES:
                raise ValueError(f"this engine serves {', '.join(FAMILIES)}, not {family!r}")
            from qwen3_vl import Qwen3VL

            self.model = Qwen3VL(self.model_dir)
            import mlx.core as mx
            import mlx_vlm

            device = "Metal" if mx.metal.is_available() else "CPU"
            name = f"mlx-vlm {mlx_vlm.__version__} (mlx {mx.__version__}, {device}) over {self.model_dir}"
            return {"protocol": PROTOCOL, "engine": name, "capabilities": self.model.capabilities()}, {}
        if op == "embed":
            return {}, {"inputs_embeds": self._opened().embed(need("input_ids"))}
        if op == "vision":
            outs = self._opened().vision(need("pixel_values"), [int(x) for x in h.get("grid_thw") or []])
            return {}, {"image_embeds": outs[0], **{f"extra_{k}": e for k, e in enumerate(outs[1:])}}
        if op == "decode":
            handle = h.get("state")
            if handle is not None and handle not in self.states:
                raise ValueError(f"unknown state handle {handle!r}")
            iso = h.get("isolate_layer")
            state, out = self._opened().decode(
                None if handle is None else self.states[handle],
                need("inputs_embeds"),
                need("position_ids"),
                t.get("deepstack"),
                h.get("want_layers") is not False,
                None if iso is None else (int(iso), need("isolate_input")),
            )
            return self._keep(state), out
        if op == "load_state":
            return self._keep(self._opened().load_state(t, int(h.get("length") or 0))), {}
        if op == "generate":
            g = self._opened().generate(
                need("input_ids"), t.get("attention_mask", np.ones_like(need("input_ids"))), t.get("pixel_values"), t.get("image_grid_thw"), int(h.get("max_new_tokens") or 1)
            )
            feeds = {f"position_feed_{k}": f for k, f in enumerate(g["feeds"])}
            return {"position_feeds": len(feeds)}, {"tokens": g["tokens"], "logits": g["logits"], **feeds}
        raise ValueError(f"unknown op {op!r}")


def serve(engine: Engine, stdin: BinaryIO, stdout: BinaryIO) -> int:
    while True:
        try:
            m = read_message(stdin)
        except FrameError as e:
            # The stream has lost its framing: say so once and stop.
            stdout.write(encode_message({"id": None, "ok": False, "error": f"malformed frame: {e}"}))
            stdout.flush()
            return 2
        if m is None:
            return 0
        rid = m.header.get("id")
        if m.header.get("op") == "shutdown":
            return 0
        try:
            fields, tensors = engine.handle(m)
            reply = encode_message({"id": rid, "ok": True, **fields}, tensors)
        except Exception as e:  # noqa: BLE001 - every failure is an answer, the engine keeps serving
            traceback.print_exc(file=sys.stderr)
            reply = encode_message({"id": rid, "ok": False, "error": f"{type(e).__name__}: {e}"})
        stdout.write(reply)
        stdout.flush()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=os.environ.get("NUMGATE_MLX_MODEL"),
                   help="an mlx-vlm model folder (mlx_vlm convert's output); default $NUMGATE_MLX_MODEL")
    args = p.parse_args()
    if not args.model:
        print("mlx engine: name the model folder with --model or NUMGATE_MLX_MODEL (an mlx_vlm convert output folder)", file=sys.stderr)
        sys.exit(2)
    args.model = os.path.abspath(os.path.expanduser(args.model))
    if not os.path.isfile(os.path.join(args.model, "config.json")):
        print(f"mlx engine: {args.model} has no config.json (not an mlx-vlm model folder)", file=sys.stderr)
        sys.exit(2)
    # Weights are local; never reach for a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Answers get a private copy of stdout; fd 1 then points at stderr, so whatever a library
    # prints (Python or C) lands in the log numgate keeps instead of corrupting the frames.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.exit(serve(Engine(args.model), sys.stdin.buffer, answers))


if __name__ == "__main__":
    main()
