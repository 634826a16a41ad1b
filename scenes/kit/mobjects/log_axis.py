"""A horizontal log-scale axis with labelled markers, drawn to scale (context lengths, parameter counts).

    tl = LogTimeline([(512, "BERT"), (131072, "YaRN"), ...], lo=256, hi=10_000_000)
    self.play(FadeIn(tl.frame_parts()))
    self.play(tl.reveal(0))

A marker's x is proportional to log10 of its value (``Timeline`` spaces stops evenly; this one does not).
Each marker is a dot on the axis, a stem and a label (name over value) above it. Labels that would collide
are stacked: each goes to the lowest level where it overlaps no other label and no other marker's stem
crosses it; markers with the same value share one column, stacked in the order given. ``compact(n)`` is the
label of a token count ("512", "4K", "128K", "100K", "1M") for the screen and, read by the lexicon, for
the narration.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from manim import (DOWN, UP, Circle, Create, DashedLine, FadeIn, Line, SurroundingRectangle, VGroup,
                   AnimationGroup)

from ..format import shown
from ..theme import BUFF, COLORS, SAFE, SIZES
from .text import label

__all__ = ["LogTimeline", "compact"]


def compact(n: float) -> str:
    """A count as people write context lengths: 512, 1K (1024), 4K, 32K, 100K (100,000), 128K (131,072),
    1M (1,000,000 or 2**20). Powers-of-two multiples use K = 1024 and M = 2**20, round decimals 1000 and
    10**6; anything else is the plain integer."""
    n = int(n)
    for unit, decimal, binary in (("M", 10 ** 6, 2 ** 20), ("K", 1000, 1024)):
        for base in (binary, decimal):
            if n >= base and n % base == 0:
                return f"{shown(n // base, 0)}{unit}"
    return shown(n, 0)


class LogTimeline(VGroup):
    """Markers ``[(value, name), ...]`` or ``[(value, name, value_text), ...]`` on a log axis from ``lo`` to ``hi``.

    Parts: ``.axis`` (Line), ``.ticks`` and ``.tick_labels`` (powers of ten inside [lo, hi], labelled with
    ``compact``), ``.dots``, ``.stems``, ``.labels`` (VGroup(name, value) per marker), ``.items[i]`` =
    VGroup(stem, dot, label), ``.levels[i]`` (0 = lowest row of labels). ``dashed`` indices draw a dashed
    stem and a hollow dot (a figure not verified). ``x_of(value)`` is the axis x of a value;
    ``reveal(i)`` the animation that draws marker i; ``highlight(i)`` a frame around its label.
    """

    def __init__(self, markers: Sequence[tuple], *, lo: float, hi: float, width: float = SAFE.width - 0.6,
                 colors: Sequence[str] | None = None, dashed: Sequence[int] = (), name_size: float = SIZES.LABEL,
                 value_size: float = SIZES.NUMBER, tick_size: float = SIZES.LABEL, dot_radius: float = 0.08,
                 label_gap: float = BUFF.MEDIUM, first_level: float = 0.45, max_levels: int = 4):
        super().__init__()
        if not 0 < lo < hi:
            raise ValueError(f"a log axis needs 0 < lo < hi, got lo={lo}, hi={hi}")
        if not markers:
            raise ValueError("a LogTimeline needs at least one marker")
        rows = [(float(m[0]), str(m[1]), str(m[2]) if len(m) > 2 else compact(m[0])) for m in markers]
        for v, name, _ in rows:
            if not lo <= v <= hi:
                raise ValueError(f"marker {name!r} at {v} lies outside the axis [{lo}, {hi}]")
        self.values = [v for v, _, _ in rows]
        self.lo, self.hi, self.axis_width = float(lo), float(hi), float(width)
        self.left = -width / 2
        colors = list(colors) if colors is not None else [COLORS.ACCENT] * len(rows)
        self.dashed = set(dashed)
        self.max_levels = max_levels

        self.axis = Line([self.left, 0, 0], [self.left + width, 0, 0]).set_stroke(COLORS.GRID, 3)
        self.ticks, self.tick_labels = VGroup(), VGroup()
        for k in range(math.ceil(math.log10(lo)), math.floor(math.log10(hi)) + 1):
            x = self.x_of(10 ** k)
            self.ticks.add(Line([x, -0.1, 0], [x, 0.1, 0]).set_stroke(COLORS.GRID, 3))
            self.tick_labels.add(label(compact(10 ** k), size=tick_size, color=COLORS.MUTED, mono=True)
                                 .next_to([x, -0.1, 0], DOWN, buff=BUFF.SMALL))

        self.labels = VGroup()
        for (_, name, vt), c in zip(rows, colors):
            g = VGroup(label(name, size=name_size, color=COLORS.TEXT),
                       label(vt, size=value_size, color=c, mono=True)).arrange(DOWN, buff=BUFF.TIGHT)
            self.labels.add(g)
        pitch = max(g.height for g in self.labels) + BUFF.SMALL
        self.levels, self.offsets = self._stack(label_gap)
        self.stems, self.dots = VGroup(), VGroup()
        column_top: dict[float, float] = {}     # top of the column of labels already stacked at a value
        for i, (v, g) in enumerate(zip(self.values, self.labels)):
            x = self.x_of(v)
            gx = min(max(x + self.offsets[i], self.left + g.width / 2), self.left + width - g.width / 2)
            g.move_to([gx, first_level + self.levels[i] * pitch + g.height / 2, 0])
            base = column_top.get(v, dot_radius)
            column_top[v] = g.get_top()[1] + BUFF.TIGHT
            a, b = [x, base, 0], [x, g.get_bottom()[1] - BUFF.TIGHT, 0]
            stem = DashedLine(a, b, dash_length=0.08) if i in self.dashed else Line(a, b)
            self.stems.add(stem.set_stroke(colors[i], 2))
            dot = Circle(radius=dot_radius).move_to([x, 0, 0])
            dot.set_stroke(colors[i], 3).set_fill(COLORS.BACKGROUND if i in self.dashed else colors[i], 1)
            self.dots.add(dot)
        self.items = VGroup(*(VGroup(s, d, g) for s, d, g in zip(self.stems, self.dots, self.labels)))
        self.add(self.axis, self.ticks, self.tick_labels, self.items)

    def __len__(self) -> int:
        return len(self.values)

    def x_of(self, value: float) -> float:
        """The axis x of ``value`` (in the mobject's own frame, shifted with it once moved)."""
        frac = (math.log10(value) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        x = self.left + frac * self.axis_width
        return x + (self.axis.get_start()[0] - self.left if hasattr(self, "axis") else 0.0)

    def _stack(self, gap: float, pad: float = 0.12) -> tuple[list[int], list[float]]:
        """(level, x offset of the label from its stem) per marker. In x order (ties in the order given), each
        marker takes the first placement (centred on its stem at the lowest of ``max_levels`` levels, else
        hanging right or left of its stem) where its label overlaps no placed label, no placed label below it
        covers its stem, and it covers no placed stem rising through that level; when a later marker has no
        room, the earlier ones are placed again (depth-first). Markers with one value share a column: each
        sits above the one before."""
        n = len(self.values)
        xs = [self.x_of(v) for v in self.values]
        half = [g.width / 2 + gap / 2 for g in self.labels]
        seq = sorted(range(n), key=lambda j: (xs[j], j))
        placed: list[tuple[int, int, float]] = []              # (marker, level, centre x of its label)
        budget = [20000]

        def candidates(i):
            same = [lv for j, lv, _ in placed if self.values[j] == self.values[i]]
            k = max(same) + 1 if same else 0
            inset = gap / 2 + pad
            hangs = (half[i] - inset, inset - half[i])
            top = max(k + 1, self.max_levels)
            return [(lv, 0.0) for lv in range(k, top)] + [(lv, o) for lv in range(k, top) for o in hangs]

        def place(pos: int) -> bool:               # depth-first, backtracking when a later marker has no room
            if pos == n:
                return True
            i = seq[pos]
            for k, off in candidates(i):
                budget[0] -= 1
                if budget[0] < 0:
                    return False
                if self._clear(i, k, xs[i] + off, placed, xs, half):
                    placed.append((i, k, xs[i] + off))
                    if place(pos + 1):
                        return True
                    placed.pop()
            return False

        if not place(0):
            raise ValueError(f"no room to stack {n} markers in {self.max_levels} levels")
        levels, offsets = [0] * n, [0.0] * n
        for i, k, cx in placed:
            levels[i], offsets[i] = k, cx - xs[i]
        return levels, offsets

    def _clear(self, i, k, cx, placed, xs, half) -> bool:
        for j, lv, jx in placed:
            if self.values[j] == self.values[i]:
                continue
            if lv == k and abs(jx - cx) < half[i] + half[j]:
                return False                                     # two labels on one level
            if lv < k and abs(jx - xs[i]) < half[j]:
                return False                                     # i's stem would cross j's label
            if lv > k and abs(xs[j] - cx) < half[i]:
                return False                                     # j's stem would cross i's label
        return True

    def frame_parts(self) -> VGroup:
        """The axis, its ticks and tick labels (to show before any marker)."""
        return VGroup(self.axis, self.ticks, self.tick_labels)

    def reveal(self, i: int, shift: float = 0.2) -> AnimationGroup:
        """Draw marker ``i``: the dot, then the stem, then its label."""
        return AnimationGroup(FadeIn(self.dots[i]), Create(self.stems[i]), FadeIn(self.labels[i], shift=DOWN * shift),
                              lag_ratio=0.3)

    def highlight(self, i: int, color: str = COLORS.ACCENT, stroke_width: float = 3) -> SurroundingRectangle:
        """A frame around marker ``i``'s label (to ``Create``; declare the overlap in the scene)."""
        return SurroundingRectangle(self.labels[i], color=color, stroke_width=stroke_width, buff=BUFF.TIGHT)

    def stem_x(self, i: int) -> float:
        return float(self.dots[i].get_center()[0])

    def label_box(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(lower-left, upper-right) of marker ``i``'s label."""
        g = self.labels[i]
        return g.get_corner(DOWN + np.array([-1, 0, 0])), g.get_corner(UP + np.array([1, 0, 0]))
