"""Diagonals of a grid: the cells with the same ``j − i`` outlined (a Toeplitz diagonal).

A matrix whose entries depend only on ``i − j`` (relative positions) is constant along each of these bands;
``DiagonalOutline(grid, offset)`` outlines the cells ``(i, i + offset)`` of a ``MatrixGrid``, one square
each (not added to the grid; animate it with ``Create``), and ``diagonal_cells`` /
``diagonal_values`` name the cells and read the values along it.
"""
from __future__ import annotations

import numpy as np
from manim import Square, VGroup

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
    """The cells ``(i, i + offset)`` of ``grid`` (a ``MatrixGrid`` or anything with ``.cells[i][j]`` and
    ``.shape``) outlined one square each: a staircase along the diagonal that never crosses a neighbour's
    number. Parts: ``.boxes`` (one square per cell, top to bottom), ``.positions`` (the outlined cells),
    ``.offset``. Not added to the grid: animate it with ``Create``."""

    def __init__(self, grid, offset: int, *, color: str = COLORS.ACCENT, stroke_width: float = 5):
        super().__init__()
        self.offset = offset
        self.positions = diagonal_cells(tuple(grid.shape), offset)
        self.boxes = VGroup()
        for i, j in self.positions:
            cell = grid.cells[i][j]
            box = Square(side_length=cell.width, stroke_color=color, stroke_width=stroke_width, fill_opacity=0.0)
            self.boxes.add(box.move_to(cell.get_center()))
        self.add(self.boxes)
