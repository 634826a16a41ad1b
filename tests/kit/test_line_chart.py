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
