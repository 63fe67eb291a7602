"""The loop-free gated delta rule (qwen35_gdn.py) against transformers' own chunked and recurrent
rules. Needs torch and transformers (the recorder's requirements); skipped where they are absent."""
from __future__ import annotations

import pathlib
import sys

import pytest

torch = pytest.importorskip("torch")
mq = pytest.importorskip("transformers.models.qwen3_5.modeling_qwen3_5")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
import qwen35_gdn  # noqa: E402


@pytest.mark.parametrize("S", [1, 5, 63, 64, 74, 150])
def test_matches_transformers_across_chunk_boundaries(S):
    g = torch.Generator().manual_seed(S)
    B, H, dk, dv = 1, 4, 16, 16
    q, k = torch.randn(B, S, H, dk, generator=g), torch.randn(B, S, H, dk, generator=g)
    v = torch.randn(B, S, H, dv, generator=g)
    decay = -torch.rand(B, S, H, generator=g) * 2
    beta = torch.rand(B, S, H, generator=g)
    s0 = torch.randn(B, H, dk, dv, generator=g) * 0.3
    ref, ref_state = mq.torch_chunk_gated_delta_rule(q, k, v, g=decay, beta=beta, initial_state=s0,
                                                     output_final_state=True, use_qk_l2norm_in_kernel=True)
    out, state = qwen35_gdn.gated_delta_rule(q, k, v, decay, beta, s0, True)
    assert (out - ref).abs().max() < 5e-6
    assert (state - ref_state).abs().max() < 1e-5
    if S == 1:  # a decode step: transformers' per-token kernel
        rec, rec_state = mq.torch_recurrent_gated_delta_rule(q, k, v, g=decay, beta=beta, initial_state=s0,
                                                             output_final_state=True, use_qk_l2norm_in_kernel=True)
        assert (out - rec).abs().max() < 1e-6 and (state - rec_state).abs().max() < 1e-6


def test_unit_lower_inverse_is_exact_up_to_its_limit():
    n = qwen35_gdn.MAX_STEP_TOKENS
    a = torch.randn(n, n, dtype=torch.float64).tril(-1) * 0.05
    inv = qwen35_gdn.unit_lower_inverse(a)
    eye = torch.eye(n, dtype=torch.float64)
    assert (inv @ (eye - a) - eye).abs().max() < 1e-9
