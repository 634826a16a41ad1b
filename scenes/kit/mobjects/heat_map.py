"""A labelled heat map: a value grid (accuracy, attention mass …) with row and column tick labels, axis titles,
an optional title, a colour-scale legend and marker lines at a column or row value ("trained at 64").

It wraps :class:`MatrixGrid` (``heat=True``) for the cells, so the colours are the course heat ramp and cells,
numbers and highlights behave as in every other grid; this module adds what a chart needs around them.
Small-multiple friendly: pass ``row_labels=None`` / ``legend=False`` to the maps after the first and line
them up with ``arrange``; all maps with the same ``vmin``/``vmax`` share one colour scale.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import DOWN, LEFT, PI, RIGHT, UP, DashedLine, Rectangle, VGroup

from ..format import shown
from ..theme import BUFF, COLORS, SIZES, heat_color
from .matrices import MatrixGrid, _fit_uniform
from .text import as_array, label

__all__ = ["HeatLegend", "HeatMap"]


class HeatLegend(VGroup):
    """A vertical colour bar from ``vmin`` (bottom) to ``vmax`` (top) with its end values and an optional title.
    Parts: ``.bar`` (the strips), ``.ticks`` (labels at the ends), ``.title``."""

    def __init__(self, vmin: float = 0.0, vmax: float = 1.0, *, height: float = 2.0, width: float = 0.22,
                 decimals: int = 1, title: str | None = None, steps: int = 24, tick_size: float = SIZES.LABEL):
        super().__init__()
        if vmax <= vmin:
            raise ValueError(f"need vmax > vmin, got {vmin}, {vmax}")
        h = height / steps
        self.bar = VGroup(*(Rectangle(width=width, height=h, stroke_width=0).set_fill(
            heat_color(vmin + (k + 0.5) / steps * (vmax - vmin), vmin, vmax), 1.0).move_to([0, k * h, 0])
            for k in range(steps)))
        self.bar.add(Rectangle(width=width, height=height, stroke_width=1.5, stroke_color=COLORS.GRID).move_to(
            [0, height / 2 - h / 2, 0]))
        self.ticks = VGroup(label(shown(vmax, decimals), size=tick_size, color=COLORS.MUTED, mono=True),
                            label(shown(vmin, decimals), size=tick_size, color=COLORS.MUTED, mono=True))
        self.ticks[0].next_to(self.bar[-1].get_corner(UP + RIGHT), RIGHT, buff=BUFF.SMALL).align_to(
            self.bar[-1], UP)
        self.ticks[1].next_to(self.bar[-1].get_corner(DOWN + RIGHT), RIGHT, buff=BUFF.SMALL).align_to(
            self.bar[-1], DOWN)
        self.add(self.bar, self.ticks)
        self.title = VGroup()
        if title:
            self.title = label(title, size=tick_size, color=COLORS.TEXT)
            self.title.next_to(self.bar, UP, buff=BUFF.SMALL)
            self.add(self.title)


class HeatMap(VGroup):
    """``values[i][j]`` as a heat-coloured cell in row ``i`` (top to bottom) and column ``j`` (left to right).

    ``col_values`` (numbers, one per column; defaults to the column labels as floats when they parse) place
    marker lines by value: :meth:`mark_col` at a column's centre or at the border after it (the training length
    between "seen" and "extrapolated" columns). Parts: ``.grid`` (the :class:`MatrixGrid`: ``.cells``,
    ``.numbers``, ``.row_labels``, ``.col_labels``), ``.row_title``, ``.col_title``, ``.title``, ``.legend``
    (a :class:`HeatLegend`, right of the grid) — each an empty VGroup when not asked for.
    ``col_labels_below=True`` writes the column labels under the cells (with the column title under them).
    """

    def __init__(self, values, *, row_labels: Sequence[str] | None = None, col_labels: Sequence[str] | None = None,
                 row_title: str | None = None, col_title: str | None = None, title: str | None = None,
                 col_values: Sequence[float] | None = None, row_values: Sequence[float] | None = None,
                 vmin: float = 0.0, vmax: float = 1.0, show_numbers: bool = True, decimals: int = 2,
                 cell_size: float = 0.6, legend: bool = True,
                 legend_title: str | None = None, legend_decimals: int = 1, col_labels_below: bool = True,
                 label_size: float = SIZES.LABEL, title_size: float = SIZES.LABEL,
                 title_color: str = COLORS.TEXT):
        super().__init__()
        arr = as_array(values, 2, "values")
        self.values = arr
        n_rows, n_cols = arr.shape
        self.grid = MatrixGrid(arr, decimals=decimals, heat=True, show_numbers=show_numbers, vmin=vmin, vmax=vmax,
                               row_labels=row_labels, col_labels=None if col_labels_below else col_labels,
                               cell_size=cell_size, label_size=label_size)
        self.add(self.grid)
        self.vmin, self.vmax = vmin, vmax
        self.col_values = self._numbers(col_values, col_labels, n_cols, "col_values")
        self.row_values = self._numbers(row_values, row_labels, n_rows, "row_values")

        self.col_labels = VGroup()
        if col_labels_below and col_labels is not None:
            if len(col_labels) != n_cols:
                raise ValueError(f"col_labels has {len(col_labels)} entries for {n_cols} columns")
            labs = [label(t, size=label_size, color=COLORS.TEXT) for t in col_labels]
            _fit_uniform(labs, 0.92 * self.grid.cells[0][0].width, 10.0)
            for j, lab in enumerate(labs):
                lab.next_to(self.grid.cells[-1][j], DOWN, buff=BUFF.SMALL)
            top = max(lab.get_top()[1] for lab in labs)
            for lab in labs:
                lab.align_to([0, top, 0], UP)
            self.col_labels = VGroup(*labs)
            self.add(self.col_labels)
        else:
            self.col_labels = self.grid.col_labels

        self.col_title = VGroup()
        if col_title:
            self.col_title = label(col_title, size=label_size, color=COLORS.MUTED)
            _fit_uniform([self.col_title], max(self.grid.cells.width, 10.0), 10.0)
            anchor = self.col_labels if (col_labels_below and len(self.col_labels)) else self.grid.cells
            self.col_title.next_to(anchor, DOWN, buff=BUFF.SMALL).set_x(self.grid.cells.get_x())
            self.add(self.col_title)

        self.row_title = VGroup()
        if row_title:
            self.row_title = label(row_title, size=label_size, color=COLORS.MUTED).rotate(PI / 2)
            _fit_uniform([self.row_title], 10.0, max(self.grid.cells.height * 1.15, 0.5))
            anchor = self.grid.row_labels if len(self.grid.row_labels) else self.grid.cells
            self.row_title.next_to(anchor, LEFT, buff=BUFF.SMALL).set_y(self.grid.cells.get_y())
            self.add(self.row_title)

        self.title = VGroup()
        if title:
            self.title = label(title, size=title_size, color=title_color)
            above = self.grid.col_labels if len(self.grid.col_labels) else self.grid.cells
            self.title.next_to(above, UP, buff=BUFF.SMALL).set_x(self.grid.cells.get_x())
            self.add(self.title)

        self.legend = VGroup()
        if legend:
            self.legend = HeatLegend(vmin, vmax, height=min(2.0, max(1.0, self.grid.cells.height)),
                                     decimals=legend_decimals, title=legend_title, tick_size=label_size)
            self.legend.next_to(self.grid.cells, RIGHT, buff=BUFF.MEDIUM).align_to(self.grid.cells, DOWN)
            self.add(self.legend)

    @staticmethod
    def _numbers(given, labels, n: int, name: str) -> tuple[float, ...] | None:
        if given is not None:
            if len(given) != n:
                raise ValueError(f"{name} has {len(given)} entries for {n}")
            return tuple(float(v) for v in given)
        try:
            return tuple(float(str(t).replace(",", "").rstrip("%")) for t in labels) if labels else None
        except ValueError:
            return None

    # -- parts --------------------------------------------------------------------------------------
    @property
    def cells(self) -> VGroup:
        return self.grid.cells

    @property
    def numbers(self) -> VGroup:
        return self.grid.numbers

    @property
    def row_labels(self) -> VGroup:
        return self.grid.row_labels

    def cell(self, i: int, j: int) -> VGroup:
        return self.grid.cell(i, j)

    def _index(self, value: float, values: tuple[float, ...] | None, what: str) -> int:
        if values is None:
            raise ValueError(f"no {what} values: pass {what}_values or numeric {what} labels")
        hits = [k for k, v in enumerate(values) if np.isclose(v, value)]
        if not hits:
            raise ValueError(f"{value} is not one of the {what} values {values}")
        return hits[0]

    # -- marks --------------------------------------------------------------------------------------
    def mark_col(self, value: float, text: str | None = None, *, where: str = "after", color: str = COLORS.ACCENT,
                 size: float = SIZES.LABEL, overhang: float = 0.25, stroke_width: float = 6) -> VGroup:
        """A dashed vertical line at column ``value``: through its centre (``where="center"``) or on the border
        after / before it (``"after"``, ``"before"``), a little beyond the cells, with ``text`` above it (not
        added). Parts: ``[0]`` the line, ``[1]`` the label (if any)."""
        j = self._index(value, self.col_values, "col")
        cell = self.grid.cells[0][j]
        x = {"center": cell.get_x(), "after": cell.get_right()[0], "before": cell.get_left()[0]}[where]
        top, bottom = self.grid.cells.get_top()[1] + overhang, self.grid.cells.get_bottom()[1] - overhang
        line = DashedLine([x, bottom, 0], [x, top, 0], dash_length=0.1).set_stroke(color, stroke_width)
        out = VGroup(line)
        if text:
            above = [self.title] if len(self.title) else []
            lab = label(text, size=size, color=color).next_to(line, UP, buff=BUFF.TIGHT)
            if above and lab.get_bottom()[1] < self.title.get_top()[1] + BUFF.TIGHT:
                lab.next_to(self.title, UP, buff=BUFF.TIGHT).set_x(x)
            out.add(lab)
        return out

    def mark_row(self, value: float, text: str | None = None, *, where: str = "center", color: str = COLORS.ACCENT,
                 size: float = SIZES.LABEL, overhang: float = 0.25, stroke_width: float = 6) -> VGroup:
        """A dashed horizontal line at row ``value`` (centre, or the border ``"after"`` = below / ``"before"`` =
        above it), with ``text`` at its right end (not added)."""
        i = self._index(value, self.row_values, "row")
        cell = self.grid.cells[i][0]
        y = {"center": cell.get_y(), "after": cell.get_bottom()[1], "before": cell.get_top()[1]}[where]
        left, right = self.grid.cells.get_left()[0] - overhang, self.grid.cells.get_right()[0] + overhang
        line = DashedLine([left, y, 0], [right, y, 0], dash_length=0.1).set_stroke(color, stroke_width)
        out = VGroup(line)
        if text:
            out.add(label(text, size=size, color=color).next_to(line, RIGHT, buff=BUFF.TIGHT))
        return out

    def box_cell(self, i: int, j: int, color: str = COLORS.ACCENT):
        """A highlight rectangle on cell (i, j) (not added)."""
        return self.grid.highlight_cell(i, j, color)
