"""Charts: softmax bars (a distribution, animatable to another) and benchmark charts read from result files.

Benchmark result files (JSON) follow one small schema, so every performance figure on screen carries
its provenance (DESIGN.md, contract 3)::

    {"provenance": {"device": str, "dtype": str, "date": str, "torch": str, "command": str,
                    "commit": str, ...any more (shapes, cuda, gpu clocks)},
     "series": [{"name": str, "x": [num, ...], "y": [num, ...], "unit": str}, ...],
     "x_label": str, "y_label": str, "title": str (optional)}

All series share the same x values in bar mode (numbers or category names). The chart shows
:func:`provenance_line` under the plot.

A result file written by ``attn_ref.bench`` (schema ``attn_ref.bench/1``, many figures per file) is
read the same way by naming the figure: ``BenchmarkChart("benchmarks/results/gpu-nvidia-h200.json",
figure="prefill_d128_full")``; its kind and log axes come from the figure unless given.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from collections.abc import Sequence

import numpy as np
import torch
from manim import DOWN, LEFT, ORIGIN, PI, RIGHT, UP, Dot, Line, Rectangle, Transform, VGroup, VMobject

from ..theme import BUFF, COLORS, SIZES
from .matrices import _fit_uniform
from ..format import shown
from .text import as_array, label, set_on_line

__all__ = ["PROVENANCE_KEYS", "BenchmarkChart", "SoftmaxBars", "load_benchmark", "provenance_line"]


class SoftmaxBars(VGroup):
    """A bar chart of a probability distribution, one bar per label, heights ∝ p (``y_max`` = full height).

    Shown values use ``attn_ref.round_to_sum`` (they add up to 1.00). Parts: ``.bars``, ``.labels``,
    ``.values``, ``.baseline``. ``animate_to(p)`` morphs to another distribution (e.g. a new temperature).
    """

    def __init__(self, probs, labels: Sequence[str], *, color: str = COLORS.WEIGHT, decimals: int = 2,
                 bar_width: float = 0.6, spacing: float = 0.3, max_height: float = 3.0, y_max: float = 1.0,
                 show_values: bool = True, font_size: float = SIZES.SMALL, label_size: float = SIZES.LABEL,
                 label_color: str = COLORS.TEXT):
        super().__init__()
        import attn_ref as ar

        p = as_array(probs, 1, "probs")
        if len(labels) != len(p):
            raise ValueError(f"{len(labels)} labels for {len(p)} probabilities")
        if not np.all(np.isfinite(p)) or p.min() < -1e-12 or abs(p.sum() - 1) > 1e-6:
            raise ValueError(f"probs must be a distribution (non-negative, summing to 1), got sum {p.sum()}")
        self._config = dict(labels=list(labels), color=color, decimals=decimals, bar_width=bar_width,
                            spacing=spacing, max_height=max_height, y_max=y_max, show_values=show_values,
                            font_size=font_size, label_size=label_size, label_color=label_color)
        self.probs = p
        self.displayed = ar.round_to_sum(torch.as_tensor(p), decimals=decimals).numpy()
        step = bar_width + spacing
        self.bars, self.values = VGroup(), VGroup()
        for k, v in enumerate(p):
            h = max(1e-3, max_height * min(1.0, v / y_max))
            bar = Rectangle(width=bar_width, height=h, stroke_width=0, fill_color=color, fill_opacity=0.9)
            bar.move_to(np.array([k * step, h / 2, 0.0]))
            self.bars.add(bar)
            if show_values:
                self.values.add(label(shown(self.displayed[k], decimals), size=font_size, color=color,
                                      mono=True))
        _fit_uniform(list(self.values), step * 0.85, 10.0)
        for bar, val in zip(self.bars, self.values):
            val.next_to(bar, UP, buff=BUFF.TIGHT)
        half = (bar_width + spacing) / 2  # the axis runs half a slot past the first and last bar
        self.baseline = Line(np.array([-half, 0, 0]), np.array([(len(p) - 1) * step + half, 0, 0]))
        self.baseline.set_stroke(COLORS.GRID, 2)
        self.labels = VGroup(*(label(t, size=label_size, color=label_color) for t in labels))
        _fit_uniform(list(self.labels), step * 0.88, 10.0)
        drop = max(set_on_line(lab, 0.0).get_top()[1] for lab in self.labels)
        for bar, lab in zip(self.bars, self.labels):  # one baseline for all labels, clear of the axis
            set_on_line(lab, -BUFF.SMALL - drop).set_x(bar.get_x())
        self.add(self.baseline, self.bars, self.values, self.labels)
        self.move_to(ORIGIN)

    def with_probs(self, probs) -> SoftmaxBars:
        """A chart like this one, in the same place, showing ``probs``."""
        new = SoftmaxBars(probs, **self._config)
        new.scale(self.baseline.width / new.baseline.width)
        new.shift(self.baseline.get_center() - new.baseline.get_center())
        return new

    def animate_to(self, probs, **kwargs) -> Transform:
        """``self.play(bars.animate_to(p_T))``: bars, values and labels morph to ``probs``."""
        return Transform(self, self.with_probs(probs), **kwargs)


# ------------------------------------------------------------------------------------------------
PROVENANCE_KEYS = ("device", "dtype", "date", "torch", "command", "commit")


def _from_attn_ref_bench(data: dict, figure: str | None, where: str) -> dict:
    """One figure of an ``attn_ref.bench`` result file, in this module's chart schema."""
    from attn_ref.bench.results import chart_data, validate

    validate(data)
    if figure is None:
        raise ValueError(f"{where}: an attn_ref.bench result holds several figures; name one with figure=, "
                         f"available: {sorted(data['figures'])}")
    fig = chart_data(data, figure)
    p = fig["provenance"]
    prov = dict(p, device=p.get("gpu_model") or p.get("cpu_model") or p.get("device"),
                dtype=data.get("dtype", ""), commit=p.get("commit") or "unknown")
    series = [dict(s, unit=fig["y_label"]) for s in fig["series"]]
    return {"provenance": prov, "series": series, "x_label": fig["x_label"], "y_label": fig["y_label"],
            "title": fig.get("title"), "kind": fig.get("kind", "line"),
            "log_x": 2 if fig.get("log_x") else False,  # lengths are powers of two
            "log_y": fig.get("log_y", False)}


def load_benchmark(path, figure: str | None = None) -> dict:
    """Read and validate a benchmark result file (schema in the module docstring); ``figure`` picks
    one figure of an ``attn_ref.bench`` result file."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    where = f"benchmark file {path}"
    if isinstance(data, dict) and data.get("schema") == "attn_ref.bench/1":
        data = _from_attn_ref_bench(data, figure, where)
    if not isinstance(data, dict):
        raise ValueError(f"{where}: top level must be an object")
    prov = data.get("provenance")
    if not isinstance(prov, dict):
        raise ValueError(f"{where}: missing 'provenance' object")
    missing = [k for k in PROVENANCE_KEYS if not prov.get(k)]
    if missing:
        raise ValueError(f"{where}: provenance lacks {missing} (needs {list(PROVENANCE_KEYS)})")
    for k in ("x_label", "y_label"):
        if not isinstance(data.get(k), str):
            raise ValueError(f"{where}: missing string {k!r}")
    series = data.get("series")
    if not isinstance(series, list) or not series:
        raise ValueError(f"{where}: 'series' must be a non-empty list")
    for s in series:
        for k in ("name", "x", "y", "unit"):
            if k not in s:
                raise ValueError(f"{where}: a series lacks {k!r}")
        if len(s["x"]) != len(s["y"]) or not s["x"]:
            raise ValueError(f"{where}: series {s['name']!r} has {len(s['x'])} x and {len(s['y'])} y values")
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in s["y"]):
            raise ValueError(f"{where}: series {s['name']!r} has non-numeric or non-finite y values")
        if not all(isinstance(v, str) or (isinstance(v, (int, float)) and math.isfinite(v)) for v in s["x"]):
            raise ValueError(f"{where}: series {s['name']!r} has x values that are neither numbers nor names")
    data["_path"] = str(path)
    return data


def provenance_line(data: dict, path: str | None = None) -> str:
    """``Source: <file> · <device> · <dtype> · torch <v> · <date> · commit <sha> · <command>``."""
    prov = data["provenance"]
    name = Path(path or data.get("_path", "")).name
    commit = str(prov["commit"])[:10]
    parts = [f"Source: {name}", str(prov["device"]), str(prov["dtype"]), f"torch {prov['torch']}",
             str(prov["date"]), f"commit {commit}", str(prov["command"])]
    return " \u00b7 ".join(parts)


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _compact(v: float | str) -> str:
    if isinstance(v, str):
        return v
    if float(v).is_integer():
        return str(int(v))
    return f"{v:g}"


class _Scale:
    """Data value → plot coordinate in [0, length], linear or logarithmic, with tick positions."""

    def __init__(self, values: Sequence[float], length: float, log: bool | int, zero: bool):
        self.length = length
        self.base = 10 if log is True else (int(log) if log else None)
        vals = np.asarray(values, dtype=float)
        if self.base:
            if np.any(vals <= 0):
                raise ValueError("log axes need positive values")
            lo, hi = math.log(vals.min(), self.base), math.log(vals.max(), self.base)
            self.lo, self.hi = math.floor(lo + 1e-9), math.ceil(hi - 1e-9)
            if self.hi == self.lo:
                self.hi += 1
            self.ticks = [self.base ** e for e in range(self.lo, self.hi + 1)]
        else:
            lo = 0.0 if zero else float(vals.min())
            hi = float(vals.max())
            if hi <= lo:
                hi = lo + 1.0
            step = _nice_step(hi - lo)
            self.lo, self.hi = math.floor(lo / step) * step, math.ceil(hi / step - 1e-9) * step
            self.ticks = list(np.round(np.arange(self.lo, self.hi + step / 2, step), 10))

    def __call__(self, v: float) -> float:
        t = (math.log(v, self.base) if self.base else v)
        return self.length * (t - self.lo) / (self.hi - self.lo)


class BenchmarkChart(VGroup):
    """A chart of a benchmark result file: lines (numeric x) or grouped bars, optional log axes.

    Parts: ``.axes`` (x, y lines), ``.x_ticks``/``.y_ticks`` (labels), ``.series`` (one VGroup per
    series: line+markers or bars), ``.legend``, ``.axis_labels``, ``.title``, ``.provenance`` (the
    source line(s) under the chart); ``.data`` is the validated file, ``.provenance_text`` the line.
    """

    def __init__(self, path, *, figure: str | None = None, kind: str | None = None,
                 log_x: bool | int | None = None, log_y: bool | int | None = None,
                 width: float = 9.0, height: float = 4.2, colors: Sequence[str] | None = None,
                 font_size: float = SIZES.CAPTION, label_size: float = SIZES.SMALL):
        super().__init__()
        self.data = data = load_benchmark(path, figure)
        kind = kind if kind is not None else data.get("kind", "line")
        log_x = log_x if log_x is not None else data.get("log_x", False)
        log_y = log_y if log_y is not None else data.get("log_y", False)
        if kind not in ("line", "bar"):
            raise ValueError(f"kind must be 'line' or 'bar', got {kind!r}")
        if kind == "line" and any(isinstance(v, str) for s in data["series"] for v in s["x"]):
            raise ValueError("a line chart needs numeric x values; use kind='bar' for named categories")
        series = data["series"]
        colors = list(colors or COLORS.HEADS)
        ys = [v for s in series for v in s["y"]]
        ysc = _Scale(ys, height, log_y, zero=not log_y)
        origin = np.array([0.0, 0.0, 0.0])
        self.axes = VGroup(Line(origin, [width, 0, 0]), Line(origin, [0, height, 0])).set_stroke(COLORS.GRID, 2)
        self.series, self.x_ticks, self.y_ticks = VGroup(), VGroup(), VGroup()
        grid = VGroup()
        for t in ysc.ticks:
            y = ysc(t)
            grid.add(Line([0, y, 0], [width, y, 0]).set_stroke(COLORS.GRID, 1, opacity=0.5))
            self.y_ticks.add(label(_compact(t), size=font_size, color=COLORS.MUTED, mono=True))
        for t, tick in zip(ysc.ticks, self.y_ticks):
            tick.next_to([0, ysc(t), 0], LEFT, buff=BUFF.SMALL)

        if kind == "line":
            xs = sorted({v for s in series for v in s["x"]})
            xsc = _Scale(xs, width, log_x, zero=False)
            pad = 0.04 * width
            def fx(v, pad=pad, xsc=xsc):
                return pad + (width - 2 * pad) * xsc(v) / width

            tick_values = xs if len(xs) <= 10 else xsc.ticks
            for s, col in zip(series, colors * 10):
                pts = [np.array([fx(x), ysc(y), 0.0]) for x, y in zip(s["x"], s["y"])]
                line = VMobject().set_points_as_corners(pts).set_stroke(col, 4)
                marks = VGroup(*(Dot(p, radius=0.06, color=col) for p in pts))
                self.series.add(VGroup(line, marks))
            tick_xs = [fx(v) for v in tick_values]
        else:
            xs = list(series[0]["x"])
            if any(list(s["x"]) != xs for s in series):
                raise ValueError("bar charts need the same x values in every series")
            slot = width / len(xs)
            group = 0.8 * slot
            bw = group / len(series)
            for si, (s, col) in enumerate(zip(series, colors * 10)):
                bars = VGroup()
                for k, y in enumerate(s["y"]):
                    h = max(1e-3, ysc(y))
                    x = k * slot + (slot - group) / 2 + (si + 0.5) * bw
                    bars.add(Rectangle(width=bw * 0.92, height=h, stroke_width=0, fill_color=col,
                                       fill_opacity=0.9).move_to([x, h / 2, 0]))
                self.series.add(bars)
            tick_values = xs
            tick_xs = [(k + 0.5) * slot for k in range(len(xs))]
        for v in tick_values:
            self.x_ticks.add(label(_compact(v), size=font_size, color=COLORS.MUTED, mono=True))
        spacing = min(np.diff(tick_xs)) if len(tick_xs) > 1 else width
        _fit_uniform(list(self.x_ticks), 0.9 * spacing, 10.0)
        for x, tick in zip(tick_xs, self.x_ticks):
            tick.next_to([x, 0, 0], DOWN, buff=BUFF.SMALL)

        x_label = label(data["x_label"] + ("  (log scale)" if log_x else ""), size=label_size, color=COLORS.TEXT)
        x_label.next_to(self.x_ticks, DOWN, buff=BUFF.SMALL).set_x(width / 2)
        y_label = label(data["y_label"] + ("  (log scale)" if log_y else ""), size=label_size,
                        color=COLORS.TEXT).rotate(PI / 2)
        y_label.next_to(self.y_ticks, LEFT, buff=BUFF.SMALL).set_y(height / 2)
        self.axis_labels = VGroup(x_label, y_label)

        self.legend = VGroup()
        for s, col in zip(series, colors * 10):
            swatch = Line(ORIGIN, RIGHT * 0.4).set_stroke(col, 6)
            self.legend.add(VGroup(swatch, label(s["name"], size=font_size, color=COLORS.TEXT)).arrange(
                RIGHT, buff=BUFF.TIGHT))
        self.legend.arrange(RIGHT, buff=BUFF.MEDIUM)
        _fit_uniform([self.legend], width, 10.0)
        self.legend.next_to(self.axes, UP, buff=BUFF.MEDIUM).align_to(self.axes, LEFT)

        self.title = VGroup()
        if data.get("title"):
            self.title = label(data["title"], size=SIZES.BODY, color=COLORS.TEXT)
            _fit_uniform([self.title], width, 10.0)
            self.title.next_to(self.legend, UP, buff=BUFF.SMALL).align_to(self.axes, LEFT)

        self.provenance_text = provenance_line(data)
        self.provenance = VGroup(label(self.provenance_text, size=font_size, color=COLORS.MUTED))
        body_left = min(y_label.get_left()[0], 0.0)
        avail = width - body_left
        if self.provenance.width > avail:  # two lines, split at the separator nearest the middle
            parts = self.provenance_text.split(" \u00b7 ")
            cut = int(np.argmin([abs(len(" \u00b7 ".join(parts[:k])) - len(self.provenance_text) / 2)
                                 for k in range(1, len(parts))])) + 1
            self.provenance = VGroup(*(label(t, size=font_size, color=COLORS.MUTED)
                                       for t in (" \u00b7 ".join(parts[:cut]) + " \u00b7",
                                                 " \u00b7 ".join(parts[cut:])))).arrange(
                DOWN, aligned_edge=LEFT, buff=BUFF.TIGHT)
            _fit_uniform([self.provenance], avail, 10.0)
        self.provenance.next_to(x_label, DOWN, buff=BUFF.MEDIUM).set_x(body_left, direction=LEFT)
        self.add(grid, self.axes, self.series, self.x_ticks, self.y_ticks, self.axis_labels, self.legend,
                 self.title, self.provenance)
        self.move_to(ORIGIN)

    def provenance_lines(self) -> list[str]:
        """The text of the provenance line(s) as drawn."""
        return [t.original_text for t in self.provenance]
