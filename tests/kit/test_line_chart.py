"""LineChart: a small line chart of in-memory series (the lab's training curves, L02.5)."""
from __future__ import annotations

import numpy as np
import pytest

from scenes.kit.mobjects import LineChart
from scenes.l02_multihead import data


def _curve():
    pc = data.phase_change()
    steps, scores = zip(*pc.induction_curve)
    return pc, steps, scores


def test_points_land_where_the_data_says():
    pc, steps, scores = _curve()
    ch = LineChart([("best induction score", steps, scores)], x_label="training step", y_label="score",
                   width=5.0, height=2.5, x_range=(0, pc.total_steps, 200), y_range=(0, 1, 0.5))
    ch.shift([1.0, -0.5, 0]).scale(0.8)  # coordinates follow the chart wherever it goes
    line = ch.series[0][0]
    assert np.allclose(line.get_start(), ch.point(steps[0], scores[0]))
    assert np.allclose(line.get_end(), ch.point(steps[-1], scores[-1]))
    assert ch.point(pc.total_steps, 1.0)[0] - ch.point(0, 0)[0] == pytest.approx(4.0)
    assert [t.original_text for t in ch.x_ticks] == ["0", "200", "400", "600", "800"]
    assert [t.original_text for t in ch.y_ticks] == ["0.0", "0.5", "1.0"]
    assert [t.original_text for t in ch.axis_labels] == ["training step", "score"]
    assert len(ch.legend) == 0 and len(ch.source) == 0  # one series: no legend; no source given


def test_mark_x_is_a_vertical_line_at_the_step_with_its_label():
    pc, steps, scores = _curve()
    ch = LineChart([("best induction score", steps, scores)], x_label="step", y_label="score",
                   y_range=(0, 1, 0.25))
    mark = ch.mark_x(pc.step, f"step {pc.step}")
    assert mark[0].get_x() == pytest.approx(ch.point(pc.step, 0)[0])
    assert mark[0].height == pytest.approx(ch.point(0, 1)[1] - ch.point(0, 0)[1])
    assert mark[1].original_text == f"step {pc.step}" and mark[1].get_bottom()[1] > mark[0].get_top()[1]
    with pytest.raises(ValueError, match="outside"):
        ch.mark_x(pc.total_steps + 100)
    dot = ch.dot_at(pc.step, pc.best_at)
    assert np.allclose(dot.get_center(), ch.point(pc.step, pc.best_at))


def test_several_series_legend_and_wrapped_source_line():
    c = data.positional_control()
    ch = LineChart([("induction", c.periods, c.by_period), ("control", c.periods, c.by_period_control)],
                   x_label="period", y_label="score", markers=True, source=c.source, width=5.0)
    assert [e[1].original_text for e in ch.legend] == ["induction", "control"]
    assert len(ch.series[0][1]) == len(c.periods)  # one marker per point
    assert " ".join(t.original_text for t in ch.source) == c.source
    assert ch.source.get_top()[1] < ch.axis_labels[0].get_bottom()[1]
    assert ch.y_ticks[0].original_text == "0.0"  # the y-axis starts at zero by default


def test_bad_series_are_refused():
    with pytest.raises(ValueError, match="x and"):
        LineChart([("a", [0, 1], [0.5])], x_label="x", y_label="y")
    with pytest.raises(ValueError, match="at least one"):
        LineChart([], x_label="x", y_label="y")


def test_log_y_axis_places_powers_of_ten_evenly():
    from scenes.l03_rope import data as l03

    fc = l03.frequency_curves()
    planes = list(range(len(fc.curves[0].theta)))
    ch = LineChart([(c.label, planes, c.theta) for c in fc.curves], x_label="plane i", y_label="θ'ᵢ",
                   y_log=True, y_range=(1e-6, 1, 1), x_range=(0, 63, 21), width=6.0, height=3.0)
    assert [t.original_text for t in ch.y_ticks] == ["10⁻⁶", "10⁻⁵", "10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰"]
    gaps = np.diff([ch.point(0, 10.0 ** e)[1] for e in range(-6, 1)])
    assert np.allclose(gaps, 0.5)  # six decades on three units: half a unit each
    line = ch.series[1][0]  # PI: every θ divided by 8 sits log10(8) / 6 of the height below plain
    assert np.allclose(line.get_end(), ch.point(63, fc.curves[1].theta[-1]))
    drop = ch.point(0, fc.curves[0].theta[0])[1] - ch.point(0, fc.curves[1].theta[0])[1]
    assert drop == pytest.approx(np.log10(8.0) * 0.5)
    # plain: θ from 1 down to 10⁴^(−126/128) ≈ 1.2·10⁻⁴: whole decades 10⁻⁴ … 10⁰
    auto = LineChart([("plain", planes, fc.curves[0].theta)], x_label="i", y_label="θ", y_log=True)
    assert auto.y_lo == pytest.approx(1e-4) and auto.y_hi == pytest.approx(1.0)
    with pytest.raises(ValueError, match="<= 0"):
        LineChart([("a", [0, 1], [0.0, 1.0])], x_label="x", y_label="y", y_log=True)
