"""Lecture 1, L01.1–L01.3: the History, Evolution and DirectConnections scenes construct (manim dry run),
their section names are the outline's, and the data extras and kit diagrams they use are truthful.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

import attn_ref as ar
from scenes.kit.equations import EQUATIONS
from scenes.kit.mobjects import find_overlaps, inside_frame
from scenes.kit.mobjects.networks import AllToAll, EncoderDecoder, LayeredNet, RecurrentChain, arc_over
from scenes.kit.mobjects.timeline import Timeline
from scenes.l01_fundamentals import data as d
from scenes.l01_fundamentals.data_history_extra import (CHO_2014, gradient_summary, power_of_ten, rough_words,
                                                        sci_parts, sci_text, timeline_facts)

from scene_checks import dry_run_failures, topic_section_problem

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "scenes" / "l01_fundamentals"
SCENES = {  # file -> (class, the topic it covers)
    "l01_history.py": ("History", "L01.1"),
    "l01_evolution.py": ("Evolution", "L01.2"),
    "l01_direct_connections.py": ("DirectConnections", "L01.3"),
}


# ------------------------------------------------------------------------------------------ scenes


def test_scenes_construct_in_a_dry_run():
    """Every scene runs its construct() end to end (silent voice, no video written), in parallel."""
    failures = dry_run_failures(PKG, SCENES, frame_rate=1)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("file", sorted(SCENES))
def test_one_topic_section_with_the_outline_title(file):
    """Each scene opens exactly one section, named as the course manifest names the topic."""
    assert topic_section_problem(PKG / file, SCENES[file][1]) is None


# ------------------------------------------------------------------------------------------ data extras


def test_timeline_facts_follow_history():
    h = d.history()
    f = timeline_facts()
    assert (f.first_year, f.last_year) == (h[0].year, h[-1].year)
    assert f.span_years == h[-1].year - h[0].year
    assert sum(f.gaps) == f.span_years and len(f.gaps) == len(h) - 1
    assert f.longest_gap == max(f.gaps) == h[f.longest_gap_after + 1].year - h[f.longest_gap_after].year
    assert [m.year for m in h] == sorted(m.year for m in h)


def test_cho_citation():
    assert CHO_2014.arxiv == "1406.1078" and CHO_2014.year == 2014
    assert "arXiv:1406.1078" in CHO_2014.citation


@pytest.mark.parametrize("value,mantissa,exponent", [(9.81824892121784e-12, "9.8", -12), (1.0508e-07, "1.1", -7),
                                                     (0.0996, "1.0", -1), (3.0, "3.0", 0), (12345.0, "1.2", 4)])
def test_sci_parts(value, mantissa, exponent):
    assert sci_parts(value) == (mantissa, exponent)
    assert math.isclose(float(mantissa) * 10 ** exponent, value, rel_tol=0.06)


def test_sci_text_and_powers():
    assert power_of_ten(-12) == "10\u207b\u00b9\u00b2"
    assert power_of_ten(0) == "10\u2070"
    assert sci_text(9.8e-12) == "9.8 \u00d7 10\u207b\u00b9\u00b2"
    assert sci_text(9.8e-12, sep=" times ") == "9.8 times 10\u207b\u00b9\u00b2"
    with pytest.raises(ValueError):
        sci_parts(0.0)


@pytest.mark.parametrize("value,words", [(3.005e9, "3 billion"), (2.81e5, "280 thousand"),
                                         (4.2e6, "4 million"), (12.3e9, "12 billion"), (42.0, "42")])
def test_rough_words(value, words):
    assert rough_words(value) == words


def test_gradient_summary_matches_the_measured_curves():
    g = d.gradient_vs_distance()
    s = gradient_summary()
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


def test_bahdanau_context_equation_matches_the_data():
    """The registry's c_i = Σ_j α_ij h_j holds (its claim) and reproduces the scene's context vector."""
    assert EQUATIONS["bahdanau_context"].check()
    a = d.bahdanau_alignment()
    alpha, h = d.as_tensor(a.weights), d.as_tensor(a.encoder_states)
    assert torch.allclose(alpha, ar.softmax(d.as_tensor(a.scores)))
    assert torch.allclose((alpha[:, None] * h).sum(0), d.as_tensor(a.context), atol=1e-12)


# ------------------------------------------------------------------------------------------ kit diagrams


def test_timeline_layout_and_states():
    h = d.history()
    tl = Timeline([(str(m.year), m.name.split()[0]) for m in h], dashed_after=(timeline_facts().longest_gap_after,))
    assert len(tl) == len(h) and len(tl.segments) == len(h) - 1
    xs = [n.get_x() for n in tl.nodes]
    assert np.allclose(np.diff(xs), xs[1] - xs[0])  # evenly spaced
    assert not find_overlaps(list(tl.tops)) and not find_overlaps(list(tl.bottoms))
    assert all(t.get_bottom()[1] > tl.nodes[0].get_top()[1] for t in tl.tops)
    assert all(b.get_top()[1] < tl.nodes[0].get_bottom()[1] for b in tl.bottoms)
    assert inside_frame(tl, margin=0.3)
    assert type(tl.segments[timeline_facts().longest_gap_after]).__name__ == "DashedLine"
    tl.advance_to(3)
    fills = [n.get_fill_color().to_hex().upper() for n in tl.nodes]
    assert len(set(fills[:3])) == 1 and fills[3] != fills[0] and fills[4] != fills[3]
    fresh = Timeline([(str(m.year), "x") for m in h])
    assert len(fresh.step_to(2)) == 3 + 2  # two stops become past, one current; two segments brighten
    assert fresh.states[:4] == ["past", "past", "current", "future"]
    assert fresh.step_to(2) == []  # nothing left to change
    with pytest.raises(ValueError):
        Timeline([("a", "b")])
    with pytest.raises(ValueError):
        tl.advance_to(len(h))


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


def test_encoder_decoder_modes():
    src, tgt = d.SENTENCE, ("le", "chat", "\u2026")
    ed = EncoderDecoder(src, tgt, mode="bottleneck")
    assert len(ed.bottleneck) == 1 and len(ed.bridge) == 2
    assert ed.decoder.cells.get_bottom()[1] > ed.encoder.cells.get_top()[1]
    att = EncoderDecoder(src, tgt, mode="attention")
    lines = att.attention_lines(1)
    assert len(att.bottleneck) == 0 and len(lines) == len(src)
    for line, cell in zip(lines, att.encoder.cells):
        assert np.allclose(line.get_end(), cell.get_top())
    with pytest.raises(ValueError):
        EncoderDecoder(src, tgt, mode="both")


def test_all_to_all_and_arcs():
    n = len(d.SENTENCE)
    allx = AllToAll(d.SENTENCE)
    assert len(allx.arcs) == n * (n - 1) // 2 == len(d.path_lengths().attention[0]) * (n - 1) // 2
    top = allx.tokens.get_top()[1]
    assert all(a.get_top()[1] > top for a in allx.arc_group)  # every arc bulges above the tokens
    arc = arc_over(np.array([-2.0, 0.0, 0.0]), np.array([2.0, 0.0, 0.0]), 0.8)
    assert math.isclose(arc.get_top()[1], 0.8, abs_tol=1e-3)  # sagitta as asked
    assert math.isclose(arc_over([2.0, 0, 0], [-2.0, 0, 0], 0.8).get_top()[1], 0.8, abs_tol=1e-3)


def test_layered_net():
    net = LayeredNet([4, 5, 3])
    assert [len(layer) for layer in net.layers] == [4, 5, 3]
    assert [len(e) for e in net.edges] == [20, 15]
    with pytest.raises(ValueError):
        LayeredNet([3])
