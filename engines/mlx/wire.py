"""numgate-engine/2 framing (src/backends/engine/PROTOCOL.md) with numpy arrays. A message is a
u32 little-endian header length, a UTF-8 JSON header, then the raw little-endian bytes of every
tensor listed in header["tensors"], in order."""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

PROTOCOL = "numgate-engine/2"
# numgate's own bounds: a garbled frame is refused before anything is allocated or waited for.
MAX_HEADER = 16 * 1024 * 1024
MAX_PAYLOAD = 2 * 1024 * 1024 * 1024

DTYPES: dict[str, np.dtype] = {
    "f32": np.dtype("<f4"), "f16": np.dtype("<f2"), "f64": np.dtype("<f8"), "i64": np.dtype("<i8"),
    "i32": np.dtype("<i4"), "i16": np.dtype("<i2"), "i8": np.dtype("i1"), "u8": np.dtype("u1"), "bool": np.dtype("?"),
}
NAMES = {v: k for k, v in DTYPES.items()}


class FrameError(Exception):
    """The stream is not numgate-engine/2; it cannot be resynchronised."""


@dataclass
class Message:
    header: dict
    tensors: dict[str, np.ndarray]


def _read_exactly(stream: BinaryIO, n: int) -> bytes | None:
    chunks: list[bytes] = []
    got = 0
    while got < n:
        b = stream.read(n - got)
        if not b:
            if got == 0:
                return None
            raise FrameError(f"stream ended inside a frame ({got} of {n} bytes)")
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def read_message(stream: BinaryIO) -> Message | None:
    """The next message, or None at a clean end of input. Raises FrameError on a bad frame."""
    head = _read_exactly(stream, 4)
    if head is None:
        return None
    (hlen,) = struct.unpack("<I", head)
    if hlen == 0 or hlen > MAX_HEADER:
        raise FrameError(f"header length {hlen} is out of range (1..{MAX_HEADER})")
    raw = _read_exactly(stream, hlen)
    if raw is None:
        raise FrameError("stream ended before the header")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FrameError(f"header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise FrameError("header is not a JSON object")
    infos = header.get("tensors") or []
    if not isinstance(infos, list):
        raise FrameError("header.tensors is not a list")
    sizes: list[int] = []
    for i, t in enumerate(infos):
        ok = (isinstance(t, dict) and isinstance(t.get("name"), str) and t.get("dtype") in DTYPES
              and isinstance(t.get("shape"), list) and all(isinstance(d, int) and d >= 0 for d in t["shape"]))
        if not ok:
            raise FrameError(f"tensors[{i}] is not {{name, dtype, shape}} of a supported dtype: {json.dumps(t)[:200]}")
        sizes.append(DTYPES[t["dtype"]].itemsize * int(np.prod(t["shape"], dtype=np.int64)))
    if sum(sizes) > MAX_PAYLOAD:
        raise FrameError(f"payload of {sum(sizes)} bytes exceeds the {MAX_PAYLOAD}-byte limit")
    tensors: dict[str, np.ndarray] = {}
    for t, n in zip(infos, sizes):
        data = _read_exactly(stream, n) if n > 0 else b""
        if data is None:
            raise FrameError(f"stream ended before tensor {t['name']}")
        tensors[t["name"]] = np.frombuffer(data, dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
    return Message(header, tensors)


def encode_message(header: dict, tensors: dict[str, np.ndarray] | None = None) -> bytes:
    arrays = {k: np.ascontiguousarray(v) for k, v in (tensors or {}).items()}
    infos = []
    for k, a in arrays.items():
        if a.dtype.newbyteorder("<") not in NAMES:
            raise TypeError(f"tensor {k} has dtype {a.dtype}, which numgate-engine/2 cannot carry")
        infos.append({"name": k, "dtype": NAMES[a.dtype.newbyteorder("<")], "shape": list(a.shape)})
    body = json.dumps({**header, "tensors": infos}).encode("utf-8")
    return b"".join([struct.pack("<I", len(body)), body, *(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes() for a in arrays.values())])
