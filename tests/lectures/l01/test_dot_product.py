"""L01.5 Dot-product attention: the score worked out product by product, the grid and the weighted sum,
their display forms, the equation's pieces, and the scene's dry run."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import attn_ref as ar
from scenes.l01_fundamentals import data as d

from ._helpers import T, assert_one_topic_section, assert_scene_constructs, typed_data_numbers

FILE, SCENE, TOPIC = "l01_dot_product.py", "DotProductAttention", "L01.5"


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs(SCENE)


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section(FILE, TOPIC)


def test_scene_file_types_no_data_numbers():
    leaked = typed_data_numbers(FILE)
    assert not leaked, f"{FILE} types data numbers: {leaked}"


# ------------------------------------------------------------------------------------------ data


def test_dot_product_walkthrough():
    dp = d.dot_product_walkthrough()
    assert dp.q_shape == (5, 4) and dp.kt_shape == (4, 5) and dp.scores_shape == (5, 5)
    assert math.isclose(sum(dp.products), dp.score, abs_tol=1e-12)
    assert dp.score == dp.scores[dp.query_index][dp.key_index]
    assert math.isclose(sum(dp.products_shown), dp.score_shown, abs_tol=1e-9)
    qkv = d.qkv_projections()
    assert torch.allclose(T(dp.scores), T(qkv.q) @ T(qkv.k).T, atol=1e-12)
    assert torch.allclose(T(dp.weighted_values).sum(0), T(dp.output_row), atol=1e-12)
    w = d.worked_example()
    assert dp.weights_row == w.weights[dp.query_index]
    assert torch.allclose(T(dp.output_row), T(w.output)[dp.query_index], atol=1e-12)
    assert dp.tokens[dp.query_index] == d.QUERY_TOKEN and dp.tokens[dp.key_index] == d.KEY_TOKEN


def test_score_grid_extra_matches_attn_ref():
    w, x, s = d.dot_product_walkthrough(), d.score_grid_extra(), d.worked_example()
    k = T(s.k)
    assert torch.equal(T(x.kt), k.T)
    scores = ar.attention_scores(T(s.q)[None, None], k[None, None], scale=1.0)[0, 0]
    row = scores[w.query_index]
    assert x.row_max_key == int(row.argmax()) and x.row_min_key == int(row.argmin())
    assert x.row_max == pytest.approx(row.max().item()) and x.row_min == pytest.approx(row.min().item())
    assert x.scale == pytest.approx(1 / np.sqrt(k.shape[-1]))
    # the weighted value rows, rounded per column, add up to the rounded output row of one ar.sdpa call
    out = ar.sdpa(T(s.q)[None, None], k[None, None], T(s.v)[None, None])[0, 0, w.query_index]
    shown = T(x.weighted_values_shown)
    assert torch.allclose(shown.sum(0), T(x.output_shown), atol=1e-9)
    assert torch.allclose(T(x.output_shown), torch.round(out, decimals=2), atol=1e-9)
    assert (shown - T(w.weighted_values)).abs().max() < 0.01 + 1e-9
    assert torch.allclose(shown * 100, torch.round(shown * 100), atol=1e-9)


def test_equation_pieces_split_cleanly():
    """The scene reveals the registry equation piece by piece: the pieces cover every glyph exactly once."""
    from scenes.kit.equations import equation
    from scenes.l01_fundamentals.l01_dot_product import sdpa_parts

    eq = equation("sdpa", isolate=[r"\operatorname{softmax}", r"\sqrt{d_{k}}", "="])
    parts = sdpa_parts(eq)
    ids = [id(g) for p in parts.values() for g in p]
    assert sorted(ids) == sorted(id(g) for g in eq[0])
    assert len(parts["num"]) == 3 and len(parts["v"]) == 1  # Q, K, ⊤ | V
    assert parts["num"].get_bottom()[1] > parts["den"].get_top()[1] - 0.2  # numerator above the bar and √d_k
    assert parts["lhs"].get_right()[0] < parts["equals"].get_left()[0] < parts["softmax"].get_left()[0]
