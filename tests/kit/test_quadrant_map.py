"""QuadrantMap: four cells in a 2 × 2 grid under their column labels and beside their row labels, every entry
of Lecture 4's approach map inside its own cell, entries top-down without overlap, a highlight per entry."""
from __future__ import annotations

import pytest

from scenes.kit.mobjects import QuadrantMap
from scenes.l04_context import data as d

ROWS, COLS = ("exact", "approximate"), ("compute", "memory")


def _map():
    a = d.approach_map()
    cells = [[None, None], [None, None]]
    for c in a.cells:
        cells[ROWS.index(c.exactness)][COLS.index(c.target)] = [(m.name[:22], m.lecture) for m in c.methods]
    return cells, QuadrantMap(cells, row_labels=ROWS, col_labels=COLS, width=13.0, height=4.6)


def _inside(inner, outer) -> bool:
    return (inner.get_left()[0] >= outer.get_left()[0] - 1e-6 and inner.get_right()[0] <= outer.get_right()[0] + 1e-6
            and inner.get_bottom()[1] >= outer.get_bottom()[1] - 1e-6 and inner.get_top()[1] <= outer.get_top()[1]
            + 1e-6)


def test_cells_in_a_grid_under_their_labels():
    _, qm = _map()
    b = qm.boxes
    assert b[0][0].get_y() == pytest.approx(b[0][1].get_y()) and b[0][0].get_y() > b[1][0].get_y()
    assert b[0][0].get_x() == pytest.approx(b[1][0].get_x()) and b[0][0].get_x() < b[0][1].get_x()
    for c in range(2):
        assert qm.col_labels[c].get_x() == pytest.approx(b[0][c].get_x()) and qm.col_labels[c].get_bottom()[1] > \
            b[0][c].get_top()[1]
    for r in range(2):
        assert qm.row_labels[r].get_y() == pytest.approx(b[r][0].get_y()) and qm.row_labels[r].get_right()[0] < \
            b[r][0].get_left()[0]
    assert [lb.original_text for lb in qm.col_labels] == list(COLS)
    assert qm.width == pytest.approx(13.0, abs=0.05)


def test_every_entry_inside_its_cell_top_down_with_its_tag():
    cells, qm = _map()
    for r in range(2):
        for c in range(2):
            es = qm.entries[r][c]
            assert [e[0].original_text for e in es] == [t for t, _ in cells[r][c]]
            for e, (_, tag) in zip(es, cells[r][c]):
                assert _inside(e, qm.boxes[r][c])
                assert (e[1].original_text if tag else "") == tag
            ys = [e.get_top()[1] for e in es]
            assert ys == sorted(ys, reverse=True)
            assert all(es[k].get_bottom()[1] > es[k + 1].get_top()[1] for k in range(len(es) - 1))
    frame = qm.highlight(1, 0, 2)
    assert frame.get_center()[1] == pytest.approx(qm.entry(1, 0, 2).get_center()[1], abs=0.05)
    assert _inside(frame, qm.boxes[1][0])


def test_too_many_entries_for_a_cell_raise():
    with pytest.raises(ValueError):
        QuadrantMap([[["a"] * 20, []], [[], []]], row_labels=ROWS, col_labels=COLS)
