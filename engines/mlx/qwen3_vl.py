"""mlx-vlm's own Qwen3-VL (mlx_vlm/models/qwen3_vl) driven the way numgate's ladder asks.

Everything numerical is mlx-vlm's code: the decoder runs through `LanguageModel.__call__` (its
DeepStack addition, mask, head), the vision tower through `VisionModel.__call__`, generation
through `mlx_vlm.generate.ar.generate_step`, positions through its own `get_rope_index` and decode
formula. What this module adds is observation: taps that read a layer's input without changing
it, and a hook that records the position ids mlx-vlm's loop handed its decoder.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import mlx.core as mx
import mlx.nn as nn
import numpy as np


class EngineError(Exception):
    """A request this engine cannot serve; answered ok: false, and the engine keeps serving."""


@dataclass
class State:
    """A KV cache snapshot: per layer (keys, values) [1, kv_heads, P, head_dim], never mutated."""

    layers: list[tuple[mx.array, mx.array]]
    length: int


class _Tap(nn.Module):
    """Wraps a decoder layer (or the final norm) to see, and optionally replace, its input.

    The input of layer i+1 is the residual after layer i *with* its DeepStack addition (mlx-vlm
    adds DeepStack in Qwen3VLModel.__call__ after the layer returns), which is the side the
    oracle's decoder.hidden.i is on; the input of the final norm is the last one.
    """

    def __init__(self, inner: nn.Module, seen: Callable[[mx.array], mx.array]):
        super().__init__()
        self.inner = inner
        self._seen = seen

    @property
    def self_attn(self) -> Any:  # Qwen3VLModel.__call__ reads layers[0].self_attn.rotary_emb
        return self.inner.self_attn

    def __call__(self, x: mx.array, *args: Any, **kwargs: Any) -> mx.array:
        return self.inner(self._seen(x), *args, **kwargs)


def _to_planes(pid: mx.array, batch: int) -> np.ndarray:
    """A position feed as [3, B, S]. mlx-vlm feeds 2-D [B, S] ids on text-only prefill and on
    decode; compute_mrope_frequencies (mlx_vlm/models/rope_utils.py) then uses that one position
    for every plane, so that is what the rotary received."""
    a = np.array(pid).astype(np.int64)
    if a.ndim == 2:
        return np.broadcast_to(a[None], (3, *a.shape)).copy()
    if a.ndim == 3:
        return a
    raise EngineError(f"mlx-vlm fed position ids of rank {a.ndim} (shape {a.shape}); expected [B, S] or [3, B, S]")


class Qwen3VL:
    def __init__(self, model_dir: str):
        from mlx_vlm import load

        self.model, _ = load(model_dir)
        self.lm = self.model.language_model
        self.inner = self.lm.model
        self.layers = len(self.inner.layers)
        rotary = self.inner.layers[0].self_attn.rotary_emb
        self.rotary = rotary
        # The activation dtype: what mlx-vlm's own KV cache would hold.
        self.dtype = self.inner.embed_tokens(mx.array([[0]])).dtype

    # -- ops -------------------------------------------------------------------------------------

    def capabilities(self) -> dict[str, Any]:
        return {
            "layerOutputs": True,
            "isolatedLayers": True,
            "ropeTables": True,
            "seededState": True,
            "generate": True,
            # generate_step takes one prompt (its loop calls y.item()); batch_generate is another
            # code path this engine does not drive, so padded batches are left to numgate's port.
            "generateBatch": False,
            "hiddenStates": "after-deepstack",
        }

    def embed(self, ids: np.ndarray) -> np.ndarray:
        return self._f32(self.inner.embed_tokens(mx.array(ids.astype(np.int32))))

    def vision(self, pixels: np.ndarray, grid: list[int]) -> list[np.ndarray]:
        tower = self.model.vision_tower
        if tower is None:
            raise EngineError("this build was loaded without a vision tower")
        dtype = tower.patch_embed.proj.weight.dtype
        merged, deepstack = tower(mx.array(pixels).astype(dtype), mx.array([grid], dtype=mx.int32))
        return [self._f32(merged), *(self._f32(d) for d in deepstack)]

    def decode(
        self,
        state: State | None,
        embeds: np.ndarray,
        position_ids: np.ndarray,
        deepstack: np.ndarray | None,
        want_layers: bool,
        isolate: tuple[int, np.ndarray] | None,
    ) -> tuple[State, dict[str, np.ndarray]]:
        S = embeds.shape[1]
        cache = self._cache_from(state)
        pos = mx.array(position_ids.astype(np.int32))
        masks, levels = self._deepstack(deepstack, S)
        seen: list[mx.array] = []
        iso_layer, iso_input = isolate if isolate is not None else (-1, None)

        def at(i: int) -> Callable[[mx.array], mx.array]:
            def f(x: mx.array) -> mx.array:
                if i > 0:
                    seen.append(x)
                if i == iso_layer and iso_input is not None:
                    return mx.array(iso_input).astype(x.dtype)
                return x
            return f

        with self._tapped([at(i) for i in range(self.layers)], at(self.layers)):
            out = self.lm(
                mx.zeros((1, S), dtype=mx.int32),  # only its shape is read when inputs_embeds is given
                inputs_embeds=mx.array(embeds).astype(self.dtype),
                cache=cache,
                position_ids=pos,
                visual_pos_masks=masks,
                deepstack_visual_embeds=levels,
            )
        tensors = {"logits": self._f32(out.logits)}
        if want_layers:
            tensors["hidden_states"] = np.stack([self._f32(h) for h in seen])
        cos, sin = self._rope_tables(pos, S)
        tensors["rope_cos"], tensors["rope_sin"] = cos, sin
        return self._snapshot(cache), tensors

    def load_state(self, tensors: dict[str, np.ndarray], length: int) -> State:
        layers = []
        for i in range(self.layers):
            k, v = tensors.get(f"past.{i}.key"), tensors.get(f"past.{i}.value")
            if k is None or v is None:
                raise EngineError(f"load_state has no past.{i}.key / past.{i}.value")
            if k.shape[2] != length or v.shape[2] != length:
                raise EngineError(f"past.{i}.key is {list(k.shape)}, past.{i}.value {list(v.shape)}; length is {length}")
            layers.append((mx.array(k).astype(self.dtype), mx.array(v).astype(self.dtype)))
        mx.eval(layers)
        return State(layers, length)

    def generate(self, ids: np.ndarray, mask: np.ndarray, pixels: np.ndarray | None, grid: np.ndarray | None, steps: int) -> dict[str, Any]:
        """mlx-vlm's own greedy loop (generate_step, as its stream_generate calls it), observed.

        Returns the tokens, the raw logit row of every generated token, and the position feeds:
        the prompt's feeds (mlx-vlm prefills in chunks and feeds the last prompt token on its own)
        joined into one [3, 1, S], then one [3, 1, 1] per decode step."""
        from mlx_vlm.generate.ar import generate_step

        if ids.shape[0] != 1:
            raise EngineError(f"generate takes one prompt (mlx-vlm's generate_step); got a batch of {ids.shape[0]}")
        S = ids.shape[1]
        feeds: list[np.ndarray] = []
        logits: list[np.ndarray] = []
        inner_cls, lm_cls = type(self.inner), type(self.lm)
        inner_call, lm_call = inner_cls.__call__, lm_cls.__call__

        def inner_seen(module: Any, *a: Any, **k: Any) -> Any:
            pid = k.get("position_ids")
            if pid is None:
                raise EngineError("mlx-vlm's decoder received no position_ids (it would fall back to cache offsets)")
            feeds.append(_to_planes(pid, 1))
            return inner_call(module, *a, **k)

        def lm_seen(module: Any, *a: Any, **k: Any) -> Any:
            out = lm_call(module, *a, **k)
            logits.append(np.array(out.logits[0, -1, :].astype(mx.float32)))
            return out

        kwargs: dict[str, Any] = {}
        if grid is not None:
            kwargs["image_grid_thw"] = mx.array(grid.astype(np.int32))
        tokens: list[int] = []
        inner_cls.__call__, lm_cls.__call__ = inner_seen, lm_seen
        try:
            gen = generate_step(
                mx.array(ids.astype(np.int32)),
                self.model,
                None if pixels is None else mx.array(pixels),
                mx.array(mask.astype(np.int32)),
                max_tokens=steps,
                temperature=0.0,
                **kwargs,
            )
            for tok, _ in gen:
                tokens.append(int(tok))
                if len(tokens) == steps:
                    break
        finally:
            inner_cls.__call__, lm_cls.__call__ = inner_call, lm_call
        prompt, rest, n = [], list(feeds), 0
        while rest and n < S:
            f = rest.pop(0)
            prompt.append(f)
            n += f.shape[2]
        if n != S:
            raise EngineError(f"mlx-vlm's prompt feeds cover {n} tokens, the prompt has {S}")
        # The logit rows that chose each token: the last prompt feed's, then one per decode step
        # (the chunked part of the prefill produces rows nobody reads).
        first = len(prompt) - 1
        return {
            "tokens": np.array([tokens], dtype=np.int64),
            "logits": np.stack(logits[first:first + steps]),
            "feeds": [np.concatenate(prompt, axis=2), *rest[: steps - 1]],
        }

    # -- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _f32(a: mx.array) -> np.ndarray:
        return np.array(a.astype(mx.float32))

    def _cache_from(self, state: State | None) -> list[Any]:
        from mlx_vlm.models import cache as mlx_cache

        caches = mlx_cache.make_prompt_cache(self.lm)
        if state is not None:
            for c, kv in zip(caches, state.layers):
                # KVCache's state setter; its next update_and_fetch allocates a new buffer, so the
                # snapshot behind a handle is never written to.
                c.state = kv
        return caches

    def _snapshot(self, caches: list[Any]) -> State:
        layers = [tuple(mx.array(x) for x in c.state) for c in caches]
        mx.eval(layers)
        return State(layers, int(caches[0].offset))  # type: ignore[arg-type]

    @staticmethod
    def _deepstack(dense: np.ndarray | None, S: int) -> tuple[mx.array | None, list[mx.array] | None]:
        """numgate's dense DeepStack [K, 1, S, H] (zeros at text positions) as mlx-vlm takes it:
        visual_pos_masks [1, S] and one [n_visual, H] array per level. No visual row: none, as
        mlx-vlm's own text-only and decode calls pass."""
        if dense is None or dense.shape[0] == 0:
            return None, None
        visual = np.abs(dense[:, 0]).max(axis=(0, 2)) > 0  # [S]
        if not visual.any():
            return None, None
        rows = np.nonzero(visual)[0]
        return mx.array(visual[None]), [mx.array(dense[k, 0, rows]) for k in range(dense.shape[0])]

    @contextmanager
    def _tapped(self, layer_taps: list[Callable[[mx.array], mx.array]], norm_tap: Callable[[mx.array], mx.array]) -> Iterator[None]:
        originals, norm = list(self.inner.layers), self.inner.norm
        try:
            for i, tap in enumerate(layer_taps):
                self.inner.layers[i] = _Tap(originals[i], tap)
            self.inner.norm = _Tap(norm, norm_tap)
            yield
        finally:
            for i, layer in enumerate(originals):
                self.inner.layers[i] = layer
            self.inner.norm = norm

    def _rope_tables(self, pos: mx.array, S: int) -> tuple[np.ndarray, np.ndarray]:
        """The rotary tables as mlx-vlm applies them, read off its own apply_rotary with a probe:
        x = [1]*D/2 + [0]*D/2 rotates to cos[:D/2] then sin[D/2:] (rotate-half pairing), on the
        unfused CPU path and the fused Metal kernel alike."""
        D = self.inner.layers[0].self_attn.head_dim
        half = D // 2
        probe = mx.concatenate([mx.ones((1, 1, S, half)), mx.zeros((1, 1, S, half))], axis=-1).astype(self.dtype)
        out, _ = self.rotary.apply_rotary(probe, probe, pos, unsqueeze_dim=1)
        out = np.array(out.astype(mx.float32))[0, 0]  # [S, D]
        cos_h, sin_h = out[:, :half], out[:, half:]
        return np.concatenate([cos_h, cos_h], -1)[None], np.concatenate([sin_h, sin_h], -1)[None]
