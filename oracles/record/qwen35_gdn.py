"""The gated delta rule of Qwen3.5's linear-attention layers, loop-free.

transformers' pure-torch GatedDeltaNet (torch_chunk_gated_delta_rule) scans chunks of 64 tokens
in a Python loop and solves a triangular system per chunk; neither exports to ONNX with a dynamic
sequence length, and on a busy CPU its triangular solves dominate training time. This is the same
algorithm as ONE chunk spanning the whole step (prefill or a single decode token), with the
unit-lower-triangular inverse taken as a product of (I + A^(2^k)) terms instead of a solve:
(I - A)^-1 = (I + A)(I + A^2)(I + A^4)... exactly, once A^(2^K) = 0, which holds for a strictly
lower-triangular A of size S <= 2^K. K = 8 covers any step of up to 256 tokens; longer steps must
be split by the caller (numgate's prompts are far shorter, and the recorder asserts it).

Used (1) to train the tiny fixture fast (the oracle itself is then recorded with transformers' own
function) and (2) inside the exported decoder graphs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

SQUARINGS = 8
MAX_STEP_TOKENS = 2 ** SQUARINGS


def l2norm(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    return x * torch.rsqrt((x * x).sum(dim=-1, keepdim=True) + eps)


def unit_lower_inverse(a: torch.Tensor) -> torch.Tensor:
    """(I - a)^-1 for strictly lower-triangular a [..., S, S], S <= 2^SQUARINGS."""
    eye = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
    inv = eye + a
    p = a
    for _ in range(SQUARINGS - 1):
        p = p @ p
        inv = inv @ (eye + p)
    return inv


def gated_delta_rule(query, key, value, g, beta, initial_state=None, use_qk_l2norm_in_kernel=True, **_):
    """Same contract as transformers' torch_chunk_gated_delta_rule (inputs [B, S, heads, d]);
    always returns the final state [B, heads, dk, dv]."""
    dtype = query.dtype
    q, k, v, b, decay = [x.transpose(1, 2).float() for x in (query, key, value, beta, g)]
    if use_qk_l2norm_in_kernel:
        q, k = l2norm(q), l2norm(k)
    q = q * (q.shape[-1] ** -0.5)
    B, Hh, S, dk = k.shape
    dv = v.shape[-1]
    if initial_state is None:
        state = torch.zeros(B, Hh, dk, dv, dtype=torch.float32, device=q.device)
    else:
        state = initial_state.float()
    k_beta = k * b.unsqueeze(-1)
    v_beta = v * b.unsqueeze(-1)
    cum = decay.cumsum(dim=-1)  # [B, H, S]
    idx = torch.arange(S, device=q.device)
    lower = idx[:, None] >= idx[None, :]  # j <= i, diagonal included
    diff = cum.unsqueeze(-1) - cum.unsqueeze(-2)
    pair = torch.where(lower, diff, torch.full_like(diff, float("-inf"))).exp()
    strict = idx[:, None] > idx[None, :]
    ut = torch.where(strict, (k_beta @ k.transpose(-1, -2)) * pair, torch.zeros_like(pair))
    t = unit_lower_inverse(-ut)
    new_values = t @ v_beta
    k_cumdecay = t @ (k_beta * cum.exp().unsqueeze(-1))
    v_new = new_values - k_cumdecay @ state
    attn = (q @ k.transpose(-1, -2)) * pair
    out = (q * cum.exp().unsqueeze(-1)) @ state + attn @ v_new
    last = cum[..., -1:]
    state = state * last.exp().unsqueeze(-1) + (k * (last - cum).exp().unsqueeze(-1)).transpose(-1, -2) @ v_new
    return out.transpose(1, 2).to(dtype), state


def _patched(query, key, value, g, beta, chunk_size=64, initial_state=None, output_final_state=False,
             use_qk_l2norm_in_kernel=False, **kw):
    out, state = gated_delta_rule(query, key, value, g, beta, initial_state, use_qk_l2norm_in_kernel)
    return out, (state if output_final_state else None)


class fast_training_rule:
    """Context manager: transformers' chunked rule replaced by this one (training only)."""

    def __enter__(self):
        from transformers.models.qwen3_5 import modeling_qwen3_5 as mq
        self._mq, self._orig = mq, mq.torch_chunk_gated_delta_rule
        mq.torch_chunk_gated_delta_rule = _patched
        return self

    def __exit__(self, *exc):
        self._mq.torch_chunk_gated_delta_rule = self._orig
        return False
