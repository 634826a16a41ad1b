"""L03.2 RoPE mathematics: shift invariance, wavelengths, the score grids and the decay bound against direct
loops (math.cos/sin per plane), closed forms and Python complex arithmetic — no attn_ref on the oracle side."""
from __future__ import annotations

import cmath
import math

import pytest
import torch

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import rope as eqr
from scenes.l03_rope import data as d
from scenes.l03_rope.data import rope_math as rm

from ._helpers import (T, assert_one_topic_section, assert_scene_constructs, inv_freq, is_toeplitz, rotate_loop,
                       with_clauses)


def test_shift_invariance_two_d():
    s = d.shift_invariance()
    assert (s.m, s.n, s.theta) == (1, 3, 0.5) and s.shifts[0] == 0
    for t, q_r, k_r, dot in zip(s.shifts, s.q_rotated, s.k_rotated, s.dots):
        assert q_r == pytest.approx(rotate_loop(s.q, s.m + t, [s.theta]), abs=1e-12)
        assert k_r == pytest.approx(rotate_loop(s.k, s.n + t, [s.theta]), abs=1e-12)
        assert dot == pytest.approx(q_r[0] * k_r[0] + q_r[1] * k_r[1], abs=1e-12)
    # the dot product is qᵀ R((n − m)θ) k whatever t is
    ang = (s.n - s.m) * s.theta
    want = s.q[0] * (math.cos(ang) * s.k[0] - math.sin(ang) * s.k[1]) + s.q[1] * (math.sin(ang) * s.k[0]
                                                                                + math.cos(ang) * s.k[1])
    assert all(dot == pytest.approx(want, abs=1e-12) for dot in s.dots) and s.max_dot_spread < 1e-12
    base_angle = math.atan2(s.k[1], s.k[0]) - math.atan2(s.q[1], s.q[0]) + ang
    assert all(a == pytest.approx(math.remainder(base_angle, 2 * math.pi), abs=1e-12) for a in s.angle_between)
    assert s.wide_dim == 128 and s.wide_max_spread < 1e-12


def test_planes_wavelengths_from_the_closed_form():
    p = d.planes()
    th = inv_freq(128)
    assert p.theta == pytest.approx(th.tolist(), rel=1e-14)
    assert p.fastest_wavelength == pytest.approx(2 * math.pi, abs=1e-12)
    assert p.slowest_wavelength == pytest.approx(2 * math.pi * 10_000 ** (126 / 128), rel=1e-12)
    assert round(p.slowest_wavelength) == 54_410
    assert "(i−1)" in p.index_note and "i = 0" in p.index_note
    for pos, angles in zip(p.dial_positions, p.dial_angles):
        for i, a in zip(p.dial_planes, angles):
            assert a == pytest.approx(math.fmod(pos * 10_000 ** (-2 * i / 128), 2 * math.pi), abs=1e-9)
    # the k hand: dial_gap tokens later; the gap angle (mod 2π) is the same at every position
    for pos, angles in zip(p.dial_positions, p.dial_k_angles):
        for i, a in zip(p.dial_planes, angles):
            assert a == pytest.approx(math.fmod((pos + p.dial_gap) * 10_000 ** (-2 * i / 128), 2 * math.pi),
                                      abs=1e-9)
    for q_row, k_row in zip(p.dial_angles, p.dial_k_angles):
        for i, qa, ka in zip(p.dial_planes, q_row, k_row):
            gap = p.dial_gap * 10_000 ** (-2 * i / 128)
            assert math.remainder(ka - qa - gap, 2 * math.pi) == pytest.approx(0, abs=1e-9)


def test_score_grids_rope_toeplitz_sinusoidal_not():
    g = d.score_grids()
    q, k = T(g.q), T(g.k)
    th = inv_freq(g.head_dim)
    for m in range(g.n):
        for n in range(g.n):
            qm, kn = rotate_loop(q, m, th), rotate_loop(k, n, th)
            assert g.rope_scores[m][n] == pytest.approx(sum(a * b for a, b in zip(qm, kn)), abs=1e-12)
            pe = lambda p, c: math.sin(p * th[c // 2]) if c % 2 == 0 else math.cos(p * th[c // 2])  # noqa: E731
            want = sum((q[c] + pe(m, c)) * (k[c] + pe(n, c)) for c in range(g.head_dim))
            assert g.sinusoidal_scores[m][n] == pytest.approx(float(want), abs=1e-12)
    assert is_toeplitz(g.rope_scores) and g.rope_deviation < 1e-12
    assert not is_toeplitz(g.sinusoidal_scores, 1e-2) and g.sinusoidal_deviation > 1
    assert g.rope_by_offset[g.n - 1] == pytest.approx(float(q @ k), abs=1e-12)   # offset 0: no rotation


def _bound_loop(r, dim):
    th = [10_000.0 ** (-2 * i / dim) for i in range(dim // 2)]
    total = 0.0
    for j in range(1, dim // 2 + 1):
        total += abs(sum(cmath.exp(1j * r * th[k]) for k in range(j)))
    return total / (dim // 2)


def test_decay_bound_is_the_loop_and_bounds_the_score_which_does_not_decay():
    dc = d.decay()
    assert dc.bound_at_zero == 32.5 and dc.distances[-1] == rm.DECAY_MAX
    for r in (0, 1, 7, 100, 513, 1024):
        assert dc.bound[r] == pytest.approx(_bound_loop(r, 128), abs=1e-10)
    w = rm.gaussian((2, 128), rm.WIDE_SEED)
    th = inv_freq(128)
    hq = [complex(w[0, 2 * i], w[0, 2 * i + 1]) for i in range(64)]
    hk = [complex(w[1, 2 * i], w[1, 2 * i + 1]) for i in range(64)]
    h = [a * b.conjugate() for a, b in zip(hq, hk)] + [0j]
    scale = max(abs(h[i + 1] - h[i]) for i in range(64)) * 64
    for r in (0, 3, 50, 700):
        score = sum((hi * cmath.exp(1j * r * float(th[i]))).real for i, hi in enumerate(h[:64]))
        assert dc.random_score[r] == pytest.approx(score, abs=1e-10)
        assert dc.random_score_bound[r] == pytest.approx(scale * dc.bound[r], rel=1e-12)
        assert dc.constant_score[r] == pytest.approx(sum(2 * math.cos(r * float(t)) for t in th), abs=1e-9)
    assert dc.bound_holds and all(abs(s) <= b for s, b in zip(dc.random_score, dc.random_score_bound))
    # the bound decays and the constant-content score follows it; the random score does not
    assert max(dc.bound[512:]) < dc.bound[0] / 3 and sum(dc.bound[512:]) / len(dc.bound[512:]) < dc.bound[0] / 5
    assert dc.constant_far_over_near < 0.5 and dc.random_far_over_near > 1
    assert "Fig. 2" in dc.cited_figure
    # the three curves on one axis: each divided by its largest size at distances up to `near`
    for full, rel in ((dc.bound, dc.bound_relative), (dc.random_score, dc.random_relative),
                      (dc.constant_score, dc.constant_relative)):
        top = max(abs(v) for v in full[:dc.near + 1])
        assert rel == pytest.approx([v / top for v in full], rel=1e-12)
        assert max(abs(v) for v in rel[:dc.near + 1]) == pytest.approx(1.0)
    assert dc.bound_relative[0] == 1.0 and dc.constant_relative[0] == 1.0
    assert dc.far == 512 and dc.near == 64
    assert max(abs(v) for v in dc.random_relative[dc.far:]) == pytest.approx(dc.random_far_over_near, rel=1e-12)
    assert max(abs(v) for v in dc.constant_relative[dc.far:]) == pytest.approx(dc.constant_far_over_near, rel=1e-12)


def test_norms_preserved_and_only_q_k_rotated():
    nv = d.norms()
    assert nv.max_norm_change < 1e-12 and nv.positions[-1] == 10_000
    q, k = d.content()
    assert nv.norms_before == pytest.approx((float(q.norm()), float(k.norm())), abs=1e-15)
    assert set(nv.rotated) == {"q", "k"} and "v" in nv.not_rotated


def test_wrong_formulas_fail_their_claims():
    form, compose, relative = EQUATIONS["rope_rotation"].clauses
    wrong = Clause(relative.lhs, eqr.Rot(eqr._mul(eqr._add(eqr.m_pos, -eqr.n_pos), eqr.theta)))  # m − n: wrong sign
    with pytest.raises(EquationError):
        with_clauses("rope_rotation", form, compose, wrong).check()
    freq, wave = EQUATIONS["rope_frequencies"].clauses
    zero_based = Clause(freq.lhs, eqr.b ** (-2 * eqr.i_idx / eqr.d))   # the code's index under the paper's name
    with pytest.raises(EquationError):
        with_clauses("rope_frequencies", zero_based, wave).check()
    (bound,) = EQUATIONS["rope_decay_bound"].clauses
    with pytest.raises(EquationError):
        with_clauses("rope_decay_bound", Clause(bound.lhs, bound.rhs / 2)).check()
    assert torch.is_tensor(inv_freq(4))


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("RopeMath")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l03_rope_math.py", "L03.2")
