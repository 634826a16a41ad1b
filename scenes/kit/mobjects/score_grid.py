"""``HeadScoreGrid``: one score per (layer, head) as a heat grid with its numbers, row and column titles and a
title above; any cell can be framed (the head the sentence talks about).

    grid = HeadScoreGrid(scores, title="previous-token score")   # scores: (n_layers, n_heads), rows = layers
    self.play(FadeIn(grid)); self.play(Create(grid.highlight(0, 1)))

Built for probes that score every head of a model (previous-token, induction, copying, ...); the values
are whatever the caller's builder measured (``vmin``/``vmax`` fix the colour ramp, 0 … 1 by default).
"""
from __future__ import annotations

from collections.abc import Sequence

from manim import DOWN, UP, SurroundingRectangle, VGroup

from ..theme import BUFF, COLORS, SIZES
from .matrices import MatrixGrid, _fit_uniform
from .text import as_array, label

__all__ = ["HeadScoreGrid"]


class HeadScoreGrid(VGroup):
    """A layer × head heat grid (row ``l`` = layer ``l``, column ``h`` = head ``h``) with numbers.

    Rows are named "layer 0", "layer 1", …; columns by the head's number under a ``col_title`` ("head").
    Parts: ``.grid`` (the :class:`MatrixGrid`: ``.cells``, ``.numbers``, ``.row_labels``, ``.col_labels``),
    ``.col_title``,
    ``.title`` (above the column titles; empty without ``title``), ``.values`` (the array drawn),
    ``.shown_texts()`` (the numbers as drawn). ``highlight(layer, head)`` returns a frame around that cell
    (not added); ``best()`` is the (layer, head) of the largest score.
    """

    def __init__(self, scores, *, title: str | None = None, decimals: int = 2, cell_size: float = 0.9,
                 vmin: float = 0.0, vmax: float = 1.0, row_names: Sequence[str] | None = None,
                 col_names: Sequence[str] | None = None, col_title: str | None = "head", title_color: str = COLORS.TEXT,
                 font_size: float = SIZES.NUMBER, label_size: float = SIZES.LABEL):
        super().__init__()
        arr = as_array(scores, 2, "scores")
        n_layers, n_heads = arr.shape
        rows = list(row_names) if row_names is not None else [f"layer {i}" for i in range(n_layers)]
        cols = list(col_names) if col_names is not None else [str(j) for j in range(n_heads)]
        if len(rows) != n_layers or len(cols) != n_heads:
            raise ValueError(f"{len(rows)} row names and {len(cols)} column names for scores of shape {arr.shape}")
        self.values = arr
        self.decimals = decimals
        self.grid = MatrixGrid(arr, decimals=decimals, heat=True, show_numbers=True, vmin=vmin, vmax=vmax,
                               row_labels=rows, col_labels=cols, cell_size=cell_size, font_size=font_size,
                               label_size=label_size)
        self.add(self.grid)
        self.col_title = VGroup()  # "head" over the head numbers (columns named by number only)
        if col_title:
            self.col_title = label(col_title, size=label_size, color=COLORS.MUTED)
            self.col_title.next_to(self.grid.col_labels, UP, buff=BUFF.TIGHT).set_x(self.grid.cells.get_x())
            self.add(self.col_title)
        self.title = VGroup()
        if title:
            self.title = label(title, size=SIZES.BODY, color=title_color)
            _fit_uniform([self.title], max(self.grid.width, self.grid.cells.width * 1.4), 10.0)
            top = self.col_title if len(self.col_title) else self.grid.col_labels
            self.title.next_to(top, UP, buff=BUFF.MEDIUM).set_x(self.grid.cells.get_x())
            self.add(self.title)

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    def cell(self, layer: int, head: int) -> VGroup:
        return self.grid.cell(layer, head)

    def shown_texts(self) -> list[list[str]]:
        """The numbers as drawn, row by row."""
        return [[t.original_text for t in row] for row in self.grid.numbers]

    def best(self) -> tuple[int, int]:
        """(layer, head) of the largest score."""
        i = int(self.values.argmax())
        return divmod(i, self.shape[1])

    def highlight(self, layer: int, head: int, color: str = COLORS.ACCENT,
                  stroke_width: float = 6) -> SurroundingRectangle:
        """A frame around cell (layer, head) (not added; ``Create`` it)."""
        if not (0 <= layer < self.shape[0] and 0 <= head < self.shape[1]):
            raise IndexError(f"no cell ({layer}, {head}) in a {self.shape} grid")
        return SurroundingRectangle(self.grid.cells[layer][head], color=color, buff=0.0, stroke_width=stroke_width)

    def highlight_row(self, layer: int, color: str = COLORS.ACCENT, stroke_width: float = 6) -> SurroundingRectangle:
        """A frame around one layer's row of cells (not added)."""
        return SurroundingRectangle(self.grid.cells[layer], color=color, buff=0.0, stroke_width=stroke_width)

    def caption_below(self, text: str, size: float = SIZES.LABEL, color: str = COLORS.MUTED):
        """A caption under the cells, centred on them (not added)."""
        cap = label(text, size=size, color=color)
        _fit_uniform([cap], max(self.width, 1.0), 10.0)
        return cap.next_to(self.grid.cells, DOWN, buff=BUFF.SMALL).set_x(self.grid.cells.get_x())
