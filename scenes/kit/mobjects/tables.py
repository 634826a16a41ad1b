"""Tables of numbers: a titled table with a header row, aligned columns, a highlightable row and its sources.

The table draws the strings it is given (a scene formats numbers with ``scenes.kit.format.shown``); it
computes nothing but positions. Numeric columns are right-aligned in the mono font so digits line up.

    table = DataTable(["model", "d_model", "H", "d_h"], [["GPT-2 small", "768", "12", "64"], ...],
                      title="d_h = d_model / H", sources=["Radford et al. 2019", ...])
    self.play(FadeIn(table.header), FadeIn(table.rule), LaggedStart(*(FadeIn(r) for r in table.rows)))
    self.play(Create(table.highlight_row(2)))
"""
from __future__ import annotations

from collections.abc import Sequence

from manim import DOWN, LEFT, ORIGIN, RIGHT, UP, Line, Rectangle, VGroup

from ..theme import BUFF, COLORS, SIZES
from .text import label, set_on_line

__all__ = ["DataTable"]


class DataTable(VGroup):
    """A table: optional title, a header row, a rule, one row per record, an optional source column and line.

    ``header``: the column names; ``rows``: one sequence of cell strings per record (as many as ``header``).
    ``align``: one letter per column, ``"l"`` or ``"r"`` (default: the first column left, the others right);
    right-aligned columns use the mono font. ``sources``: one string per row, drawn as a last, muted,
    left-aligned column headed ``source_header`` (small text: a source line, not content). ``source``: a
    line under the table (e.g. a benchmark's provenance). ``column_colors``: a colour per column (None:
    the text colour).

    Parts: ``.title``, ``.header`` (one label per column, the source column's last), ``.rule``, ``.rows``
    (``rows[i]``: the cells of row ``i``, source included), ``.columns`` (``columns[j]``: header and cells of
    column ``j``), ``.sources`` (the source column's cells), ``.source_line``. ``cell(i, j)``,
    ``row_y(i)``; ``highlight_row(i)`` / ``highlight_cell(i, j)`` return a frame to add or ``Create``.
    """

    def __init__(self, header: Sequence[str], rows: Sequence[Sequence[str]], *, title: str | None = None,
                 align: str | None = None, sources: Sequence[str] | None = None, source_header: str = "source",
                 source: str | None = None, column_colors: Sequence[str | None] | None = None,
                 font_size: float = SIZES.LABEL, header_size: float = SIZES.LABEL,
                 source_size: float = SIZES.SMALL, title_size: float = SIZES.BODY, row_height: float = 0.6,
                 col_buff: float = 0.55):
        super().__init__()
        header = [str(h) for h in header]
        n_cols = len(header)
        if n_cols == 0:
            raise ValueError("a table needs at least one column")
        rows = [[str(c) for c in r] for r in rows]
        if not rows:
            raise ValueError("a table needs at least one row")
        for i, r in enumerate(rows):
            if len(r) != n_cols:
                raise ValueError(f"row {i} has {len(r)} cells for {n_cols} columns")
        align = align or ("l" + "r" * (n_cols - 1))
        if len(align) != n_cols or set(align) - {"l", "r"}:
            raise ValueError(f"align needs one 'l' or 'r' per column ({n_cols}), got {align!r}")
        if sources is not None and len(sources) != len(rows):
            raise ValueError(f"{len(sources)} sources for {len(rows)} rows")
        colors = list(column_colors or [None] * n_cols)
        if len(colors) != n_cols:
            raise ValueError(f"{len(colors)} column colours for {n_cols} columns")
        self.align, self.row_height = align, row_height
        self.n_rows, self.n_cols = len(rows), n_cols

        heads = [label(h, size=header_size, color=COLORS.MUTED) for h in header]
        cells = [[label(c, size=font_size, color=colors[j] or COLORS.TEXT, mono=align[j] == "r")
                  for j, c in enumerate(r)] for r in rows]
        aligns = list(align)
        if sources is not None:
            heads.append(label(source_header, size=source_size, color=COLORS.MUTED))
            for r, s in zip(cells, sources):
                r.append(label(s, size=source_size, color=COLORS.MUTED))
            aligns.append("l")
        widths = [max(m.width for m in [heads[j], *(r[j] for r in cells)]) for j in range(len(heads))]
        lefts, x = [], 0.0
        for w in widths:
            lefts.append(x)
            x += w + col_buff
        self._left, self._right = -BUFF.SMALL, x - col_buff + BUFF.SMALL

        def place(m, j, y):
            set_on_line(m, y)
            if aligns[j] == "l":
                m.set_x(lefts[j], direction=LEFT)
            else:
                m.set_x(lefts[j] + widths[j], direction=RIGHT)
            return m

        self.header = VGroup(*(place(h, j, 0.0) for j, h in enumerate(heads)))
        rule_y = -row_height * 0.55
        self.rule = Line([self._left, rule_y, 0], [self._right, rule_y, 0]).set_stroke(COLORS.GRID, 2)
        self._rule_width = self.rule.width
        self._ys = [rule_y - row_height * (i + 0.6) for i in range(len(cells))]
        self.rows = VGroup(*(VGroup(*(place(m, j, y) for j, m in enumerate(r))) for r, y in zip(cells, self._ys)))
        self.columns = VGroup(*(VGroup(heads[j], *(r[j] for r in cells)) for j in range(n_cols)))
        self.sources = VGroup(*(r[n_cols] for r in cells)) if sources is not None else VGroup()
        self.title = VGroup()
        if title:
            self.title = label(title, size=title_size, color=COLORS.TEXT)
            self.title.next_to(self.header, UP, buff=BUFF.MEDIUM).set_x(self._left, direction=LEFT)
        self.source_line = VGroup()
        if source:
            self.source_line = label(source, size=source_size, color=COLORS.MUTED)
            self.source_line.next_to(self.rows, DOWN, buff=BUFF.MEDIUM).set_x(self._left, direction=LEFT)
        self.add(self.title, self.header, self.rule, self.rows, self.source_line)
        self.move_to(ORIGIN)

    def cell(self, i: int, j: int):
        """The label of row ``i``, column ``j`` (the source column is ``j = n_cols``)."""
        return self.rows[i][j]

    @property
    def scale_factor(self) -> float:
        """How much the table has been scaled since it was built."""
        return float(self.rule.width / self._rule_width)

    def row_y(self, i: int) -> float:
        """The centre line of row ``i``, where it is now."""
        return float(self.rule.get_y() - self.row_height * self.scale_factor * (i + 0.6))

    def _row_box(self, i: int, x0: float, x1: float, color: str, stroke_width: float, fill_opacity: float):
        h = self.row_height * self.scale_factor * 0.92
        box = Rectangle(width=x1 - x0, height=h).set_stroke(color, stroke_width)
        box.set_fill(color, opacity=fill_opacity)
        return box.move_to([(x0 + x1) / 2, self.row_y(i), 0])

    def highlight_row(self, i: int, color: str = COLORS.ACCENT, stroke_width: float = 4,
                      fill_opacity: float = 0.0) -> Rectangle:
        """A frame around row ``i``, the table's full width."""
        if not 0 <= i < self.n_rows:
            raise IndexError(f"row {i} of a {self.n_rows}-row table")
        return self._row_box(i, self.rule.get_left()[0], self.rule.get_right()[0], color, stroke_width,
                             fill_opacity)

    def highlight_cell(self, i: int, j: int, color: str = COLORS.ACCENT, stroke_width: float = 4) -> Rectangle:
        """A frame around one cell, as tall as its row."""
        m = self.cell(i, j)
        pad = BUFF.SMALL
        return self._row_box(i, m.get_left()[0] - pad, m.get_right()[0] + pad, color, stroke_width, 0.0)
