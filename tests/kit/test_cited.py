"""ValueBars and CitedBars, built from Lecture 2's lab result and Vaswani et al.'s Table 3."""
from __future__ import annotations

from itertools import pairwise

import pytest

from scenes.kit.format import shown
from scenes.kit.mobjects import CitedBars, ValueBars
from scenes.kit.references import VASWANI
from scenes.l02_multihead import data


def test_value_bars_heights_follow_the_values_from_zero():
    hc = data.head_count()
    acc = [r.accuracy for r in hc.runs]
    bars = ValueBars(acc, [f"{r.n_heads} heads" for r in hc.runs], value_strings=[r.accuracy_shown for r in hc.runs])
    for b, v in zip(bars.bars, acc):
        assert b.height == pytest.approx(bars.bars[1].height * v / acc[1], rel=1e-6)
        assert b.get_bottom()[1] == pytest.approx(bars.axis.get_y(), abs=1e-9)
    assert [t.original_text for t in bars.values] == [r.accuracy_shown for r in hc.runs]
    assert len(bars.break_mark) == 0
    line = bars.reference_line(hc.chance_one_value, "one value")
    assert line[0].get_y() == pytest.approx(bars.level(hc.chance_one_value))
    assert bars.level(acc[1]) == pytest.approx(bars.bars[1].get_top()[1])


def test_value_bars_labels_never_collide():
    t3 = data.vaswani_table3()
    bars = ValueBars(t3.bleu, [f"h = {h}" for h in t3.heads], sublabels=[f"dk {d}" for d in t3.d_k], decimals=1,
                     baseline="cut")
    for row in (bars.names, bars.sublabels, bars.values):
        for left, right in pairwise(row):
            assert left.get_right()[0] < right.get_left()[0]


def test_cut_baseline_keeps_order_and_marks_the_break():
    t3 = data.vaswani_table3()
    bars = ValueBars(t3.perplexity, [str(h) for h in t3.heads], baseline="cut", decimals=2)
    assert len(bars.break_mark) == 2 and bars.cut < min(t3.perplexity)
    hs = [b.height for b in bars.bars]
    assert sorted(range(len(hs)), key=hs.__getitem__) == sorted(range(len(hs)), key=t3.perplexity.__getitem__)
    assert [t.original_text for t in bars.values] == [shown(v, 2) for v in t3.perplexity]


def test_cited_bars_carry_the_citation_and_a_tag():
    t3 = data.vaswani_table3()
    table = CitedBars([("BLEU", t3.bleu), ("perplexity", t3.perplexity, 2)], [f"h = {h}" for h in t3.heads],
                      citation=VASWANI, baseline="cut", decimals=1, width=12.0)
    assert len(table.charts) == 2
    assert [t.original_text for t in table.charts[0].values] == [shown(v, 1) for v in t3.bleu]
    assert [t.original_text for t in table.charts[1].values] == [shown(v, 2) for v in t3.perplexity]
    assert table.reference is VASWANI and table.tag.original_text == "published"
    assert table.frame.width == pytest.approx(12.0, rel=1e-3)
    assert table.citation.get_top()[1] < table.charts.get_bottom()[1]  # the citation sits underneath
    assert table.charts.get_left()[0] > table.frame.get_left()[0] and table.citation.get_bottom()[1] > \
        table.frame.get_bottom()[1]
    assert table.citation_text == VASWANI.short(venue=False) and "arXiv:1706.03762" in table.citation_text


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        ValueBars([1.0, 2.0], ["a"])
    with pytest.raises(ValueError):
        ValueBars([-1.0, 2.0], ["a", "b"])
    with pytest.raises(ValueError):
        ValueBars([1.0, 2.0], ["a", "b"], baseline="log")
    with pytest.raises(ValueError):
        CitedBars([], ["a"], citation=VASWANI)
