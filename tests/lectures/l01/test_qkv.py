"""L01.4 Query, key, value: the soft dictionary, the projections and the shared inputs behind them, the
look-up mobjects and the equation the scene adds, and the scene's dry run."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

import scenes.kit.equations as E
from scenes.kit.format import shown
from scenes.kit.mobjects import find_overlaps, overlaps
from scenes.kit.mobjects.lookup import KeyPlane, LookupTable
from scenes.l01_fundamentals import data as d

from ._helpers import (T, assert_one_topic_section, assert_rows_sum_to_one_shown, assert_scene_constructs,
                       typed_data_numbers)

FILE, SCENE, TOPIC = "l01_qkv.py", "QueryKeyValue", "L01.4"


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs(SCENE)


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section(FILE, TOPIC)


def test_scene_file_types_no_data_numbers():
    leaked = typed_data_numbers(FILE)
    assert not leaked, f"{FILE} types data numbers: {leaked}"


# ------------------------------------------------------------------------------------------ data


def test_shared_inputs_are_two_decimal_and_consistent():
    s = d.shared()
    for m in (s.x, s.w_q, s.w_k, s.w_v):
        assert torch.allclose(m * 100, torch.round(m * 100), atol=1e-9, rtol=0)
    w, qkv, dp = d.worked_example(), d.qkv_projections(), d.dot_product_walkthrough()
    for field in ("x", "w_q", "w_k", "w_v", "q", "k", "v"):
        assert getattr(w, field) == getattr(qkv, field)
    assert dp.v == w.v and w.tokens == d.SENTENCE == qkv.tokens
    assert torch.equal(T(qkv.q), T(qkv.x) @ T(qkv.w_q))
    assert torch.equal(T(qkv.x), d.embed(d.SENTENCE))
    assert d.attention_patterns().heatmap == w.weights


def test_soft_dictionary():
    sd = d.soft_dictionary()
    assert sd.exact_weights == (1.0, 0.0, 0.0, 0.0) and sd.exact_value == 4.0 and sd.exact_miss
    scores = T(sd.key_vectors) @ T(sd.query_vector)
    assert torch.allclose(scores, T(sd.scores), atol=1e-12)
    assert torch.allclose(T(sd.weights), torch.softmax(scores, -1), atol=1e-12)
    assert math.isclose(sd.blended_value, float(T(sd.weights) @ T(sd.values)), abs_tol=1e-12)
    assert_rows_sum_to_one_shown([sd.weights_shown])
    assert max(sd.weights) == sd.weights[sd.keys.index("cat")] < 0.95


# ------------------------------------------------------------------------------------------ the new equation


def test_qkv_projection_equation():
    eq = E.EQUATIONS["qkv_projection"]
    assert eq.check() is True
    assert eq.tex == r"Q = X W_{Q},\quad K = X W_{K},\quad V = X W_{V}"
    # a wrong clause (queries from W_K) fails the numerical claim
    wrong = (E.Clause(E.Q, E.X_emb * E.W_k), *eq.clauses[1:])
    bad = dataclasses.replace(eq, clauses=wrong, tex=E.render_clauses(wrong))
    with pytest.raises(E.EquationError, match="differ numerically"):
        bad.check()


def test_equation_pieces_split_cleanly():
    """The scene reveals the registry equation clause by clause: the clauses cover every glyph exactly once."""
    from scenes.kit.equations import equation
    from scenes.l01_fundamentals.l01_qkv import _clauses

    eq3 = equation("qkv_projection")
    clauses = _clauses(eq3, 3)
    assert sum(len(c) for c in clauses) == len(eq3[0])
    assert [c.get_x() for c in clauses] == sorted(c.get_x() for c in clauses)


# ------------------------------------------------------------------------------------------ look-up mobjects


def test_lookup_table_draws_the_soft_dictionary():
    sd = d.soft_dictionary()
    table = LookupTable(sd.keys, sd.values, value_name=sd.value_name)
    assert [lab.original_text for lab in table.key_labels] == list(sd.keys)
    assert [t.original_text for t in table.value_texts] == [shown(v, 0) for v in sd.values]
    assert not find_overlaps(list(table.rows))
    assert [h.original_text for h in table.headers] == ["key", sd.value_name]
    table.scale(0.8).shift([1.0, -0.5, 0])  # columns built later follow the table
    scores = table.score_column(sd.scores)
    assert [t.original_text for t in scores] == [shown(s, 2) for s in sd.scores]
    soft = table.weight_column(sd.weights)
    assert [t.original_text for t in soft.numbers] == [shown(w, 2) for w in sd.weights_shown]
    assert sum(float(t.original_text) for t in soft.numbers) == pytest.approx(1.0)
    widths = np.array([b.width for b in soft.bars])
    assert np.allclose(widths / widths.max(), np.array(sd.weights) / max(sd.weights), atol=1e-6)
    for j in range(len(sd.keys)):
        assert abs(scores[j].get_y() - table.row_y(j)) < 1e-6 and abs(soft.bars[j].get_y() - table.row_y(j)) < 1e-6
        assert scores[j].get_left()[0] > table.value_texts[j].get_right()[0]
        assert soft.bars[j].get_left()[0] > scores[j].get_right()[0]
    assert not any(overlaps(h, s) for h in table.headers for s in scores)
    exact = table.weight_column(sd.exact_weights)
    assert [t.original_text for t in exact.numbers] == ["1.00", "0.00", "0.00", "0.00"]
    with pytest.raises(ValueError):
        table.weight_column([0.5, 0.5])
    with pytest.raises(ValueError):
        LookupTable(["a"], [1, 2])


def test_key_plane_arrows_are_the_vectors():
    sd = d.soft_dictionary()
    unit = 0.9
    plane = KeyPlane(sd.key_vectors, sd.keys, query=sd.query_vector, query_name=sd.soft_query, unit=unit)
    origin = plane.axes[0].get_center()
    for arrow, vec in zip(plane.key_arrows, sd.key_vectors):
        assert np.allclose(arrow.get_end()[:2] - origin[:2], np.array(vec) * unit, atol=1e-6)
    assert np.allclose(plane.query_arrow.get_end()[:2] - origin[:2], np.array(sd.query_vector) * unit, atol=1e-6)
    labels = [*plane.key_labels, plane.query_label]
    assert not find_overlaps(labels)
    # the key's name never sits on the query arrow (cat and kitten point almost the same way)
    for lab in plane.key_labels:
        assert not overlaps(lab, plane.query_arrow.get_tip())
