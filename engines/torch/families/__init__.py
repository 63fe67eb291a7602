"""Model families the torch engine serves, keyed by hello.model.family (numgate's family name).

A family adapter loads a checkpoint and runs the protocol's ops on it. Everything about the wire,
state handles and dtypes lives in engine.py; an adapter only knows its model:
- qwen3-vl (families/qwen3_vl.py): key/value per layer, DeepStack as an extra decode input;
- qwen3.5 (families/qwen3_5.py): hybrid GatedDeltaNet + full attention; `past.<i>.conv` /
  `past.<i>.recurrent` of the linear-attention layers and `past.<i>.key` / `past.<i>.value` of the
  full-attention ones map onto transformers' hybrid cache in its cache_from_state / state_from_cache.
A new family is a module with the same methods (families/base.py), registered below.
"""
from __future__ import annotations

from typing import Callable

from families.base import Adapter, LoadOptions


def _qwen3_vl(opts: LoadOptions) -> Adapter:
    from families.qwen3_vl import Qwen3VLAdapter
    return Qwen3VLAdapter(opts)


def _qwen3_5(opts: LoadOptions) -> Adapter:
    from families.qwen3_5 import Qwen35Adapter
    return Qwen35Adapter(opts)


ADAPTERS: dict[str, Callable[[LoadOptions], Adapter]] = {
    "qwen3-vl": _qwen3_vl,
    "qwen3.5": _qwen3_5,
}
