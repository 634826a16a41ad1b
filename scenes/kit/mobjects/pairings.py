"""A vector as a row of channel cells, with coloured links between the channels that form a pair (RoPE's
``half`` vs ``interleaved`` layouts) and the lines of a fixed permutation from one row to another.

    row = ChannelRow(p.x, names=[subscript("x", i) for i in range(8)])
    half = row.pair_links(p.half_pairs, side=UP)                 # arcs above: (0, 4), (1, 5), …
    inter = row.pair_links(p.interleaved_pairs, side=DOWN)       # arcs below: (0, 1), (2, 3), …
    lines = row.permutation_lines(other_row, p.permutation)      # other[j] ← row[perm[j]]

Every value and pair comes from the data passed in; the row only places them.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import DOWN, ORIGIN, PI, UP, ArcBetweenPoints, Line, Rectangle, VGroup

from ..format import shown
from ..theme import BUFF, COLORS, SIZES
from .text import as_array, label

__all__ = ["ChannelRow"]


class ChannelRow(VGroup):
    """One cell per channel, its value inside (``shown(v, decimals)``) and its name above or below.

    Parts: ``.cells`` (Rectangle per channel), ``.entries`` (value texts), ``.names`` (channel names; empty
    when ``names`` is None). ``pair_links(pairs, side, colors)`` and ``permutation_lines(other, perm)`` return
    new groups (not added: the scene decides when). ``cell_color(k, color)`` tints a cell's outline.
    """

    def __init__(self, values, *, names: Sequence[str] | None = None, decimals: int = 2,
                 cell_width: float = 0.95, cell_height: float = 0.6, font_size: float = SIZES.NUMBER,
                 name_size: float = SIZES.LABEL, names_side=DOWN, color: str = COLORS.TEXT):
        super().__init__()
        self.values = as_array(values, 1, "values")
        n = len(self.values)
        if names is not None and len(names) != n:
            raise ValueError(f"{len(names)} names for {n} channels")
        self.cell_width, self.cell_height = cell_width, cell_height
        self.cells, self.entries, self.names = VGroup(), VGroup(), VGroup()
        for k, v in enumerate(self.values):
            cell = Rectangle(width=cell_width, height=cell_height, stroke_color=COLORS.GRID, stroke_width=2,
                             fill_color=COLORS.PANEL, fill_opacity=1.0).move_to([k * cell_width, 0, 0])
            self.cells.add(cell)
            self.entries.add(label(shown(float(v), decimals), size=font_size, color=color, mono=True).move_to(cell))
        widest = max((e.width for e in self.entries), default=0.0)
        if widest > 0.86 * cell_width:  # one size for all: the widest entry fits its cell
            for e in self.entries:
                e.scale(0.86 * cell_width / widest)
        self.add(self.cells, self.entries)
        if names is not None:
            for k, nm in enumerate(names):
                self.names.add(label(nm, size=name_size, color=COLORS.MUTED).next_to(self.cells[k], names_side,
                                                                                    buff=BUFF.TIGHT))
            self.add(self.names)
        self.names_up = bool(np.dot(names_side, UP) > 0)
        self.move_to(ORIGIN)

    def __len__(self) -> int:
        return len(self.values)

    def anchor(self, k: int, side=UP) -> np.ndarray:
        """The middle of cell ``k``'s top (``side=UP``) or bottom edge; beyond its name when the name is on that
        side (links never cross a name)."""
        up = bool(np.dot(side, UP) > 0)
        c = self.cells[k]
        point = c.get_top() if up else c.get_bottom()
        if len(self.names) and up == self.names_up:
            y = self.names.get_top()[1] + BUFF.TIGHT if up else self.names.get_bottom()[1] - BUFF.TIGHT
            point = np.array([point[0], y, 0.0])
        return point

    def pair_links(self, pairs: Sequence[tuple[int, int]], side=UP, colors: Sequence[str] | None = None,
                   stroke_width: float = 5, bulge: float = 0.35) -> VGroup:
        """One arc per pair (a, b), from cell a to cell b on ``side``, coloured ``colors[k]`` (default: the
        head palette by pair index); a longer link bows further out, by ``bulge`` per cell of distance up to
        a cap. ``links[k].pair`` is the pair it draws."""
        links = VGroup()
        up = np.dot(side, UP) > 0
        for k, (a, b) in enumerate(pairs):
            if not (0 <= a < len(self) and 0 <= b < len(self)) or a == b:
                raise ValueError(f"pair {(a, b)} is not two distinct channels of {len(self)}")
            lo, hi = sorted((a, b))
            start, end = self.anchor(lo, side), self.anchor(hi, side)
            span = (hi - lo) * self.cell_width
            height = min(bulge * (hi - lo), 1.4) * self.cell_height
            angle = 4 * np.arctan(2 * height / span) if span > 0 else PI / 2
            color = colors[k] if colors is not None else COLORS.head(k)
            arc = ArcBetweenPoints(start, end, angle=-angle if up else angle, stroke_color=color,
                                   stroke_width=stroke_width)
            arc.pair = (a, b)
            links.add(arc)
        return links

    def permutation_lines(self, other: ChannelRow, perm: Sequence[int], colors: Sequence[str] | None = None,
                          stroke_width: float = 3) -> VGroup:
        """Lines from this row's channel ``perm[j]`` to ``other``'s channel ``j`` (other = x[perm]); ``other``
        must lie below this row. ``lines[j].source`` is ``perm[j]``."""
        if len(perm) != len(other) or sorted(perm) != list(range(len(self))):
            raise ValueError(f"{list(perm)} is not a permutation of {len(self)} channels onto {len(other)}")
        lines = VGroup()
        for j, i in enumerate(perm):
            color = colors[j] if colors is not None else COLORS.MUTED
            ln = Line(self.anchor(i, DOWN), other.anchor(j, UP), stroke_color=color, stroke_width=stroke_width)
            ln.source = i
            lines.add(ln)
        return lines

    def cell_color(self, k: int, color: str, width: float = 4) -> None:
        """Outline cell ``k`` in ``color`` (use with ``.animate`` via the cell itself for an animation)."""
        self.cells[k].set_stroke(color, width)
