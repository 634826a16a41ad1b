"""HeatMap: the lab's needle-in-a-haystack accuracy grid (L04.3) with its tick labels, titles, legend and the
training-length marker."""
from __future__ import annotations

import pytest

from scenes.kit.format import shown
from scenes.kit.mobjects import HeatLegend, HeatMap, MatrixGrid
from scenes.kit.theme import heat_color
from scenes.l04_context import data


def _rope_map(**kw):
    h = data.heat_maps()
    acc = h.maps[0].accuracy                                   # (length, depth)
    values = [[acc[j][i] for j in range(len(h.lengths))] for i in range(len(h.depths))]   # depth rows
    hm = HeatMap(values, row_labels=[f"{shown(100 * d, 0)}%" for d in h.depths],
                 col_labels=[shown(n, 0) for n in h.lengths], row_title="needle depth", col_title="context length",
                 title=h.maps[0].label, legend_title="accuracy", **kw)
    return h, values, hm


def test_cells_are_the_matrix_grid_heat_cells_with_labels_and_titles():
    h, values, hm = _rope_map()
    assert isinstance(hm.grid, MatrixGrid) and hm.grid.shape == (len(h.depths), len(h.lengths))
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            assert hm.cells[i][j].get_fill_color().to_hex().upper() == heat_color(v, 0.0, 1.0).upper()
    assert [t.original_text for t in hm.col_labels] == ["64", "128", "256"]
    assert [t.original_text for t in hm.row_labels] == ["0%", "25%", "50%", "75%", "100%"]
    assert hm.col_labels[0].get_top()[1] < hm.cells.get_bottom()[1]          # below the cells
    assert hm.col_title.get_top()[1] < hm.col_labels[0].get_bottom()[1]
    assert hm.row_title.get_right()[0] < hm.row_labels.get_left()[0]
    assert hm.title.original_text == "RoPE" and hm.title.get_bottom()[1] > hm.cells.get_top()[1]
    assert hm.legend.get_left()[0] > hm.cells.get_right()[0]
    assert [t.original_text for t in hm.legend.ticks] == ["1.0", "0.0"]
    assert hm.numbers[2][2].original_text == shown(values[2][2], 2)


def test_training_length_marker_sits_on_the_border_after_its_column():
    h, _, hm = _rope_map()
    mark = hm.mark_col(h.train_length, f"trained at {h.train_length}")
    assert mark[0].get_x() == pytest.approx(hm.cells[0][0].get_right()[0])
    assert mark[0].height > hm.cells.height
    assert mark[1].original_text == "trained at 64" and mark[1].get_bottom()[1] > hm.title.get_top()[1] - 1e-6
    assert hm.mark_col(128, where="center")[0].get_x() == pytest.approx(hm.cells[0][1].get_x())
    assert hm.mark_row(50)[0].get_y() == pytest.approx(hm.cells[2][0].get_y())
    with pytest.raises(ValueError, match="not one of"):
        hm.mark_col(100)


def test_small_multiples_without_row_labels_or_legend():
    _, _, hm = _rope_map(show_numbers=False)
    h = data.heat_maps()
    small = HeatMap([[1.0] * 3] * 5, col_labels=["64", "128", "256"], legend=False, show_numbers=False,
                    title=h.maps[1].label)
    assert len(small.row_labels) == 0 and len(small.legend) == 0 and len(small.numbers[0]) == 0
    assert small.cells.width == pytest.approx(hm.cells.width)
    with pytest.raises(ValueError):
        HeatLegend(1.0, 0.0)
