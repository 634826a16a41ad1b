"""``LogLogPlot`` (log-log axes with lines and labelled dots) and ``RooflinePlot`` (the roofline model on them:
arithmetic intensity in FLOP/byte against attainable FLOP/s, one roof per device, its ridge marked).

    plot = RooflinePlot([(d.name, d.peak_tflops, d.bandwidth_tbs) for d in rl.devices],
                        x_range=(0.1, 1e4, 1), y_range=(0.1, 1e4, 1))
    self.play(FadeIn(plot.frame_parts()), Create(plot.roofs[0]), FadeIn(plot.ridges[0]))
    mark = plot.mark(p.intensity, "decode, g = 1")      # a dot on device 0's roof and its label (not added)
    self.play(plot.reveal(mark))

Units are the caller's: a roof is ``min(peak, bandwidth · AI)``, so peak in TFLOP/s with bandwidth in TB/s
gives a y-axis in TFLOP/s (the default label). The ridge sits at ``peak / bandwidth`` FLOP/byte: left of it a
kernel is memory-bound (the sloped roof), right of it compute-bound (the flat roof). The log axes reuse
LineChart's helpers (``_log_axis``, decades as ``10⁻¹``); explicit ``x_ticks``/``y_ticks`` = ((value, text), …)
label other positions (e.g. powers of two: 1K, 2K, …) on a measured chart.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from manim import (DOWN, LEFT, ORIGIN, PI, RIGHT, UP, AnimationGroup, Create, DashedLine, Dot, FadeIn,
                   GrowFromCenter, Line, VGroup, VMobject)

from ..format import power_of_ten, shown
from ..theme import BUFF, COLORS, SIZES
from .line_chart import _log_axis, source_lines
from .matrices import _fit_uniform
from .text import label

__all__ = ["LogLogPlot", "RooflinePlot"]

Ticks = Sequence[tuple[float, str]]


def _decade_ticks(lo: float, hi: float, step: float) -> list[tuple[float, str]]:
    return [(t, power_of_ten(round(math.log10(t)))) for t in _log_axis((), (lo, hi, step))[2]]


class LogLogPlot(VGroup):
    """Empty log-log axes of ``width`` × ``height`` scene units over ``x_range``/``y_range`` = (lo, hi, decades
    per tick), gridlines at the ticks. Parts: ``.axes``, ``.gridlines``, ``.x_ticks``/``.y_ticks`` (labels),
    ``.axis_labels``, ``.legend`` (filled by ``set_legend``), ``.source`` (filled by ``set_source``).
    ``point(x, y)`` maps data to scene coordinates wherever the plot was moved or scaled; ``line(xs, ys)``
    and ``dot_at(x, y)`` make mobjects at data positions (not added)."""

    def __init__(self, *, x_range: tuple[float, float, float], y_range: tuple[float, float, float], x_label: str,
                 y_label: str, width: float = 7.0, height: float = 4.0, x_ticks: Ticks | None = None,
                 y_ticks: Ticks | None = None, tick_size: float = SIZES.SMALL, label_size: float = SIZES.LABEL):
        super().__init__()
        self.x_lo, self.x_hi, _ = _log_axis((), x_range)
        self.y_lo, self.y_hi, _ = _log_axis((), y_range)
        self.width_units, self.height_units = width, height
        xt = list(x_ticks) if x_ticks is not None else _decade_ticks(*x_range)
        yt = list(y_ticks) if y_ticks is not None else _decade_ticks(*y_range)
        for v, _ in xt:
            self._check(v, self.y_lo)
        for v, _ in yt:
            self._check(self.x_lo, v)
        self.axes = VGroup(Line(ORIGIN, [width, 0, 0]), Line(ORIGIN, [0, height, 0])).set_stroke(COLORS.GRID, 2)
        self.gridlines = VGroup(
            *(Line(self._xy(self.x_lo, v), self._xy(self.x_hi, v)) for v, _ in yt if v > self.y_lo),
            *(Line(self._xy(v, self.y_lo), self._xy(v, self.y_hi)) for v, _ in xt if v > self.x_lo),
        ).set_stroke(COLORS.GRID, 1, opacity=0.45)
        self.y_ticks = VGroup(*(label(s, size=tick_size, color=COLORS.MUTED, mono=True) for _, s in yt))
        for (v, _), lab in zip(yt, self.y_ticks):
            lab.next_to(self._xy(self.x_lo, v), LEFT, buff=BUFF.SMALL)
        self.x_ticks = VGroup(*(label(s, size=tick_size, color=COLORS.MUTED, mono=True) for _, s in xt))
        if len(xt) > 1:
            gap = min(abs(self._xy(a, self.y_lo)[0] - self._xy(b, self.y_lo)[0]) for (a, _), (b, _) in
                      itertools.pairwise(xt))
            _fit_uniform(list(self.x_ticks), 0.9 * gap, 10.0)
        for (v, _), lab in zip(xt, self.x_ticks):
            lab.next_to(self._xy(v, self.y_lo), DOWN, buff=BUFF.SMALL)
        x_lab = label(x_label, size=label_size, color=COLORS.TEXT)
        _fit_uniform([x_lab], width * 1.1, 10.0)
        x_lab.next_to(self.x_ticks, DOWN, buff=BUFF.SMALL).set_x(width / 2)
        y_lab = label(y_label, size=label_size, color=COLORS.TEXT).rotate(PI / 2)
        _fit_uniform([y_lab], 10.0, height * 1.1)
        y_lab.next_to(self.y_ticks, LEFT, buff=BUFF.SMALL).set_y(height / 2)
        self.axis_labels = VGroup(x_lab, y_lab)
        self.legend = VGroup()
        self.source = VGroup()
        self.add(self.gridlines, self.axes, self.y_ticks, self.x_ticks, self.axis_labels, self.legend, self.source)

    # -- coordinates --------------------------------------------------------------------------------------
    def _check(self, x: float, y: float) -> None:
        if not (self.x_lo * (1 - 1e-9) <= x <= self.x_hi * (1 + 1e-9)
                and self.y_lo * (1 - 1e-9) <= y <= self.y_hi * (1 + 1e-9)):
            raise ValueError(f"({x}, {y}) is outside the axes [{self.x_lo}, {self.x_hi}] × [{self.y_lo}, "
                             f"{self.y_hi}]")

    def _xy(self, x: float, y: float) -> np.ndarray:
        """Plot-local coordinates (origin = the axes' corner, before any move)."""
        fx = math.log(x / self.x_lo) / math.log(self.x_hi / self.x_lo)
        fy = math.log(y / self.y_lo) / math.log(self.y_hi / self.y_lo)
        return np.array([fx * self.width_units, fy * self.height_units, 0.0])

    @property
    def origin(self) -> np.ndarray:
        """The axes' corner in scene coordinates."""
        return self.axes[0].get_start()

    def _scale(self) -> float:
        return self.axes[0].get_length() / self.width_units

    def point(self, x: float, y: float) -> np.ndarray:
        """Scene coordinates of data point (x, y) (inside the axes, else ValueError)."""
        self._check(x, y)
        return self.origin + self._scale() * self._xy(x, y)

    # -- content ------------------------------------------------------------------------------------------
    def line(self, xs: Sequence[float], ys: Sequence[float], color: str = COLORS.ACCENT, stroke_width: float = 4,
             markers: bool = True) -> VGroup:
        """A polyline through the data points, with dots at them (``VGroup(line, dots)``, not added)."""
        pts = [self.point(float(x), float(y)) for x, y in zip(xs, ys)]
        ln = VMobject().set_points_as_corners(pts).set_stroke(color, stroke_width)
        dots = VGroup(*(Dot(p, radius=0.055, color=color) for p in pts)) if markers else VGroup()
        return VGroup(ln, dots)

    def dot_at(self, x: float, y: float, color: str = COLORS.ACCENT, radius: float = 0.09) -> Dot:
        return Dot(self.point(x, y), radius=radius, color=color)

    def set_legend(self, entries: Sequence[tuple[str, str]], size: float = SIZES.LABEL, columns: int = 1,
                   width: float | None = None) -> VGroup:
        """Legend entries (text, colour) above the plot, ``columns`` per row, at most ``width`` wide (default:
        the x-axis' length, left-aligned with it; a given width aligns it with the y-axis label); returns it."""
        rows = VGroup()
        items = [VGroup(Line(ORIGIN, RIGHT * 0.4).set_stroke(c, 6), label(t, size=size, color=c)).arrange(
            RIGHT, buff=BUFF.SMALL) for t, c in entries]
        for k in range(0, len(items), columns):
            rows.add(VGroup(*items[k:k + columns]).arrange(RIGHT, buff=BUFF.MEDIUM))
        rows.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        _fit_uniform([rows], width or self.axes[0].get_length(), 10.0)
        rows.next_to(self.axes, UP, buff=BUFF.MEDIUM).align_to(self.axis_labels[1] if width else self.axes, LEFT)
        self.remove(self.legend)
        self.legend = rows
        self.add(self.legend)
        return rows

    def set_source(self, text: str, size: float = SIZES.SMALL) -> VGroup:
        """The source line(s) under the x-axis label, as wide as the plot with its y labels; returns it."""
        left = min(self.axis_labels[1].get_left()[0], self.origin[0])
        self.remove(self.source)
        self.source = source_lines(text, self.axes[0].get_right()[0] - left, size)
        self.source.next_to(self.axis_labels[0], DOWN, buff=BUFF.MEDIUM).set_x(left, direction=LEFT)
        self.add(self.source)
        return self.source

    def frame_parts(self) -> VGroup:
        """Axes, grid, ticks and axis labels (to fade in before the content)."""
        return VGroup(self.gridlines, self.axes, self.y_ticks, self.x_ticks, self.axis_labels)


class RooflinePlot(LogLogPlot):
    """The roofline model of ``devices`` = ((name, peak, bandwidth), …) on log-log axes: arithmetic intensity
    (FLOP/byte) against attainable throughput ``min(peak, bandwidth · AI)``.

    Parts: ``.roofs`` (one polyline per device: sloped part up to the ridge, flat after it), ``.ridges`` (one
    ``VGroup(dashed line from the x-axis to the knee, "ridge N FLOP/B" label)`` per device), ``.legend`` (device
    names in their colours, above the plot). ``mark(ai, text, device=k)`` puts a labelled dot on device k's roof
    (not added; ``reveal(mark)`` animates it); ``region_labels()`` names the two sides of a ridge."""

    def __init__(self, devices: Sequence[tuple[str, float, float]], *, x_range: tuple[float, float, float],
                 y_range: tuple[float, float, float], x_label: str = "arithmetic intensity (FLOP/byte)",
                 y_label: str = "attainable TFLOP/s", width: float = 7.0, height: float = 4.0,
                 colors: Sequence[str] | None = None, ridge_unit: str = "FLOP/B", tick_size: float = SIZES.SMALL,
                 label_size: float = SIZES.LABEL):
        super().__init__(x_range=x_range, y_range=y_range, x_label=x_label, y_label=y_label, width=width,
                         height=height, tick_size=tick_size, label_size=label_size)
        if not devices:
            raise ValueError("a roofline needs at least one device")
        self.devices = [(str(n), float(p), float(b)) for n, p, b in devices]
        for name, peak, bw in self.devices:
            if not (peak > 0 and bw > 0):
                raise ValueError(f"{name}: peak and bandwidth must be positive")
            self._check(peak / bw, peak)
        self.colors = list(colors or (COLORS.K, COLORS.SCORE, COLORS.Q, COLORS.WEIGHT))
        if len(self.colors) < len(self.devices):
            raise ValueError(f"{len(self.colors)} colours for {len(self.devices)} devices")
        self.roofs, self.ridges = VGroup(), VGroup()
        order = sorted(range(len(self.devices)), key=lambda k: self.ridge(k))
        for k, (_, peak, bw) in enumerate(self.devices):
            x0 = max(self.x_lo, self.y_lo / bw)             # where the sloped roof enters the plot
            pts = [self._xy(x0, bw * x0), self._xy(peak / bw, peak), self._xy(self.x_hi, peak)]
            self.roofs.add(VMobject().set_points_as_corners(pts).set_stroke(self.colors[k], 5))
            knee = self._xy(peak / bw, peak)
            dash = DashedLine(self._xy(peak / bw, self.y_lo), knee, dash_length=0.08).set_stroke(self.colors[k], 2)
            tag = label(f"ridge {shown(self.ridge(k), 0)} {ridge_unit}", size=SIZES.SMALL, color=self.colors[k])
            rank = order.index(k)
            side = LEFT if rank % 2 == 0 and len(self.devices) > 1 else RIGHT
            tag.next_to(dash.get_bottom(), side + UP, buff=BUFF.SMALL).shift(UP * (0.1 + 0.45 * (rank // 2)))
            self.ridges.add(VGroup(dash, tag))
        self.add(self.ridges, self.roofs)
        self.set_legend([(name, c) for (name, _, _), c in zip(self.devices, self.colors)], size=label_size,
                        columns=len(self.devices))

    def ridge(self, k: int = 0) -> float:
        """Device k's ridge intensity peak / bandwidth."""
        _, peak, bw = self.devices[k]
        return peak / bw

    def attainable(self, ai: float, k: int = 0) -> float:
        """min(peak, bandwidth · AI) on device k."""
        _, peak, bw = self.devices[k]
        return min(peak, bw * ai)

    def bound(self, ai: float, k: int = 0) -> str:
        """"memory" below device k's ridge, "compute" at or above it."""
        return "memory" if ai < self.ridge(k) else "compute"

    def roof_point(self, ai: float, k: int = 0) -> np.ndarray:
        """Scene coordinates of intensity ``ai`` on device k's roof."""
        return self.point(ai, self.attainable(ai, k))

    def mark(self, ai: float, text: str, k: int = 0, color: str = COLORS.ACCENT, direction=None,
             size: float = SIZES.LABEL, buff: float = BUFF.SMALL) -> VGroup:
        """A dot on device k's roof at intensity ``ai`` and ``text`` beside it (below the sloped roof's right,
        under the flat roof, unless ``direction`` says). ``VGroup(dot, label)``, with ``.dot``, ``.label``,
        ``.intensity``; not added."""
        dot = Dot(self.roof_point(ai, k), radius=0.1, color=color)
        if direction is None:
            direction = DOWN + RIGHT if self.bound(ai, k) == "memory" else DOWN
        tag = label(text, size=size, color=color).next_to(dot, direction, buff=buff)
        out = VGroup(dot, tag)
        out.dot, out.label, out.intensity = dot, tag, ai
        return out

    @staticmethod
    def reveal(mark: VGroup, **kwargs) -> AnimationGroup:
        """The dot grows, its label fades in."""
        return AnimationGroup(GrowFromCenter(mark.dot), FadeIn(mark.label), **kwargs)

    def region_labels(self, k: int = 0, size: float = SIZES.LABEL,
                      compute_at: tuple[float, float] | None = None) -> VGroup:
        """"memory-bound" above the sloped roof's middle and "compute-bound" above the flat roof's middle
        (device k's), or centred on data point ``compute_at`` (under the roof, where labelled points sit above
        it). ``VGroup(memory, compute)``, not added."""
        _, peak, bw = self.devices[k]
        r = self.ridge(k)
        x0 = max(self.x_lo, self.y_lo / bw)
        xm = math.sqrt(x0 * r)
        mem = label("memory-bound", size=size, color=COLORS.MUTED)
        mem.rotate(math.atan2(*(self.point(r, peak) - self.point(x0, bw * x0))[[1, 0]]))
        mem.next_to(self.point(xm, bw * xm), UP + LEFT, buff=BUFF.TIGHT)
        xc = math.sqrt(r * self.x_hi)
        comp = label("compute-bound", size=size, color=COLORS.MUTED)
        if compute_at is None:
            comp.next_to(self.point(xc, peak), UP, buff=BUFF.SMALL)
        else:
            comp.move_to(self.point(*compute_at))
        return VGroup(mem, comp)

    def create_roof(self, k: int = 0, **kwargs) -> AnimationGroup:
        """Device k's roof drawn, then its ridge."""
        return AnimationGroup(Create(self.roofs[k]), FadeIn(self.ridges[k]), lag_ratio=0.6, **kwargs)
