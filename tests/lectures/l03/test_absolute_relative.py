"""L03.1 Absolute vs relative positioning: every number against hand-written float64 oracles (softmax by hand,
sin/cos loops, HF's T5 bucket rule, ALiBi's slope formula) and the Toeplitz property checked by a loop."""
from __future__ import annotations

import math

import pytest
import sympy as sp
import torch

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import rope as eqr
from scenes.l03_rope import data as d

from ._helpers import T, assert_one_topic_section, assert_scene_constructs, is_toeplitz, with_clauses


def _attend_by_hand(tokens, causal):
    x = d.embed(tokens)
    w_q, w_k, w_v = d.projections()
    s = (x @ w_q) @ (x @ w_k).T / math.sqrt(x.shape[-1])
    if causal:
        s = s.masked_fill(torch.ones_like(s, dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(s, -1) @ (x @ w_v)


def test_permuting_the_sentence_permutes_the_outputs():
    p = d.permutation_equivariance()
    assert p.tokens == ("dog", "bites", "man") and p.permuted_tokens == ("man", "bites", "dog")
    assert tuple(p.tokens[i] for i in p.permutation) == p.permuted_tokens
    out, out_p = _attend_by_hand(p.tokens, False), _attend_by_hand(p.permuted_tokens, False)
    assert torch.allclose(T(p.outputs), out, atol=1e-12) and torch.allclose(T(p.permuted_outputs), out_p, atol=1e-12)
    assert torch.allclose(out_p, out[list(p.permutation)], atol=1e-12)
    assert p.max_row_difference < 1e-12 and p.same_multiset
    # a causal mask alone breaks the symmetry: the first token only sees itself
    c, c_p = _attend_by_hand(p.tokens, True), _attend_by_hand(p.permuted_tokens, True)
    assert p.causal_max_row_difference == pytest.approx(float((c_p - c[list(p.permutation)]).abs().max()), abs=1e-12)
    assert p.causal_max_row_difference > 0.1 and not p.causal_equivariant
    assert "Haviv" in p.nope_sources[0] and "Kazemnejad" in p.nope_sources[1]


def test_sinusoidal_table_is_the_closed_form():
    t = d.sinusoidal_table()
    assert (t.n, t.d) == (32, 16)
    for p in range(t.n):
        for i in range(t.d // 2):
            w = 10_000.0 ** (-2 * i / t.d)
            assert t.table[p][2 * i] == pytest.approx(math.sin(p * w), abs=1e-12)
            assert t.table[p][2 * i + 1] == pytest.approx(math.cos(p * w), abs=1e-12)
    assert t.wavelengths[0] == pytest.approx(2 * math.pi)


def _hf_t5_bucket(rel: int, num_buckets=32, max_distance=128) -> int:
    """HF T5Attention._relative_position_bucket, bidirectional, one value at a time (log in float32)."""
    nb = num_buckets // 2
    out = nb if rel > 0 else 0
    n = abs(rel)
    exact = nb // 2
    if n < exact:
        return out + n
    val = torch.log(torch.tensor(n / exact, dtype=torch.float32)) / math.log(max_distance / exact) * (nb - exact)
    return out + min(exact + int(val.item()), nb - 1)


def test_t5_buckets_are_hfs_rule_exact_then_log_spaced():
    t = d.t5_buckets()
    assert (t.num_buckets, t.max_distance, t.exact) == (32, 128, 8)
    assert t.past_bucket == tuple(_hf_t5_bucket(-n) for n in t.distances)
    assert t.future_bucket == tuple(_hf_t5_bucket(n) for n in t.distances)
    assert t.past_bucket[:8] == tuple(range(8))                   # exact buckets for small distances
    assert set(t.past_bucket[128:]) == {15}                        # everything from 128 on shares the last one
    assert t.future_bucket[0] == 0 and all(f == p + 16 for f, p in zip(t.future_bucket[1:], t.past_bucket[1:]))
    widths = [b2 - b1 for (_, b1), (_, b2) in zip(t.first_distance_of_bucket, t.first_distance_of_bucket[1:])]
    assert widths[:8] == [1] * 8 and widths[-1] > widths[8]          # log-spaced: wider and wider
    grid = t.bucket_grid
    assert all(grid[i][j] == _hf_t5_bucket(j - i) for i in range(t.grid_n) for j in range(t.grid_n))
    assert is_toeplitz(t.bias_grid) and "untrained" in t.caption


def test_alibi_slopes_and_bias():
    a = d.alibi_grid()
    assert a.slopes == tuple(2.0 ** (-8 * h / 8) for h in range(1, 9))
    assert a.slopes[0] == 0.5 and a.slopes[-1] == 1 / 256
    assert a.slope_inverses == tuple(2.0 ** h for h in range(1, 9))
    assert a.slopes_12 == pytest.approx(a.slopes + tuple(2 ** -x for x in (0.5, 1.5, 2.5, 3.5)), abs=1e-15)
    for h in range(a.n_heads):
        for i in range(a.n):
            for j in range(a.n):
                assert a.bias[h][i][j] == pytest.approx(-a.slopes[h] * (i - j), abs=1e-15)
        assert is_toeplitz(a.bias[h])


def test_relative_grids_are_toeplitz_and_added_sinusoids_are_not():
    g = d.diagonal_structure()
    x = d.embed(["dog"] * g.n)
    pe = torch.tensor([[math.sin(p * 10_000 ** (-(c // 2) * 2 / 4)) if c % 2 == 0 else
                        math.cos(p * 10_000 ** (-(c // 2) * 2 / 4)) for c in range(4)] for p in range(g.n)],
                      dtype=torch.float64)
    w_q, w_k, _ = d.projections()
    s = ((x + pe) @ w_q) @ ((x + pe) @ w_k).T / 2.0
    assert torch.allclose(T(g.sinusoidal_scores), s, atol=1e-12)
    assert not is_toeplitz(g.sinusoidal_scores, 1e-3) and g.sinusoidal_deviation > 0.5
    assert is_toeplitz(g.t5_bias) and is_toeplitz(g.alibi_bias) and g.t5_deviation == g.alibi_deviation == 0
    assert dict(g.relative) == {"sinusoidal": False, "T5": True, "ALiBi": True}
    assert g.alibi_bias == d.alibi_grid().bias[0] and g.t5_bias == d.t5_buckets().bias_grid
    # the diagonal the scene outlines: the sinusoidal scores spread most along it, by the full deviation
    spreads = {o: max(s[i, i + o] for i in range(g.n) if 0 <= i + o < g.n) -
               min(s[i, i + o] for i in range(g.n) if 0 <= i + o < g.n) for o in range(-(g.n - 1), g.n)}
    assert g.widest_offset == max(spreads, key=lambda o: float(spreads[o]))
    assert float(spreads[g.widest_offset]) == pytest.approx(g.sinusoidal_deviation, abs=1e-12)


def test_wrong_formulas_fail_their_claims():
    w, slope = EQUATIONS["alibi"].clauses
    inner = w.rhs.args[0]
    biased = eqr.qk_ij - eqr._mul(eqr.m_h, eqr._add(eqr.i_idx, -eqr.j_idx))
    wrong = Clause(w.lhs, eqr.SoftmaxJ(biased / sp.sqrt(eqr.d), eqr.j_idx))    # the bias scaled by 1/√d: not ALiBi
    assert wrong.rhs.args[0] != inner
    with pytest.raises(EquationError):
        with_clauses("alibi", wrong, slope).check()
    shift, omega = EQUATIONS["sinusoidal_shift"].clauses
    flipped = Clause(shift.lhs, shift.rhs.xreplace({sp.sin(eqr._mul(eqr.k_off, eqr.Omega_i[eqr.i_idx])):
                                                    -sp.sin(eqr._mul(eqr.k_off, eqr.Omega_i[eqr.i_idx]))}))
    with pytest.raises(EquationError):
        with_clauses("sinusoidal_shift", flipped, omega).check()


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("AbsoluteRelative")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l03_absolute_relative.py", "L03.1")
