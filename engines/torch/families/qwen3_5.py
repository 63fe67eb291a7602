"""Qwen3.5 (GatedDeltaNet linear attention + gated full attention) through transformers' own modules.

The decode step, its hooks and the rotary tables are Qwen3-VL's (families/qwen3_vl.py): Qwen3.5
has no DeepStack, so the pre-hook on layer i+1 reads layer i's output, the side the oracle's
`decoder.hidden.i` is on (oracles/record/qwen35_capture.py). The rotary module's (cos, sin) cover
only the rotated quarter of each head, which is the width numgate's rope-table check expects.

What differs is the state: a full-attention layer keeps key/value, a linear-attention layer its
conv window [1, conv_dim, kernel] and recurrent state [1, v_heads, k_dim, v_dim]. transformers
updates the latter two in place (copy_ into the cache's buffers, and causal_conv1d_update on a
single-token step), so a cache built from a handle must own copies, never the handle's tensors.
"""
from __future__ import annotations


import torch

from families.base import LoadOptions, load_checkpoint, State
from families.qwen3_vl import Qwen3VLAdapter


def load_model(opts: LoadOptions):
    from transformers import Qwen3_5Config, Qwen3_5ForConditionalGeneration
    return load_checkpoint(opts, Qwen3_5Config, Qwen3_5ForConditionalGeneration)


class Qwen35Adapter(Qwen3VLAdapter):
    load_model = staticmethod(load_model)

    def __init__(self, opts: LoadOptions):
        super().__init__(opts)
        self.types = list(self.lm.config.layer_types)

    @torch.no_grad()
    def vision(self, pixel_values: torch.Tensor, grid_thw: list[int]) -> list[torch.Tensor]:
        grid = torch.tensor([grid_thw], dtype=torch.long, device=self.opts.device)
        out = self.model.model.get_image_features(pixel_values.to(self.opts.device, self.opts.dtype), grid, return_dict=True)
        return [torch.cat(list(out.pooler_output), dim=0)]

    def cache_from_state(self, state: State | None):
        from transformers import DynamicCache
        cache = DynamicCache(config=self.lm.config)
        if state is None:
            return cache
        for i, kind in enumerate(self.types):
            if kind == "full_attention":
                # update() concatenates into new tensors: the handle's stay untouched.
                cache.update(state[f"past.{i}.key"], state[f"past.{i}.value"], i)
            else:
                layer = cache.layers[i]
                conv = state[f"past.{i}.conv"]
                # The first update of an empty layer zero-allocates the cache's own buffers and
                # copy_()s into them, and marks the layer as having a previous state, so the next
                # token continues the window instead of zero-padding it.
                layer.update_conv_state(conv, conv_kernel_size=conv.shape[-1])
                layer.update_recurrent_state(state[f"past.{i}.recurrent"])
        return cache

    def state_from_cache(self, cache) -> State:
        # The cache dies with the step, so its buffers can be the new handle's without copies.
        out: State = {}
        for i, (kind, layer) in enumerate(zip(self.types, cache.layers)):
            if kind == "full_attention":
                out[f"past.{i}.key"] = layer.keys
                out[f"past.{i}.value"] = layer.values
            else:
                out[f"past.{i}.conv"] = layer.conv_states[0]
                out[f"past.{i}.recurrent"] = layer.recurrent_states[0]
        return out
