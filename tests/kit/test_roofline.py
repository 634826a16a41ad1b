"""RooflinePlot / LogLogPlot: geometry on real device data (the L04 roofline builder's H100 SXM and H200)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from manim import Text

from scenes.kit.mobjects import LogLogPlot, RooflinePlot
from scenes.l04_context import data


@pytest.fixture(scope="module")
def rl():
    return data.roofline()


@pytest.fixture(scope="module")
def plot(rl):
    p = RooflinePlot([(d.name, d.peak_tflops, d.bandwidth_tbs) for d in rl.devices], x_range=(0.1, 1e4, 1),
                     y_range=(0.1, 1e4, 1), width=7.0, height=4.0)
    p.shift([-1.3, -0.4, 0]).scale(0.9)              # geometry must follow the plot wherever it goes
    return p


def test_ridge_sits_at_peak_over_bandwidth_on_the_axis(plot, rl):
    for k, d in enumerate(rl.devices):
        assert plot.ridge(k) == pytest.approx(d.ridge)
        dash = plot.ridges[k][0]
        bottom = plot.point(d.ridge, plot.y_lo)
        assert dash.get_bottom()[0] == pytest.approx(bottom[0], abs=1e-3)
        assert dash.get_bottom()[1] == pytest.approx(bottom[1], abs=0.02)
        knee = plot.point(d.ridge, d.peak_tflops)
        assert dash.get_top()[1] == pytest.approx(knee[1], abs=0.02)
        names = [t.original_text for t in plot.legend.get_family() if isinstance(t, Text)]
        assert d.name in names
        assert f"{round(d.ridge)}" in plot.ridges[k][1].text


def test_points_land_on_the_right_roof_segment(plot, rl):
    h100 = rl.devices[0]
    decode = next(p for p in h100.points if p.bound == "memory")
    prefill = next(p for p in h100.points if p.bound == "compute")
    m = plot.mark(decode.intensity, "decode")
    # below the ridge: on the sloped roof, y = bandwidth · AI (in TFLOP/s)
    assert np.allclose(m.dot.get_center(), plot.point(decode.intensity, h100.bandwidth_tbs * decode.intensity))
    assert plot.bound(decode.intensity) == decode.bound == "memory"
    # above it: on the flat roof at the peak
    c = plot.mark(prefill.intensity, "prefill")
    assert np.allclose(c.dot.get_center(), plot.point(prefill.intensity, h100.peak_tflops))
    assert plot.bound(prefill.intensity) == prefill.bound == "compute"
    # the attainable rate times the time bound gives the FLOPs back (the builder's ar.roofline agrees)
    for p in h100.points:
        assert plot.attainable(p.intensity) * 1e12 * p.time_s == pytest.approx(p.flops, rel=1e-9)


def test_roof_vertices_and_log_axes(plot, rl):
    for k, d in enumerate(rl.devices):
        pts = plot.roofs[k].get_anchors()
        knee = plot.point(d.ridge, d.peak_tflops)
        assert any(np.allclose(p, knee, atol=1e-6) for p in pts)
        assert np.allclose(pts[-1], plot.point(plot.x_hi, d.peak_tflops), atol=1e-6)
    # one decade is the same length everywhere on a log axis
    a, b, c = (plot.point(x, 1.0)[0] for x in (0.1, 1.0, 10.0))
    assert b - a == pytest.approx(c - b)
    assert [t.text for t in plot.x_ticks] == ["10⁻¹", "10⁰", "10¹", "10²", "10³", "10⁴"]
    with pytest.raises(ValueError):
        plot.point(1e5, 1.0)


def test_loglog_plot_slope_reads_off_a_measured_series():
    mm = data.measured_memory()
    naive = next(s for s in mm.series if s.method == "naive")
    p = LogLogPlot(x_range=(1e3, 1e5, 1), y_range=(1, 1e4, 1), x_label="n", y_label="MiB",
                   x_ticks=[(n, f"{n // 1024}K") for n in naive.seqlens])
    p.set_legend([("naive", "#FFFFFF")])
    p.set_source(mm.source)
    line = p.line(naive.seqlens, naive.peak_mib)
    a, b = line[1][-2].get_center(), line[1][-1].get_center()
    scale = p.width_units / math.log10(p.x_hi / p.x_lo) / (p.height_units / math.log10(p.y_hi / p.y_lo))
    assert (b[1] - a[1]) / (b[0] - a[0]) * scale == pytest.approx(2.0, abs=0.05)
    assert len(p.source) >= 1 and p.legend.get_bottom()[1] > p.axes.get_top()[1]
