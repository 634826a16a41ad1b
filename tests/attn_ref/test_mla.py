"""Multi-head Latent Attention: paper equations oracle, naive == absorbed, latent cache size, decode == prefill."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_ref.mla import (
    DEEPSEEK_V2,
    MLACache,
    MLAConfig,
    MultiHeadLatentAttention,
    mha_cache_elems_per_token,
    mla_cache_elems_per_token,
)

DT = torch.float64
SMALL = {"d_model": 16, "n_heads": 4, "head_dim": 8, "kv_lora_rank": 12, "q_lora_rank": 10, "rope_head_dim": 4,
         "v_head_dim": 6}


def _model(seed=0, **overrides):
    torch.manual_seed(seed)
    m = MultiHeadLatentAttention(MLAConfig(**{**SMALL, **overrides})).to(DT)
    with torch.no_grad():  # non-trivial RMSNorm gains, so a missing or misplaced norm shows
        m.kv_norm.weight.uniform_(0.5, 1.5)
        if m.q_norm is not None:
            m.q_norm.weight.uniform_(0.5, 1.5)
    return m


def _x(b=2, t=6, d=16, seed=1):
    return torch.randn(b, t, d, dtype=DT, generator=torch.Generator().manual_seed(seed))


def _rope_complex(x, positions, base=10000.0):
    """Interleaved RoPE as DeepSeek's apply_rotary_emb: pairs (2i, 2i+1) as complex numbers times e^{i p θ_i}."""
    d = x.shape[-1]
    inv_freq = 1.0 / base ** (torch.arange(0, d, 2, dtype=DT) / d)
    rot = torch.polar(torch.ones(len(positions), d // 2, dtype=DT), positions.to(DT)[:, None] * inv_freq)
    xc = torch.view_as_complex(x.reshape(*x.shape[:-1], d // 2, 2).contiguous())
    return torch.view_as_real(xc * rot).flatten(-2)


def _rms(x, g, eps=1e-6):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * g


def _paper_mla(m, x):
    """DeepSeek-V2 §2.1 equations, head by head, with torch SDPA (is_causal) as the attention."""
    c = m.config
    t = x.shape[1]
    pos = torch.arange(t)
    c_q = _rms(x @ m.W_DQ.weight.T, m.q_norm.weight) if m.W_DQ is not None else x
    c_kv = _rms(x @ m.W_DKV.weight.T, m.kv_norm.weight)
    k_r = _rope_complex(x @ m.W_KR.weight.T, pos)  # (B, T, d_R), one for all heads
    heads = []
    for i in range(c.n_heads):
        sl = slice(i * c.head_dim, (i + 1) * c.head_dim)
        slr = slice(i * c.rope_head_dim, (i + 1) * c.rope_head_dim)
        slv = slice(i * c.v_dim, (i + 1) * c.v_dim)
        q_i = torch.cat([c_q @ m.W_UQ.weight[sl].T, _rope_complex(c_q @ m.W_QR.weight[slr].T, pos)], -1)
        k_i = torch.cat([c_kv @ m.W_UK.weight[sl].T, k_r], -1)
        v_i = c_kv @ m.W_UV.weight[slv].T
        heads.append(F.scaled_dot_product_attention(q_i, k_i, v_i, is_causal=True,
                                                    scale=1 / math.sqrt(c.head_dim + c.rope_head_dim)))
    return torch.cat(heads, -1) @ m.W_O.weight.T


@pytest.mark.parametrize("overrides", [{}, {"q_lora_rank": None}, {"v_head_dim": None}])
def test_matches_paper_equations_in_both_modes(overrides):
    m = _model(**overrides)
    x = _x()
    ref = _paper_mla(m, x)
    for mode in ("naive", "absorbed"):
        torch.testing.assert_close(m(x, mode=mode), ref, atol=1e-10, rtol=0)


def test_naive_equals_absorbed_prefill_and_scores():
    m = _model()
    x = _x(t=7)
    tn, ta = [], []
    out_n = m(x, mode="naive", trace=tn)
    out_a = m(x, mode="absorbed", trace=ta)
    torch.testing.assert_close(out_a, out_n, atol=1e-10, rtol=0)
    # The absorbed scores q̂ᵀc + q^Rᵀk^R equal the naive per-head scores qᵀk.
    torch.testing.assert_close(ta[-1]["scores"], tn[-1]["scores"], atol=1e-10, rtol=0)
    assert ta[-1]["scores"].shape == (2, 4, 7, 7) and torch.isneginf(ta[-1]["scores"][..., 0, 1:]).all()
    for tr, out in ((tn, out_n), (ta, out_a)):
        assert len(tr) == 1 and tr[-1].kind == "mla.step"
        torch.testing.assert_close(tr[-1]["output"], out, atol=0, rtol=0)


@pytest.mark.parametrize("mode", ["naive", "absorbed"])
def test_decode_token_by_token_equals_prefill(mode):
    m = _model(seed=2)
    x = _x(t=6, seed=3)
    full = m(x, mode="naive")
    cache = MLACache()
    steps = [m(x[:, :2], cache=cache, mode=mode)]  # prefill 2, then one token at a time
    for t in range(2, 6):
        trace = []
        steps.append(m(x[:, t:t + 1], cache=cache, mode=mode, trace=trace))
        assert trace[-1].index == (t,) and trace[-1]["c_KV"].shape == (2, t + 1, 12)
        torch.testing.assert_close(trace[-1]["c_KV"], cache.c_kv, atol=0, rtol=0)
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-10, rtol=0)


def test_mixed_modes_share_one_cache():
    m = _model(seed=4)
    x = _x(t=5, seed=5)
    cache = MLACache()
    a = m(x[:, :3], cache=cache, mode="absorbed")
    b = m(x[:, 3:], cache=cache, mode="naive")
    torch.testing.assert_close(torch.cat([a, b], 1), m(x, mode="absorbed"), atol=1e-10, rtol=0)


def test_cache_holds_only_latent_and_shared_rope_key():
    m = _model()
    cfg = m.config
    cache = MLACache()
    m(_x(b=3, t=4), cache=cache, mode="naive")
    m(_x(b=3, t=1, seed=7), cache=cache, mode="absorbed")
    per_token = cfg.kv_lora_rank + cfg.rope_head_dim
    assert cache.length == 5 and cache.elems_per_token() == per_token == mla_cache_elems_per_token(cfg)
    stored = sum(v.numel() for v in vars(cache).values() if isinstance(v, torch.Tensor))
    assert stored == cache.numel() == 3 * 5 * per_token  # nothing else is kept
    assert cache.c_kv.shape == (3, 5, 12) and cache.k_rope.shape == (3, 5, 4)


def test_deepseek_v2_cache_sizes():
    assert mla_cache_elems_per_token(DEEPSEEK_V2) == 576
    assert mha_cache_elems_per_token(128, 128) == 32768
    assert DEEPSEEK_V2.scale == pytest.approx(1 / math.sqrt(192))
    assert (DEEPSEEK_V2.kv_lora_rank + DEEPSEEK_V2.rope_head_dim) / DEEPSEEK_V2.head_dim == 4.5  # GQA 2.25 groups


def test_decoupled_rope_key_shared_across_heads():
    m = _model()
    cfg = m.config
    assert m.W_KR.weight.shape == (cfg.rope_head_dim, cfg.d_model)  # one RoPE key, not n_h of them
    x = _x(t=5)
    c_kv, k_rope = m.compress_kv(x, torch.arange(5))
    k, v = m.expand_kv(c_kv, k_rope)
    assert k.shape == (2, 4, 5, 12) and v.shape == (2, 4, 5, 6)
    rope_part = k[..., cfg.head_dim:]
    assert torch.equal(rope_part, rope_part[:, :1].expand_as(rope_part))
    assert not torch.allclose(k[:, 0, :, :cfg.head_dim], k[:, 1, :, :cfg.head_dim])  # content keys differ


def test_only_relative_positions_matter():
    # RoPE on both q^R and the shared k^R: shifting every position by 11 leaves the layer unchanged,
    # while scrambling positions changes it (so RoPE is really applied).
    m = _model(seed=6)
    x = _x(t=5, seed=8)
    base = m(x, mode="absorbed")
    torch.testing.assert_close(m(x, positions=torch.arange(5) + 11, mode="absorbed"), base, atol=1e-10, rtol=0)
    assert not torch.allclose(m(x, positions=torch.tensor([0, 3, 1, 4, 2])), base, atol=1e-6)


@settings(max_examples=10, deadline=None)
@given(n_heads=st.integers(1, 3), head_dim=st.integers(1, 5), rope_half=st.integers(1, 3),
       kv_rank=st.integers(1, 8), q_rank=st.one_of(st.none(), st.integers(1, 8)), v_dim=st.integers(1, 5),
       t=st.integers(1, 5))
def test_naive_equals_absorbed_property(n_heads, head_dim, rope_half, kv_rank, q_rank, v_dim, t):
    m = _model(d_model=8, n_heads=n_heads, head_dim=head_dim, kv_lora_rank=kv_rank, q_lora_rank=q_rank,
               rope_head_dim=2 * rope_half, v_head_dim=v_dim)
    x = _x(b=1, t=t, d=8)
    torch.testing.assert_close(m(x, mode="absorbed"), m(x, mode="naive"), atol=1e-10, rtol=0)


@pytest.mark.parametrize("field,value,exc", [
    ("kv_lora_rank", 17, ValueError),
    ("q_lora_rank", 32, ValueError),
    ("rope_head_dim", 3, ValueError),
    ("n_heads", 0, ValueError),
    ("head_dim", 2.0, TypeError),
    ("v_head_dim", -1, ValueError),
])
def test_bad_config_names_the_argument(field, value, exc):
    with pytest.raises(exc, match=field):
        MLAConfig(**{**SMALL, field: value})


def test_bad_forward_arguments():
    m = _model()
    with pytest.raises(ValueError, match="mode"):
        m(_x(), mode="fused")
    with pytest.raises(ValueError, match="d_model"):
        m(torch.zeros(1, 2, 15, dtype=DT))
    with pytest.raises(TypeError, match="cache"):
        m(_x(), cache={})
    with pytest.raises(TypeError, match="config"):
        MultiHeadLatentAttention(SMALL)
