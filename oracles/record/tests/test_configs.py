"""Checks of the recorder configs that need no torch (run anywhere: python3 -m pytest oracles/record/tests).

The real-size configs feed numgate's size estimate and document the architectures; the tiny ones
build the fixtures. A wrong rotary section or layer pattern here would silently change both.
"""
from __future__ import annotations

import json
import pathlib

import pytest

CONFIGS = pathlib.Path(__file__).resolve().parent.parent / "configs"
ALL = sorted(CONFIGS.glob("*.json"))
QWEN35 = [p for p in ALL if p.name.startswith("qwen3.5-")]
QWEN3VL = [p for p in ALL if p.name.startswith("qwen3-vl-")]


def load(p: pathlib.Path) -> dict:
    with open(p) as f:
        return json.load(f)


def test_every_seed_model_has_a_config():
    names = {p.stem for p in ALL}
    assert {"qwen3-vl-tiny", "qwen3-vl-2b", "qwen3-vl-4b", "qwen3-vl-8b", "qwen3.5-tiny", "qwen3.5-2b"} <= names


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_mrope_sections_cover_the_rotated_frequencies(path):
    t = load(path)["text_config"]
    rp = t["rope_parameters"]
    rotary_dim = int(t["head_dim"] * rp.get("partial_rotary_factor", 1.0))
    assert sum(rp["mrope_section"]) * 2 == rotary_dim
    assert rp["mrope_interleaved"] is True


@pytest.mark.parametrize("path", QWEN35, ids=lambda p: p.stem)
def test_qwen35_layer_pattern_and_partial_rotary(path):
    c = load(path)
    t = c["text_config"]
    types = t["layer_types"]
    assert len(types) == t["num_hidden_layers"]
    # The real pattern: three linear-attention layers, then one full-attention layer.
    assert types == (["linear_attention"] * 3 + ["full_attention"]) * (len(types) // 4)
    assert t["rope_parameters"]["partial_rotary_factor"] == 0.25
    assert t["linear_num_value_heads"] % t["linear_num_key_heads"] == 0
    assert "deepstack_visual_indexes" not in c["vision_config"]
    assert c["tie_word_embeddings"] is True


@pytest.mark.parametrize("path", QWEN3VL, ids=lambda p: p.stem)
def test_qwen3vl_deepstack_inside_the_tower(path):
    v = load(path)["vision_config"]
    assert len(v["deepstack_visual_indexes"]) == 3
    assert all(0 <= i < v["depth"] for i in v["deepstack_visual_indexes"])
    assert v["out_hidden_size"] == load(path)["text_config"]["hidden_size"]


def test_only_the_8b_unties_its_head():
    untied = {p.stem for p in QWEN3VL if not load(p)["tie_word_embeddings"]}
    assert untied == {"qwen3-vl-8b"}
