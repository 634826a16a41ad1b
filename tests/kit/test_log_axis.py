"""LogTimeline: markers at x proportional to log10 of their value (Lecture 4's context lengths), labels stacked
so that none overlaps another and no stem crosses another marker's label; compact() token counts."""
from __future__ import annotations

import math

import pytest

from scenes.kit.mobjects import LogTimeline
from scenes.kit.mobjects.log_axis import compact
from scenes.l04_context import data as d


def _timeline():
    t = d.timeline()
    short = {"Position Interpolation": "PI", "Code Llama (use)": "Code Llama, used"}   # as the L04.5 scene
    marks = [(m.context, short.get(m.name, m.name)) for m in t.markers]
    return t, LogTimeline(marks, lo=t.axis_min, hi=t.axis_max, width=12.0,
                          dashed=[i for i, m in enumerate(t.markers) if m.verify])


def test_marker_x_proportional_to_log10_of_the_value():
    t, tl = _timeline()
    x0, x1 = tl.axis.get_start()[0], tl.axis.get_end()[0]
    assert x1 - x0 == pytest.approx(12.0)
    span = math.log10(t.axis_max) - math.log10(t.axis_min)
    for i, m in enumerate(t.markers):
        frac = (math.log10(m.context) - math.log10(t.axis_min)) / span
        assert tl.stem_x(i) == pytest.approx(x0 + frac * 12.0, abs=1e-6)
        assert tl.x_of(m.context) == pytest.approx(tl.stem_x(i), abs=1e-6)
    # one decade is the same length anywhere on the axis
    assert tl.x_of(10_000) - tl.x_of(1_000) == pytest.approx(tl.x_of(1_000_000) - tl.x_of(100_000))
    assert [lb.original_text for lb in tl.tick_labels] == ["1K", "10K", "100K", "1M", "10M"]


def test_labels_stacked_without_overlap_and_stems_clear():
    t, tl = _timeline()
    boxes = [(g.get_left()[0], g.get_bottom()[1], g.get_right()[0], g.get_top()[1]) for g in tl.labels]
    for i, a in enumerate(boxes):
        for j, b in enumerate(boxes[:i]):
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (t.markers[i].name,
                                                                                  t.markers[j].name)
    for i, stem in enumerate(tl.stems):
        x, y0, y1 = tl.stem_x(i), stem.get_bottom()[1], stem.get_top()[1]
        for j, b in enumerate(boxes):
            if j != i and b[0] < x < b[2]:
                assert y1 <= b[1] + 1e-6 or y0 >= b[3] - 1e-6, (t.markers[i].name, t.markers[j].name)
    same = [i for i, m in enumerate(t.markers) if m.context == 131072]
    assert len(same) == 3 and len({tl.levels[i] for i in same}) == 3      # one column, stacked
    assert max(tl.levels) >= 2 and tl.labels[0][1].original_text == "512"


def test_compact_counts_and_unverified_marker_is_dashed():
    assert [compact(n) for n in (512, 1024, 4096, 32768, 100_000, 131072, 1_000_000, 1000)] == [
        "512", "1K", "4K", "32K", "100K", "128K", "1M", "1K"]
    t, tl = _timeline()
    g = next(i for i, m in enumerate(t.markers) if m.verify)
    assert type(tl.stems[g]).__name__ == "DashedLine" and type(tl.stems[0]).__name__ == "Line"
    with pytest.raises(ValueError):
        LogTimeline([(10, "x")], lo=100, hi=1000)
