"""Numbers in shapes: a vector column in brackets and a matrix grid (numbers and/or heat-map cells)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import (DOWN, LEFT, ORIGIN, PI, RIGHT, UP, Animation, FadeIn, LaggedStart, Line, Mobject, Rectangle,
                   Square, SurroundingRectangle, VGroup)

from ..theme import BUFF, COLORS, SIZES, heat_color, role_color, text_color_on
from .text import as_array, label, number, set_on_line

__all__ = ["MatrixGrid", "VectorColumn"]


def _fit_uniform(mobs: Sequence[Mobject], max_width: float, max_height: float) -> float:
    """Scale all ``mobs`` by one factor so the widest fits ``max_width`` and the tallest ``max_height``."""
    if not mobs:
        return 1.0
    w = max(m.width for m in mobs)
    h = max(m.height for m in mobs)
    s = min(1.0, max_width / w if w > 0 else 1.0, max_height / h if h > 0 else 1.0)
    if s < 1.0:
        for m in mobs:
            m.scale(s)
    return s


def _bracket(height: float, side: int, color: str, tick: float = 0.12, width: float = 2.5) -> VGroup:
    """A square bracket: side = -1 (left, opens right) or +1 (right, opens left)."""
    top, bottom = np.array([0, height / 2, 0]), np.array([0, -height / 2, 0])
    inward = np.array([-side * tick, 0, 0])
    return VGroup(Line(top, bottom), Line(top, top + inward), Line(bottom, bottom + inward)).set_stroke(
        color, width)


class VectorColumn(VGroup):
    """A column vector of real numbers in square brackets, coloured by role (Q, K, V, OUTPUT …).

    Parts: ``.entries`` (Text per component), ``.brackets`` (left, right), ``.label`` (above; may be empty).
    """

    def __init__(self, values, *, label_text: str | Mobject | None = None, role: str | None = None,
                 decimals: int = 2, font_size: float = SIZES.NUMBER, entry_height: float = 0.42,
                 label_size: float = SIZES.LABEL):
        super().__init__()
        self.values = as_array(values, 1, "values")
        color = role_color(role)
        self.entries = VGroup(*(number(v, decimals, font_size, color) for v in self.values))
        for k, e in enumerate(self.entries):
            e.move_to(DOWN * k * entry_height)
        # right-align on the decimal point: same digit count after it, so align right edges
        right = max(e.get_right()[0] for e in self.entries)
        for e in self.entries:
            e.shift(RIGHT * (right - e.get_right()[0]))
        h = len(self.values) * entry_height
        center = self.entries.get_center()
        self.brackets = VGroup(
            _bracket(h, -1, color).move_to(center).set_x(self.entries.get_left()[0] - 0.12),
            _bracket(h, +1, color).move_to(center).set_x(self.entries.get_right()[0] + 0.12))
        self.brackets[0].shift(LEFT * self.brackets[0].width / 2)
        self.brackets[1].shift(RIGHT * self.brackets[1].width / 2)
        self.add(self.brackets, self.entries)
        self.label = VGroup()
        if label_text is not None:
            self.label = label_text if isinstance(label_text, Mobject) else label(label_text, label_size, color)
            self.label.next_to(self.brackets, UP, buff=BUFF.SMALL)
            self.add(self.label)
        self.move_to(ORIGIN)


class MatrixGrid(VGroup):
    """A matrix as a grid of cells: numbers with ``decimals`` places and/or heat-map fills.

    Row ``i`` of the data is row ``i`` on screen (top to bottom). −∞ entries show as ``−∞`` on MASK-coloured
    cells. Parts: ``.cells[i][j]`` (Square), ``.numbers[i][j]`` (Text; empty group when numbers are off),
    ``.row_labels``, ``.col_labels``, ``.frame`` (outline in the role colour, when ``role``).
    Use ``cell(i, j)``, ``row(i)``, ``col(j)``, ``highlight_cell/row/col`` (rectangles, not added),
    ``with_values(v)`` (a new grid in the same place, for ``Transform``) and ``product_rows(a, b)`` (the
    animation that writes this grid as a × b, row by row).
    """

    def __init__(self, values, *, decimals: int = 2, heat: bool = False, show_numbers: bool = True,
                 vmin: float | None = None, vmax: float | None = None,
                 row_labels: Sequence[str] | None = None, col_labels: Sequence[str] | None = None,
                 row_role: str | None = None, col_role: str | None = None, role: str | None = None,
                 cell_size: float = 0.75, font_size: float = SIZES.NUMBER, label_size: float = SIZES.LABEL,
                 col_label_gap: float | None = None):
        super().__init__()
        self._config = dict(decimals=decimals, heat=heat, show_numbers=show_numbers, vmin=vmin, vmax=vmax,
                            row_labels=row_labels, col_labels=col_labels, row_role=row_role, col_role=col_role,
                            role=role, cell_size=cell_size, font_size=font_size, label_size=label_size,
                            col_label_gap=col_label_gap)
        arr = as_array(values, 2, "values")
        self.values = arr
        n_rows, n_cols = arr.shape
        if row_labels is not None and len(row_labels) != n_rows:
            raise ValueError(f"row_labels has {len(row_labels)} entries for {n_rows} rows")
        if col_labels is not None and len(col_labels) != n_cols:
            raise ValueError(f"col_labels has {len(col_labels)} entries for {n_cols} columns")
        finite = arr[np.isfinite(arr)]
        lo = float(finite.min()) if vmin is None and finite.size else (vmin if vmin is not None else 0.0)
        hi = float(finite.max()) if vmax is None and finite.size else (vmax if vmax is not None else 1.0)
        if hi <= lo:
            hi = lo + 1.0
        self.vmin, self.vmax, self.cell_size = lo, hi, cell_size
        text_color = role_color(role)

        self.cells = VGroup()
        self.numbers = VGroup()
        for i in range(n_rows):
            row_cells, row_nums = VGroup(), VGroup()
            for j in range(n_cols):
                v = arr[i, j]
                if not np.isfinite(v):
                    fill, opacity = COLORS.MASK, 1.0
                elif heat:
                    fill, opacity = heat_color(v, lo, hi), 1.0
                else:
                    fill, opacity = COLORS.PANEL, 1.0
                sq = Square(side_length=cell_size, stroke_color=COLORS.GRID, stroke_width=1.5,
                            fill_color=fill, fill_opacity=opacity)
                sq.move_to(np.array([j * cell_size, -i * cell_size, 0.0]))
                row_cells.add(sq)
                if show_numbers:
                    color = text_color_on(fill) if (heat or not np.isfinite(v)) else text_color
                    row_nums.add(number(v, decimals, font_size, color).move_to(sq))
            self.cells.add(row_cells)
            self.numbers.add(row_nums)
        scale = _fit_uniform([t for r in self.numbers for t in r], 0.84 * cell_size, 0.6 * cell_size)
        self.number_font_size = font_size * scale  # what the numbers are drawn at (MaskOverlay matches it)
        self.add(self.cells, self.numbers)

        self.frame = VGroup()
        if role is not None:
            self.frame = SurroundingRectangle(self.cells, color=role_color(role), buff=0.0, stroke_width=3)
            self.add(self.frame)

        self.row_labels = VGroup()
        if row_labels is not None:
            for t in row_labels:
                self.row_labels.add(label(t, size=label_size, color=role_color(row_role)))
            _fit_uniform(list(self.row_labels), 10.0, 0.8 * cell_size)
            for i, lab in enumerate(self.row_labels):
                set_on_line(lab.next_to(self.cells[i][0], LEFT, buff=BUFF.SMALL), self.cells[i][0].get_y())
            self.add(self.row_labels)

        self.col_labels = VGroup()
        if col_labels is not None:
            labs = [label(t, size=label_size, color=role_color(col_role)) for t in col_labels]
            widest = max(lab.width for lab in labs)
            self.col_labels_rotated = widest * 0.75 > 0.85 * cell_size
            if self.col_labels_rotated:  # too wide even at 75 %: write them upwards
                for lab in labs:
                    lab.rotate(PI / 2)
                _fit_uniform(labs, 0.8 * cell_size, 10.0)
            else:  # col_label_gap: at least that much clear space between neighbouring upright labels
                fit = 0.85 * cell_size if col_label_gap is None else min(0.85 * cell_size, cell_size - col_label_gap)
                _fit_uniform(labs, fit, 10.0)
            for j, lab in enumerate(labs):
                lab.next_to(self.cells[0][j], UP, buff=BUFF.SMALL)
                self.col_labels.add(lab)
            if not self.col_labels_rotated:  # one baseline, the lowest that clears the cells
                line = max(set_on_line(lab, 0.0).get_bottom()[1] * -1 for lab in labs)
                y = self.cells[0][0].get_top()[1] + BUFF.SMALL + line
                for lab in labs:
                    set_on_line(lab, y)
            self.add(self.col_labels)
        self.move_to(ORIGIN)

    # -- parts --------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    def cell(self, i: int, j: int) -> VGroup:
        """VGroup(square, number) of cell (i, j)."""
        parts = [self.cells[i][j]]
        if len(self.numbers[i]):
            parts.append(self.numbers[i][j])
        return VGroup(*parts)

    def row(self, i: int) -> VGroup:
        return VGroup(*(self.cell(i, j) for j in range(self.shape[1])))

    def col(self, j: int) -> VGroup:
        return VGroup(*(self.cell(i, j) for i in range(self.shape[0])))

    def highlight_cell(self, i: int, j: int, color: str = COLORS.ACCENT) -> Rectangle:
        return SurroundingRectangle(self.cells[i][j], color=color, buff=0.0, stroke_width=5)

    def highlight_row(self, i: int, color: str = COLORS.ACCENT) -> Rectangle:
        return SurroundingRectangle(self.cells[i], color=color, buff=0.0, stroke_width=5)

    def highlight_col(self, j: int, color: str = COLORS.ACCENT) -> Rectangle:
        return SurroundingRectangle(VGroup(*(r[j] for r in self.cells)), color=color, buff=0.0, stroke_width=5)

    def row_box(self, i: int, color: str = COLORS.ACCENT, buff: float = 0.06,
                stroke_width: float = 4) -> SurroundingRectangle:
        """A rectangle around row ``i`` and its row label, if any (not added; animate it with Create)."""
        parts = [self.cells[i]] + ([self.row_labels[i]] if len(self.row_labels) else [])
        return SurroundingRectangle(VGroup(*parts), color=color, buff=buff, stroke_width=stroke_width)

    def col_box(self, j: int, color: str = COLORS.ACCENT, buff: float = 0.06,
                stroke_width: float = 4) -> SurroundingRectangle:
        """A rectangle around column ``j`` and its column label, if any (not added)."""
        parts = [r[j] for r in self.cells] + ([self.col_labels[j]] if len(self.col_labels) else [])
        return SurroundingRectangle(VGroup(*parts), color=color, buff=buff, stroke_width=stroke_width)

    def reveal_numbers(self, lag_ratio: float = 0.2, shift: float = 0.2) -> Animation:
        """The numbers fade in row after row, each row sliding ``shift`` to the right (a LaggedStart)."""
        if not any(len(r) for r in self.numbers):
            raise ValueError("this grid shows no numbers (show_numbers=False)")
        return LaggedStart(*(FadeIn(r, shift=RIGHT * shift) for r in self.numbers), lag_ratio=lag_ratio)

    def move_cells_to(self, x: float, y: float) -> MatrixGrid:
        """Move the grid so that the centre of its cells is at (``x``, ``y``) (labels follow); returns it."""
        self.shift(np.array([x, y, 0.0]) - self.cells.get_center())
        return self

    def with_values(self, values, **overrides) -> MatrixGrid:
        """A grid like this one (same options, same size and place) holding ``values``."""
        new = type(self)(values, **{**self._config, **overrides})
        new.scale(self.cells.width / new.cells.width)
        new.shift(self.cells.get_center() - new.cells.get_center())
        return new

    def product_rows(self, left: MatrixGrid, right: MatrixGrid, color: str = COLORS.ACCENT):
        """This grid as ``left`` times ``right``, written row by row: row ``i`` of ``left`` and the whole of
        ``right`` light up, then row ``i``'s numbers appear as the highlights fade. One ``Succession``
        (``self.play(out.product_rows(x, w), run_time=3)``); this grid's numbers should not be shown yet."""
        from manim import AnimationGroup, FadeIn, FadeOut, Group, LaggedStart, Succession

        if left.shape[0] != self.shape[0] or right.shape[1] != self.shape[1]:
            raise ValueError(f"{left.shape} times {right.shape} does not give this grid's {self.shape}")
        if not len(self.numbers[0]):
            raise ValueError("product_rows writes numbers: this grid was built with show_numbers=False")
        steps = []
        for i in range(self.shape[0]):
            lit = (left.highlight_row(i, color),
                   SurroundingRectangle(right.cells, color=color, buff=0.0, stroke_width=4))
            steps.append(AnimationGroup(*(FadeIn(m, run_time=1) for m in lit), run_time=0.3))
            steps.append(AnimationGroup(
                LaggedStart(*(FadeIn(t, shift=RIGHT * 0.15) for t in self.numbers[i]), lag_ratio=0.1, run_time=1),
                *(FadeOut(m, run_time=1) for m in lit), run_time=0.7))
        # an empty group: the scene must not add every row's highlights up front (they would show at once)
        return Succession(*steps, group=Group())
