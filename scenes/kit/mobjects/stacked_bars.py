"""Stacked bar chart: one bar per category, each bar a stack of segments (one per series, bottom to top), a
value axis with ticks, category names under the bars and a legend (e.g. the dense and the attention FLOPs
per token of a layer at each context length; a memory breakdown into weights, KV cache and activations).

    bars = StackedBars([("dense", dense), ("attention", attn)], ["512", "1K", "2K"], value_range=(0, 3, 1),
                       tick_strings=["0", "1 G", "2 G", "3 G"], colors=[COLORS.K, COLORS.SCORE])
    self.play(FadeIn(bars.frame), bars.grow_series(0))
    self.play(bars.grow_series(1), FadeIn(bars.legend[1]))

The chart draws the numbers and strings it is given (a scene formats them with ``scenes.kit.format.shown``);
it computes nothing but positions. Heights are proportional to the values from a zero baseline.

Why not :class:`~scenes.kit.mobjects.cited.ValueBars`: a ValueBars bar is one value with its printed value
above it and a cut baseline option; a stacked bar needs a shared value axis with ticks (its segments carry
no printed value each), a legend and segment-wise access, so it is its own mobject.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import DOWN, LEFT, RIGHT, UL, UP, UR, DashedLine, GrowFromEdge, LaggedStart, Line, Rectangle, \
    Square, VGroup

from ..theme import BUFF, COLORS, SIZES
from .text import as_array, label

__all__ = ["StackedBars"]


class StackedBars(VGroup):
    """Bars of stacked segments on a value axis.

    ``series``: (name, values) per segment kind, bottom segment first, one value per category (≥ 0).
    ``categories``: the names under the bars. ``value_range``: (0, top, step) of the value axis (default:
    0 to the largest total, ticks every quarter); ``tick_strings``: the tick labels (default: the tick values
    as ``str``). ``colors``: one per series. ``value_label`` / ``category_label``: axis titles.
    ``legend``: ``"top"`` (a row above the plot), ``"right"`` (a column right of it) or ``"inside"`` (a column in
    the plot's top left corner, for bars that grow to the right).

    Parts: ``.bars`` (``bars[k]``: the segments of category k, bottom to top), ``.series`` (``series[s]``: the
    segments of series s across the categories), ``.axis`` (value axis and baseline), ``.ticks``
    (``VGroup`` of (tick mark, tick label)), ``.names``, ``.value_label``, ``.category_label``, ``.legend``
    (``legend[s]``: swatch and name of series s), ``.frame`` (everything but the bars and the legend).
    ``level(v)``, ``slot_x(k)``; ``grow_series(s)``, ``reference_line(v, text)``, ``marker(k, text)``,
    ``highlight(k)`` (the last three are returned, not added).
    """

    def __init__(self, series: Sequence[tuple[str, Sequence[float]]], categories: Sequence[str], *,
                 value_range: tuple[float, float, float] | None = None, tick_strings: Sequence[str] | None = None,
                 colors: Sequence[str] | None = None, value_label: str | None = None,
                 category_label: str | None = None, width: float = 8.0, height: float = 3.5,
                 bar_fill: float = 0.6, legend: str = "top", font_size: float = SIZES.LABEL):
        super().__init__()
        if not series:
            raise ValueError("StackedBars needs at least one (name, values) series")
        names = [str(s[0]) for s in series]
        vals = np.stack([as_array(s[1], 1, f"series {s[0]!r}") for s in series])   # (series, categories)
        if vals.shape[1] != len(categories):
            raise ValueError(f"{vals.shape[1]} values per series for {len(categories)} categories")
        if (vals < 0).any():
            raise ValueError("stacked bars need non-negative values")
        if legend not in ("top", "right", "inside"):
            raise ValueError(f"legend is 'top', 'right' or 'inside', got {legend!r}")
        cols = list(colors) if colors is not None else [COLORS.head(i) for i in range(len(series))]
        if len(cols) != len(series):
            raise ValueError(f"{len(cols)} colours for {len(series)} series")
        totals = vals.sum(axis=0)
        lo, hi, step = value_range if value_range is not None else (0.0, float(totals.max()), float(totals.max()) / 4)
        if lo != 0:
            raise ValueError("stacked bars start at zero (value_range[0] must be 0)")
        if hi <= 0 or totals.max() > hi * (1 + 1e-9):
            raise ValueError(f"value_range top {hi} is below the largest total {totals.max()}")
        self.values_data, self.totals_data, self.top = vals, totals, hi
        n = len(categories)
        bar_w = width / n * bar_fill

        baseline = Line([0, 0, 0], [width, 0, 0]).set_stroke(COLORS.GRID, 2)
        vaxis = Line([0, 0, 0], [0, height, 0]).set_stroke(COLORS.GRID, 2)
        self.axis = VGroup(vaxis, baseline)
        self.bars = VGroup()
        self.series = VGroup(*(VGroup() for _ in series))
        for k in range(n):
            stack, base = VGroup(), 0.0
            for s in range(len(series)):
                h = max(1e-3, height * float(vals[s, k]) / hi)
                seg = Rectangle(width=bar_w, height=h, stroke_width=0, fill_color=cols[s], fill_opacity=0.9)
                seg.move_to([self.slot_x(k), self.level(base) + h / 2, 0])
                base += float(vals[s, k])
                stack.add(seg)
                self.series[s].add(seg)
            self.bars.add(stack)

        ticks = np.arange(0, hi + step * 1e-6, step)
        strings = list(tick_strings) if tick_strings is not None else [f"{t:g}" for t in ticks]
        if len(strings) != len(ticks):
            raise ValueError(f"{len(strings)} tick strings for {len(ticks)} ticks")
        self.ticks = VGroup()
        for t, text in zip(ticks, strings):
            y = self.level(float(t))
            mark = Line([-0.08, y, 0], [0, y, 0]).set_stroke(COLORS.GRID, 2)
            self.ticks.add(VGroup(mark, label(text, size=font_size, color=COLORS.MUTED, mono=True)
                                  .next_to(mark, LEFT, buff=BUFF.TIGHT)))
        self.names = VGroup(*(label(c, size=font_size, color=COLORS.TEXT, mono=True)
                              .next_to([self.slot_x(k), 0, 0], DOWN, buff=BUFF.SMALL)
                              for k, c in enumerate(categories)))
        slot = width / n - BUFF.SMALL
        widest = max(t.width for t in self.names)
        if widest > slot:  # names wider than a slot: shrink them all alike (short names read better)
            for k, t in enumerate(self.names):
                t.scale(slot / widest).next_to([self.slot_x(k), 0, 0], DOWN, buff=BUFF.SMALL)
        self.value_label = VGroup()
        if value_label:
            self.value_label = label(value_label, size=font_size, color=COLORS.MUTED)
            self.value_label.next_to(vaxis, UP, buff=BUFF.SMALL).align_to(self.ticks, LEFT)
        self.category_label = VGroup()
        if category_label:
            self.category_label = label(category_label, size=font_size, color=COLORS.MUTED)
            self.category_label.next_to(self.names, DOWN, buff=BUFF.SMALL).set_x(width / 2)
        self.legend = VGroup()
        for name, c in zip(names, cols):
            sw = Square(side_length=0.25, stroke_width=0, fill_color=c, fill_opacity=0.9)
            self.legend.add(VGroup(sw, label(name, size=font_size, color=COLORS.TEXT)).arrange(RIGHT, buff=BUFF.SMALL))
        if legend == "top":
            self.legend.arrange(RIGHT, buff=BUFF.LARGE)
            above = VGroup(vaxis, *self.value_label)
            self.legend.next_to(above, UP, buff=BUFF.MEDIUM).set_x(width / 2)
        elif legend == "right":
            self.legend.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
            self.legend.next_to([width, height, 0], RIGHT, buff=BUFF.MEDIUM).align_to([0, height, 0], UP)
        else:  # a column in the plot's top left corner (for bars that are short at the left)
            self.legend.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
            self.legend.move_to([BUFF.MEDIUM, height, 0], aligned_edge=UL)
        self.frame = VGroup(self.axis, self.ticks, self.names, self.value_label, self.category_label)
        self.add(self.frame, self.bars, self.legend)

    # ------------------------------------------------------------------------------------ geometry
    @property
    def origin(self) -> np.ndarray:
        """Scene point of the axes' corner (value 0, left end)."""
        return self.axis[1].get_start()

    def level(self, value: float) -> float:
        """The scene y of ``value`` on the value axis."""
        return self.axis[1].get_y() + self.axis[0].height * value / self.top

    def slot_x(self, k: float) -> float:
        """The scene x of category ``k``'s centre; a fractional ``k`` lies between bars (e.g. an interpolated
        crossover on a doubling axis)."""
        base = self.axis[1]
        return base.get_start()[0] + base.width / self.values_data.shape[1] * (k + 0.5)

    # ------------------------------------------------------------------------------------ animations and marks
    def grow_series(self, s: int, lag_ratio: float = 0.08) -> LaggedStart:
        """Series ``s`` grows up from the top of the segments under it, bar after bar."""
        return LaggedStart(*(GrowFromEdge(seg, DOWN) for seg in self.series[s]), lag_ratio=lag_ratio)

    def grow(self, lag_ratio: float = 0.08) -> LaggedStart:
        """Every series in turn, bottom first."""
        return LaggedStart(*(self.grow_series(s, lag_ratio) for s in range(len(self.series))), lag_ratio=0.5)

    def reference_line(self, value: float, text: str, color: str = COLORS.MUTED) -> VGroup:
        """A dashed horizontal line across the plot at ``value`` with ``text`` above its left end (not added)."""
        y = self.level(value)
        x0, x1 = self.axis[1].get_start()[0], self.axis[1].get_end()[0]
        line = DashedLine([x0, y, 0], [x1, y, 0], dash_length=0.1).set_stroke(color, 2)
        lab = label(text, size=SIZES.LABEL, color=color).next_to(line.get_start(), UR, buff=BUFF.TIGHT)
        return VGroup(line, lab)

    def marker(self, k: float, text: str, color: str = COLORS.ACCENT, top: float | None = None) -> VGroup:
        """A dashed vertical line at fractional category ``k`` from zero up to value ``top`` (default: the plot's
        top), ``text`` above it (not added)."""
        x = self.slot_x(k)
        y0, y1 = self.level(0), self.level(self.top if top is None else top)
        line = DashedLine([x, y0, 0], [x, y1, 0], dash_length=0.1).set_stroke(color, 2.5)
        lab = label(text, size=SIZES.LABEL, color=color).next_to(line, UP, buff=BUFF.TIGHT)
        return VGroup(line, lab)

    def highlight(self, k: int, color: str = COLORS.ACCENT) -> Rectangle:
        """A box around bar ``k`` and its name (not added)."""
        group = VGroup(self.bars[k], self.names[k])
        box = Rectangle(width=group.width + 0.16, height=group.height + 0.16).move_to(group)
        return box.set_stroke(color, 3)

