"""Diagonals of a grid: the cells with the same ``j − i`` outlined as one band (a Toeplitz diagonal).

A matrix whose entries depend only on ``i − j`` (relative positions) is constant along each of these bands;
``DiagonalOutline(grid, offset)`` draws the band of cells ``(i, i + offset)`` of a ``MatrixGrid`` as a
rounded capsule (not added to the grid; animate it with ``Create``), and ``diagonal_cells`` /
``diagonal_values`` name the cells and read the values along it.
"""
from __future__ import annotations

import math

import numpy as np
from manim import RoundedRectangle, VGroup

from ..theme import COLORS

__all__ = ["DiagonalOutline", "diagonal_cells", "diagonal_spread", "diagonal_values"]


def diagonal_cells(shape: tuple[int, int], offset: int) -> list[tuple[int, int]]:
    """The cells ``(i, j)`` of an ``n_rows × n_cols`` grid with ``j − i = offset``, top to bottom."""
    n_rows, n_cols = shape
    if not -(n_rows - 1) <= offset <= n_cols - 1:
        raise ValueError(f"offset {offset} is outside the grid: j − i runs from {-(n_rows - 1)} to {n_cols - 1}")
    return [(i, i + offset) for i in range(n_rows) if 0 <= i + offset < n_cols]


def diagonal_values(values, offset: int) -> list[float]:
    """The entries of ``values`` (a 2-D array or nested sequence) along ``j − i = offset``."""
    arr = np.asarray(values, dtype=float)
    return [float(arr[i, j]) for i, j in diagonal_cells(arr.shape, offset)]


def diagonal_spread(values, offset: int) -> float:
    """max − min along the diagonal ``j − i = offset``: 0 on every diagonal of a Toeplitz matrix."""
    vals = diagonal_values(values, offset)
    return max(vals) - min(vals)


class DiagonalOutline(VGroup):
    """A rounded band around the cells ``(i, i + offset)`` of ``grid`` (a ``MatrixGrid`` or anything with
    ``.cells[i][j]`` and ``.shape``). Parts: ``.band``; ``.positions`` (the outlined cells, top to bottom),
    ``.offset``. ``pad`` is the band's half-width beyond the cell centres, as a fraction of a cell."""

    def __init__(self, grid, offset: int, *, color: str = COLORS.ACCENT, stroke_width: float = 5,
                 pad: float = 0.55):
        super().__init__()
        self.offset = offset
        self.positions = diagonal_cells(tuple(grid.shape), offset)
        first, last = (grid.cells[i][j] for i, j in (self.positions[0], self.positions[-1]))
        a, b = first.get_center(), last.get_center()
        side = first.width
        length = float(np.linalg.norm(b - a))
        width = 2 * pad * side
        self.band = RoundedRectangle(width=length + width, height=width, corner_radius=width / 2,
                                     stroke_color=color, stroke_width=stroke_width, fill_opacity=0.0)
        if length > 0:
            self.band.rotate(math.atan2(b[1] - a[1], b[0] - a[0]))
        self.band.move_to((a + b) / 2)
        self.add(self.band)
