"""Sinusoidal, ALiBi and T5 encodings against closed forms, published slopes and a brute-force bucket rule."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_ref.positions import (
    alibi_bias,
    alibi_slopes,
    sinusoidal_positions,
    t5_bucket,
    t5_relative_bias,
    t5_relative_buckets,
)

D64 = torch.float64


def test_sinusoidal_closed_form():
    pe = sinusoidal_positions(7, 6)
    assert pe.shape == (7, 6) and pe.dtype == D64
    for p in range(7):
        for i in range(3):
            assert pe[p, 2 * i].item() == pytest.approx(math.sin(p / 10000 ** (2 * i / 6)), abs=1e-15)
            assert pe[p, 2 * i + 1].item() == pytest.approx(math.cos(p / 10000 ** (2 * i / 6)), abs=1e-15)
    assert pe[0].tolist() == [0.0, 1.0] * 3 and pe[1, 0].item() == pytest.approx(math.sin(1.0))


def test_sinusoidal_relative_shift_is_a_rotation():
    """PE[p + k] is a fixed linear map of PE[p] (the property Vaswani et al. cite, arXiv:1706.03762 §3.5)."""
    pe = sinusoidal_positions(20, 4)
    w = 10000 ** (-torch.arange(0, 4, 2, dtype=D64) / 4) * 3  # shift k = 3
    for p in range(17):
        s, c = pe[p, 0::2], pe[p, 1::2]
        torch.testing.assert_close(pe[p + 3, 0::2], s * torch.cos(w) + c * torch.sin(w), atol=1e-12, rtol=0)
        torch.testing.assert_close(pe[p + 3, 1::2], c * torch.cos(w) - s * torch.sin(w), atol=1e-12, rtol=0)


def test_alibi_slopes_power_of_two():
    assert alibi_slopes(8).tolist() == [2.0**-k for k in range(1, 9)]  # 1/2 ... 1/256 (paper §3)
    assert alibi_slopes(16).tolist() == pytest.approx([2.0 ** (-k / 2) for k in range(1, 17)], rel=1e-15)
    assert alibi_slopes(1).tolist() == [2.0**-8]


def test_alibi_slopes_non_power_of_two():
    # 12 heads: the 8-head slopes, then every other slope of the 16-head sequence (2^-0.5, 2^-1.5, ...)
    want = [2.0**-k for k in range(1, 9)] + [2.0**-0.5, 2.0**-1.5, 2.0**-2.5, 2.0**-3.5]
    assert alibi_slopes(12).tolist() == pytest.approx(want, rel=1e-15)
    assert alibi_slopes(3).tolist() == pytest.approx([2.0**-4, 2.0**-8, 2.0**-2], rel=1e-15)
    assert len(set(alibi_slopes(24).tolist())) == 24


def test_alibi_bias_closed_form_and_decode_row():
    b = alibi_bias(4, 5, 5)
    m = alibi_slopes(4)
    for h in range(4):
        for i in range(5):
            for j in range(5):
                assert b[h, i, j].item() == pytest.approx(-m[h].item() * (i - j), abs=1e-15)
    torch.testing.assert_close(alibi_bias(4, 1, 5), b[:, -1:], atol=0, rtol=0)  # decode = last row
    dist = torch.tensor([[abs(i - j) for j in range(5)] for i in range(5)], dtype=D64)
    torch.testing.assert_close(
        alibi_bias(4, 5, 5, symmetric=True), -m[:, None, None] * dist, atol=1e-15, rtol=0
    )


def _brute_bucket(rel: int, bidirectional: bool, num_buckets: int, max_distance: int) -> int:
    """The T5 rule written out per scalar (Mesh TF / HF ``_relative_position_bucket``)."""
    out, nb = 0, num_buckets
    if bidirectional:
        nb //= 2
        if rel > 0:
            out += nb
        n = abs(rel)
    else:
        n = max(-rel, 0)
    exact = nb // 2
    if n < exact:
        return out + n
    return out + min(exact + int(math.log(n / exact) / math.log(max_distance / exact) * (nb - exact)), nb - 1)


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("num_buckets,max_distance", [(32, 128), (8, 20), (20, 50), (64, 1000)])
def test_t5_buckets_against_brute_force(bidirectional, num_buckets, max_distance):
    rel = torch.arange(-1500, 1501)
    got = t5_bucket(rel, bidirectional, num_buckets, max_distance).tolist()
    assert got == [_brute_bucket(r, bidirectional, num_buckets, max_distance) for r in rel.tolist()]
    mat = t5_relative_buckets(6, 9, num_buckets, max_distance, bidirectional)
    for i in range(6):
        for j in range(9):
            assert mat[i, j].item() == _brute_bucket(j - (i + 3), bidirectional, num_buckets, max_distance)


def test_t5_default_bucket_values():
    rel = torch.tensor([0, -1, 1, -7, -8, -12, -128, -1000, 1000])
    assert t5_bucket(rel).tolist() == [0, 1, 17, 7, 8, 9, 15, 15, 31]
    assert t5_bucket(torch.tensor([5, 0, -3]), bidirectional=False).tolist() == [0, 0, 3]


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 400), bidirectional=st.booleans())
def test_t5_buckets_monotone_in_distance(n, bidirectional):
    past = t5_bucket(torch.tensor([-n, -n - 1]), bidirectional)
    assert past[0] <= past[1]
    assert past.min() >= 0 and past.max() < (16 if bidirectional else 32)


def test_t5_relative_bias_lookup():
    table = torch.randn(32, 3, dtype=D64)
    bias = t5_relative_bias(4, 4, table)
    buckets = t5_relative_buckets(4, 4)
    assert bias.shape == (3, 4, 4)
    for h in range(3):
        for i in range(4):
            for j in range(4):
                assert bias[h, i, j] == table[buckets[i, j], h]


def test_errors():
    with pytest.raises(ValueError, match=r"d must be even .*got 5"):
        sinusoidal_positions(4, 5)
    with pytest.raises(ValueError, match=r"table must have num_buckets=16 rows, got shape \(32, 3\)"):
        t5_relative_bias(4, 4, torch.zeros(32, 3), num_buckets=16)
    with pytest.raises(ValueError, match=r"n_heads must be > 0, got 0"):
        alibi_slopes(0)
