"""finish_graph leaves an exported graph as its users receive it: inline below the protobuf limit,
else the graph plus ONE `<graph>.data`, whatever files the exporter scattered (initializers and
Constant attributes alike, as the TorchScript exporter writes them past 2 GB). Needs onnx; skipped
where it is absent."""
from __future__ import annotations

import os
import pathlib
import sys

import pytest

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
from onnx import helper, numpy_helper  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
import export_onnx  # noqa: E402

W = np.arange(64 * 64, dtype=np.float32).reshape(64, 64) / 4096
C = np.full((64,), 0.5, dtype=np.float32)


def scattered(folder: pathlib.Path) -> pathlib.Path:
    """y = x @ W + C, with W an initializer and C a Constant attribute, each in a file of its own."""
    const = helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(C, "c_value"))
    mm = helper.make_node("MatMul", ["x", "w"], ["xw"])
    add = helper.make_node("Add", ["xw", "c"], ["y"])
    graph = helper.make_graph([const, mm, add], "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 64])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 64])],
                              [numpy_helper.from_array(W, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)
    path = folder / "g.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=False, size_threshold=0,
                    convert_attribute=True)
    assert len(os.listdir(folder)) == 3  # the graph, w, c_value
    return path


def evaluate(path: pathlib.Path):
    ort = pytest.importorskip("onnxruntime")
    x = np.ones((1, 64), dtype=np.float32)
    return ort.InferenceSession(str(path)).run(None, {"x": x})[0], x @ W + C


def test_past_the_limit_one_weights_file(tmp_path):
    path = scattered(tmp_path)
    export_onnx.finish_graph(str(path), limit=0)
    assert sorted(os.listdir(tmp_path)) == ["g.onnx", "g.onnx.data"]
    got, want = evaluate(path)
    assert np.allclose(got, want)


def test_below_the_limit_one_self_contained_file(tmp_path):
    path = scattered(tmp_path)
    export_onnx.finish_graph(str(path))
    assert os.listdir(tmp_path) == ["g.onnx"]
    got, want = evaluate(path)
    assert np.allclose(got, want)
