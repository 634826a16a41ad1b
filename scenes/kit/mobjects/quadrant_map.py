"""A 2 × 2 map: two labelled axes (rows and columns), four cells, each holding a list of entries with a tag.

    qm = QuadrantMap([[exact_compute, exact_memory], [approx_compute, approx_memory]],
                     row_labels=("exact", "approximate"), col_labels=("compute", "memory"))
    self.play(FadeIn(qm.frame_parts()))
    self.play(qm.reveal_cell(0, 0))
    self.play(Create(qm.highlight(0, 0, 1)))

An entry is ``(text, tag)`` (the tag, e.g. the lecture that covers it, right-aligned in mono) or a plain
string. Entries are laid out top-down inside their cell; a cell's entries are scaled together (never past
``min_scale``) to fit its width.
"""
from __future__ import annotations

from collections.abc import Sequence

from manim import RIGHT, FadeIn, LaggedStart, RoundedRectangle, SurroundingRectangle, VGroup

from ..theme import BUFF, COLORS, SAFE, SIZES
from .text import label, set_on_line

__all__ = ["QuadrantMap"]


class QuadrantMap(VGroup):
    """``cells[r][c]`` = the entries of row ``r``, column ``c`` (2 × 2); ``row_labels`` left of the rows,
    ``col_labels`` above the columns.

    Parts: ``.boxes[r][c]`` (RoundedRectangle), ``.entries[r][c]`` (VGroup of entries; entry ``k`` =
    VGroup(text, tag)), ``.row_labels``, ``.col_labels``. ``entry(r, c, k)``; ``reveal_cell(r, c)`` the
    animation that shows a cell's entries one after the other; ``highlight(r, c, k)`` a frame around one
    entry (to ``Create``; the scene declares the overlap); ``focus(r, c)`` a frame around a whole cell.
    """

    def __init__(self, cells: Sequence[Sequence[Sequence]], *, row_labels: Sequence[str], col_labels: Sequence[str],
                 width: float = SAFE.width, height: float = 4.6, colors: Sequence[Sequence[str]] | None = None,
                 font_size: float = SIZES.LABEL, tag_size: float = SIZES.NUMBER, axis_size: float = SIZES.BODY,
                 gap: float = BUFF.SMALL, entry_buff: float = BUFF.SMALL, min_scale: float = 0.8):
        super().__init__()
        if len(cells) != 2 or any(len(row) != 2 for row in cells):
            raise ValueError("a QuadrantMap needs 2 rows of 2 cells")
        if len(row_labels) != 2 or len(col_labels) != 2:
            raise ValueError("a QuadrantMap needs two row labels and two column labels")
        colors = colors or [[COLORS.GRID, COLORS.GRID], [COLORS.GRID, COLORS.GRID]]
        self.row_labels = VGroup(*(label(t, size=axis_size, color=COLORS.TEXT) for t in row_labels))
        self.col_labels = VGroup(*(label(t, size=axis_size, color=COLORS.TEXT) for t in col_labels))
        lw = max(lb.width for lb in self.row_labels) + BUFF.MEDIUM
        lh = max(lb.height for lb in self.col_labels) + BUFF.SMALL
        cw, ch = (width - lw - gap) / 2, (height - lh - gap) / 2
        if cw <= 0 or ch <= 0:
            raise ValueError(f"no room for the cells in {width} × {height}")
        x0, y0 = -width / 2 + lw, height / 2 - lh          # top-left corner of the cell area
        self.boxes, self.entries = [[None, None], [None, None]], [[None, None], [None, None]]
        for r in range(2):
            for c in range(2):
                box = RoundedRectangle(corner_radius=0.12, width=cw, height=ch)
                box.set_stroke(colors[r][c], 2).set_fill(COLORS.PANEL, 1)
                box.move_to([x0 + c * (cw + gap) + cw / 2, y0 - r * (ch + gap) - ch / 2, 0])
                self.boxes[r][c] = box
                self.entries[r][c] = self._entries(cells[r][c], box, font_size, tag_size, entry_buff, min_scale)
        for r, lb in enumerate(self.row_labels):
            lb.move_to([-width / 2 + lb.width / 2, self.boxes[r][0].get_y(), 0])
        for c, lb in enumerate(self.col_labels):
            set_on_line(lb, height / 2 - lh / 2).set_x(self.boxes[0][c].get_x())   # one baseline
        self.add(self.row_labels, self.col_labels, *(b for row in self.boxes for b in row),
                 *(e for row in self.entries for e in row))

    @staticmethod
    def _entries(items, box, font_size, tag_size, buff, min_scale) -> VGroup:
        inner = box.width - 2 * BUFF.MEDIUM
        group = VGroup()
        for it in items:
            text, tag = (it, "") if isinstance(it, str) else (str(it[0]), str(it[1]))
            t = label(text, size=font_size, color=COLORS.TEXT)
            g = label(tag, size=tag_size, color=COLORS.MUTED, mono=True) if tag else VGroup()
            group.add(VGroup(t, g))
        if not len(group):
            return group
        tag_w = max((e[1].width for e in group if len(e[1].submobjects)), default=0.0)
        text_w = max(e[0].width for e in group)
        need = text_w + (tag_w + BUFF.MEDIUM if tag_w else 0.0)
        s = min(1.0, inner / need)
        if s < min_scale:
            raise ValueError(f"cell entries need {need:.2f} units, the cell has {inner:.2f} (scale {s:.2f} "
                             f"< {min_scale})")
        for e in group:
            e.scale(s)
        group_h = sum(e[0].height for e in group) + buff * (len(group) - 1)
        top = box.get_top()[1] - BUFF.MEDIUM
        if group_h > box.height - 2 * BUFF.MEDIUM + 1e-6:
            raise ValueError(f"{len(group)} entries need {group_h:.2f} units of height, the cell has "
                             f"{box.height - 2 * BUFF.MEDIUM:.2f}")
        y = top
        for e in group:
            t, g = e
            t.move_to([box.get_left()[0] + BUFF.MEDIUM + t.width / 2, y - t.height / 2, 0])
            if len(g.submobjects):
                g.move_to([box.get_right()[0] - BUFF.MEDIUM - g.width / 2, t.get_y(), 0])
            y -= t.height + buff
        return group

    def entry(self, r: int, c: int, k: int) -> VGroup:
        return self.entries[r][c][k]

    def frame_parts(self) -> VGroup:
        """The axis labels and the four empty cells."""
        return VGroup(self.row_labels, self.col_labels, *(b for row in self.boxes for b in row))

    def reveal_cell(self, r: int, c: int, lag_ratio: float = 0.5):
        """The entries of cell (r, c), one after the other."""
        return LaggedStart(*(FadeIn(e, shift=RIGHT * 0.15) for e in self.entries[r][c]), lag_ratio=lag_ratio)

    def highlight(self, r: int, c: int, k: int, color: str = COLORS.ACCENT,
                  stroke_width: float = 3) -> SurroundingRectangle:
        """A frame around entry ``k`` of cell (r, c), as wide as the cell's inside."""
        e, box = self.entries[r][c][k], self.boxes[r][c]
        frame = SurroundingRectangle(e, color=color, stroke_width=stroke_width, buff=BUFF.TIGHT)
        frame.stretch_to_fit_width(box.width - BUFF.MEDIUM).set_x(box.get_x())
        return frame

    def focus(self, r: int, c: int, color: str = COLORS.ACCENT, stroke_width: float = 4) -> RoundedRectangle:
        """A copy of cell (r, c)'s border in ``color`` (to ``Create`` over it)."""
        return self.boxes[r][c].copy().set_fill(opacity=0).set_stroke(color, stroke_width)

    def cell_of(self, r: int, c: int) -> VGroup:
        return VGroup(self.boxes[r][c], self.entries[r][c])

