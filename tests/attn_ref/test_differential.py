"""Differential attention (arXiv:2410.05258) against a transcription of the published naive forward
(microsoft/unilm Diff-Transformer/multihead_diffattn.py) and against torch SDPA."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_ref import DifferentialAttention, Trace, lambda_init

DT = torch.float64


def _rope_interleaved(x, inv_freq):
    """Independent RoPE oracle: x (B, L, H, d), pairs (2i, 2i+1) as complex numbers × e^{i·pos·θ_i}."""
    b, n, h, d = x.shape
    pos = torch.arange(n, dtype=DT)
    ang = pos[:, None] * inv_freq[None, :]                       # (L, d/2)
    rot = torch.polar(torch.ones_like(ang), ang)                 # e^{i·angle}
    xc = torch.view_as_complex(x.reshape(b, n, h, d // 2, 2).contiguous())
    return torch.view_as_real(xc * rot[None, :, None, :]).reshape(b, n, h, d)


def _published_forward(m, x, rope=False):
    """Straight transcription of the unilm MultiheadDiffAttn.forward (no GQA), float64."""
    bsz, tgt_len, embed_dim = x.size()
    src_len = tgt_len
    H, d = m.n_heads, embed_dim // m.n_heads // 2
    q = x @ m.q_proj.weight.T
    k = x @ m.k_proj.weight.T
    v = x @ m.v_proj.weight.T
    q = q.view(bsz, tgt_len, 2 * H, d)
    k = k.view(bsz, src_len, 2 * H, d)
    v = v.view(bsz, src_len, H, 2 * d)
    if rope:
        inv_freq = 1.0 / (10000.0 ** (torch.arange(0, d, 2, dtype=DT) / d))
        q, k = _rope_interleaved(q, inv_freq), _rope_interleaved(k, inv_freq)
    q = q.transpose(1, 2) * d ** -0.5
    k = k.transpose(1, 2)
    v = v.transpose(1, 2)
    w = q @ k.transpose(-1, -2)
    w = w + torch.triu(torch.full((tgt_len, src_len), float("-inf"), dtype=DT), 1)
    w = torch.softmax(w, dim=-1)
    lam1 = torch.exp(torch.sum(m.lambda_q1 * m.lambda_k1, dim=-1))
    lam2 = torch.exp(torch.sum(m.lambda_q2 * m.lambda_k2, dim=-1))
    lam_init = 0.8 - 0.6 * math.exp(-0.3 * m.depth)
    lam = lam1 - lam2 + lam_init
    w = w.view(bsz, H, 2, tgt_len, src_len)
    w = w[:, :, 0] - lam * w[:, :, 1]
    attn = w @ v
    attn = F.rms_norm(attn, (2 * d,), eps=1e-5)
    attn = attn * (1 - lam_init)
    attn = attn.transpose(1, 2).reshape(bsz, tgt_len, H * 2 * d)
    return attn @ m.out_proj.weight.T


def test_lambda_init_golden_values():
    assert lambda_init(0) == pytest.approx(0.2, abs=1e-15)
    assert lambda_init(1) == pytest.approx(0.3555090675909, abs=1e-12)
    assert lambda_init(5) == pytest.approx(0.8 - 0.6 * math.exp(-1.5), abs=1e-15)
    assert lambda_init(200) == pytest.approx(0.8, abs=1e-12)


@pytest.mark.parametrize("depth,rope", [(0, False), (3, False), (2, True)])
def test_matches_published_forward(depth, rope):
    torch.manual_seed(depth)
    m = DifferentialAttention(16, 2, depth, rope="interleaved" if rope else None).to(DT)
    x = torch.randn(2, 5, 16, dtype=DT)
    torch.testing.assert_close(m(x), _published_forward(m, x, rope=rope), rtol=1e-12, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(n_heads=st.integers(1, 3), d=st.sampled_from([2, 4]), n=st.integers(1, 6), depth=st.integers(0, 6),
       seed=st.integers(0, 2**16))
def test_matches_published_forward_property(n_heads, d, n, depth, seed):
    torch.manual_seed(seed)
    m = DifferentialAttention(2 * n_heads * d, n_heads, depth).to(DT)
    x = torch.randn(1, n, 2 * n_heads * d, dtype=DT)
    torch.testing.assert_close(m(x), _published_forward(m, x), rtol=1e-11, atol=1e-12)


def test_adjacent_head_pairing_not_halves():
    """A first-half/second-half split of the 2H heads (a known re-implementation bug) differs."""
    torch.manual_seed(1)
    m = DifferentialAttention(16, 2, 1).to(DT)
    x = torch.randn(1, 4, 16, dtype=DT)
    _, maps = m(x, return_maps=True)
    q = (x @ m.q_proj.weight.T).view(1, 4, 4, 4).transpose(1, 2)
    k = (x @ m.k_proj.weight.T).view(1, 4, 4, 4).transpose(1, 2)
    causal = torch.ones(4, 4, dtype=torch.bool).tril()
    p = torch.softmax((q @ k.transpose(-1, -2) / 2.0).masked_fill(~causal, float("-inf")), -1)
    torch.testing.assert_close(maps["attn1"], p[:, 0::2], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(maps["attn2"], p[:, 1::2], rtol=1e-12, atol=1e-12)
    assert not torch.allclose(maps["attn2"], p[:, 2:])


@pytest.mark.parametrize("causal", [True, False])
def test_lambda_zero_no_norm_is_standard_attention(causal):
    torch.manual_seed(2)
    H, d, n = 2, 4, 6
    m = DifferentialAttention(2 * H * d, H, depth=4, causal=causal, lambda_override=0.0, use_norm=False).to(DT)
    x = torch.randn(2, n, 2 * H * d, dtype=DT)
    q = (x @ m.q_proj.weight.T).view(2, n, 2 * H, d).transpose(1, 2)[:, 0::2]   # first map of each pair
    k = (x @ m.k_proj.weight.T).view(2, n, 2 * H, d).transpose(1, 2)[:, 0::2]
    v = (x @ m.v_proj.weight.T).view(2, n, H, 2 * d).transpose(1, 2)             # value heads of size 2d
    o = F.scaled_dot_product_attention(q, k, v, is_causal=causal)                 # default scale 1/sqrt(d)
    ref = o.transpose(1, 2).reshape(2, n, 2 * H * d) @ m.out_proj.weight.T
    torch.testing.assert_close(m(x), ref, rtol=1e-12, atol=1e-12)


def test_maps_equal_trace_and_output():
    torch.manual_seed(3)
    m = DifferentialAttention(8, 1, depth=2).to(DT)
    x = torch.randn(1, 5, 8, dtype=DT)
    tr = Trace()
    out, maps = m(x, return_maps=True, trace=tr)
    steps = tr.of_kind("diff.layer")
    assert len(steps) == 1 and steps[0].index == (2,)
    for key in ("attn1", "attn2", "diff", "lambda"):
        torch.testing.assert_close(steps[0][key], maps[key], rtol=0, atol=0)
    torch.testing.assert_close(tr[-1]["output"], out, rtol=0, atol=0)
    lam = torch.exp(m.lambda_q1 @ m.lambda_k1) - torch.exp(m.lambda_q2 @ m.lambda_k2) + lambda_init(2)
    torch.testing.assert_close(maps["lambda"], lam.detach(), rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(maps["diff"], maps["attn1"] - lam * maps["attn2"], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(maps["attn1"].sum(-1), torch.ones(1, 1, 5, dtype=DT), rtol=1e-12, atol=1e-12)
    assert torch.all(maps["attn2"].triu(1) == 0)                                   # causal
    torch.testing.assert_close(m(x), out, rtol=0, atol=0)                          # plain call agrees


def test_bad_input_names_argument():
    with pytest.raises(ValueError, match="d_model"):
        DifferentialAttention(10, 2, 0)                    # 10 not divisible by 2*n_heads = 4
    with pytest.raises(ValueError, match="depth"):
        DifferentialAttention(8, 2, -1)
    with pytest.raises(ValueError, match="depth"):
        lambda_init(-1)
    with pytest.raises(ValueError, match="rope"):
        DifferentialAttention(8, 2, 0, rope="neox")
    m = DifferentialAttention(8, 2, 0)
    with pytest.raises(ValueError, match="x"):
        m(torch.randn(1, 3, 6))
