"""L02.5 Pattern specialisation: every number against the committed lab result (read with json) and the
maps' scores recomputed by hand."""
from __future__ import annotations

import re

import numpy as np
import pytest

from scenes.l02_multihead import data as d
from scenes.l02_multihead.data import specialisation as sp_

from ._helpers import raw_result

RAW = raw_result("head_specialisation")


def test_score_grids_are_the_files_and_the_best_heads_their_argmax():
    g, m = d.score_grid(), RAW["metrics"]
    assert (g.n_layers, g.n_heads) == (2, 4)
    assert np.array_equal(g.prev_token, m["prev_token_score"]) and np.array_equal(g.induction, m["induction_score"])
    assert np.array_equal(g.induction_control, m["induction_control_score"])
    for grid, best in ((g.prev_token, g.best_prev_token), (g.induction, g.best_induction)):
        a = np.array(grid)
        layer, head = np.unravel_index(a.argmax(), a.shape)
        assert best == (layer, head, a.max())
    assert g.best_prev_token[0] == 0 and g.best_induction[0] == 1  # layer 0 previous-token, layer 1 induction
    assert np.array(g.induction_control).max() < 0.1 < g.best_induction[2]
    assert "head_specialisation" in g.source


def _caption_repeat(caption):
    period = int(re.search(r"period (\d+)", caption).group(1))
    start = int(re.search(r"(?:starts at|copy at) (\d+)", caption).group(1))
    return period, start


@pytest.mark.parametrize("field", ["prev_token_head", "induction_head", "induction_other_period"])
def test_map_repeat_matches_its_caption_and_scores_are_recomputed(field):
    hm = getattr(d.head_maps(), field)
    a = np.array(hm.values)
    assert a.shape == (32, 32) and np.allclose(a.sum(-1), 1, atol=1e-3) and np.allclose(np.triu(a, 1), 0)
    assert (hm.period, hm.start) == _caption_repeat(hm.caption)
    assert hm.sample_prev_score == pytest.approx(np.mean([a[i, i - 1] for i in range(1, 32)]), abs=1e-12)
    p, s = hm.period, hm.start
    assert hm.sample_induction_score == pytest.approx(np.mean([a[i, i - p + 1] for i in range(s + p, s + 2 * p)]),
                                                      abs=1e-12)


def test_the_clear_heads_look_like_their_names():
    m = d.head_maps()
    assert m.prev_token_head.sample_prev_score > 0.8 > m.induction_head.sample_prev_score
    assert m.induction_head.sample_induction_score > 0.9 and m.induction_other_period.sample_induction_score > 0.9
    assert m.induction_other_period.period != m.induction_head.period  # the stripe moves with the content


def test_repeat_finder():
    assert sp_._repeat([7, 1, 2, 3, 1, 2, 3, 1]) == (3, 1)
    with pytest.raises(ValueError, match="no repeat"):
        sp_._repeat([1, 2, 3, 4])


def test_phase_change_is_the_first_logged_step_over_the_threshold():
    pc, raw = d.phase_change(), RAW["metrics"]["phase_change"]
    assert pc.step == raw["step"] == 210
    first = next(s for s, v in pc.induction_curve if v >= pc.threshold)
    assert first == pc.step
    steps = [s for s, _ in pc.induction_curve]
    assert pc.previous_logged_step == steps[steps.index(pc.step) - 1]
    curve = dict(pc.induction_curve)
    assert (curve[pc.previous_logged_step], curve[pc.step]) == (pc.best_before, pc.best_at)
    for level, step in pc.first_step_at:
        assert step == next(s for s, v in pc.induction_curve if v >= level)
    assert len(pc.loss_curve) == len(RAW["metrics"]["loss_curve"]) and pc.total_steps == 800


def test_positional_control_holds_for_every_period_and_offset():
    c, raw = d.positional_control(), RAW["metrics"]
    assert c.periods == tuple(raw["induction_by_period"]["period"]) and c.offsets == tuple(
        raw["induction_by_offset"]["offset"])
    assert (c.layer, c.head) == (d.score_grid().best_induction[0], d.score_grid().best_induction[1])
    assert min(c.by_period + c.by_offset) > 0.9 and max(c.by_period_control + c.by_offset_control) < 0.1


def test_cited_numbers_are_the_ones_in_the_quote():
    c = d.cited_redundancy()
    m = re.search(r"pruning (\d+) out of (\d+) encoder heads results in a drop of only ([\d.]+) BLEU", c.voita.text)
    assert (int(m.group(1)), int(m.group(2)), float(m.group(3))) == (c.voita_pruned, c.voita_total,
                                                                     c.voita_bleu_drop)
    assert "1905.09418" in c.voita.cite and "1905.10650" in c.michel.cite
    assert not re.search(r"\d", c.michel.text)  # a quote, no number on screen


def test_head_scores_equation_fails_with_the_wrong_offset():
    import sympy

    from scenes.kit.equations import EQUATIONS, Clause, EquationError
    from scenes.kit.equations import multihead as mh

    from ._helpers import with_clauses

    prev, ind = EQUATIONS["head_scores"].clauses
    wrong = Clause(ind.lhs, mh.Mean(sympy.Sum(mh.Entry(mh.A_map, mh.i, mh._sub(mh.i, -mh.T_period)),
                                              ind.rhs.args[0].args[1]), mh.T_period))  # i − T: the token itself
    with pytest.raises(EquationError):
        with_clauses("head_scores", prev, wrong).check()


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("Specialisation")


def test_one_topic_section_with_the_outline_title():
    from ._helpers import assert_one_topic_section
    assert_one_topic_section("l02_specialisation.py", "L02.5")
