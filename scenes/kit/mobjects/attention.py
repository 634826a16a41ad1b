"""The attention pattern: queries are rows, keys are columns, softmax runs along each row.

``AttentionGrid`` shows weights as dots (area ∝ weight) and/or numbers; numbers use
``attn_ref.round_to_sum`` so every shown row adds up to exactly 1.00. ``MaskOverlay`` shades the cells a
boolean mask forbids (True = may attend, as in ``attn_ref``) and labels them −∞.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from manim import DOWN, LEFT, ORIGIN, PI, RIGHT, UP, Circle, Square, VGroup

from ..theme import BUFF, COLORS, SIZES
from .matrices import MatrixGrid, _fit_uniform
from ..format import shown
from .text import NEG_INF, as_array, label

__all__ = ["AttentionGrid", "MaskOverlay", "displayed_weights"]

CAPTION = "softmax along each row"


def displayed_weights(weights, decimals: int = 2) -> np.ndarray:
    """Weights rounded for display by ``attn_ref.round_to_sum``: each row sums to its rounded total."""
    import attn_ref as ar

    return ar.round_to_sum(torch.as_tensor(as_array(weights, 2, "weights")), decimals=decimals).numpy()


class AttentionGrid(MatrixGrid):
    """An attention matrix P (rows = queries, columns = keys) with dots sized by weight and numbers.

    ``weights``: shape (len(queries), len(keys)), entries in [0, 1], each row summing to 1 (or 0 for a
    fully masked row). Parts (besides MatrixGrid's): ``.dots[i][j]``, ``.caption``, ``.axis_titles``,
    ``.row_sums`` (the sum of each shown row, e.g. "1.00", when ``show_row_sums``), ``.displayed``
    (the rounded numbers drawn).
    """

    def __init__(self, weights, queries: Sequence[str], keys: Sequence[str], *, decimals: int = 2,
                 show_numbers: bool = True, show_dots: bool = True, heat: bool = False,
                 cell_size: float = 0.9, caption: str | None = CAPTION, show_row_sums: bool = False,
                 axis_titles: bool = True, font_size: float = SIZES.SMALL, label_size: float = SIZES.LABEL,
                 col_label_gap: float | None = None):
        w = as_array(weights, 2, "weights")
        if w.shape != (len(queries), len(keys)):
            raise ValueError(f"weights has shape {w.shape}, expected ({len(queries)}, {len(keys)}) "
                             "= (queries, keys)")
        if not np.all(np.isfinite(w)) or w.min() < -1e-12 or w.max() > 1 + 1e-12:
            raise ValueError("weights must be probabilities in [0, 1]")
        sums = w.sum(axis=1)
        if not np.all((np.abs(sums - 1) < 1e-6) | (np.abs(sums) < 1e-12)):
            raise ValueError(f"each row of weights must sum to 1 (softmax along each row), got sums {sums}")
        self.weights = w
        self.displayed = displayed_weights(w, decimals)
        super().__init__(self.displayed, decimals=decimals, heat=heat, show_numbers=show_numbers, vmin=0.0,
                         vmax=1.0, row_labels=queries, col_labels=keys, row_role="Q", col_role="K",
                         cell_size=cell_size, font_size=font_size, label_size=label_size,
                         col_label_gap=col_label_gap)
        self._config.update(queries=queries, keys=keys, show_dots=show_dots, caption=caption,
                            show_row_sums=show_row_sums, axis_titles=axis_titles)
        for k in ("row_labels", "col_labels", "row_role", "col_role", "vmin", "vmax", "role"):
            self._config.pop(k)
        self.values = w  # the true weights; .displayed holds what the numbers show

        both = show_dots and show_numbers
        r_max = (0.2 if both else 0.36) * cell_size
        dot_offset = UP * (0.16 * cell_size if both else 0.0)
        self.dots = VGroup()
        for i, row in enumerate(self.cells):
            row_dots = VGroup()
            for j, sq in enumerate(row):
                r = r_max * float(np.sqrt(w[i, j]))  # area ∝ weight
                dot = Circle(radius=max(r, 1e-3), stroke_width=0, fill_color=COLORS.WEIGHT,
                             fill_opacity=0.9 if (show_dots and r > 0) else 0.0)
                row_dots.add(dot.move_to(sq.get_center() + dot_offset))
            self.dots.add(row_dots)
        self.add(self.dots)
        if both:
            numbers = [t for row in self.numbers for t in row]
            self.number_font_size *= _fit_uniform(numbers, 0.84 * cell_size, 0.3 * cell_size)
            for row, cells in zip(self.numbers, self.cells):
                for t, sq in zip(row, cells):
                    t.move_to(sq.get_center() + DOWN * 0.24 * cell_size)

        self.row_sums = VGroup()
        if show_row_sums:
            header = label("\u03a3", size=label_size, color=COLORS.WEIGHT)
            totals = np.round(self.displayed.sum(axis=1), decimals)
            for i, t in enumerate(totals):
                s = label(shown(t, decimals), size=font_size, color=COLORS.WEIGHT, mono=True)
                self.row_sums.add(s.next_to(self.cells[i][-1], RIGHT, buff=BUFF.MEDIUM))
            header.next_to(self.cells[0][-1], UP, buff=BUFF.SMALL).set_x(self.row_sums.get_x())
            self.row_sums_header = header
            self.add(self.row_sums, header)

        self.axis_titles = VGroup()
        if axis_titles:
            keys_title = label("keys", size=SIZES.SMALL, color=COLORS.K)
            keys_title.next_to(self.col_labels, UP, buff=BUFF.SMALL).set_x(self.cells.get_x())
            queries_title = label("queries", size=SIZES.SMALL, color=COLORS.Q).rotate(PI / 2)
            queries_title.next_to(self.row_labels, LEFT, buff=BUFF.SMALL).set_y(self.cells.get_y())
            self.axis_titles.add(queries_title, keys_title)
            self.add(self.axis_titles)

        self.caption = VGroup()
        if caption:
            self.caption = label(caption, size=SIZES.SMALL, color=COLORS.MUTED)
            self.caption.next_to(self.cells, DOWN, buff=BUFF.MEDIUM)
            self.add(self.caption)
        self.move_to(ORIGIN)

    def row_sum_texts(self) -> list[str]:
        """What ``.row_sums`` shows, row by row."""
        return [t.original_text for t in self.row_sums]


class MaskOverlay(VGroup):
    """Shades over the cells of ``grid`` that ``mask`` forbids (False = masked), labelled ``text`` (−∞).

    ``mask``: bool array of the grid's shape, True = may attend (the ``attn_ref`` convention).
    Parts: ``.shades`` and ``.labels`` (same order as ``.positions``, the masked (i, j)).
    """

    def __init__(self, grid: MatrixGrid, mask, *, text: str | None = NEG_INF, opacity: float = 1.0,
                 font_size: float = SIZES.SMALL):
        super().__init__()
        allowed = np.asarray(mask.detach().cpu() if hasattr(mask, "detach") else mask)
        if allowed.dtype != bool:
            raise TypeError(f"mask must be boolean (True = may attend), got dtype {allowed.dtype}")
        if allowed.shape != grid.shape:
            raise ValueError(f"mask has shape {allowed.shape}, grid has {grid.shape}")
        self.mask = allowed
        self.positions = [(i, j) for i in range(allowed.shape[0]) for j in range(allowed.shape[1])
                          if not allowed[i, j]]
        self.shades, self.labels = VGroup(), VGroup()
        for i, j in self.positions:
            sq = grid.cells[i][j]
            shade = Square(side_length=sq.width, stroke_width=0, fill_color=COLORS.MASK, fill_opacity=opacity)
            self.shades.add(shade.move_to(sq))
            if text:
                # −∞ a little larger than the grid's numbers as drawn now (∞ is a small glyph)
                size = 1.25 * getattr(grid, "number_font_size", font_size) * sq.width / grid.cell_size
                self.labels.add(label(text, size=size, color=COLORS.TEXT, mono=True).move_to(sq))
        if len(self.labels):
            side = grid.cells[0][0].width
            _fit_uniform(list(self.labels), 0.8 * side, 0.5 * side)
        self.add(self.shades, self.labels)
