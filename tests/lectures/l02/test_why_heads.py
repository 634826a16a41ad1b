"""L02.1 Why one head is not enough: the hull, the two-token query, the head-count result, Table 3 (A)."""
from __future__ import annotations

import re

import pytest
import sympy as sp
import torch

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import multihead as mh
from scenes.l02_multihead import data as d
from scenes.l02_multihead.data import why_heads as wh

from ._helpers import T, assert_one_topic_section, assert_scene_constructs, raw_result, with_clauses


def _cross(o, a, b):
    return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))


def _inside(poly, p, tol=1e-12):
    """p inside or on a counter-clockwise convex polygon."""
    return all(_cross(poly[t], poly[(t + 1) % len(poly)], p) >= -tol for t in range(len(poly)))


def test_hull_values_are_head_1s_value_plane():
    c = d.convex_hull()
    w, x = d.weights(), d.embed(d.SENTENCE)
    assert torch.allclose(T(c.values), x @ w.w_v[:, :2], atol=1e-12, rtol=0)


def test_hull_is_convex_counter_clockwise_and_holds_every_value():
    c = d.convex_hull()
    v = T(c.values)
    poly = [v[t] for t in c.hull]
    assert len(set(c.hull)) == len(c.hull) >= 3
    assert all(_cross(poly[t], poly[(t + 1) % len(poly)], poly[(t + 2) % len(poly)]) > 0 for t in range(len(poly)))
    assert all(_inside(poly, p) for p in v)


def test_hull_frames_follow_the_softmax_formula_and_stay_inside():
    c = d.convex_hull()
    w, x = d.weights(), d.embed(d.SENTENCE)
    q, k, v = x @ w.w_q[:, :2], x @ w.w_k[:, :2], T(c.values)
    row = d.SENTENCE.index(c.query)
    poly = [v[t] for t in c.hull]
    for f in c.frames:
        want = torch.softmax(f.sharpness * (k @ q[row]) / 2 ** 0.5, dim=-1)
        assert torch.allclose(T(f.weights), want, atol=1e-12, rtol=0)
        assert torch.allclose(T(f.output), want @ v, atol=1e-12, rtol=0)
        assert _inside(poly, T(f.output))
        shown = T(f.shown_weights)
        assert abs(float(shown.sum()) - 1) < 1e-9 and float((shown - want).abs().max()) <= 0.01 + 1e-9
    assert c.frames[0].sharpness == 0 and torch.allclose(T(c.frames[0].output), v.mean(0), atol=1e-12, rtol=0)
    assert max(c.frames[-1].weights) > 0.99  # sharp: nearly one value


def test_one_head_blurs_two_wanted_tokens_to_their_midpoint():
    t = d.two_token_query()
    prev, subj = (d.SENTENCE.index(tok) for tok in t.wanted)
    v = T(t.values)
    assert t.one_head_shown[prev] == t.one_head_shown[subj] == 0.5 and sum(t.one_head_shown) == pytest.approx(1)
    mid = (v[prev] + v[subj]) / 2
    assert torch.allclose(T(t.midpoint), mid, atol=1e-12, rtol=0)
    assert float((T(t.one_head_output) - mid).norm()) == pytest.approx(t.distance_to_midpoint)
    assert t.distance_to_midpoint < 0.01
    assert t.distance_to_nearest_value == pytest.approx(float((v - T(t.one_head_output)).norm(dim=-1).min()))
    assert t.distance_to_nearest_value > 0.3  # the blur is none of the values


def test_two_heads_each_take_one_token_and_sit_side_by_side():
    t = d.two_token_query()
    prev, subj = (d.SENTENCE.index(tok) for tok in t.wanted)
    assert t.head_shown[0][prev] == 1.0 and t.head_shown[1][subj] == 1.0
    hv = T(t.head_values)
    assert torch.allclose(hv[0], T(t.values), atol=1e-12, rtol=0)
    assert torch.allclose(hv[1], d.embed(d.SENTENCE) @ d.weights().w_v[:, 2:], atol=1e-12, rtol=0)
    assert float((T(t.head_outputs)[0] - hv[0, prev]).norm()) < 0.01
    assert float((T(t.head_outputs)[1] - hv[1, subj]).norm()) < 0.01
    assert torch.equal(T(t.concat), T(t.head_outputs).reshape(-1))
    assert torch.allclose(T(t.output), T(t.concat) @ d.weights().w_o, atol=1e-12, rtol=0)
    assert t.forward_max_diff < 1e-12


def test_designed_heads_are_two_decimal():
    x = d.embed(d.SENTENCE)
    w_q, w_k = wh._designed_qk(x, 4, [3])
    assert torch.allclose(w_q * 100, torch.round(w_q * 100), atol=1e-9, rtol=0) and w_k.shape == (4, 2)


def test_head_count_is_read_from_the_result_file():
    h, raw = d.head_count(), raw_result("head_count")
    runs = raw["metrics"]["runs"]["two_keys"]
    assert [r.n_heads for r in h.runs] == [1, 2, 4]
    assert [r.accuracy for r in h.runs] == [runs[k]["accuracy"] for k in ("1", "2", "4")]
    assert [r.accuracy_shown for r in h.runs] == ["0.134", "1.000", "1.000"]
    assert {r.n_params for r in h.runs} == {32000}  # same parameter count
    assert [r.head_dim * r.n_heads for r in h.runs] == [h.d_model] * 3
    assert h.runs[0].control_accuracy > 0.99  # one head is fine when one look suffices
    assert "head_count" in h.source and raw["provenance"]["command"] in h.source


def test_table3_row_a_is_compute_constant_and_matches_its_quote():
    t = d.vaswani_table3()
    assert all(h * dk == 512 for h, dk in zip(t.heads, t.d_k))
    assert t.bleu[t.heads.index(t.base_heads)] == 25.8 and t.perplexity[t.heads.index(t.base_heads)] == 4.92
    assert re.search(r"(\d\.\d) BLEU worse", t.quote).group(1) == f"{t.single_head_gap:.1f}"
    assert "1706.03762" in t.cite


def test_convex_hull_equation_fails_with_a_wrong_sum():
    eq = EQUATIONS["convex_hull"]
    combo, nonneg, total, member = eq.clauses
    with pytest.raises(EquationError):
        with_clauses("convex_hull", combo, nonneg, Clause(total.lhs, sp.Integer(2)), member).check()


def test_multihead_equation_fails_without_the_square_root():
    _, per_head = EQUATIONS["multihead"].clauses
    wrong = Clause(per_head.lhs, sp.MatMul(mh.Softmax(sp.MatMul(1 / mh.d_h, mh.X_emb, mh.W_Qi,
                                                                sp.Transpose(sp.MatMul(mh.X_emb, mh.W_Ki)),
                                                                evaluate=False)), mh.X_emb, mh.W_Vi))
    with pytest.raises(EquationError):
        with_clauses("multihead", EQUATIONS["multihead"].clauses[0], wrong).check()


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("WhyHeads")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l02_why_heads.py", "L02.1")
