"""L01.3 Direct connections: path lengths, the measured gradient curves and what the scene shows and says
about them (through the kit's number formatter), the kit diagrams it draws, and the scene's dry run."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from scenes.kit.format import power_of_ten, sci_parts, shown, spoken
from scenes.kit.mobjects import find_overlaps
from scenes.kit.mobjects.networks import AllToAll, RecurrentChain, arc_over
from scenes.l01_fundamentals import data as d

from ._helpers import T, assert_one_topic_section, assert_scene_constructs

FILE, SCENE, TOPIC = "l01_direct_connections.py", "DirectConnections", "L01.3"


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs(SCENE)


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section(FILE, TOPIC)


# ------------------------------------------------------------------------------------------ data


def test_path_lengths():
    p = d.path_lengths()
    n = len(p.tokens)
    assert p.rnn[0][n - 1] == n - 1 and p.attention[0][n - 1] == 1
    assert all(p.attention[i][i] == 0 and p.rnn[i][i] == 0 for i in range(n))


def test_gradient_vs_distance_shapes_and_claims():
    g = d.gradient_vs_distance()
    assert g.distances == tuple(range(1, 33))
    for curve in (g.rnn, g.lstm, g.attention):
        assert len(curve) == 32 and all(v > 0 and math.isfinite(v) for v in curve)
    assert g.rnn[-1] < 1e-6 * g.rnn[0]  # the RNN's gradient vanishes with distance
    assert g.lstm[-1] < 1e-3 * g.lstm[0]  # the LSTM at init decays too
    assert max(g.attention) / min(g.attention) < 3  # attention: flat
    assert g.attention[-1] > 1e6 * g.rnn[-1]
    assert len(g.rnn_per_seed) == len(g.seeds)
    for geo, runs in ((g.rnn, g.rnn_per_seed), (g.lstm, g.lstm_per_seed), (g.attention, g.attention_per_seed)):
        assert torch.allclose(T(geo), T(runs).log().mean(0).exp(), rtol=1e-12, atol=0)


def test_gradient_summary_matches_the_measured_curves():
    g = d.gradient_vs_distance()
    s = d.gradient_summary()
    assert s.distance == g.distances[-1] == len(g.distances)
    assert [e.name for e in s.ends] == ["RNN", "LSTM", "attention"]
    for end, curve in zip(s.ends, (g.rnn, g.lstm, g.attention)):
        assert end.value == curve[-1]
        mantissa, exponent = sci_parts(end.value) if end.value < 1e-3 else (end.shown, 0)
        assert math.isclose(float(mantissa) * 10 ** exponent, end.value, rel_tol=0.06)
    assert math.isclose(s.ratio_attention_rnn, g.attention[-1] / g.rnn[-1])
    assert math.isclose(s.ratio_attention_lstm, g.attention[-1] / g.lstm[-1])
    every = [v for c in (g.rnn, g.lstm, g.attention) for v in c]
    assert 10.0 ** s.decades[0] <= min(every) and max(every) <= 10.0 ** s.decades[-1]
    assert list(s.decades) == list(range(s.decades[0], s.decades[-1] + 1))
    assert (s.n_seeds, s.width, s.length) == (len(g.seeds), g.width, g.length)
    # the story the scene tells: RNN and LSTM decay, attention does not, and LSTM decays more slowly
    assert g.rnn[-1] < g.lstm[-1] < g.attention[-1]
    assert g.attention[-1] > 0.1 * g.attention[0]


# ------------------------------------------------------------------ the kit formatter, as this scene uses it


@pytest.mark.parametrize("value,mantissa,exponent", [(9.81824892121784e-12, "9.8", -12), (1.0508e-07, "1.1", -7),
                                                     (0.0996, "1.0", -1), (3.0, "3.0", 0), (12345.0, "1.2", 4)])
def test_sci_parts(value, mantissa, exponent):
    assert sci_parts(value) == (mantissa, exponent)
    assert math.isclose(float(mantissa) * 10 ** exponent, value, rel_tol=0.06)


def test_sci_text_and_powers():
    assert power_of_ten(-12) == "10\u207b\u00b9\u00b2"
    assert power_of_ten(0) == "10\u2070"
    assert shown(9.8e-12, sci=2) == "9.8 \u00d7 10\u207b\u00b9\u00b2"
    assert spoken(9.8e-12, sci=2) == "9.8 times 10\u207b\u00b9\u00b2"
    with pytest.raises(ValueError):
        sci_parts(0.0)


@pytest.mark.parametrize("value,words", [(3.005e9, "3 billion"), (2.81e5, "280 thousand"),
                                         (4.2e6, "4 million"), (12.3e9, "12 billion"), (42.0, "42")])
def test_rough_words(value, words):
    assert spoken(value, rough=True) == words


def test_curve_ends_shown_and_spoken():
    """Fixed (3 places below 0.1) down to 1e-3, scientific below; the spoken form says "times"."""
    for end in d.gradient_summary().ends:
        if end.value >= 1e-3:
            assert end.shown == end.spoken == f"{end.value:.{3 if end.value < 0.1 else 2}f}"
        else:
            m, e = sci_parts(end.value)
            assert end.shown == f"{m} \u00d7 {power_of_ten(e)}" and end.spoken == f"{m} times {power_of_ten(e)}"


# ------------------------------------------------------------------------------------------ kit diagrams


def test_recurrent_chain_paths_are_the_data_path_lengths():
    p = d.path_lengths()
    chain = RecurrentChain(p.tokens)
    n = len(p.tokens)
    assert len(chain) == n and len(chain.links) == n - 1 and len(chain.feeds) == n
    for i in range(n):
        for j in range(i + 1):
            assert len(chain.path(j, i)) == p.rnn[i][j]
    for cell, box in zip(chain.cells, chain.tokens.boxes):  # each token sits under its cell
        assert math.isclose(cell.get_x(), box.get_x(), abs_tol=1e-9) and box.get_top()[1] < cell.get_bottom()[1]
    assert not find_overlaps(list(chain.cells))
    lstm = RecurrentChain(p.tokens, cell_text="LSTM", highway=True)
    assert len(lstm.highway) == 1 and lstm.highway.width > lstm.cells.width
    with pytest.raises(ValueError):
        chain.path(3, 1)


def test_all_to_all_and_arcs():
    n = len(d.SENTENCE)
    allx = AllToAll(d.SENTENCE)
    assert len(allx.arcs) == n * (n - 1) // 2 == len(d.path_lengths().attention[0]) * (n - 1) // 2
    top = allx.tokens.get_top()[1]
    assert all(a.get_top()[1] > top for a in allx.arc_group)  # every arc bulges above the tokens
    arc = arc_over(np.array([-2.0, 0.0, 0.0]), np.array([2.0, 0.0, 0.0]), 0.8)
    assert math.isclose(arc.get_top()[1], 0.8, abs_tol=1e-3)  # sagitta as asked
    assert math.isclose(arc_over([2.0, 0, 0], [-2.0, 0, 0], 0.8).get_top()[1], 0.8, abs_tol=1e-3)
