"""RoPE: relative-position property, norms, pairing equivalence, and each scaling's published frequencies."""

import cmath
import itertools
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_ref.multihead import MultiHeadAttention
from attn_ref.rope import (
    Rope,
    RopeScaling,
    apply_rope,
    permute_rope_weight,
    rope_decay_bound,
    rope_frequencies,
    rope_permutation,
    yarn_get_mscale,
)

D64 = torch.float64
SCALINGS = [
    None,
    RopeScaling("linear", 4.0),
    RopeScaling("dynamic_ntk", 4.0, 16),
    RopeScaling("yarn", 8.0, 64),
    RopeScaling("llama3", 8.0, 64),
]


def _rot(x, pos, inv_freq, pairing="half", f=1.0):
    """x (D,) at one integer position -> rotated (D,)."""
    return apply_rope(x[None, None, None], torch.tensor([pos]), inv_freq, pairing, f)[0, 0, 0]


@settings(max_examples=20, deadline=None)
@given(
    m=st.integers(0, 3000),
    n=st.integers(0, 3000),
    t=st.integers(-5000, 5000),
    pairing=st.sampled_from(["half", "interleaved"]),
    scaling=st.sampled_from(SCALINGS),
    seed=st.integers(0, 10_000),
)
def test_score_depends_only_on_relative_position(m, n, t, pairing, scaling, seed):
    g = torch.Generator().manual_seed(seed)
    q, k = torch.randn(8, dtype=D64, generator=g), torch.randn(8, dtype=D64, generator=g)
    inv_freq, f = rope_frequencies(8, 10000.0, scaling, max_position=64)
    s1 = _rot(q, m, inv_freq, pairing, f) @ _rot(k, n, inv_freq, pairing, f)
    s2 = _rot(q, m + t, inv_freq, pairing, f) @ _rot(k, n + t, inv_freq, pairing, f)
    assert abs(float(s1 - s2)) < 1e-9


@pytest.mark.parametrize("pairing", ["half", "interleaved"])
def test_norm_preserved_and_scaled_by_attention_factor(pairing):
    x = torch.randn(2, 3, 5, 8, dtype=D64)
    inv_freq, _ = rope_frequencies(8)
    pos = torch.tensor([0, 1, 7, 100, 4096])
    torch.testing.assert_close(
        apply_rope(x, pos, inv_freq, pairing).norm(dim=-1), x.norm(dim=-1), atol=1e-12, rtol=0
    )
    torch.testing.assert_close(
        apply_rope(x, pos, inv_freq, pairing, 1.5).norm(dim=-1), 1.5 * x.norm(dim=-1), atol=1e-12, rtol=0
    )
    torch.testing.assert_close(
        apply_rope(x, torch.zeros(5, dtype=torch.long), inv_freq, pairing), x, atol=0, rtol=0
    )


def test_interleaved_equals_complex_multiplication():
    """Meta's formulation: pairs (x_2i, x_2i+1) as complex numbers times exp(i p inv_freq_i)."""
    x = torch.randn(6, dtype=D64)
    inv_freq, _ = rope_frequencies(6, 100.0)
    got = _rot(x, 5, inv_freq, "interleaved")
    for i in range(3):
        z = complex(x[2 * i], x[2 * i + 1]) * cmath.exp(1j * 5 * 100.0 ** (-2 * i / 6))
        assert abs(got[2 * i] - z.real) < 1e-12 and abs(got[2 * i + 1] - z.imag) < 1e-12
    half = _rot(x, 5, inv_freq, "half")  # pairs (x_i, x_{i+3})
    for i in range(3):
        z = complex(x[i], x[i + 3]) * cmath.exp(1j * 5 * 100.0 ** (-2 * i / 6))
        assert abs(half[i] - z.real) < 1e-12 and abs(half[i + 3] - z.imag) < 1e-12


def test_half_and_interleaved_agree_under_fixed_permutation():
    x = torch.randn(2, 3, 4, 8, dtype=D64)
    pos = torch.tensor([[0, 3, 9, 27], [5, 6, 7, 8]])
    inv_freq, _ = rope_frequencies(8)
    P = rope_permutation(8)  # interleaved -> half
    assert P.tolist() == [0, 2, 4, 6, 1, 3, 5, 7]
    assert rope_permutation(8, "half", "interleaved")[P].tolist() == list(range(8))
    torch.testing.assert_close(
        apply_rope(x[..., P], pos, inv_freq, "half"),
        apply_rope(x, pos, inv_freq, "interleaved")[..., P],
        atol=1e-12,
        rtol=0,
    )
    # the two pairings differ on the same input: the flag matters
    assert (
        apply_rope(x, pos, inv_freq, "half") - apply_rope(x, pos, inv_freq, "interleaved")
    ).abs().max() > 1e-3


def test_permuted_weights_give_the_same_attention():
    torch.manual_seed(0)
    meta = MultiHeadAttention(16, 2, rope=Rope(8, pairing="interleaved")).to(D64)
    hf = MultiHeadAttention(16, 2, rope=Rope(8, pairing="half")).to(D64)
    hf.load_state_dict(meta.state_dict())
    with torch.no_grad():
        hf.q_proj.weight.copy_(permute_rope_weight(meta.q_proj.weight, 2))
        hf.k_proj.weight.copy_(permute_rope_weight(meta.k_proj.weight, 2))
    x = torch.randn(2, 6, 16, dtype=D64)
    torch.testing.assert_close(
        hf(x, return_weights=True)[1], meta(x, return_weights=True)[1], atol=1e-12, rtol=0
    )
    torch.testing.assert_close(hf(x), meta(x), atol=1e-12, rtol=0)
    back = permute_rope_weight(permute_rope_weight(meta.q_proj.weight, 2), 2, "half", "interleaved")
    torch.testing.assert_close(back, meta.q_proj.weight, atol=0, rtol=0)


def test_plain_frequencies_closed_form():
    inv_freq, f = rope_frequencies(8)
    assert f == 1.0 and inv_freq.dtype == D64
    torch.testing.assert_close(inv_freq, torch.tensor([1.0, 0.1, 0.01, 0.001], dtype=D64), atol=1e-15, rtol=0)
    x = torch.tensor([1.0, 0.0], dtype=D64)  # a single pair at position 3, angle 3 rad
    torch.testing.assert_close(
        _rot(x, 3, torch.tensor([1.0], dtype=D64)),
        torch.tensor([math.cos(3), math.sin(3)], dtype=D64),
        atol=1e-15,
        rtol=0,
    )


def test_partial_rotary_passes_remaining_channels_through():
    x = torch.randn(1, 2, 3, 8, dtype=D64)
    inv_freq, _ = rope_frequencies(4)
    y = apply_rope(x, torch.arange(3), inv_freq)
    assert torch.equal(y[..., 4:], x[..., 4:])
    torch.testing.assert_close(y[..., :4], apply_rope(x[..., :4], torch.arange(3), inv_freq))


def test_linear_scaling_is_position_interpolation():
    inv_freq, f = rope_frequencies(16, scaling=RopeScaling("linear", 4.0))
    assert f == 1.0
    plain, _ = rope_frequencies(16)
    torch.testing.assert_close(inv_freq, plain / 4, atol=0, rtol=0)
    x = torch.randn(1, 1, 2, 16, dtype=D64)  # rotating at p with /4 == rotating at p/4
    torch.testing.assert_close(
        apply_rope(x, torch.tensor([8, 12]), inv_freq),
        apply_rope(x, torch.tensor([2, 3]), plain),
        atol=1e-12,
        rtol=0,
    )


def test_dynamic_ntk_base_change():
    sc = RopeScaling("dynamic_ntk", 4.0, 16)
    plain, _ = rope_frequencies(8)
    # inside the trained context: unchanged
    torch.testing.assert_close(rope_frequencies(8, scaling=sc, max_position=16)[0], plain, atol=0, rtol=0)
    torch.testing.assert_close(rope_frequencies(8, scaling=sc, max_position=10)[0], plain, atol=0, rtol=0)
    # L = 32: base' = 10000 · (4·32/16 − 3)^(8/6) = 10000 · 5^(4/3)
    new_base = 10000 * 5 ** (4 / 3)
    expected = torch.tensor([new_base ** (-2 * i / 8) for i in range(4)], dtype=D64)
    torch.testing.assert_close(
        rope_frequencies(8, scaling=sc, max_position=32)[0], expected, atol=0, rtol=1e-14
    )


def test_yarn_ramp_and_attention_factor():
    """d=64, base=1e4, L0=4096, s=8. Dim i makes r_i = L0 / (2π·1e4^(2i/64)) rotations over L0;
    r = β_fast = 32 at i = 10.47 and r = β_slow = 1 at i = 22.51, so the ramp runs from i = 10 (floor)
    to 23 (ceil)."""
    inv_freq, f = rope_frequencies(64, scaling=RopeScaling("yarn", 8.0, 4096))
    assert f == pytest.approx(0.1 * math.log(8) + 1, abs=1e-15) and f == pytest.approx(1.2079441541679836)
    for i in range(32):
        theta = 10000 ** (-2 * i / 64)
        if i <= 10:
            want = theta  # many rotations: extrapolate (unchanged)
        elif i >= 23:
            want = theta / 8  # < 1 rotation: interpolate
        else:
            ramp = (i - 10) / 13
            want = theta / 8 * ramp + theta * (1 - ramp)
        assert inv_freq[i].item() == pytest.approx(want, rel=1e-13), i
    # beta overrides move the ramp; explicit attention_factor and DeepSeek's mscale ratio
    custom, _ = rope_frequencies(64, scaling=RopeScaling("yarn", 8.0, 4096, beta_fast=64, beta_slow=2))
    assert not torch.equal(custom, inv_freq)
    assert rope_frequencies(64, scaling=RopeScaling("yarn", 8.0, 4096, attention_factor=1.0))[1] == 1.0
    assert (
        rope_frequencies(64, scaling=RopeScaling("yarn", 8.0, 4096, mscale=1.0, mscale_all_dim=1.0))[1] == 1.0
    )
    ratio = rope_frequencies(64, scaling=RopeScaling("yarn", 40.0, 4096, mscale=0.707, mscale_all_dim=1.0))[1]
    assert ratio == pytest.approx((0.1 * 0.707 * math.log(40) + 1) / (0.1 * math.log(40) + 1))


def test_yarn_attention_factor_scales_logits_by_its_square():
    sc = RopeScaling("yarn", 4.0, 64)
    inv_freq, f = rope_frequencies(8, scaling=sc)
    q, k = torch.randn(8, dtype=D64), torch.randn(8, dtype=D64)
    scaled = _rot(q, 9, inv_freq, f=f) @ _rot(k, 4, inv_freq, f=f)
    unscaled = _rot(q, 9, inv_freq) @ _rot(k, 4, inv_freq)
    assert float(scaled) == pytest.approx(f**2 * float(unscaled), rel=1e-12)
    assert f**2 == pytest.approx(1 / (1 / (0.1 * math.log(4) + 1) ** 2))  # sqrt(1/t) = 0.1 ln s + 1


def test_llama3_wavelength_bands():
    """Llama 3.1: d=128, base=5e5, s=8, low_freq_factor=1, high_freq_factor=4, L0=8192."""
    sc = RopeScaling("llama3", 8.0)
    assert sc.original_max_position == 8192 and sc.low_freq_factor == 1.0 and sc.high_freq_factor == 4.0
    inv_freq, f = rope_frequencies(128, 500000.0, sc)
    assert f == 1.0
    counts = {"kept": 0, "divided": 0, "smooth": 0}
    for i in range(64):
        theta = 500000.0 ** (-2 * i / 128)
        wavelen = 2 * math.pi / theta
        if wavelen < 8192 / 4:
            want, band = theta, "kept"
        elif wavelen > 8192 / 1:
            want, band = theta / 8, "divided"
        else:
            s = (8192 / wavelen - 1) / (4 - 1)
            want, band = (1 - s) * theta / 8 + s * theta, "smooth"
            assert theta / 8 < inv_freq[i].item() < theta
        counts[band] += 1
        assert inv_freq[i].item() == pytest.approx(want, rel=1e-13), i
    assert counts == {"kept": 29, "divided": 29, "smooth": 6}
    ratio = (inv_freq / rope_frequencies(128, 500000.0)[0]).tolist()
    assert all(b <= a + 1e-15 for a, b in itertools.pairwise(ratio))  # 1 → 1/8, monotone


@pytest.mark.parametrize("kind", ["linear", "ntk", "yarn", "llama3", "dynamic_ntk"])
def test_factor_one_is_plain_rope(kind):
    sc = RopeScaling(kind, 1.0, 32)
    inv_freq, f = rope_frequencies(16, scaling=sc, max_position=32)
    torch.testing.assert_close(inv_freq, rope_frequencies(16)[0], atol=0, rtol=1e-15)
    assert f == 1.0


def test_rope_config_dynamic_follows_sequence_length():
    rope = Rope(8, scaling=RopeScaling("dynamic_ntk", 2.0, 4))
    x = torch.randn(1, 1, 8, 8, dtype=D64)
    inv, _ = rope_frequencies(8, scaling=RopeScaling("dynamic_ntk", 2.0, 4), max_position=8)
    torch.testing.assert_close(rope(x, torch.arange(8)), apply_rope(x, torch.arange(8), inv), atol=0, rtol=0)


def test_error_unknown_scaling_kind():
    with pytest.raises(ValueError, match=r"kind must be one of .*'linear'.*got 'ntk_by_parts'"):
        RopeScaling("ntk_by_parts", 2.0)


def test_error_unknown_scaling_parameter():
    with pytest.raises(ValueError, match=r"unknown parameters for kind='llama3': \['beta_fast'\]"):
        RopeScaling("llama3", 8.0, beta_fast=32)


def test_error_positions_wrong_length():
    x = torch.randn(2, 1, 5, 8, dtype=D64)
    with pytest.raises(ValueError, match=r"positions must have length L=5 .*got shape \(4,\)"):
        apply_rope(x, torch.arange(4), rope_frequencies(8)[0])
    with pytest.raises(
        ValueError, match=r"positions must have shape \(L,\) or \(B, L\) = \(2, 5\), got shape \(3, 5\)"
    ):
        apply_rope(x, torch.zeros(3, 5, dtype=torch.long), rope_frequencies(8)[0])


def test_error_odd_head_dim():
    with pytest.raises(ValueError, match=r"head_dim must be even .*got 7"):
        rope_frequencies(7)


# ------------------------------------------------------------------------------------ static NTK-aware
def test_static_ntk_base_change_e3_10():
    """base' = base·s^(d/(d−2)): s = 8, d = 128, base 1e4 → 82,684.6; θ'_0 = θ_0, θ'_{d/2−1} = θ_{d/2−1}/s."""
    d, s = 128, 8.0
    inv, f = rope_frequencies(d, 10000.0, RopeScaling("ntk", s))
    new_base = 10000.0 * s ** (d / (d - 2))
    assert new_base == pytest.approx(82_684.6, abs=0.05) and f == 1.0
    i2 = torch.arange(0, d, 2, dtype=D64)
    torch.testing.assert_close(inv, new_base ** (-i2 / d), atol=0, rtol=1e-14)
    plain = rope_frequencies(d)[0]
    assert inv[0].item() == 1.0 and inv[-1].item() == pytest.approx(plain[-1].item() / s, rel=1e-13)
    ratio = (inv / plain).tolist()  # decreasing from 1 to 1/s: only the slow planes are stretched
    assert all(b < a for a, b in itertools.pairwise(ratio))
    # static: the length does not matter (unlike dynamic_ntk)
    torch.testing.assert_close(rope_frequencies(d, 10000.0, RopeScaling("ntk", s), max_position=10**6)[0], inv,
                               atol=0, rtol=0)


# -------------------------------------------------------------------------------- YaRN, DeepSeek mscale
def test_yarn_get_mscale_and_deepseek_attention_factor_e9_8():
    assert yarn_get_mscale(1.0, 0.707) == 1.0 and yarn_get_mscale(0.5) == 1.0
    assert yarn_get_mscale(16.0) == pytest.approx(1.2773, abs=1e-4)  # L03.5: 0.1·ln 16 + 1
    assert yarn_get_mscale(40.0, 0.707) ** 2 == pytest.approx(1.5896, abs=1e-4)  # softmax-scale correction
    ds = RopeScaling("yarn", 40.0, 4096, mscale=0.707, mscale_all_dim=0.707)  # DeepSeek-V2 config
    assert rope_frequencies(64, scaling=ds)[1] == 1.0  # cos/sin untouched: get(s, m) / get(s, m)
    only_m = rope_frequencies(64, scaling=RopeScaling("yarn", 40.0, 4096, mscale=0.707))[1]
    assert only_m == pytest.approx(0.1 * 0.707 * math.log(40) + 1)  # DeepSeek default mscale_all_dim = 0
    only_all = rope_frequencies(64, scaling=RopeScaling("yarn", 40.0, 4096, mscale_all_dim=0.707))[1]
    assert only_all == pytest.approx((0.1 * math.log(40) + 1) / (0.1 * 0.707 * math.log(40) + 1))
    with pytest.raises(ValueError, match=r"scale must be a number > 0, got 0"):
        yarn_get_mscale(0)


# ------------------------------------------------------------------------------- RoFormer decay bound
def test_rope_decay_bound_at_zero_and_closed_form():
    """B(0) = (d/2 + 1)/2; for d = 4 (θ = 1, 1/100):
    B(r) = (1 + |1 + e^{i(1/100 − 1) r}|)/2 = (1 + 2|cos(0.495 r)|)/2."""
    for d in (4, 16, 128):
        assert rope_decay_bound([0], d)[0].item() == pytest.approx((d / 2 + 1) / 2, rel=1e-14)
    r = torch.arange(0, 50, dtype=D64)
    torch.testing.assert_close(rope_decay_bound(r, 4), (1 + 2 * torch.cos(0.495 * r).abs()) / 2, atol=1e-12,
                               rtol=0)


def test_rope_decay_bound_decays_with_distance():
    b = rope_decay_bound(torch.arange(0, 2000), 128)
    assert b[0] == b.max() and (b[1:] < b[0]).all()
    means = [b[lo:hi].mean().item() for lo, hi in ((0, 10), (10, 50), (50, 200), (200, 1000), (1000, 2000))]
    assert all(y < x for x, y in itertools.pairwise(means)) and means[-1] < means[0] / 4
    # a scaled inv_freq (PI) stretches the curve: the bound at 4r equals the plain bound at r
    inv = rope_frequencies(128, scaling=RopeScaling("linear", 4.0))[0]
    stretched = rope_decay_bound(torch.arange(0, 400, 4), inv_freq=inv)
    torch.testing.assert_close(stretched, b[:100], atol=1e-10, rtol=0)


def test_rope_decay_bound_is_a_direct_loop_and_bounds_the_score():
    """E3.14 against a plain-Python double loop (cmath), and the Abel-summation inequality it stands for:
    |score(r)| ≤ max_i |h_{i+1} − h_i| · (d/2) · B(r) with h_i = q̃_i conj(k̃_i) (interleaved pairs), h_{d/2} = 0."""
    for d in (8, 128):
        theta = [10000.0 ** (-2 * k / d) for k in range(d // 2)]
        rs = [0, 1, 2, 17, 255, 1000, 4096]
        got = rope_decay_bound(rs, d)
        for r, g in zip(rs, got.tolist()):
            loop = sum(abs(sum(cmath.exp(1j * r * theta[k]) for k in range(j))) for j in range(1, d // 2 + 1))
            assert g == pytest.approx(loop / (d // 2), abs=1e-10)
    gen = torch.Generator().manual_seed(14)
    d = 64
    inv = rope_frequencies(d)[0]
    r = torch.arange(0, 2000)
    bound = rope_decay_bound(r, d)
    for _ in range(5):
        q, k = torch.randn(d, generator=gen, dtype=D64), torch.randn(d, generator=gen, dtype=D64)
        h = torch.cat([torch.complex(q[0::2], q[1::2]) * torch.complex(k[0::2], k[1::2]).conj(),
                       torch.zeros(1, dtype=torch.complex128)])
        scale = (h[1:] - h[:-1]).abs().max() * d / 2
        qs = apply_rope(q.expand(1, 1, len(r), d).clone(), r, inv, "interleaved")[0, 0]
        ks = apply_rope(k[None, None, None], torch.tensor([0]), inv, "interleaved")[0, 0, 0]
        score = qs @ ks
        assert bool((score.abs() <= scale * bound + 1e-9).all())
