"""SlotRing: the rolling buffer of Lecture 5 (slot = position mod W, sinks pinned), against data.rolling_buffer()."""
from __future__ import annotations

import pytest

from scenes.kit.mobjects import SlotRing
from scenes.l05_kv_cache import data


def test_slots_follow_position_mod_window_as_the_builder():
    r = data.rolling_buffer()
    ring = SlotRing(r.window)
    for p in range(r.tokens):
        ring.write(p)
        assert ring.contents() == r.slots[p]          # slot = p mod W, overwrites included
        assert ring.held() == r.held[p]               # = KVCache(window=W).positions
    assert [ring.entries[s].original_text for s in range(r.window)] == [str(p) for p in r.slots[-1]]
    # each entry sits in its slot
    for s, t in ring.entries.items():
        assert t.get_center() == pytest.approx(ring.slots[s].get_center())


def test_sinks_stay_pinned_and_match_the_sink_cache():
    r = data.rolling_buffer()
    ring = SlotRing(r.window, r.sink)
    assert len(ring.slots) == r.window + r.sink and len(ring.sink_slots) == r.sink
    for p in range(r.tokens):
        ring.write(p)
        assert ring.held() == r.sink_held[p]
    assert ring.sinks() == tuple(range(r.sink))
    assert ring.sink_slots.get_right()[0] < ring.window_slots.get_left()[0]    # drawn apart, on the left
    assert ring.sink_label.original_text == "sinks"


def test_geometry_order_and_errors():
    ring = SlotRing(4, cell_size=0.6).shift([1.0, -2.0, 0])
    xs = [sq.get_x() for sq in ring.window_slots]
    assert xs == sorted(xs) and len(ring.slot_labels) == 4
    assert all(lab.get_top()[1] < sq.get_bottom()[1] for lab, sq in zip(ring.slot_labels, ring.window_slots))
    assert ring.wrap_arrow.get_bottom()[1] >= ring.window_slots.get_top()[1] - 1e-6
    circ = SlotRing(6, layout="ring")
    assert circ.window_slots[0].get_y() == pytest.approx(max(sq.get_y() for sq in circ.window_slots))
    ring.fill(5)
    assert ring.contents() == (4, 1, 2, 3) and ring.seen == 5
    with pytest.raises(ValueError, match="in order"):
        ring.write(7)
    with pytest.raises(ValueError):
        SlotRing(0)
    with pytest.raises(ValueError):
        SlotRing(4, layout="spiral")
