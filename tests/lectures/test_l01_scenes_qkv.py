"""Lecture 1, L01.4–L01.6: the QueryKeyValue, DotProductAttention and SoftmaxScaling scenes construct (manim
dry run; each scene checks at several points that everything on screen is inside the safe area), their
section names are the outline's, and the data extras, the look-up mobjects and the equation they add are
truthful.
"""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

import attn_ref as ar
import scenes.kit.equations as E
from scenes.kit.mobjects import find_overlaps, format_number, overlaps
from scenes.kit.mobjects.lookup import KeyPlane, LookupTable
from scenes.l01_fundamentals import data as d
from scenes.l01_fundamentals.data_qkv_extra import score_grid_extra, softmax_extra

from scene_checks import dry_run_failures, topic_section_problem

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "scenes" / "l01_fundamentals"
SCENES = {  # file -> (class, the topic it covers)
    "l01_qkv.py": ("QueryKeyValue", "L01.4"),
    "l01_dot_product.py": ("DotProductAttention", "L01.5"),
    "l01_softmax_scaling.py": ("SoftmaxScaling", "L01.6"),
}
T = d.as_tensor


# ------------------------------------------------------------------------------------------ scenes


def test_scenes_construct_in_a_dry_run():
    """Every scene runs its construct() end to end (silent voice, no video written), in parallel."""
    failures = dry_run_failures(PKG, SCENES, frame_rate=3)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("file", sorted(SCENES))
def test_one_topic_section_with_the_outline_title(file):
    """Each scene opens exactly one section, named as the course manifest names the topic."""
    assert topic_section_problem(PKG / file, SCENES[file][1]) is None


@pytest.mark.parametrize("file", sorted(SCENES))
def test_scene_files_type_no_data_numbers(file):
    """The numbers drawn and spoken come from the data module: none of the distinctive ones is typed into a
    scene, neither as a number literal nor inside a string (layout constants such as 0.25 are fine)."""
    sd, w, sw = d.soft_dictionary(), d.dot_product_walkthrough(), d.softmax_walkthrough()
    dv, sa, st = d.dot_product_variance(), d.saturation(), d.stable_softmax_demo()
    values = {sd.blended_value, *sd.scores, w.score_shown, *w.products_shown, *sw.scores, dv.measured[0],
              dv.measured[-1], sa.max_weight_unscaled[-1], sa.jacobian_norm_unscaled[-1], st.overflow_threshold,
              *st.scores}
    texts = {format_number(v, 2) for v in values} | {format_number(v, 2).replace("\u2212", "-") for v in values}
    texts = {t for t in texts if t not in ("0.00", "1.00")}
    rounded = ({round(v, 2) for v in values if round(abs(v) * 100) % 10}  # two significant decimals: 3.41
               | {float(v) for v in values if abs(v) >= 100} | {float(dv.samples)})  # 1000, 20000
    tree = ast.parse((PKG / file).read_text(encoding="utf-8"))
    leaked = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            if round(float(node.value), 2) in rounded and abs(node.value) >= 0.2 and node.value not in (1, 2, 3):
                leaked.append(node.value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            leaked += [t for t in texts if t in node.value]
    assert not leaked, f"{file} types data numbers: {leaked}"


# ------------------------------------------------------------------------------------------ data extras


def test_score_grid_extra_matches_attn_ref():
    w, x, s = d.dot_product_walkthrough(), score_grid_extra(), d.worked_example()
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


def test_softmax_extra_adds_up():
    sw, st, x = d.softmax_walkthrough(), d.stable_softmax_demo(), softmax_extra()
    shifted = torch.exp(T(st.scores) - max(st.scores))
    for shown, exact, total in ((x.exps_shown, torch.exp(T(sw.scores)), x.total_shown),
                                (x.shifted_exps_shown, shifted, x.shifted_total_shown)):
        shown = T(shown)
        assert (shown - exact).abs().max() < 0.01 + 1e-9
        assert shown.sum().item() == pytest.approx(total, abs=1e-9)
        assert total == pytest.approx(round(exact.sum().item(), 2), abs=1e-9)
    # exp, sum, divide is the library's softmax
    assert torch.allclose(torch.exp(T(sw.scores)) / torch.exp(T(sw.scores)).sum(), ar.softmax(T(sw.scores)))


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
    """The scenes reveal registry equations piece by piece: the pieces cover every glyph exactly once."""
    from scenes.kit.equations import equation
    from scenes.l01_fundamentals.l01_dot_product import sdpa_parts
    from scenes.l01_fundamentals.l01_qkv import _clauses

    eq = equation("sdpa", isolate=[r"\operatorname{softmax}", r"\sqrt{d_{k}}", "="])
    parts = sdpa_parts(eq)
    ids = [id(g) for p in parts.values() for g in p]
    assert sorted(ids) == sorted(id(g) for g in eq[0])
    assert len(parts["num"]) == 3 and len(parts["v"]) == 1  # Q, K, ⊤ | V
    assert parts["num"].get_bottom()[1] > parts["den"].get_top()[1] - 0.2  # numerator above the bar and √d_k
    assert parts["lhs"].get_right()[0] < parts["equals"].get_left()[0] < parts["softmax"].get_left()[0]
    eq3 = equation("qkv_projection")
    clauses = _clauses(eq3, 3)
    assert sum(len(c) for c in clauses) == len(eq3[0])
    assert [c.get_x() for c in clauses] == sorted(c.get_x() for c in clauses)


# ------------------------------------------------------------------------------------------ look-up mobjects


def test_lookup_table_draws_the_soft_dictionary():
    sd = d.soft_dictionary()
    table = LookupTable(sd.keys, sd.values, value_name=sd.value_name)
    assert [lab.original_text for lab in table.key_labels] == list(sd.keys)
    assert [t.original_text for t in table.value_texts] == [format_number(v, 0) for v in sd.values]
    assert not find_overlaps(list(table.rows))
    assert [h.original_text for h in table.headers] == ["key", sd.value_name]
    table.scale(0.8).shift([1.0, -0.5, 0])  # columns built later follow the table
    scores = table.score_column(sd.scores)
    assert [t.original_text for t in scores] == [format_number(s, 2) for s in sd.scores]
    soft = table.weight_column(sd.weights)
    assert [t.original_text for t in soft.numbers] == [format_number(w, 2) for w in sd.weights_shown]
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
