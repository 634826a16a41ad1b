"""attn_ref.core against torch SDPA (float64), brute-force definitions and closed forms."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_ref.core import (attention_lse, attention_scores, needle_margin, needle_weight, repeat_kv, round_to_sum,
                           sdpa, softmax)
from attn_ref.masks import causal_mask

f64 = torch.float64


def rand(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=f64)


def qkv(b=2, h=2, h_kv=None, n_q=3, n_k=5, d=4, dv=3, seed=0):
    h_kv = h if h_kv is None else h_kv
    return rand(b, h, n_q, d, seed=seed), rand(b, h_kv, n_k, d, seed=seed + 1), rand(b, h_kv, n_k, dv, seed=seed + 2)


def naive(q, k, v, keep):
    """Brute-force loop: out_i = Σ_j softmax over kept j of (q_i·k_j/√d) v_j; 0 if nothing kept."""
    b, h, n_q, d = q.shape
    out = torch.zeros(b, h, n_q, v.shape[-1], dtype=f64)
    for bi in range(b):
        for hi in range(h):
            for i in range(n_q):
                js = [j for j in range(k.shape[-2]) if keep[bi, hi, i, j]]
                if not js:
                    continue
                s = torch.tensor([float(q[bi, hi, i] @ k[bi, hi, j]) / math.sqrt(d) for j in js], dtype=f64)
                w = torch.exp(s - s.max())
                w = w / w.sum()
                out[bi, hi, i] = sum(w[t] * v[bi, hi, j] for t, j in enumerate(js))
    return out


# ---------------------------------------------------------------- softmax

def test_softmax_matches_torch_on_finite_input():
    x = rand(3, 4, 7) * 30
    for dim in (-1, 0, 1):
        torch.testing.assert_close(softmax(x, dim=dim), torch.softmax(x, dim=dim), atol=1e-15, rtol=0)


def test_softmax_all_neg_inf_row_is_zero_with_finite_grad():
    x = torch.tensor([[0.5, float("-inf"), 1.0], [float("-inf")] * 3], dtype=f64, requires_grad=True)
    y = softmax(x)
    assert torch.equal(y[1], torch.zeros(3, dtype=f64))
    torch.testing.assert_close(y[0], torch.softmax(x[0].detach(), -1))
    (y * torch.arange(3.0, dtype=f64)).sum().backward()
    assert torch.isfinite(x.grad).all()
    assert torch.equal(x.grad[1], torch.zeros(3, dtype=f64))


def test_softmax_huge_values_stable():
    x = torch.tensor([1000.0, 1001.0, 999.0], dtype=f64)
    e = torch.exp(torch.tensor([-1.0, 0.0, -2.0], dtype=f64))
    torch.testing.assert_close(softmax(x), e / e.sum(), atol=1e-15, rtol=0)


# ---------------------------------------------------------------- repeat_kv

def test_repeat_kv_matches_repeat_interleave():
    x = rand(2, 3, 4, 5)
    assert repeat_kv(x, 1) is x
    r = repeat_kv(x, 4)
    assert r.shape == (2, 12, 4, 5)
    assert torch.equal(r, x.repeat_interleave(4, dim=1))
    for h in range(12):  # query head h reads kv head h // 4
        assert torch.equal(r[:, h], x[:, h // 4])


# ---------------------------------------------------------------- sdpa vs torch SDPA

@pytest.mark.parametrize("n_q,n_k", [(1, 1), (3, 5), (7, 7), (7, 1), (1, 7)])
@pytest.mark.parametrize("is_causal", [False, True])
def test_sdpa_matches_torch_no_mask(n_q, n_k, is_causal):
    q, k, v = qkv(n_q=n_q, n_k=n_k)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
    torch.testing.assert_close(sdpa(q, k, v, is_causal=is_causal), ref, atol=1e-12, rtol=0)


@pytest.mark.parametrize("kind", ["bool", "float"])
@pytest.mark.parametrize("shape", [(3, 5), (1, 1, 3, 5), (2, 1, 3, 5), (2, 2, 3, 5), (5,)])
def test_sdpa_matches_torch_with_mask(kind, shape):
    q, k, v = qkv(n_q=3, n_k=5)
    g = torch.Generator().manual_seed(3)
    keep = torch.rand(shape, generator=g) > 0.3
    if kind == "bool":
        mask = keep
    else:  # finite biases plus -inf drops
        mask = torch.where(keep, torch.rand(shape, generator=g, dtype=f64), torch.tensor(float("-inf"), dtype=f64))
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask.expand(2, 2, 3, 5))  # torch wants >= 2-D
    torch.testing.assert_close(sdpa(q, k, v, attn_mask=mask), ref, atol=1e-12, rtol=0)


def test_sdpa_custom_scale_matches_torch():
    q, k, v = qkv()
    for s in (0.1, 1.0, 2.5):
        ref = F.scaled_dot_product_attention(q, k, v, scale=s)
        torch.testing.assert_close(sdpa(q, k, v, scale=s), ref, atol=1e-12, rtol=0)


@pytest.mark.parametrize("h_kv", [1, 2, 8])
def test_sdpa_gqa_matches_torch_on_repeated_kv(h_kv):
    q, k, v = qkv(h=8, h_kv=h_kv, n_q=4, n_k=6)
    n_rep = 8 // h_kv
    ref = F.scaled_dot_product_attention(
        q, k.repeat_interleave(n_rep, 1), v.repeat_interleave(n_rep, 1), is_causal=True)
    torch.testing.assert_close(sdpa(q, k, v, is_causal=True, enable_gqa=True), ref, atol=1e-12, rtol=0)
    ref2 = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    torch.testing.assert_close(sdpa(q, k, v, is_causal=True, enable_gqa=True), ref2, atol=1e-12, rtol=0)


def test_sdpa_matches_brute_force_loop():
    q, k, v = qkv(n_q=3, n_k=4)
    keep = causal_mask(3, 4, "lower_right").expand(2, 2, 3, 4)
    torch.testing.assert_close(sdpa(q, k, v, attn_mask=keep), naive(q, k, v, keep), atol=1e-12, rtol=0)


@pytest.mark.parametrize("n_q,n_k", [(3, 4), (1, 6), (5, 5), (6, 3)])
def test_lower_right_causal_equals_explicit_mask(n_q, n_k):
    q, k, v = qkv(n_q=n_q, n_k=n_k)
    m = torch.ones(n_q, n_k, dtype=torch.bool).tril(diagonal=n_k - n_q)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=m)
    got = sdpa(q, k, v, is_causal=True, causal_alignment="lower_right")
    torch.testing.assert_close(got, ref, atol=1e-12, rtol=0)


def test_lower_right_single_query_sees_everything():
    q, k, v = qkv(n_q=1, n_k=6)
    got = sdpa(q, k, v, is_causal=True, causal_alignment="lower_right")
    torch.testing.assert_close(got, sdpa(q, k, v), atol=1e-12, rtol=0)
    # while upper-left (the classic KV-cache bug) sees only key 0: output = v_0
    torch.testing.assert_close(sdpa(q, k, v, is_causal=True), v[:, :, :1], atol=1e-12, rtol=0)


def test_causal_weights_show_documented_3x4_patterns():
    q, k, v = qkv(n_q=3, n_k=4)
    _, w_ul = sdpa(q, k, v, is_causal=True, return_weights=True)
    _, w_lr = sdpa(q, k, v, is_causal=True, causal_alignment="lower_right", return_weights=True)
    ul = torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]], dtype=torch.bool)
    lr = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]], dtype=torch.bool)
    assert torch.equal(w_ul[0, 0] > 0, ul)
    assert torch.equal(w_lr[0, 0] > 0, lr)


def test_is_causal_and_mask_combine_with_and():
    q, k, v = qkv(n_q=4, n_k=4)
    keep = torch.tensor([[1, 1, 0, 1]] * 4, dtype=torch.bool)
    both = keep & torch.ones(4, 4, dtype=torch.bool).tril()
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=both)
    torch.testing.assert_close(sdpa(q, k, v, attn_mask=keep, is_causal=True), ref, atol=1e-12, rtol=0)


def test_bool_mask_equals_additive_twin():
    q, k, v = qkv(n_q=4, n_k=6)
    keep = torch.rand(4, 6, generator=torch.Generator().manual_seed(1)) > 0.4
    keep[:, 0] = True
    add = torch.zeros(4, 6, dtype=f64).masked_fill(~keep, float("-inf"))
    torch.testing.assert_close(sdpa(q, k, v, attn_mask=keep), sdpa(q, k, v, attn_mask=add), atol=1e-14, rtol=0)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_fully_masked_row_gives_zeros_and_finite_grads(kind):
    q, k, v = qkv(n_q=3, n_k=4)
    q, k, v = (t.clone().requires_grad_(True) for t in (q, k, v))
    keep = torch.ones(3, 4, dtype=torch.bool)
    keep[1] = False
    mask = keep if kind == "bool" else torch.zeros(3, 4, dtype=f64).masked_fill(~keep, float("-inf"))
    out, w = sdpa(q, k, v, attn_mask=mask, return_weights=True)
    assert torch.equal(out[:, :, 1], torch.zeros_like(out[:, :, 1]))
    assert torch.equal(w[:, :, 1], torch.zeros_like(w[:, :, 1]))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=1e-12, rtol=0)
    out.square().sum().backward()
    for t in (q, k, v):
        assert torch.isfinite(t.grad).all()
    assert torch.equal(q.grad[:, :, 1], torch.zeros_like(q.grad[:, :, 1]))


def test_gradients_match_torch():
    q, k, v = (t.requires_grad_(True) for t in qkv(n_q=3, n_k=5))
    mask = causal_mask(3, 5, "lower_right")
    g1 = torch.autograd.grad(sdpa(q, k, v, attn_mask=mask).sum(), (q, k, v))
    g2 = torch.autograd.grad(F.scaled_dot_product_attention(q, k, v, attn_mask=mask).sum(), (q, k, v))
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


def test_return_weights_rows_sum_to_one_or_zero():
    q, k, v = qkv(n_q=5, n_k=3)
    out, w = sdpa(q, k, v, is_causal=True, causal_alignment="lower_right", return_weights=True)
    sums = w.sum(-1)
    expect = torch.tensor([0, 0, 1, 1, 1], dtype=f64).expand_as(sums)  # rows 0, 1 see no key
    torch.testing.assert_close(sums, expect, atol=1e-14, rtol=0)
    torch.testing.assert_close(out, w @ v, atol=1e-14, rtol=0)


def test_attention_lse_matches_logsumexp_and_scores():
    q, k, _ = qkv(n_q=3, n_k=4)
    s = attention_scores(q, k, is_causal=True, scale=0.7)
    torch.testing.assert_close(s[..., 0, 0], (q[..., 0, :] * k[..., 0, :]).sum(-1) * 0.7, atol=1e-14, rtol=0)
    assert torch.isneginf(s[..., 0, 1:]).all()
    lse = attention_lse(q, k, is_causal=True, scale=0.7)
    ref = torch.log(torch.exp(s).sum(-1))
    torch.testing.assert_close(lse, ref, atol=1e-12, rtol=0)
    empty = attention_lse(q, k, attn_mask=torch.zeros(3, 4, dtype=torch.bool))
    assert torch.isneginf(empty).all()


@settings(max_examples=20, deadline=None)
@given(b=st.integers(1, 2), h_kv=st.integers(1, 3), rep=st.integers(1, 3), n_q=st.integers(1, 6),
       n_k=st.integers(1, 6), d=st.integers(1, 5), causal=st.booleans(), seed=st.integers(0, 10_000))
def test_sdpa_property_matches_torch(b, h_kv, rep, n_q, n_k, d, causal, seed):
    h = h_kv * rep
    q, k, v = rand(b, h, n_q, d, seed=seed), rand(b, h_kv, n_k, d, seed=seed + 1), rand(b, h_kv, n_k, 2, seed=seed + 2)
    mask = torch.rand(b, 1, n_q, n_k, generator=torch.Generator().manual_seed(seed)) > 0.3
    got = sdpa(q, k, v, attn_mask=mask, enable_gqa=True, is_causal=causal)
    if causal:
        mask = mask & torch.ones(n_q, n_k, dtype=torch.bool).tril()
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=True)
    torch.testing.assert_close(got, ref, atol=1e-12, rtol=0)


# ---------------------------------------------------------------- round_to_sum

def test_round_to_sum_known_cases():
    thirds = torch.full((3,), 1 / 3, dtype=f64)
    assert round_to_sum(thirds).tolist() == [0.34, 0.33, 0.33]  # tie -> lowest index
    assert round_to_sum(torch.tensor([0.125, 0.125, 0.75], dtype=f64)).tolist() == [0.13, 0.12, 0.75]
    # naive rounding gives 0.17 * 6 = 1.02; Hamilton gives 1.00
    sixths = torch.full((6,), 1 / 6, dtype=f64)
    assert (round_to_sum(sixths) * 100).round().long().sum() == 100
    assert (torch.round(sixths * 100)).sum() == 102
    assert round_to_sum(torch.zeros(4)).tolist() == [0.0] * 4


def test_round_to_sum_dim_and_decimals():
    p = torch.softmax(rand(4, 7), dim=0)  # columns sum to 1
    r = round_to_sum(p, decimals=3, dim=0)
    assert r.dtype == f64 and r.shape == p.shape
    assert torch.equal((r * 1000).round().long().sum(0), torch.full((7,), 1000))


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 4), n=st.integers(1, 12), decimals=st.integers(0, 4),
       temp=st.floats(0.1, 10.0), seed=st.integers(0, 10_000))
def test_round_to_sum_property(rows, n, decimals, temp, seed):
    p = torch.softmax(rand(rows, n, seed=seed) * temp, dim=-1)
    r = round_to_sum(p, decimals=decimals)
    unit = 10 ** decimals
    ints = (r * unit).round().long()
    assert torch.equal(ints.sum(-1), torch.full((rows,), unit))  # exact at shown precision
    assert ((r - p).abs() <= 1.0 / unit + 1e-12).all()  # moves by at most one unit in the last place
    assert torch.equal(round_to_sum(p, decimals=decimals), r)  # deterministic


# ---------------------------------------------------------------- bad input

def test_bad_batch():
    q, k, v = qkv()
    with pytest.raises(ValueError, match=r"k batch size.*\(2, 2, 3, 4\)"):
        sdpa(q, k[:1], v[:1])


def test_bad_heads_without_gqa():
    q, k, v = qkv(h=4, h_kv=2)
    with pytest.raises(ValueError, match=r"k heads must equal q heads.*enable_gqa"):
        sdpa(q, k, v)


def test_bad_gqa_not_divisible():
    q, k, v = qkv(h=3, h_kv=2)
    with pytest.raises(ValueError, match=r"enable_gqa.*q heads \(3\).*divisible by k heads \(2\)"):
        sdpa(q, k, v, enable_gqa=True)


def test_bad_head_dim():
    q, _, v = qkv()
    with pytest.raises(ValueError, match=r"k head dim.*\(4\)"):
        sdpa(q, rand(2, 2, 5, 3), v)


def test_bad_kv_length():
    q, k, _ = qkv()
    with pytest.raises(ValueError, match=r"v must match k.*\(2, 2, 4, 3\)"):
        sdpa(q, k, rand(2, 2, 4, 3))


def test_bad_dtype():
    q, k, v = qkv()
    with pytest.raises(ValueError, match="q and k must have the same dtype"):
        sdpa(q, k.float(), v)
    with pytest.raises(TypeError, match="q must be a floating-point"):
        sdpa(q.long(), k.long(), v.long())


def test_bad_ndim_and_type():
    q, k, v = qkv()
    with pytest.raises(ValueError, match=r"q must have 4 dimensions, got shape \(3, 4\)"):
        sdpa(q[0, 0], k, v)
    with pytest.raises(TypeError, match=r"v must be a torch\.Tensor"):
        sdpa(q, k, v.tolist())


def test_bad_mask_shape_and_dtype():
    q, k, v = qkv(n_q=3, n_k=5)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 4\).*\(2, 2, 3, 5\)"):
        sdpa(q, k, v, attn_mask=torch.ones(3, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 2, 3, 5\)"):
        sdpa(q, k, v, attn_mask=torch.ones(3, 2, 3, 5, dtype=torch.bool))
    with pytest.raises(TypeError, match="attn_mask must be bool"):
        sdpa(q, k, v, attn_mask=torch.ones(3, 5, dtype=torch.int64))
    with pytest.raises(ValueError, match="attn_mask and q must have the same dtype"):
        sdpa(q, k, v, attn_mask=torch.zeros(3, 5, dtype=torch.float32))


def test_bad_alignment():
    q, k, v = qkv()
    with pytest.raises(ValueError, match="causal_alignment must be one of"):
        sdpa(q, k, v, is_causal=True, causal_alignment="bottom_right")


def test_bad_round_to_sum_input():
    with pytest.raises(ValueError, match="decimals"):
        round_to_sum(torch.ones(3), decimals=-1)
    with pytest.raises(ValueError, match="finite"):
        round_to_sum(torch.tensor([0.5, float("nan")]))


# --------------------------------------------------------------------------------------- softmax dilution
@pytest.mark.parametrize("delta,n", [(0.0, 1), (2.0, 9), (5.0, 1000), (-1.5, 30), (3.0, 0)])
def test_needle_weight_is_softmax_of_one_bump_over_n_equal_logits(delta, n):
    row = torch.tensor([delta] + [0.0] * n, dtype=f64)
    assert needle_weight(delta, n) == pytest.approx(float(softmax(row)[0]), rel=1e-14, abs=1e-300)
    assert needle_weight(delta, n) == pytest.approx(float(torch.softmax(row, 0)[0]), rel=1e-14)
    assert needle_weight(delta, n) == pytest.approx(math.exp(delta) / (math.exp(delta) + n), rel=1e-14)


def test_needle_weight_dilutes_and_margin_inverts_it():
    ws = [needle_weight(4.0, n) for n in (10, 100, 1000, 10_000)]
    assert ws == sorted(set(ws), reverse=True) and ws[0] > 0.8 > 0.01 > ws[-1]
    for p in (0.1, 0.5, 0.9, 0.99):
        for n in (1, 7, 4096, 10**6):
            delta = needle_margin(p, n)
            assert needle_weight(delta, n) == pytest.approx(p, rel=1e-12)
            assert delta == pytest.approx(math.log(p / (1 - p)) + math.log(n), rel=1e-12, abs=1e-12)
            assert needle_margin(p, 10 * n) - delta == pytest.approx(math.log(10), rel=1e-12)   # grows like ln N
    assert needle_weight(-800.0, 3) == 0.0 and needle_weight(800.0, 10**9) == 1.0


def test_bad_dilution_input():
    with pytest.raises(ValueError, match="n_distractors"):
        needle_weight(1.0, -1)
    with pytest.raises(TypeError, match="delta"):
        needle_weight(float("nan"), 3)
    with pytest.raises(ValueError, match="p must be"):
        needle_margin(1.0, 3)
    with pytest.raises(ValueError, match="n_distractors"):
        needle_margin(0.5, 0)
