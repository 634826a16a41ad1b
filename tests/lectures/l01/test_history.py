"""L01.1 History: the timeline and its facts, the kit diagrams the scene draws, and the scene's dry run."""
from __future__ import annotations

import numpy as np
import pytest

from scenes.kit.mobjects import find_overlaps, inside_frame
from scenes.kit.mobjects.networks import EncoderDecoder, LayeredNet
from scenes.kit.mobjects.timeline import Timeline
from scenes.kit.references import CHO
from scenes.l01_fundamentals import data as d

from ._helpers import assert_one_topic_section, assert_scene_constructs

FILE, SCENE, TOPIC = "l01_history.py", "History", "L01.1"


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs(SCENE)


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section(FILE, TOPIC)


# ------------------------------------------------------------------------------------------ data


def test_history():
    h = d.history()
    assert [m.year for m in h] == sorted(m.year for m in h)
    by_name = {m.name: m for m in h}
    assert by_name["Elman RNN"].year == 1990 and by_name["LSTM"].year == 1997
    sources = {m.source for m in h}
    assert {"arXiv:1409.3215", "arXiv:1409.0473", "arXiv:1508.04025", "arXiv:1706.03762"} <= sources


def test_timeline_facts_follow_history():
    h = d.history()
    f = d.timeline_facts()
    assert (f.first_year, f.last_year) == (h[0].year, h[-1].year)
    assert f.span_years == h[-1].year - h[0].year
    assert sum(f.gaps) == f.span_years and len(f.gaps) == len(h) - 1
    assert f.longest_gap == max(f.gaps) == h[f.longest_gap_after + 1].year - h[f.longest_gap_after].year
    assert [m.year for m in h] == sorted(m.year for m in h)


def test_cho_citation():
    assert CHO.arxiv == "1406.1078" and CHO.year == 2014
    assert "arXiv:1406.1078" in CHO.short()
    assert CHO in d.references()  # cited on screen, so listed on the references card


def test_every_milestone_cites_a_listed_reference():
    """The scene looks each milestone's paper up by (authors, year) in the references card's list."""
    refs = {(r.authors, r.year): r for r in d.references()}
    for m in d.history():
        assert refs[(m.authors, m.year)].source == m.source


# ------------------------------------------------------------------------------------------ kit diagrams


def test_timeline_layout_and_states():
    h = d.history()
    tl = Timeline([(str(m.year), m.name.split()[0]) for m in h], dashed_after=(d.timeline_facts().longest_gap_after,))
    assert len(tl) == len(h) and len(tl.segments) == len(h) - 1
    xs = [n.get_x() for n in tl.nodes]
    assert np.allclose(np.diff(xs), xs[1] - xs[0])  # evenly spaced
    assert not find_overlaps(list(tl.tops)) and not find_overlaps(list(tl.bottoms))
    assert all(t.get_bottom()[1] > tl.nodes[0].get_top()[1] for t in tl.tops)
    assert all(b.get_top()[1] < tl.nodes[0].get_bottom()[1] for b in tl.bottoms)
    assert inside_frame(tl, margin=0.3)
    assert type(tl.segments[d.timeline_facts().longest_gap_after]).__name__ == "DashedLine"
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


def test_layered_net():
    net = LayeredNet([4, 5, 3])
    assert [len(layer) for layer in net.layers] == [4, 5, 3]
    assert [len(e) for e in net.edges] == [20, 15]
    with pytest.raises(ValueError):
        LayeredNet([3])
