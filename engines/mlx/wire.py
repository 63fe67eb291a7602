"""numgate-engine/2 messages with numpy arrays: the MLX engine's view of the framing every Python
engine shares (engines/numgate_wire.py), which carries raw bytes."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # engines/: the shared framing
import numgate_wire  # noqa: E402
from numgate_wire import MAX_HEADER, MAX_PAYLOAD, PROTOCOL, FrameError, WireTensor  # noqa: E402,F401

DTYPES: dict[str, np.dtype] = {
    "f32": np.dtype("<f4"), "f16": np.dtype("<f2"), "f64": np.dtype("<f8"), "i64": np.dtype("<i8"),
    "i32": np.dtype("<i4"), "i16": np.dtype("<i2"), "i8": np.dtype("i1"), "u8": np.dtype("u1"), "bool": np.dtype("?"),
}
NAMES = {v: k for k, v in DTYPES.items()}


@dataclass
class Message:
    header: dict
    tensors: dict[str, np.ndarray]


def read_message(stream: BinaryIO) -> Message | None:
    """The next message, or None at a clean end of input. Raises FrameError on a bad frame."""
    m = numgate_wire.read_message(stream)
    if m is None:
        return None
    tensors: dict[str, np.ndarray] = {}
    for name, t in m.tensors.items():
        if t.dtype not in DTYPES:  # bf16: numpy has no such dtype
            raise FrameError(f"tensor {name} is {t.dtype}, which this engine cannot take as a numpy array")
        tensors[name] = np.frombuffer(t.data, dtype=DTYPES[t.dtype]).reshape(t.shape)
    return Message(m.header, tensors)


def encode_message(header: dict, tensors: dict[str, np.ndarray] | None = None) -> bytes:
    wire: dict[str, WireTensor] = {}
    for k, v in (tensors or {}).items():
        a = np.ascontiguousarray(v)
        le = a.dtype.newbyteorder("<")
        if le not in NAMES:
            raise TypeError(f"tensor {k} has dtype {a.dtype}, which numgate-engine/2 cannot carry")
        wire[k] = WireTensor(NAMES[le], list(a.shape), a.astype(le, copy=False).tobytes())
    return numgate_wire.encode_message(header, wire)
