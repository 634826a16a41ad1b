"""MultiHeadAttention / GQA / MQA against torch.nn.MultiheadAttention, torch SDPA and hand counts."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_ref.kv_cache import KVCache
from attn_ref.multihead import MultiHeadAttention, attention_flops, attention_params, mha_to_gqa
from attn_ref.rope import Rope

D64 = torch.float64


def _mha(*args, seed=0, **kwargs):
    torch.manual_seed(seed)
    return MultiHeadAttention(*args, **kwargs).to(D64)


def _torch_mha_from(ours: MultiHeadAttention) -> torch.nn.MultiheadAttention:
    ref = torch.nn.MultiheadAttention(ours.d_model, ours.n_heads, bias=ours.bias, batch_first=True, dtype=D64)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight]))
        ref.out_proj.weight.copy_(ours.o_proj.weight)
        if ours.bias:
            ref.in_proj_bias.copy_(torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias]))
            ref.out_proj.bias.copy_(ours.o_proj.bias)
    return ref


def _manual_heads(mha, x, context=None):
    """q, k, v (B, H, L, d_h) straight from the weights, no RoPE."""
    c = x if context is None else context

    def split(y, n):
        return y.view(y.shape[0], y.shape[1], n, mha.head_dim).transpose(1, 2)

    return (
        split(mha.q_proj(x), mha.n_heads),
        split(mha.k_proj(c), mha.n_kv_heads),
        split(mha.v_proj(c), mha.n_kv_heads),
    )


def _merge(mha, o):
    B, H, L, d = o.shape
    return mha.o_proj(o.transpose(1, 2).reshape(B, L, H * d))


@pytest.mark.parametrize("bias", [False, True])
def test_equals_torch_multihead_attention(bias):
    ours = _mha(16, 4, bias=bias, causal=False)
    ref = _torch_mha_from(ours)
    x = torch.randn(2, 5, 16, dtype=D64)
    out, w = ours(x, return_weights=True)
    ref_out, ref_w = ref(x, x, x, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(out, ref_out, atol=1e-10, rtol=0)
    torch.testing.assert_close(w, ref_w, atol=1e-10, rtol=0)


def test_causal_equals_torch_multihead_attention_with_causal_mask():
    ours = _mha(16, 2, bias=True, causal=True)
    ref = _torch_mha_from(ours)
    x = torch.randn(3, 6, 16, dtype=D64)
    future = torch.ones(6, 6, dtype=torch.bool).triu(1)  # torch: True = may NOT attend
    torch.testing.assert_close(
        ours(x), ref(x, x, x, attn_mask=future, need_weights=False)[0], atol=1e-10, rtol=0
    )


@pytest.mark.parametrize("n_kv_heads", [1, 2])
def test_gqa_equals_sdpa_on_repeat_interleaved_kv(n_kv_heads):
    mha = _mha(24, 4, n_kv_heads)
    x = torch.randn(2, 5, 24, dtype=D64)
    q, k, v = _manual_heads(mha, x)
    G = 4 // n_kv_heads
    ref = F.scaled_dot_product_attention(
        q, k.repeat_interleave(G, 1), v.repeat_interleave(G, 1), is_causal=True
    )
    torch.testing.assert_close(mha(x), _merge(mha, ref), atol=1e-10, rtol=0)
    if n_kv_heads == 2:  # tiling instead of interleaving pairs heads wrongly: the oracle can tell
        tiled = F.scaled_dot_product_attention(q, k.repeat(1, G, 1, 1), v.repeat(1, G, 1, 1), is_causal=True)
        assert (mha(x) - _merge(mha, tiled)).abs().max() > 1e-3


@settings(max_examples=15, deadline=None)
@given(
    B=st.integers(1, 2),
    L=st.integers(1, 6),
    n_kv=st.sampled_from([1, 2, 4]),
    causal=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_gqa_property_equals_torch_sdpa_enable_gqa(B, L, n_kv, causal, seed):
    mha = _mha(16, 4, n_kv, causal=causal, seed=seed)
    x = torch.randn(B, L, 16, dtype=D64, generator=torch.Generator().manual_seed(seed))
    q, k, v = _manual_heads(mha, x)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
    torch.testing.assert_close(mha(x), _merge(mha, ref), atol=1e-10, rtol=0)


def test_mha_to_gqa_one_head_per_group_is_identity():
    mha = _mha(16, 4, bias=True, rope=Rope(4))
    x = torch.randn(2, 5, 16, dtype=D64)
    same = mha_to_gqa(mha, 4)
    assert same.n_kv_heads == 4 and same is not mha
    torch.testing.assert_close(same(x), mha(x), atol=0, rtol=0)


def test_mha_to_gqa_mean_pools_groups():
    mha = _mha(16, 4, bias=True)
    gqa = mha_to_gqa(mha, 2)
    wk = mha.k_proj.weight.detach()
    expected = torch.cat([(wk[0:4] + wk[4:8]) / 2, (wk[8:12] + wk[12:16]) / 2])  # heads (0,1), (2,3), d_h=4
    torch.testing.assert_close(gqa.k_proj.weight, expected, atol=1e-15, rtol=0)
    bv = mha.v_proj.bias.detach()
    torch.testing.assert_close(
        gqa.v_proj.bias, torch.cat([(bv[0:4] + bv[4:8]) / 2, (bv[8:12] + bv[12:16]) / 2])
    )
    # when the heads of each group already agree, pooling loses nothing
    with torch.no_grad():
        for p in (mha.k_proj.weight, mha.v_proj.weight):
            p.view(2, 2, 4, 16)[:, 1] = p.view(2, 2, 4, 16)[:, 0]
        for p in (mha.k_proj.bias, mha.v_proj.bias):
            p.view(2, 2, 4)[:, 1] = p.view(2, 2, 4)[:, 0]
    x = torch.randn(2, 5, 16, dtype=D64)
    torch.testing.assert_close(mha_to_gqa(mha, 2)(x), mha(x), atol=1e-12, rtol=0)


def test_mha_to_gqa_first_head_and_random_methods():
    mha = _mha(16, 4, bias=True)
    first = mha_to_gqa(mha, 2, method="first")
    wk, bv = mha.k_proj.weight.detach(), mha.v_proj.bias.detach()
    torch.testing.assert_close(first.k_proj.weight, torch.cat([wk[0:4], wk[8:12]]), atol=0, rtol=0)  # heads 0, 2
    torch.testing.assert_close(first.v_proj.bias, torch.cat([bv[0:4], bv[8:12]]), atol=0, rtol=0)
    torch.testing.assert_close(first.q_proj.weight, mha.q_proj.weight, atol=0, rtol=0)
    torch.testing.assert_close(first.o_proj.bias, mha.o_proj.bias, atol=0, rtol=0)
    x = torch.randn(2, 5, 16, dtype=D64)
    torch.testing.assert_close(mha_to_gqa(mha, 4, method="first")(x), mha(x), atol=0, rtol=0)
    r1 = mha_to_gqa(mha, 1, method="random", generator=torch.Generator().manual_seed(3))
    r2 = mha_to_gqa(mha, 1, method="random", generator=torch.Generator().manual_seed(3))
    assert r1.k_proj.weight.shape == (4, 16) and r1.v_proj.bias.shape == (4,)
    torch.testing.assert_close(r1.v_proj.weight, r2.v_proj.weight, atol=0, rtol=0)  # seeded
    assert r1.k_proj.weight.abs().max() <= 0.25 and not torch.equal(r1.k_proj.weight, r1.v_proj.weight)
    torch.testing.assert_close(r1.q_proj.weight, mha.q_proj.weight, atol=0, rtol=0)
    with pytest.raises(ValueError, match="method"):
        mha_to_gqa(mha, 2, method="median")


def test_cross_attention_matches_manual_computation():
    mha = _mha(12, 3, causal=True)  # causal is ignored for cross-attention
    x, ctx = torch.randn(2, 3, 12, dtype=D64), torch.randn(2, 7, 12, dtype=D64)
    out, w = mha(x, context=ctx, return_weights=True)
    q, k, v = (t.detach() for t in _manual_heads(mha, x, ctx))
    ref_o = torch.zeros(2, 3, 3, 4, dtype=D64)  # (B, H, L, d_h) by explicit loops
    ref_w = torch.zeros(2, 3, 3, 7, dtype=D64)
    for b in range(2):
        for h in range(3):
            for i in range(3):
                s = [float(q[b, h, i] @ k[b, h, j]) / math.sqrt(4) for j in range(7)]
                e = [math.exp(t - max(s)) for t in s]
                p = [t / sum(e) for t in e]
                ref_w[b, h, i] = torch.tensor(p, dtype=D64)
                ref_o[b, h, i] = sum(p[j] * v[b, h, j] for j in range(7))
    assert out.shape == (2, 3, 12) and w.shape == (2, 3, 3, 7)
    torch.testing.assert_close(w, ref_w, atol=1e-12, rtol=0)
    torch.testing.assert_close(out, _merge(mha, ref_o), atol=1e-12, rtol=0)


def test_cross_attention_cache_is_filled_once_and_never_grows():
    mha = _mha(12, 3, 1)
    x1, x2, ctx = (
        torch.randn(1, 2, 12, dtype=D64),
        torch.randn(1, 1, 12, dtype=D64),
        torch.randn(1, 5, 12, dtype=D64),
    )
    cache = KVCache(1, 1, 4, dtype=D64)
    torch.testing.assert_close(mha(x1, context=ctx, cache=cache), mha(x1, context=ctx), atol=1e-12, rtol=0)
    assert len(cache) == 5
    torch.testing.assert_close(mha(x2, context=ctx, cache=cache), mha(x2, context=ctx), atol=1e-12, rtol=0)
    assert len(cache) == 5


def test_attn_mask_bool_and_additive_agree():
    mha = _mha(16, 4, 2)
    x = torch.randn(2, 4, 16, dtype=D64)
    keep = torch.tensor([[True, True, False, True], [False, True, True, True]])[:, None, None, :]
    additive = torch.zeros(keep.shape, dtype=D64).masked_fill(~keep, float("-inf"))
    out_b, w = mha(x, attn_mask=keep, return_weights=True)
    torch.testing.assert_close(out_b, mha(x, attn_mask=additive), atol=1e-12, rtol=0)
    assert torch.all(w[0, :, :, 2] == 0) and torch.all(w[1, :, :, 0] == 0)
    assert torch.all(w.triu(1) == 0)  # causal as well


def test_attention_params_hand_counts():
    assert attention_params(4096, 32) == 4 * 4096**2  # Llama-2-7B layer: 67,108,864
    assert attention_params(4096, 32, 8) == 41_943_040  # Llama-3-8B: 2·4096² + 2·4096·1024
    assert attention_params(8, 2, 1, bias=True) == 72 + 2 * 36 + 72  # Q 8·8+8, K/V 8·4+4, O 8·8+8
    for args in [(16, 4, None, False), (16, 4, 2, True), (24, 6, 1, True)]:
        mha = MultiHeadAttention(*args[:3], bias=args[3])
        assert attention_params(*args) == sum(p.numel() for p in mha.parameters())


def test_attention_flops_hand_counts():
    assert attention_flops(2, 3, 5, 7, 11) == 4 * 2 * 3 * 5 * 7 * 11 == 9240
    assert attention_flops(2, 3, 5, 7, 11, causal=True) == 4620
    # FlashAttention-2 benchmark setting: batch 16, 2k tokens, 16 heads of 128 -> 4·16·16·2048²·128
    assert attention_flops(16, 16, 2048, 2048, 128) == 549_755_813_888


def test_rope_changes_scores_but_is_used_in_self_attention_only():
    plain, roped = _mha(16, 4), _mha(16, 4, rope=Rope(4))
    x, ctx = torch.randn(1, 4, 16, dtype=D64), torch.randn(1, 3, 16, dtype=D64)
    assert (plain(x) - roped(x)).abs().max() > 1e-6
    torch.testing.assert_close(plain(x, context=ctx), roped(x, context=ctx), atol=0, rtol=0)


def test_error_heads_not_divisible_by_kv_heads():
    with pytest.raises(ValueError, match=r"n_heads must be divisible by n_kv_heads.*n_heads=8, n_kv_heads=3"):
        MultiHeadAttention(32, 8, 3)


def test_error_d_model_not_divisible_by_n_heads():
    with pytest.raises(
        ValueError, match=r"d_model must be divisible by n_heads.*d_model=30, n_heads=4.*multiple of 4"
    ):
        MultiHeadAttention(30, 4)


def test_error_input_width():
    with pytest.raises(ValueError, match=r"x must have shape \(B, L, d_model=16\), got shape \(1, 3, 12\)"):
        _mha(16, 4)(torch.randn(1, 3, 12, dtype=D64))
