"""What engine.py needs from a family adapter."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Protocol

import torch

# A decoder state in numgate's canonical naming (past.<i>.key, past.<i>.value, past.<i>.conv,
# past.<i>.recurrent), on the engine's device and in its compute dtype.
State = dict[str, torch.Tensor]


@dataclass
class LoadOptions:
    model_dir: str
    device: torch.device
    dtype: torch.dtype
    attn: str


@dataclass
class StepResult:
    logits: torch.Tensor  # [1, S, V]
    state: State
    hidden: torch.Tensor | None = None  # [L, 1, S, H], residual after each layer
    rope: tuple[torch.Tensor, torch.Tensor] | None = None  # cos, sin [1, S, rotary_dim]
    extra: dict = field(default_factory=dict)


class Adapter(Protocol):
    layers: int
    hidden: int

    def embed(self, ids: torch.Tensor) -> torch.Tensor: ...

    def vision(self, pixel_values: torch.Tensor, grid_thw: list[int]) -> list[torch.Tensor]:
        """image_embeds [n, H], then the tower's further outputs (extra_0 ...), each [n, H]."""
        ...

    def step(self, inputs_embeds: torch.Tensor, position_ids: torch.Tensor, extras: dict[str, torch.Tensor],
             state: State | None, want_layers: bool, isolate: tuple[int, torch.Tensor] | None) -> StepResult: ...


def load_checkpoint(opts: LoadOptions, config_cls, model_cls):
    """A family's model from a Hugging Face checkpoint folder, or from numgate's tiny fixture (a bare
    config beside a state dict, as oracles/record/ writes it), on the engine's device and dtype."""
    from transformers.utils import logging
    logging.disable_progress_bar()  # its bar on stderr says nothing numgate could use
    with open(os.path.join(opts.model_dir, "config.json")) as f:
        raw = json.load(f)
    kwargs = {}
    if "model_type" not in raw:
        # from_pretrained, not _from_config(...).to(dtype): .to() would also cast the rotary
        # inv_freq buffer, which a real checkpoint keeps in fp32 at any dtype.
        raw.pop("_numgate", None)
        kwargs["config"] = config_cls(**raw)
    model, info = model_cls.from_pretrained(opts.model_dir, dtype=opts.dtype, attn_implementation=opts.attn,
                                            output_loading_info=True, **kwargs)
    tied = model.lm_head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    # A tied head is stored once, as the embeddings; an untied one (Qwen3-VL-8B) must be in the file.
    missing = [k for k in info["missing_keys"] if not (tied and k == "lm_head.weight")]
    if missing or info["unexpected_keys"] or info["mismatched_keys"]:
        raise ValueError(f"weights in {opts.model_dir} do not fit the config: missing {missing[:5]}, "
                         f"unexpected {sorted(info['unexpected_keys'])[:5]}, mismatched {sorted(info['mismatched_keys'])[:5]}")
    return model.to(opts.device).eval()
