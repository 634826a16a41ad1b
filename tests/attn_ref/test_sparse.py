"""attn_ref.sparse: banded and block-sparse compute equal dense SDPA under the same mask."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_ref.masks import bigbird_layout, block_layout_to_mask, causal_mask, sliding_window_mask
from attn_ref.sparse import block_sparse_attention, sliding_window_attention

f64 = torch.float64


def qkv(b=1, h=2, h_kv=None, n_q=8, n_k=8, d=4, dv=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    h_kv = h if h_kv is None else h_kv
    return (torch.randn(b, h, n_q, d, generator=g, dtype=f64), torch.randn(b, h_kv, n_k, d, generator=g, dtype=f64),
            torch.randn(b, h_kv, n_k, dv, generator=g, dtype=f64))


@settings(max_examples=20, deadline=None)
@given(n_k=st.integers(1, 10), dq=st.integers(0, 3), window=st.integers(1, 12), seed=st.integers(0, 1000))
def test_sliding_window_equals_dense_sdpa(n_k, dq, window, seed):
    n_q = max(1, n_k - dq)
    q, k, v = qkv(n_q=n_q, n_k=n_k, seed=seed)
    mask = sliding_window_mask(n_q, n_k, window, alignment="lower_right")
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(sliding_window_attention(q, k, v, window), ref, atol=1e-12, rtol=0)


def test_sliding_window_ge_length_is_full_causal():
    q, k, v = qkv(n_q=6, n_k=6)
    ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    for w in (6, 7, 50):
        torch.testing.assert_close(sliding_window_attention(q, k, v, w), ref, atol=1e-12, rtol=0)


def test_sliding_window_one_is_identity_on_v():
    q, k, v = qkv(n_q=5, n_k=5)
    torch.testing.assert_close(sliding_window_attention(q, k, v, 1), v, atol=1e-14, rtol=0)


def test_sliding_window_gqa_and_scale():
    q, k, v = qkv(h=4, h_kv=2, n_q=7, n_k=7)
    mask = sliding_window_mask(7, 7, 3)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=True, scale=0.3)
    got = sliding_window_attention(q, k, v, 3, scale=0.3, enable_gqa=True)
    torch.testing.assert_close(got, ref, atol=1e-12, rtol=0)


def test_sliding_window_decode_step_matches_last_row():
    q, k, v = qkv(n_q=9, n_k=9)
    full = sliding_window_attention(q, k, v, 4)
    step = sliding_window_attention(q[:, :, -1:], k, v, 4)  # one new query against the whole cache
    torch.testing.assert_close(step, full[:, :, -1:], atol=1e-12, rtol=0)


def test_sliding_window_grad_matches_dense():
    q, k, v = (t.requires_grad_(True) for t in qkv(n_q=6, n_k=6))
    mask = sliding_window_mask(6, 6, 2)
    g1 = torch.autograd.grad(sliding_window_attention(q, k, v, 2).square().sum(), (q, k, v))
    g2 = torch.autograd.grad(F.scaled_dot_product_attention(q, k, v, attn_mask=mask).square().sum(), (q, k, v))
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


@settings(max_examples=20, deadline=None)
@given(nb_q=st.integers(1, 4), nb_k=st.integers(1, 4), block=st.integers(1, 3), causal=st.booleans(),
       seed=st.integers(0, 1000))
def test_block_sparse_equals_dense_sdpa(nb_q, nb_k, block, causal, seed):
    q, k, v = qkv(n_q=nb_q * block, n_k=nb_k * block, seed=seed)
    layout = torch.rand(nb_q, nb_k, generator=torch.Generator().manual_seed(seed)) > 0.5
    mask = block_layout_to_mask(layout, block)
    if causal:
        mask = mask & causal_mask(nb_q * block, nb_k * block)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # empty rows -> 0 in torch >= 2.5
    got = block_sparse_attention(q, k, v, layout, block, is_causal=causal)
    torch.testing.assert_close(got, ref, atol=1e-12, rtol=0)


def test_block_sparse_bigbird_and_empty_block_row():
    q, k, v = qkv(h=4, h_kv=1, n_q=24, n_k=24)
    layout = bigbird_layout(8, seed=1)
    layout[3] = False  # a query block that keeps nothing
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=block_layout_to_mask(layout, 3), enable_gqa=True)
    got = block_sparse_attention(q, k, v, layout, 3, enable_gqa=True)
    torch.testing.assert_close(got, ref, atol=1e-12, rtol=0)
    assert torch.equal(got[:, :, 9:12], torch.zeros_like(got[:, :, 9:12]))


def test_block_sparse_full_layout_is_dense():
    q, k, v = qkv(n_q=6, n_k=4)
    got = block_sparse_attention(q, k, v, torch.ones(3, 2, dtype=torch.bool), 2)
    torch.testing.assert_close(got, F.scaled_dot_product_attention(q, k, v), atol=1e-12, rtol=0)


# ---------------------------------------------------------------- bad input

def test_bad_window():
    q, k, v = qkv()
    with pytest.raises(ValueError, match="window must be > 0"):
        sliding_window_attention(q, k, v, 0)


def test_bad_sliding_lengths():
    q, k, v = qkv(n_q=5, n_k=3)
    with pytest.raises(ValueError, match=r"q length \(5\) must be <= k length \(3\)"):
        sliding_window_attention(q, k, v, 2)


def test_bad_block_lengths_and_layout():
    q, k, v = qkv(n_q=6, n_k=5)
    with pytest.raises(ValueError, match=r"k length \(5\) must be a multiple of block \(2\)"):
        block_sparse_attention(q, k, v, torch.ones(3, 3, dtype=torch.bool), 2)
    q, k, v = qkv(n_q=6, n_k=4)
    with pytest.raises(ValueError, match=r"layout must have shape.*\(3, 2\), got \(2, 2\)"):
        block_sparse_attention(q, k, v, torch.ones(2, 2, dtype=torch.bool), 2)
    with pytest.raises(TypeError, match="layout must be bool"):
        block_sparse_attention(q, k, v, torch.ones(3, 2), 2)


def test_bad_qkv_in_sparse():
    q, k, v = qkv(h=3, h_kv=2)
    with pytest.raises(ValueError, match="divisible by k heads"):
        sliding_window_attention(q, k, v, 2, enable_gqa=True)


@pytest.mark.parametrize("chunk", [None, 1, 7, 64])
def test_sliding_window_chunks_of_any_size_equal_dense(chunk):
    g = torch.Generator().manual_seed(3)
    q = torch.randn(2, 4, 37, 8, generator=g, dtype=torch.float64)
    k, v = (torch.randn(2, 4, 50, 8, generator=g, dtype=torch.float64) for _ in range(2))
    for w in (1, 5, 13, 60):
        dense = F.scaled_dot_product_attention(q, k, v, attn_mask=sliding_window_mask(37, 50, w, "lower_right"))
        assert torch.allclose(sliding_window_attention(q, k, v, w, chunk=chunk), dense, atol=1e-12)
