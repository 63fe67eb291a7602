"""What engine.py needs from a family adapter."""
from __future__ import annotations

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
