"""CapacityBar: an 80 GB H100 filled with Llama-2-7B's weights and KV cache (L04.7; Lecture 5 reuses it)."""
from __future__ import annotations

import pytest

from scenes.kit.mobjects import CapacityBar
from scenes.kit.theme import COLORS
from scenes.l04_context import data


def test_segment_widths_are_proportional_to_bytes():
    m = data.memory_fill()
    mha = m.bars[0]
    per_request = mha.kv_bytes_per_token * m.request_tokens
    bar = CapacityBar(m.memory_bytes, width=10.0, title="H100", capacity_text="80 GB")
    bar.shift([1.0, -2.0, 0]).scale(0.9)            # geometry follows the bar wherever it goes
    w = bar.segment("weights", m.weights_bytes, COLORS.WEIGHT, "weights")
    kv = bar.segment("kv", mha.requests_4k * per_request, COLORS.K, "KV", count=mha.requests_4k)
    unit = bar.frame.width / m.memory_bytes
    assert w[0].width == pytest.approx(m.weights_bytes * unit)
    assert kv[0].width == pytest.approx(mha.requests_4k * per_request * unit)
    assert w[0].get_left()[0] == pytest.approx(bar.frame.get_left()[0])
    assert kv[0].get_left()[0] == pytest.approx(w[0].get_right()[0])       # filled left to right
    assert len(kv[1]) == mha.requests_4k - 1                                # one cell per request
    assert bar.fits(per_request) == 0 and bar.fits(mha.kv_bytes_per_token) == mha.budget_tokens - \
        mha.requests_4k * m.request_tokens
    assert [lab.original_text for lab in bar.labels] == ["weights", "KV"]
    assert bar.title.original_text == "H100" and bar.capacity_label.get_bottom()[1] > bar.frame.get_top()[1]


def test_overflow_raises_a_clear_error_and_ghost_shows_it():
    m = data.memory_fill()
    mha = m.bars[0]
    long = mha.kv_bytes_per_token * m.long_request_tokens
    bar = CapacityBar(m.memory_bytes, width=10.0)
    bar.segment("weights", m.weights_bytes, COLORS.WEIGHT)
    with pytest.raises(ValueError, match=r"'one 128K request' needs .* does not fit"):
        bar.segment("one 128K request", long, COLORS.K)
    assert len(bar.segments) == 1 and bar.used == m.weights_bytes         # the failed segment left no trace
    ghost = bar.ghost(long, "one 128K request")
    assert ghost[0].get_right()[0] > bar.frame.get_right()[0]            # runs past the end: does not fit
    gqa = m.bars[1]
    bar2 = CapacityBar(m.memory_bytes)
    bar2.segment("weights", m.weights_bytes, COLORS.WEIGHT)
    assert bar2.fits(gqa.kv_bytes_per_token * m.long_request_tokens) == gqa.requests_128k
    with pytest.raises(ValueError, match="positive"):
        CapacityBar(0)
