"""StackedBars, built from Lecture 4's FLOPs per token of the Llama-2-7B layer (dense part and attention)."""
from __future__ import annotations

from itertools import pairwise

import pytest

from scenes.kit.mobjects import StackedBars
from scenes.l04_context import data

G = 1e9


def short(n: int) -> str:
    return f"{n // 1024}K" if n >= 1024 else str(n)


def chart(names=short, **kw) -> tuple[StackedBars, object]:
    f = data.flops_per_token()
    dense = [r.dense / G for r in f.rows]
    attn = [r.attention / G for r in f.rows]
    bars = StackedBars([("dense", dense), ("attention", attn)], [names(r.n) for r in f.rows],
                       value_range=(0, 3, 0.5), **kw)
    return bars, f


def test_segments_stack_from_the_baseline_with_heights_proportional_to_the_values():
    bars, f = chart()
    base = bars.axis[1].get_y()
    unit = bars.axis[0].height / 3
    for k, r in enumerate(f.rows):
        dense, attn = bars.bars[k]
        assert dense.get_bottom()[1] == pytest.approx(base, abs=1e-9)
        assert dense.height == pytest.approx(unit * r.dense / G, rel=1e-6)
        assert attn.get_bottom()[1] == pytest.approx(dense.get_top()[1], abs=1e-9)
        assert attn.get_top()[1] == pytest.approx(bars.level((r.dense + r.attention) / G), abs=1e-6)
    assert [len(s) for s in bars.series] == [len(f.rows)] * 2
    assert bars.series[1][3] is bars.bars[3][1]


def test_labels_legend_and_ticks():
    bars, f = chart(value_label="GFLOP per token", legend="top")
    assert [t.original_text for t in bars.names] == [short(r.n) for r in f.rows]
    assert [e[1].original_text for e in bars.legend] == ["dense", "attention"]
    assert len(bars.ticks) == 7 and bars.ticks[-1][1].original_text == "3"
    for left, right in pairwise(bars.names):
        assert left.get_right()[0] < right.get_left()[0]
    assert bars.legend.get_bottom()[1] > bars.value_label.get_top()[1]
    assert bars.legend.get_bottom()[1] > bars.level(3)


def test_long_category_names_shrink_instead_of_colliding():
    bars, _ = chart(names=str)
    for left, right in pairwise(bars.names):
        assert left.get_right()[0] < right.get_left()[0]


def test_marker_between_bars_and_reference_line():
    bars, f = chart()
    k = 5.5
    m = bars.marker(k, "n*")
    assert m[0].get_x() == pytest.approx((bars.slot_x(5) + bars.slot_x(6)) / 2)
    assert m[0].get_top()[1] == pytest.approx(bars.level(3))
    assert bars.marker(k, "n*", top=1.5)[0].get_top()[1] == pytest.approx(bars.level(1.5))
    line = bars.reference_line(2 * f.rows[0].dense / G, "attention = dense")
    assert line[0].get_y() == pytest.approx(bars.level(2 * f.rows[0].dense / G))
    inside, _ = chart(legend="inside")
    assert inside.legend.get_top()[1] == pytest.approx(inside.level(3))
    for seg in (inside.bars[0][1], inside.bars[2][1]):       # the short bars at the left stay under the legend
        assert seg.get_top()[1] < inside.legend.get_bottom()[1]
    moved = bars.copy().shift([1, 2, 0])
    assert moved.level(0) == pytest.approx(bars.level(0) + 2)


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        StackedBars([("a", [1, 2])], ["x"])
    with pytest.raises(ValueError):
        StackedBars([("a", [1, -2])], ["x", "y"])
    with pytest.raises(ValueError):
        StackedBars([("a", [1, 2])], ["x", "y"], value_range=(0, 1, 0.5))
