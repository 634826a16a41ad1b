"""StepCounter, built from Lecture 5's FLOPs-saved / bytes-spent counters (L05.2; Lecture 6 reuses it)."""
from __future__ import annotations

import pytest

from scenes.kit.format import grouped
from scenes.kit.mobjects import StepCounter
from scenes.kit.theme import COLORS
from scenes.l05_kv_cache import data


def _counter(**kw):
    c = data.counters()
    return c, StepCounter("per layer, per head", [("FLOPs saved", c.cumulative_saved), ("bytes spent", c.cache_bytes)],
                          increments=[c.flops_saved, c.bytes_added], steps=c.steps,
                          colors=[COLORS.WEIGHT, COLORS.K], **kw)


def _inside(part, frame):
    return (frame.get_left()[0] < part.get_left()[0] and part.get_right()[0] < frame.get_right()[0]
            and frame.get_bottom()[1] < part.get_bottom()[1] and part.get_top()[1] < frame.get_top()[1])


def test_labels_are_the_builders_values_at_each_step():
    c, counter = _counter()
    assert [v.original_text for v in counter.values] == [grouped(c.cumulative_saved[0]), grouped(c.cache_bytes[0])]
    assert [i.original_text for i in counter.increments] == [f"+{grouped(c.flops_saved[0])}",
                                                               f"+{grouped(c.bytes_added[0])}"]
    assert counter.step_label.original_text == f"step {c.steps[0]}"
    last = len(c.steps) - 1
    anim = counter.show_step(last)
    assert anim is not None and counter.index == last
    assert [v.original_text for v in counter.values] == [grouped(c.cumulative_saved[last]),
                                                         grouped(c.cache_bytes[last])]
    assert counter.step_label.original_text == f"step {c.steps[last]}"
    with pytest.raises(IndexError):
        counter.show_step(len(c.steps))


def test_geometry_holds_wherever_the_counter_goes():
    c, counter = _counter()
    counter.scale(0.8).place(2.0, -1.0)
    assert counter.card.frame.get_left()[0] + counter.full_width / 2 == pytest.approx(2.0)
    last = len(c.steps) - 1
    for k in (0, last):
        counter.show_step(k)
        for i in range(len(counter.values)):
            target = counter._value_label(i, k)
            assert _inside(target, counter.card.frame)                          # the widest total fits the card
            assert target.get_right()[0] == pytest.approx(counter._value_label(1 - i, k).get_right()[0], abs=1e-6)
            new_inc = counter._increment_label(i, k)
            assert new_inc.get_left()[0] > counter.card.frame.get_right()[0]    # increments beside the card
            assert abs(new_inc.get_y() - target.get_y()) < 0.1                  # on the row's line
            assert new_inc.get_right()[0] <= counter.card.frame.get_left()[0] + counter.full_width + 1e-6
        assert counter.values[0].get_y() > counter.values[1].get_y() > counter.step_label.get_y()
        note = counter._note_label(k)
        assert _inside(note, counter.card.frame)


def test_rows_without_increments_and_bad_input():
    c = data.counters()
    counter = StepCounter("cache", [("bytes held", c.cache_bytes)], start=3)
    assert len(counter.increments[0]) == 0 and counter.values[0].original_text == grouped(c.cache_bytes[3])
    with pytest.raises(ValueError, match="same"):
        StepCounter("x", [("a", c.cache_bytes), ("b", c.cache_bytes[:3])])
    with pytest.raises(ValueError, match="increments"):
        StepCounter("x", [("a", c.cache_bytes)], increments=[c.flops_saved[:2]])
