"""SamplingBars: the L05.4 sampling distribution (seeded logits, T = 0.7 / 1.0 / 1.3, top-k 5, top-p 0.9) as bars
sorted most likely first, re-shaped by temperature, cut after the k-th bar."""
from __future__ import annotations

import pytest

from scenes.kit.mobjects import SamplingBars
from scenes.l05_kv_cache import data


def bars_for(probs, **kw) -> SamplingBars:
    s = data.sampling()
    return SamplingBars(probs, [f"t{i}" for i in range(len(s.logits))], order=s.order,
                        y_max=max(map(max, s.probs)), max_height=3.0, **kw)


def test_bars_stand_in_order_with_heights_proportional_to_p():
    s = data.sampling()
    p = s.probs[1]
    bars = bars_for(p).shift([1.0, -0.5, 0]).scale(0.8)
    assert [lab.original_text for lab in bars.labels] == [f"t{i}" for i in s.order]
    heights = [b.height for b in bars.bars]
    assert heights == sorted(heights, reverse=True)                     # sorted by probability at T = 1
    unit = bars.bars[0].height / p[s.order[0]]
    for b, i in zip(bars.bars, s.order):
        assert b.height == pytest.approx(p[i] * unit)
        assert b.get_bottom()[1] == pytest.approx(bars.baseline.get_y())
    assert sum(round(v, 2) for v in bars.displayed) == pytest.approx(1.0)   # shown values add to 1.00
    assert bars.values[0].original_text == f"{bars.displayed[s.order[0]]:.2f}"


def test_temperature_keeps_the_order_and_sharpens_or_flattens():
    s = data.sampling()
    cold, mid, hot = (bars_for(p) for p in s.probs)
    warm = mid.with_probs(s.probs[2])
    assert warm.baseline.get_center() == pytest.approx(mid.baseline.get_center())
    assert [b.height for b in warm.bars] == pytest.approx([b.height for b in hot.bars])
    assert cold.bars[0].height > mid.bars[0].height > hot.bars[0].height   # lower T: a taller top bar
    for chart in (cold, mid, hot):
        heights = [b.height for b in chart.bars]
        assert heights == sorted(heights, reverse=True)


def test_cut_lines_sit_after_the_kept_bars():
    s = data.sampling()
    bars = bars_for(s.probs[1])
    for kept in (s.top_k, s.top_p_kept):
        cut = bars.cut_line(kept, "cut")
        x = cut.line.get_x()
        assert bars.bars[kept - 1].get_right()[0] < x < bars.bars[kept].get_left()[0]
        assert cut.tag.get_bottom()[1] > cut.line.get_top()[1] - 1e-6
        assert bars.kept_indices(kept) == list(s.order[:kept])
    # the kept tokens are exactly those the builder's top-k / top-p distributions keep
    assert set(bars.kept_indices(s.top_k)) == {i for i, q in enumerate(s.top_k_probs) if q > 0}
    assert set(bars.kept_indices(s.top_p_kept)) == {i for i, q in enumerate(s.top_p_probs) if q > 0}
    with pytest.raises(ValueError):
        bars.cut_line(0, "nothing kept")


def test_bad_inputs_raise():
    s = data.sampling()
    with pytest.raises(ValueError, match="permutation"):
        SamplingBars(s.probs[1], [str(i) for i in range(10)], order=[0] * 10)
    with pytest.raises(ValueError, match="y_max"):
        SamplingBars(s.probs[0], [str(i) for i in range(10)], y_max=0.1)
