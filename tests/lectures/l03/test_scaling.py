"""L03.5 Scaling: every curve and band against closed forms written here (HF's formulas for PI, static NTK,
YaRN and Llama 3.1, evaluated with math), the plan's figures, and the pitfalls."""
from __future__ import annotations

import math

import pytest
import sympy as sp

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import rope as eqr
from scenes.l03_rope import data as d

from ._helpers import assert_one_topic_section, assert_scene_constructs, with_clauses

D, BASE = 128, 10_000.0


def _plain(base=BASE, dim=D):
    return [base ** (-2 * i / dim) for i in range(dim // 2)]


def _yarn_hf(s, L0, base=BASE, dim=D, beta_fast=32, beta_slow=1):
    """HF _compute_yarn_parameters (truncate=True), written out with math."""
    fcd = lambda r: dim * math.log(L0 / (r * 2 * math.pi)) / (2 * math.log(base))  # noqa: E731
    low, high = max(math.floor(fcd(beta_fast)), 0), min(math.ceil(fcd(beta_slow)), dim - 1)
    if low == high:
        high += 0.001
    out = []
    for i, th in enumerate(_plain(base, dim)):
        ramp = min(max((i - low) / (high - low), 0), 1)
        out.append(th / s * ramp + th * (1 - ramp))
    return out, (0.1 * math.log(s) + 1 if s > 1 else 1.0)


def _llama3_hf(s=8.0, L0=8192, lo=1.0, hi=4.0, base=500_000.0):
    out = []
    for th in _plain(base):
        wl = 2 * math.pi / th
        if wl < L0 / hi:
            out.append(th)
        elif wl > L0 / lo:
            out.append(th / s)
        else:
            sm = (L0 / wl - lo) / (hi - lo)
            out.append((1 - sm) * th / s + sm * th)
    return out


def test_training_arcs():
    a = d.training_arcs()
    turns = [4096 * th / (2 * math.pi) for th in _plain()]
    assert a.turns == pytest.approx(turns, rel=1e-12)
    partial = [i for i, t in enumerate(turns) if t < 1]
    assert (a.planes_partial, a.planes_full_turn) == (len(partial), 64 - len(partial))
    assert a.first_partial_plane == partial[0]
    assert (a.planes_full_turn, a.planes_partial) == (46, 18) and a.unseen_at_2x == tuple(partial)
    assert all(f <= 1 for f in a.seen_fraction) and a.seen_fraction[0] == 1


def test_frequency_curves_are_hfs_formulas():
    f = d.frequency_curves()
    curves = {c.kind: c for c in f.curves}
    assert list(curves) == ["plain", "linear", "ntk", "yarn"] and (f.factor, f.train_length) == (8.0, 4096)
    assert curves["plain"].theta == pytest.approx(_plain(), rel=1e-14)
    assert curves["linear"].theta == pytest.approx([t / 8 for t in _plain()], rel=1e-14)
    nb = BASE * 8 ** (D / (D - 2))
    assert curves["ntk"].theta == pytest.approx([nb ** (-2 * i / D) for i in range(64)], rel=1e-12)
    y, fy = _yarn_hf(8.0, 4096)
    assert curves["yarn"].theta == pytest.approx(y, rel=1e-13) and curves["yarn"].attention_factor == pytest.approx(fy)
    plain3, l3 = f.llama3
    assert plain3.theta == pytest.approx(_plain(500_000.0), rel=1e-14)
    assert l3.theta == pytest.approx(_llama3_hf(), rel=1e-13)
    for c in f.curves:
        assert c.ratio == pytest.approx([p / t for p, t in zip(_plain(), c.theta)], rel=1e-12)


def test_ntk_aware_base_and_ends():
    n = d.ntk_aware()
    assert n.new_base == pytest.approx(10_000 * 8 ** (128 / 126), rel=1e-12) and round(n.new_base, 1) == 82_684.6
    assert n.highest_ratio == 1.0 and n.lowest_ratio == pytest.approx(8.0, rel=1e-12)
    assert all(b > a for a, b in zip(n.ratios, n.ratios[1:])) and n.exponent == 64 / 63
    assert "dynamic" in n.kind_note and "NTK-by-parts" in n.kind_note


def test_yarn_bands_and_attention_factor():
    y = d.yarn()
    low = D * math.log(4096 / (2 * math.pi * 32)) / (2 * math.log(BASE))
    high = D * math.log(4096 / (2 * math.pi)) / (2 * math.log(BASE))
    assert (y.correction_low, y.correction_high) == pytest.approx((low, high), rel=1e-14)
    assert (y.low, y.high) == (20, 46) == (math.floor(low), math.ceil(high))
    assert (y.unchanged, y.blended, y.interpolated) == ((0, 20), (21, 45), (46, 63))
    assert y.ramp == pytest.approx([min(max((i - 20) / 26, 0), 1) for i in range(64)], abs=1e-12)
    assert y.attention_factor == pytest.approx(0.1 * math.log(16) + 1, rel=1e-15)
    assert round(y.attention_factor, 4) == 1.2773 and round(y.logit_scale, 4) == 1.6314
    assert y.measured_logit_scale == pytest.approx(y.logit_scale, rel=1e-10)


def test_llama3_bands_by_wavelength():
    l3 = d.llama3()
    wl = [2 * math.pi / t for t in _plain(500_000.0)]
    assert l3.wavelength == pytest.approx(wl, rel=1e-12)
    assert (l3.n_unchanged, l3.n_divided, l3.n_blended) == (29, 29, 6)
    assert l3.n_unchanged == sum(w < 2048 for w in wl) and l3.n_divided == sum(w > 8192 for w in wl)
    assert (l3.unchanged, l3.blended, l3.divided) == ((0, 28), (29, 34), (35, 63))
    assert (l3.low_freq_wavelength, l3.high_freq_wavelength) == (8192, 2048)


def test_base_raising():
    b = d.base_raising()
    assert b.bases == (1e4, 5e5, 1e6)
    assert b.slowest_wavelength == pytest.approx([2 * math.pi * x ** (126 / 128) for x in b.bases], rel=1e-12)
    assert "Code Llama" in b.users[2] and "Gemma 3" in b.users[2]


def test_pitfalls():
    p = d.pitfalls()
    assert p.logits_with_factor / p.logits_without_factor == pytest.approx((0.1 * math.log(16) + 1) ** 2, rel=1e-10)
    assert p.dropped_ratio == pytest.approx(1 / 1.63139, rel=1e-5)
    assert p.yarn_bands_original == ((0, 20), (21, 45), (46, 63))
    y_wrong, _ = _yarn_hf(16.0, 65_536)
    keep = [i for i, (a, b) in enumerate(zip(_plain(), y_wrong)) if abs(a / b - 1) < 1e-12]
    assert p.yarn_bands_max[0] == (keep[0], keep[-1]) and p.yarn_bands_max != p.yarn_bands_original
    assert p.max_theta_change_wrong_length > 1
    assert (p.original_length, p.wrong_length) == (4096, 65_536)   # the two lengths the scene names
    assert dict(p.factor_one_max_difference).keys() == {"linear", "ntk", "dynamic_ntk", "yarn", "llama3"}
    assert all(v < 1e-15 for _, v in p.factor_one_max_difference)
    assert p.dynamic_cached_key_error > 0.1     # a key rotated at one base is stale once the base grows
    assert "vllm-project/vllm#46280" in p.issues


def test_cited_scaling():
    c = d.cited_scaling()
    assert (c.pi_from, c.pi_to) == (2048, 32768) and "1000 steps" in c.pi_quote
    assert "10x less tokens" in c.yarn_quote and "2.5x less training steps" in c.yarn_quote
    assert "2306.15595" in c.sources[0] and "2309.00071" in c.sources[1]


def test_wrong_formulas_fail_their_claims():
    new_base, lowest, highest = EQUATIONS["rope_ntk"].clauses
    wrong = Clause(new_base.lhs, eqr._mul(eqr.b, eqr.s))          # b' = b·s: not NTK-aware
    with pytest.raises(EquationError):
        with_clauses("rope_ntk", wrong, lowest, highest).check()
    cdim, ramp, freq, temp = EQUATIONS["rope_yarn"].clauses
    one_over_t = Clause(temp.lhs, eqr._add(eqr._mul(sp.Float("0.2"), sp.log(eqr.s)), 1))
    with pytest.raises(EquationError):
        with_clauses("rope_yarn", cdim, ramp, freq, one_over_t).check()
    piece, mu_def = EQUATIONS["rope_llama3"].clauses
    swapped = Clause(mu_def.lhs, eqr._add(eqr.L / eqr.Lambda_i[eqr.i_idx], -eqr.beta_h) / eqr._add(eqr.beta_l,
                                                                                                  -eqr.beta_h))
    with pytest.raises(EquationError):
        with_clauses("rope_llama3", piece, swapped).check()
    prod, fdef = EQUATIONS["yarn_attention_factor"].clauses
    linear = Clause(prod.lhs, prod.rhs.xreplace({eqr.f_att ** 2: eqr.f_att}))   # f, not f²
    assert linear.rhs != prod.rhs
    with pytest.raises(EquationError):
        with_clauses("yarn_attention_factor", linear, fdef).check()
    pi, pos = EQUATIONS["rope_pi"].clauses
    with pytest.raises(EquationError):
        with_clauses("rope_pi", Clause(pi.lhs, eqr.Theta_i[eqr.i_idx] * eqr.s), pos).check()


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("RopeScalingScene")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l03_scaling.py", "L03.5")
