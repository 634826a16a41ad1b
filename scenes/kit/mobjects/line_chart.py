"""``LineChart``: a small x/y line chart of series held in memory (a builder's curves), with axis labels,
several series, a legend, a marked x position with its label, and a source line under it.

    chart = LineChart([("best induction score", steps, scores)], x_label="training step", y_label="score",
                      y_range=(0, 1, 0.25), source=pc.source)
    mark = chart.mark_x(210, "step 210")          # a dashed vertical line and its label (not added)
    self.play(chart.create_series(0)); self.play(FadeIn(mark))

``BenchmarkChart`` (charts.py) draws a benchmark *result file* (provenance schema, several figures per
file); this one takes the numbers directly, e.g. a lab result's training curves, so the caller's builder
stays the only source of the numbers. ``point(x, y)`` maps data to scene coordinates (for arrows,
highlights); the source line is wrapped under the x-axis label.
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
from manim import (DOWN, LEFT, ORIGIN, PI, RIGHT, UP, Create, DashedLine, Dot, Line, VGroup, VMobject)

from ..format import power_of_ten, shown
from ..theme import BUFF, COLORS, SIZES
from .charts import _nice_step
from .matrices import _fit_uniform
from .text import label

__all__ = ["LineChart", "source_lines"]


def source_lines(text: str, width: float, size: float = SIZES.SMALL, color: str = COLORS.MUTED) -> VGroup:
    """``text`` (a source line) as left-aligned lines at most ``width`` wide, broken at spaces only (a command
    such as ``--no-progress`` stays whole)."""
    per_char = label(text, size=size).width / max(1, len(text))
    lines = textwrap.wrap(text, max(8, int(0.97 * width / per_char)), break_on_hyphens=False,
                          break_long_words=False) or [""]
    out = VGroup(*(label(t, size=size, color=color) for t in lines)).arrange(DOWN, aligned_edge=LEFT,
                                                                             buff=BUFF.TIGHT)
    _fit_uniform([out], width, 10.0)
    return out


def _axis(values: Sequence[float], given: tuple[float, float, float] | None, zero: bool) -> tuple[float, float,
                                                                                                   list[float]]:
    """(lo, hi, ticks) of one axis: ``given`` = (lo, hi, step), else a nice range around ``values``."""
    if given is not None:
        lo, hi, step = (float(v) for v in given)
        if not (hi > lo and step > 0):
            raise ValueError(f"an axis range needs lo < hi and step > 0, got {given}")
    else:
        vals = np.asarray(values, dtype=float)
        lo, hi = (0.0 if zero else float(vals.min())), float(vals.max())
        if hi <= lo:
            hi = lo + 1.0
        step = _nice_step(hi - lo)
        lo, hi = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    n = round((hi - lo) / step)
    ticks = [round(lo + k * step, 10) for k in range(n + 1) if lo + k * step <= hi + 1e-9]
    return lo, hi, ticks


def _log_axis(values: Sequence[float], given: tuple[float, float, float] | None) -> tuple[float, float, list[float]]:
    """(lo, hi, ticks) of a log axis: ``given`` = (lo, hi, decades per tick) with lo, hi > 0, else whole
    decades around ``values``; ticks at powers of ten."""
    if given is not None:
        lo, hi, step = (float(v) for v in given)
        if not (0 < lo < hi and step > 0):
            raise ValueError(f"a log axis needs 0 < lo < hi and step > 0, got {given}")
    else:
        vals = np.asarray(values, dtype=float)
        if vals.min() <= 0:
            raise ValueError("a log axis needs positive values")
        lo, hi, step = 10.0 ** math.floor(math.log10(vals.min()) + 1e-9), 10.0 ** math.ceil(
            math.log10(vals.max()) - 1e-9), 1.0
        if hi <= lo:
            hi = lo * 10
    e0, e1 = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
    ticks = [10.0 ** e for e in np.arange(e0, e1 + 1e-9, step)]
    return lo, hi, ticks


def _tick_text(v: float, step: float) -> str:
    if float(v).is_integer() and float(step).is_integer():
        return str(int(v))
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    decimals += 0 if round(step * 10 ** decimals, 6).is_integer() else 1
    return shown(v, decimals)


class LineChart(VGroup):
    """Lines (with optional point markers) of ``series``: a sequence of ``(name, xs, ys)``.

    Parts: ``.axes`` (x, y lines), ``.gridlines``, ``.x_ticks``/``.y_ticks`` (labels), ``.series`` (one
    VGroup(line, markers) per series), ``.legend`` (one entry per series, above the plot; empty when
    ``legend=False`` or a single series has ``legend=None``), ``.axis_labels``, ``.source`` (the wrapped
    source line(s) under the chart; empty without ``source``). ``x_range``/``y_range`` = (lo, hi, step)
    fix an axis; without them a nice range is chosen (the y-axis starts at 0 unless ``y_zero=False``).
    ``y_log=True``: a logarithmic y-axis (values > 0), ticks at powers of ten labelled ``10⁻³``;
    ``y_range`` is then (lo, hi, decades per tick), whole decades around the data without it.
    """

    def __init__(self, series: Sequence[tuple[str, Sequence[float], Sequence[float]]], *, x_label: str,
                 y_label: str, width: float = 6.0, height: float = 3.0,
                 x_range: tuple[float, float, float] | None = None, y_range: tuple[float, float, float] | None = None,
                 y_zero: bool = True, colors: Sequence[str] | None = None, markers: bool = False,
                 legend: bool | None = None, source: str | None = None, tick_size: float = SIZES.SMALL,
                 label_size: float = SIZES.LABEL, source_size: float = SIZES.SMALL, stroke_width: float = 4,
                 y_log: bool = False):
        super().__init__()
        if not series:
            raise ValueError("a line chart needs at least one series")
        for name, xs, ys in series:
            if len(xs) != len(ys) or not len(xs):
                raise ValueError(f"series {name!r} has {len(xs)} x and {len(ys)} y values")
            if not all(math.isfinite(float(v)) for v in (*xs, *ys)):
                raise ValueError(f"series {name!r} has non-finite values")
            if y_log and min(float(v) for v in ys) <= 0:
                raise ValueError(f"series {name!r} has values <= 0 on a log axis")
        self.names = [s[0] for s in series]
        self.colors = list(colors or COLORS.HEADS)
        if len(self.colors) < len(series):
            raise ValueError(f"{len(self.colors)} colours for {len(series)} series")
        self.width_units, self.height_units = width, height
        all_x = [float(v) for s in series for v in s[1]]
        all_y = [float(v) for s in series for v in s[2]]
        self.x_lo, self.x_hi, x_ticks = _axis(all_x, x_range, zero=False)
        self.y_log = y_log
        self.y_lo, self.y_hi, y_ticks = _log_axis(all_y, y_range) if y_log else _axis(all_y, y_range, zero=y_zero)
        x_step = x_range[2] if x_range else (x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else 1.0)
        y_step = y_range[2] if y_range else (y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0)

        self.axes = VGroup(Line(ORIGIN, [width, 0, 0]), Line(ORIGIN, [0, height, 0])).set_stroke(COLORS.GRID, 2)
        self.gridlines = VGroup(*(Line(self._xy(self.x_lo, t), self._xy(self.x_hi, t)).set_stroke(
            COLORS.GRID, 1, opacity=0.5) for t in y_ticks if t > self.y_lo))
        self.y_ticks = VGroup(*(label(power_of_ten(round(math.log10(t))) if y_log else _tick_text(t, y_step),
                                      size=tick_size, color=COLORS.MUTED, mono=True) for t in y_ticks))
        for t, lab in zip(y_ticks, self.y_ticks):
            lab.next_to(self._xy(self.x_lo, t), LEFT, buff=BUFF.SMALL)
        self.x_ticks = VGroup(*(label(_tick_text(t, x_step), size=tick_size, color=COLORS.MUTED, mono=True)
                                for t in x_ticks))
        spacing = width / max(1, len(x_ticks) - 1)
        _fit_uniform(list(self.x_ticks), 0.9 * spacing, 10.0)
        for t, lab in zip(x_ticks, self.x_ticks):
            lab.next_to(self._xy(t, self.y_lo), DOWN, buff=BUFF.SMALL)

        self.series = VGroup()
        for k, (_, xs, ys) in enumerate(series):
            pts = [self._xy(float(x), float(y)) for x, y in zip(xs, ys)]
            line = VMobject().set_points_as_corners(pts).set_stroke(self.colors[k], stroke_width)
            dots = VGroup(*(Dot(p, radius=0.05, color=self.colors[k]) for p in pts)) if markers else VGroup()
            self.series.add(VGroup(line, dots))

        x_lab = label(x_label, size=label_size, color=COLORS.TEXT)
        x_lab.next_to(self.x_ticks, DOWN, buff=BUFF.SMALL).set_x(width / 2)
        y_lab = label(y_label, size=label_size, color=COLORS.TEXT).rotate(PI / 2)
        _fit_uniform([y_lab], 10.0, height * 1.1)
        y_lab.next_to(self.y_ticks, LEFT, buff=BUFF.SMALL).set_y(height / 2)
        self.axis_labels = VGroup(x_lab, y_lab)

        self.legend = VGroup()
        if legend or (legend is None and len(series) > 1):
            for name, col in zip(self.names, self.colors):
                swatch = Line(ORIGIN, RIGHT * 0.4).set_stroke(col, 6)
                self.legend.add(VGroup(swatch, label(name, size=label_size, color=col)).arrange(
                    RIGHT, buff=BUFF.SMALL))
            self.legend.arrange(RIGHT, buff=BUFF.MEDIUM)
            _fit_uniform([self.legend], width, 10.0)
            self.legend.next_to(self.axes, UP, buff=BUFF.MEDIUM).align_to(self.axes, LEFT)

        self.source = VGroup()
        if source:
            left = min(y_lab.get_left()[0], 0.0)
            avail = width - left
            self.source = source_lines(source, avail, source_size)
            self.source.next_to(x_lab, DOWN, buff=BUFF.MEDIUM).set_x(left, direction=LEFT)
        self.add(self.gridlines, self.axes, self.y_ticks, self.x_ticks, self.series, self.axis_labels, self.legend,
                 self.source)

    # -- coordinates --------------------------------------------------------------------------------------
    def _xy(self, x: float, y: float) -> np.ndarray:
        """Chart-local coordinates (origin = the axes' corner, before any move)."""
        fx = (x - self.x_lo) / (self.x_hi - self.x_lo) * self.width_units
        if self.y_log:
            lo, hi = math.log10(self.y_lo), math.log10(self.y_hi)
            fy = (math.log10(y) - lo) / (hi - lo) * self.height_units
        else:
            fy = (y - self.y_lo) / (self.y_hi - self.y_lo) * self.height_units
        return np.array([fx, fy, 0.0])

    @property
    def origin(self) -> np.ndarray:
        """The axes' corner in scene coordinates (wherever the chart was moved or scaled)."""
        return self.axes[0].get_start()

    def _scale(self) -> float:
        return self.axes[0].get_length() / self.width_units

    def point(self, x: float, y: float) -> np.ndarray:
        """Scene coordinates of data point (x, y)."""
        return self.origin + self._scale() * self._xy(x, y)

    # -- marks and animations -----------------------------------------------------------------------------
    def mark_x(self, x: float, text: str | None = None, color: str = COLORS.ACCENT,
               size: float = SIZES.LABEL) -> VGroup:
        """A dashed vertical line at ``x`` across the plot and, above it, ``text`` (not added).
        Parts: ``[0]`` the line, ``[1]`` the label (if any)."""
        if not (self.x_lo <= x <= self.x_hi):
            raise ValueError(f"x = {x} is outside the axis [{self.x_lo}, {self.x_hi}]")
        line = DashedLine(self.point(x, self.y_lo), self.point(x, self.y_hi), dash_length=0.08).set_stroke(
            color, 3)
        out = VGroup(line)
        if text:
            out.add(label(text, size=size, color=color).next_to(line, UP, buff=BUFF.TIGHT))
        return out

    def dot_at(self, x: float, y: float, color: str = COLORS.ACCENT, radius: float = 0.09) -> Dot:
        """A dot on data point (x, y) (not added)."""
        return Dot(self.point(x, y), radius=radius, color=color)

    def create_series(self, k: int, **kwargs) -> Create:
        """``Create`` series ``k``'s line (its markers, if any, appear with it)."""
        return Create(self.series[k], **kwargs)

    def frame_parts(self) -> VGroup:
        """Everything but the series: axes, grid, ticks, axis labels, legend, source (to fade in first)."""
        return VGroup(self.gridlines, self.axes, self.y_ticks, self.x_ticks, self.axis_labels, self.legend,
                      self.source)
