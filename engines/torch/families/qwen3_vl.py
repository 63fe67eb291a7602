"""Qwen3-VL through transformers' own modules.

Per-layer hidden states are read with forward pre-hooks on layer i+1 (and on the final norm), so
`hidden[i]` is the residual *after* layer i's DeepStack addition: the same side as the oracle's
`decoder.hidden.i` (oracles/record/capture.py), not transformers' output_hidden_states.
"""
from __future__ import annotations


import torch

from families.base import LoadOptions, load_checkpoint, State, StepResult


def load_model(opts: LoadOptions):
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration
    return load_checkpoint(opts, Qwen3VLConfig, Qwen3VLForConditionalGeneration)


class Qwen3VLAdapter:
    # The family's checkpoint loader; a subclass for another family names its own.
    load_model = staticmethod(load_model)

    def __init__(self, opts: LoadOptions):
        self.opts = opts
        self.model = self.load_model(opts)
        self.lm = self.model.model.language_model
        cfg = self.lm.config
        self.layers = len(self.lm.layers)
        self.hidden = cfg.hidden_size
        self.kv_heads = cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", cfg.hidden_size // cfg.num_attention_heads)

    @torch.no_grad()
    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model.get_input_embeddings()(ids.to(self.opts.device))

    @torch.no_grad()
    def vision(self, pixel_values: torch.Tensor, grid_thw: list[int]) -> list[torch.Tensor]:
        grid = torch.tensor([grid_thw], dtype=torch.long, device=self.opts.device)
        out = self.model.model.get_image_features(pixel_values.to(self.opts.device, self.opts.dtype), grid, return_dict=True)
        return [torch.cat(list(out.pooler_output), dim=0), *out.deepstack_features]

    def cache_from_state(self, state: State | None):
        from transformers import DynamicCache
        cache = DynamicCache(config=self.lm.config)
        if state is not None:
            # update() concatenates into new tensors, so the handle's own tensors stay untouched.
            for i in range(self.layers):
                cache.update(state[f"past.{i}.key"], state[f"past.{i}.value"], i)
        return cache

    def state_from_cache(self, cache) -> State:
        out: State = {}
        for i, layer in enumerate(cache.layers):
            out[f"past.{i}.key"] = layer.keys
            out[f"past.{i}.value"] = layer.values
        return out

    @torch.no_grad()
    def step(self, inputs_embeds, position_ids, extras, state, want_layers, isolate) -> StepResult:
        dev, dt = self.opts.device, self.opts.dtype
        x = inputs_embeds.to(dev, dt)
        S = x.shape[1]
        captured: dict[int, torch.Tensor] = {}
        rope: list[tuple[torch.Tensor, torch.Tensor]] = []
        hooks = []

        def keep_input(i):
            def hook(module, args, kwargs):
                captured[i] = (args[0] if args else kwargs["hidden_states"]).detach()
            return hook

        if want_layers or isolate is not None:
            for i in range(1, self.layers):
                hooks.append(self.lm.layers[i].register_forward_pre_hook(keep_input(i - 1), with_kwargs=True))
            hooks.append(self.lm.norm.register_forward_pre_hook(keep_input(self.layers - 1), with_kwargs=True))
        if isolate is not None:
            k, feed = isolate
            feed = feed.to(dev, dt)

            def swap(module, args, kwargs):
                if args:
                    return (feed, *args[1:]), kwargs
                return args, {**kwargs, "hidden_states": feed}
            hooks.append(self.lm.layers[k].register_forward_pre_hook(swap, with_kwargs=True))
        hooks.append(self.lm.rotary_emb.register_forward_hook(lambda m, a, out: rope.append((out[0].detach(), out[1].detach()))))

        deepstack = extras.get("deepstack")
        ds_kwargs = {}
        # Zeros at text positions make the dense DeepStack input exact to add everywhere; a step
        # with no image token (every decode step) skips it.
        if deepstack is not None and bool(deepstack.any()):
            ds_kwargs = {"visual_pos_masks": torch.ones(1, S, dtype=torch.bool, device=dev),
                         "deepstack_visual_embeds": [deepstack[k, 0].to(dev, dt) for k in range(deepstack.shape[0])]}
        cache = self.cache_from_state(state)
        try:
            out = self.lm(inputs_embeds=x, position_ids=position_ids.to(dev), past_key_values=cache, use_cache=True, **ds_kwargs)
        finally:
            for h in hooks:
                h.remove()
        logits = self.model.lm_head(out.last_hidden_state)
        hidden = torch.stack([captured[i] for i in range(self.layers)]) if want_layers or isolate is not None else None
        return StepResult(logits=logits, state=self.state_from_cache(cache), hidden=hidden, rope=rope[0] if rope else None)
