"""CitationPanel, built from Lecture 6's cited FlashAttention-3 figure (fa3_cited)."""
from __future__ import annotations

from itertools import pairwise

import pytest

from scenes.kit.format import shown
from scenes.kit.mobjects import CitationPanel, DataTable, published_frame
from scenes.kit.references import SHAH
from scenes.l06_flash import data


def build(**kw) -> CitationPanel:
    c = data.fa3_cited()
    return CitationPanel([str(n) for n in c.seqlens], [(r.method, r.tflops) for r in c.rows], citation=SHAH,
                         conditions=c.setup, source=c.source, unit="TFLOP/s", missing="OOM", **kw)


def test_rows_show_the_cited_values_and_missing_cells():
    c = data.fa3_cited()
    p = build()
    assert isinstance(p.table, DataTable) and p.n_rows == len(c.rows)
    for i, r in enumerate(c.rows):
        want = ["OOM" if v is None else shown(v, 0) for v in r.tflops]
        assert p.values[i] == want
        assert [m.original_text for m in p.row(i)] == [r.method, *want]
        assert p.cell(i, 0).original_text == want[0]
    assert [m.original_text for m in p.table.header] == ["TFLOP/s", *(str(n) for n in c.seqlens)]


def test_title_is_the_short_citation_and_the_frame_holds_everything():
    p = build()
    assert p.title_text == "Shah et al. 2024 · FlashAttention-3"
    assert p.citation_text == data.fa3_cited().source and p.conditions_text == data.fa3_cited().setup
    assert p.reference is SHAH and p.tag.original_text == "published"
    inner = (p.tag, p.title, p.conditions, p.table, p.citation)
    for m in inner:
        assert p.frame.get_left()[0] < m.get_left()[0] and m.get_right()[0] < p.frame.get_right()[0]
        assert p.frame.get_bottom()[1] < m.get_bottom()[1] and m.get_top()[1] < p.frame.get_top()[1]
    for upper, lower in pairwise(inner):  # stacked top to bottom, no overlap
        assert upper.get_bottom()[1] > lower.get_top()[1]


def test_width_fits_and_highlight_frames_a_row():
    p = build(width=5.0, highlight=4)
    assert p.width == pytest.approx(5.0, abs=1e-6)
    box = p.highlight_box
    assert box.get_left()[0] <= p.row(4).get_left()[0] and p.row(4).get_right()[0] <= box.get_right()[0]
    assert box.get_bottom()[1] < p.row(4).get_y() < box.get_top()[1]
    cell = p.highlight_cell(0, 5)
    assert cell.get_left()[0] < p.cell(0, 5).get_x() < cell.get_right()[0]


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        CitationPanel(["a", "b"], [("x", (1.0,))], citation=SHAH)
    with pytest.raises(IndexError):
        CitationPanel(["a"], [("x", (1.0,))], citation=SHAH, highlight=3)
    with pytest.raises(ValueError):
        CitationPanel([], [], citation="a paper")


def test_published_frame_surrounds_its_body():
    p = build()
    f = published_frame(p.table)
    assert f.width > p.table.width and f.height > p.table.height
