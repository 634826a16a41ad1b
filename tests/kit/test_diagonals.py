"""DiagonalOutline and the diagonal helpers, built on Lecture 3's real grids (L03.1: ALiBi is Toeplitz, the
added-sinusoid scores are not)."""
from __future__ import annotations

import math

import numpy as np
import pytest

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


def test_outline_is_a_band_along_the_cells():
    g = data.diagonal_structure()
    grid = MatrixGrid(g.alibi_bias, heat=True, show_numbers=False, cell_size=0.5)
    out = DiagonalOutline(grid, -2)
    assert out.positions == [(i, i - 2) for i in range(2, g.n)]
    centres = np.array([grid.cells[i][j].get_center() for i, j in out.positions])
    assert np.allclose(out.band.get_center(), centres.mean(axis=0), atol=1e-6)
    # the band runs down-right at 45°: its box spans the outlined cells' centres plus about a cell
    span = centres[0] - centres[-1]
    assert abs(span[0]) == pytest.approx(abs(span[1])) and out.band.width > abs(span[0])
    assert out.band.width < abs(span[0]) + 2 * 0.5 * math.sqrt(2)
    one = DiagonalOutline(grid, g.n - 1)                            # a single corner cell: a round dot
    assert np.allclose(one.band.get_center(), grid.cells[0][g.n - 1].get_center())
    assert one.band.width == pytest.approx(one.band.height)
