"""Model families the torch engine serves, keyed by hello.model.family (numgate's family name).

A family adapter loads a checkpoint and runs the protocol's ops on it. Everything about the wire,
state handles and dtypes lives in engine.py; an adapter only knows its model. To add Qwen3.5
(GatedDeltaNet + full attention): write families/qwen3_5.py with the same methods, mapping
`past.<i>.conv` / `past.<i>.recurrent` onto transformers' hybrid cache in cache_from_state /
state_from_cache (key/value only on the full-attention layers), and register it below.
"""
from __future__ import annotations

from typing import Callable

from families.base import Adapter, LoadOptions


def _qwen3_vl(opts: LoadOptions) -> Adapter:
    from families.qwen3_vl import Qwen3VLAdapter
    return Qwen3VLAdapter(opts)


ADAPTERS: dict[str, Callable[[LoadOptions], Adapter]] = {
    "qwen3-vl": _qwen3_vl,
}
