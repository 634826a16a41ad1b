"""HeadScoreGrid: a layer × head heat grid built from the lab's committed head scores (L02.5)."""
from __future__ import annotations

import numpy as np
import pytest

from scenes.kit.format import shown
from scenes.kit.mobjects import HeadScoreGrid
from scenes.kit.theme import heat_color
from scenes.l02_multihead import data


def test_grid_shows_the_scores_with_layer_and_head_titles():
    g = data.score_grid()
    grid = HeadScoreGrid(g.prev_token, title="previous-token score", cell_size=0.8)
    assert grid.shape == (g.n_layers, g.n_heads)
    assert grid.shown_texts() == [[shown(v) for v in row] for row in g.prev_token]
    assert [t.original_text for t in grid.grid.row_labels] == [f"layer {i}" for i in range(g.n_layers)]
    assert [t.original_text for t in grid.grid.col_labels] == [str(j) for j in range(g.n_heads)]
    assert grid.col_title.original_text == "head"
    assert not grid.grid.col_labels_rotated  # head numbers stay upright
    assert grid.title.original_text == "previous-token score"
    assert grid.title.get_bottom()[1] > grid.col_title.get_top()[1] > grid.grid.col_labels.get_top()[1]
    cells = grid.grid.cells
    assert cells[0][0].get_y() > cells[1][0].get_y() and cells[0][1].get_x() > cells[0][0].get_x()  # rows = layers
    assert cells[0][0].width == pytest.approx(0.8)
    # the ramp is fixed at 0 … 1: the colour of a cell is the course heat colour of its score
    assert cells[0][1].get_fill_color().to_hex().upper() == heat_color(g.prev_token[0][1]).upper()


def test_best_and_highlight_frame_the_best_head():
    g = data.score_grid()
    grid = HeadScoreGrid(g.induction)
    assert grid.best() == g.best_induction[:2]
    layer, head = grid.best()
    frame = grid.highlight(layer, head)
    assert np.allclose(frame.get_center(), grid.grid.cells[layer][head].get_center())
    row = grid.highlight_row(layer)
    assert row.width == pytest.approx(grid.grid.cells[layer].width)
    with pytest.raises(IndexError):
        grid.highlight(g.n_layers, 0)
    cap = grid.caption_below("below")
    assert cap.get_top()[1] < grid.grid.cells.get_bottom()[1]


def test_names_must_match_the_shape():
    with pytest.raises(ValueError, match="row names"):
        HeadScoreGrid([[0.1, 0.2]], row_names=["a", "b"])
    assert len(HeadScoreGrid([[0.1, 0.2]]).title) == 0  # no title asked, none drawn
