#!/usr/bin/env python3
"""numgate's torch engine: serves a Hugging Face checkpoint (or numgate's tiny fixture) through
transformers over numgate-engine/2 (src/backends/engine/PROTOCOL.md) on stdin/stdout.

    python engines/torch/engine.py --model oracles/qwen3-vl-tiny/model \
        [--device cpu|cuda|mps] [--dtype fp32|tf32|bf16|fp16] [--attn eager|sdpa]

The model loads at `hello`, once numgate has said which family and shape it expects; a checkpoint
that does not have that shape is refused there. Every answer tensor is float32 whatever the
compute dtype: the gates measure what the dtype did, not how it was shipped.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # engines/: the shared framing
from numgate_wire import PROTOCOL, FrameError, Message, WireTensor, encode_message, read_message  # noqa: E402

TORCH_DTYPES = {"f32": "float32", "f16": "float16", "bf16": "bfloat16", "f64": "float64", "i64": "int64",
                "i32": "int32", "i16": "int16", "i8": "int8", "u8": "uint8", "bool": "bool"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="checkpoint folder (config.json + safetensors)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "mps"])
    p.add_argument("--dtype", default="fp32", choices=["fp32", "tf32", "bf16", "fp16"])
    p.add_argument("--attn", default="eager", choices=["eager", "sdpa"])
    return p.parse_args(argv)


class Engine:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.adapter = None
        self.shape: dict = {}
        self.states: dict[int, dict] = {}
        self.next_handle = 1
        self.torch = None

    def start_torch(self) -> None:
        """Imported at hello, not at start: a bad frame is answered at once, before seconds of imports."""
        import torch
        self.torch = torch
        args = self.args
        # numgate and the engine share the machine; torch's default of one thread per core
        # oversubscribes it and makes tiny-model steps slower, not faster.
        torch.set_num_threads(max(1, min(4, torch.get_num_threads() // 2)))
        if args.dtype == "tf32":
            # TF32 is a CUDA matmul/conv mode; on other devices this is plain fp32.
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        elif args.device == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        self.dtype = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[args.dtype]
        self.device = torch.device(args.device)

    # -- tensors between the wire and torch
    def to_torch(self, t: WireTensor):
        torch = self.torch
        dt = getattr(torch, TORCH_DTYPES[t.dtype])
        if len(t.data) == 0:
            return torch.zeros(t.shape, dtype=dt)
        return torch.frombuffer(bytearray(t.data), dtype=dt).reshape(t.shape)

    def to_wire(self, x) -> WireTensor:
        x = x.detach().to("cpu", self.torch.float32).contiguous()
        return WireTensor("f32", list(x.shape), x.numpy().tobytes())

    def need(self, m: Message, name: str):
        if self.torch is None:
            raise ValueError("hello first")
        t = m.tensors.get(name)
        if t is None:
            raise ValueError(f'request has no tensor "{name}" (has: {", ".join(m.tensors) or "none"})')
        return self.to_torch(t)

    def keep(self, state: dict, length: int) -> dict:
        h = self.next_handle
        self.next_handle += 1
        self.states[h] = {"tensors": state, "length": length}
        return {"state": h, "state_length": length}

    # -- ops
    def hello(self, m: Message) -> tuple[dict, dict]:
        if m.header.get("protocol") != PROTOCOL:
            raise ValueError(f"this engine speaks {PROTOCOL}, not {m.header.get('protocol')!r}")
        self.start_torch()
        from families import ADAPTERS
        from families.base import LoadOptions
        shape = m.header.get("model") or {}
        family = shape.get("family")
        if family not in ADAPTERS:
            raise ValueError(f"the torch engine serves families {sorted(ADAPTERS)}, not {family!r}")
        self.adapter = ADAPTERS[family](LoadOptions(self.args.model, self.device, self.dtype, self.args.attn))
        a = self.adapter
        if shape.get("layers") != a.layers or shape.get("hidden") != a.hidden:
            raise ValueError(f"{self.args.model} has {a.layers} layers of width {a.hidden}, numgate expects "
                             f"{shape.get('layers')} of width {shape.get('hidden')}")
        self.shape = shape
        name = f"numgate torch engine (torch {self.torch.__version__}, {self.args.device}, {self.args.dtype}, {self.args.attn})"
        caps = {"layerOutputs": True, "isolatedLayers": True, "ropeTables": True, "seededState": True}
        return {"protocol": PROTOCOL, "engine": name, "capabilities": caps}, {}

    def opened(self):
        if self.adapter is None:
            raise ValueError("hello first")
        return self.adapter

    def embed(self, m: Message):
        ids = self.need(m, "input_ids")
        return {}, {"inputs_embeds": self.to_wire(self.opened().embed(ids))}

    def vision(self, m: Message):
        grid = m.header.get("grid_thw")
        if not (isinstance(grid, list) and len(grid) == 3):
            raise ValueError(f"grid_thw must be [t, h, w], got {grid!r}")
        outs = self.opened().vision(self.need(m, "pixel_values"), grid)
        tensors = {"image_embeds": self.to_wire(outs[0])}
        for k, t in enumerate(outs[1:]):
            tensors[f"extra_{k}"] = self.to_wire(t)
        return {}, tensors

    def decode(self, m: Message):
        a = self.opened()
        handle = m.header.get("state")
        if handle is None:
            past, length = None, 0
        elif handle in self.states:
            past, length = self.states[handle]["tensors"], self.states[handle]["length"]
        else:
            raise ValueError(f"unknown state handle {handle!r}")
        emb = self.need(m, "inputs_embeds")
        if emb.dim() != 3 or emb.shape[0] != 1 or emb.shape[2] != a.hidden:
            raise ValueError(f"inputs_embeds has shape {list(emb.shape)}, expected [1, S, {a.hidden}]")
        S = emb.shape[1]
        pos = self.need(m, "position_ids")
        planes = self.shape.get("positionPlanes", 1)
        if list(pos.shape) != [planes, 1, S]:
            raise ValueError(f"position_ids has shape {list(pos.shape)}, expected [{planes}, 1, {S}]")
        extras = {}
        for spec in self.shape.get("extraInputs", []):
            t = self.need(m, spec["name"])
            want = [S if d == -1 else d for d in spec["shape"]]
            if list(t.shape) != want:
                raise ValueError(f"{spec['name']} has shape {list(t.shape)}, expected {want}")
            extras[spec["name"]] = t
        isolate = None
        if isinstance(m.header.get("isolate_layer"), int):
            isolate = (m.header["isolate_layer"], self.need(m, "isolate_input"))
        r = a.step(emb, pos, extras, past, m.header.get("want_layers") is not False, isolate)
        tensors = {"logits": self.to_wire(r.logits)}
        if r.hidden is not None and m.header.get("want_layers") is not False:
            tensors["hidden_states"] = self.to_wire(r.hidden)
        if r.rope is not None:
            tensors["rope_cos"], tensors["rope_sin"] = self.to_wire(r.rope[0]), self.to_wire(r.rope[1])
        return self.keep(r.state, length + S), tensors

    def load_state(self, m: Message):
        self.opened()
        length = m.header.get("length")
        if not isinstance(length, int) or length < 0:
            raise ValueError(f"load_state needs a non-negative integer length, got {length!r}")
        state = {}
        for spec in self.shape.get("state", []):
            t = self.need(m, spec["name"])
            want = [length if d == 0 else d for d in spec["emptyShape"]]
            if list(t.shape) != want:
                raise ValueError(f"{spec['name']} has shape {list(t.shape)}, expected {want} (emptyShape with {length} tokens)")
            state[spec["name"]] = t.to(self.device, self.dtype)
        return self.keep(state, length), {}

    def handle(self, m: Message) -> bytes | None:
        op = m.header.get("op")
        ops = {"hello": self.hello, "embed": self.embed, "vision": self.vision, "decode": self.decode, "load_state": self.load_state}
        if op == "shutdown":
            return None
        if op not in ops:
            raise ValueError(f"unknown op {op!r}")
        fields, tensors = ops[op](m)
        return encode_message({"id": m.header.get("id"), "ok": True, **fields}, tensors)


def leave(code: int) -> int:
    """Exit without the interpreter's teardown of torch, which can take seconds."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    engine = Engine(args)
    out, inp = sys.stdout.buffer, sys.stdin.buffer
    while True:
        try:
            m = read_message(inp)
        except FrameError as e:
            # The stream cannot be resynchronised: say why once, then leave (PROTOCOL.md, Malformed frames).
            out.write(encode_message({"id": None, "ok": False, "error": f"malformed frame: {e}"}))
            out.flush()
            return leave(2)
        if m is None:
            return leave(0)
        try:
            answer = engine.handle(m)
        except Exception as e:  # one bad request is that request's error, not the engine's end
            traceback.print_exc(file=sys.stderr)
            answer = encode_message({"id": m.header.get("id"), "ok": False, "error": f"{type(e).__name__}: {e}"})
        if answer is None:
            return leave(0)
        out.write(answer)
        out.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
