"""The torch engine's framing, without torch: round trip, and refusals of bad frames."""
import io
import json
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # engines/: the shared framing
from numgate_wire import MAX_HEADER, FrameError, WireTensor, encode_message, read_message  # noqa: E402


def test_round_trip_two_messages():
    t = WireTensor("f32", [2], struct.pack("<2f", 1.5, -0.0))
    s = io.BytesIO(encode_message({"id": 1, "op": "x"}, {"a": t}) + encode_message({"id": 2, "op": "y"}))
    m1, m2 = read_message(s), read_message(s)
    assert m1 is not None and m2 is not None
    assert m1.header["id"] == 1 and m1.tensors["a"].data == t.data and m2.header["op"] == "y"
    assert read_message(s) is None


def frame(header: dict) -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<I", len(h)) + h


@pytest.mark.parametrize("frame,why", [
    (struct.pack("<I", MAX_HEADER + 1), "out of range"),
    (struct.pack("<I", 5) + b"nope!", "not JSON"),
    (frame({"tensors": [{"name": "x", "dtype": "f32", "shape": [2**20, 2**20]}]}), "exceeds"),
    (frame({"tensors": [{"name": "x", "dtype": "q7", "shape": [1]}]}), r"tensors\[0\]"),
])
def test_bad_frames_are_refused_without_waiting(frame, why):
    with pytest.raises(FrameError, match=why):
        read_message(io.BytesIO(frame))
