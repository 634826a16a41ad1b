"""DiagonalOutline and the diagonal helpers, built on Lecture 3's real grids (L03.1: ALiBi is Toeplitz, the
added-sinusoid scores are not)."""
from __future__ import annotations

import numpy as np
import pytest
from manim import DR, UL

from scenes.kit.mobjects import DiagonalOutline, MatrixGrid, diagonal_cells, diagonal_spread, diagonal_values
from scenes.l03_rope import data


def test_cells_and_values_along_a_diagonal():
    g = data.diagonal_structure()
    assert diagonal_cells((g.n, g.n), 0) == [(i, i) for i in range(g.n)]
    assert diagonal_cells((g.n, g.n), -(g.n - 1)) == [(g.n - 1, 0)]
    assert diagonal_cells((3, 5), 2) == [(0, 2), (1, 3), (2, 4)]
    assert diagonal_values(g.alibi_bias, -1) == [g.alibi_bias[i][i - 1] for i in range(1, g.n)]
    for o in range(-(g.n - 1), g.n):
        assert diagonal_spread(g.alibi_bias, o) == 0 and diagonal_spread(g.t5_bias, o) == 0
    assert max(diagonal_spread(g.sinusoidal_scores, o) for o in range(-(g.n - 1), g.n)) == pytest.approx(
        g.sinusoidal_deviation, abs=1e-12)
    with pytest.raises(ValueError):
        diagonal_cells((g.n, g.n), g.n)


def test_outline_frames_each_cell_of_the_diagonal():
    g = data.diagonal_structure()
    grid = MatrixGrid(g.alibi_bias, heat=True, show_numbers=False, cell_size=0.5)
    out = DiagonalOutline(grid, -2)
    assert out.positions == [(i, i - 2) for i in range(2, g.n)]
    assert len(out.boxes) == len(out.positions)
    for box, (i, j) in zip(out.boxes, out.positions):
        assert np.allclose(box.get_center(), grid.cells[i][j].get_center())
        assert box.width == pytest.approx(grid.cells[i][j].width)
    # the staircase runs down-right: each box touches the next at a corner
    for a, b in zip(out.boxes, out.boxes[1:]):
        assert np.allclose(a.get_corner(DR), b.get_corner(UL))
    one = DiagonalOutline(grid, g.n - 1)                            # a single corner cell
    assert one.positions == [(0, g.n - 1)] and np.allclose(one.get_center(), grid.cells[0][g.n - 1].get_center())
