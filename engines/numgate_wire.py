"""numgate-engine/2 framing (src/backends/engine/PROTOCOL.md) for every Python engine here
(engines/torch, engines/mlx), with no torch and no numpy, so it can be tested anywhere. A message is a u32 little-endian header length, a UTF-8 JSON header,
then the raw bytes of every tensor listed in header["tensors"], in order."""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import BinaryIO

PROTOCOL = "numgate-engine/2"
# Same bounds as numgate's reader: a garbled or hostile frame is refused before anything is
# allocated or waited for.
MAX_HEADER = 16 * 1024 * 1024
MAX_PAYLOAD = 2 * 1024 * 1024 * 1024

BYTE_WIDTH = {"f32": 4, "f16": 2, "bf16": 2, "f64": 8, "i64": 8, "i32": 4, "i16": 2, "i8": 1, "u8": 1, "bool": 1}


class FrameError(Exception):
    """The stream is not numgate-engine/2; it cannot be resynchronised."""


@dataclass
class WireTensor:
    dtype: str
    shape: list[int]
    data: bytes


@dataclass
class Message:
    header: dict
    tensors: dict[str, WireTensor]


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


def nbytes(dtype: str, shape: list[int]) -> int:
    n = BYTE_WIDTH[dtype]
    for d in shape:
        n *= d
    return n


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
    total = 0
    for i, t in enumerate(infos):
        ok = (isinstance(t, dict) and isinstance(t.get("name"), str) and t.get("dtype") in BYTE_WIDTH
              and isinstance(t.get("shape"), list) and all(isinstance(d, int) and d >= 0 for d in t["shape"]))
        if not ok:
            raise FrameError(f"tensors[{i}] is not {{name, dtype, shape}}: {json.dumps(t)[:200]}")
        total += nbytes(t["dtype"], t["shape"])
    if total > MAX_PAYLOAD:
        raise FrameError(f"payload of {total} bytes exceeds the {MAX_PAYLOAD}-byte limit")
    tensors: dict[str, WireTensor] = {}
    for t in infos:
        n = nbytes(t["dtype"], t["shape"])
        data = _read_exactly(stream, n) if n > 0 else b""
        if data is None:
            raise FrameError(f"stream ended before tensor {t['name']}")
        tensors[t["name"]] = WireTensor(t["dtype"], list(t["shape"]), data)
    return Message(header, tensors)


def encode_message(header: dict, tensors: dict[str, WireTensor] | None = None) -> bytes:
    tensors = tensors or {}
    infos = [{"name": k, "dtype": t.dtype, "shape": t.shape} for k, t in tensors.items()]
    body = json.dumps({**header, "tensors": infos}).encode("utf-8")
    return b"".join([struct.pack("<I", len(body)), body, *(t.data for t in tensors.values())])
