"""SplitMerge: the split-K diagram drawn from Lecture 5's traced ar.flash_decoding (4 splits of 16 keys)."""
from __future__ import annotations

import pytest

from scenes.kit.format import shown
from scenes.kit.mobjects import SplitMerge
from scenes.kit.mobjects.layout import find_overlaps
from scenes.l05_kv_cache import data


def _diagram(**kw):
    sk = data.split_k()
    sm = SplitMerge([s.cols for s in sk.splits], [s.lse for s in sk.splits], [s.out for s in sk.splits],
                    [s.weight for s in sk.splits], sk.lse, sk.merged, **kw)
    return sk, sm


def test_strip_cells_follow_the_splits_and_labels_carry_the_builders_values():
    sk, sm = _diagram(width=12.0)
    assert sm.n_splits == len(sk.splits) == 4 and sm.n_keys == sk.n_keys == 16
    for s, part in zip(sk.splits, sm.strip):
        k_row, v_row = part
        assert len(k_row) == len(v_row) == s.cols[1] - s.cols[0]
    assert [lab.original_text for lab in sm.key_labels] == [f"keys {a}–{b - 1}" for a, b in (s.cols for s in
                                                                                          sk.splits)]
    assert [p[1].original_text for p in sm.pairs] == [f"LSE{'₁₂₃₄'[k]} = {shown(s.lse, 2)}"
                                                      for k, s in enumerate(sk.splits)]
    assert [w.original_text for w in sm.weights] == [f"× {shown(s.weight, 2)}" for s in sk.splits]
    assert sm.merged[1].original_text == f"LSE = {shown(sk.lse, 2)}"
    assert len(sm.merged[2][1]) == len(sk.merged) == sk.head_dim        # one O cell per output dimension
    assert sum(sm.weights_data) == pytest.approx(1, abs=1e-12)          # the merge weights add up to one


def test_geometry_splits_left_to_right_pairs_under_their_split_merge_below():
    _, sm = _diagram(width=12.0)
    assert sm.strip.width == pytest.approx(12.0, abs=1e-6)
    for a, b in zip(sm.strip, sm.strip[1:]):
        assert a.get_right()[0] < b.get_left()[0]                         # a visible cut between splits
    for part, pair, w, arrow in zip(sm.strip, sm.pairs, sm.weights, sm.arrows):
        assert pair.get_top()[1] < part.get_bottom()[1] and abs(pair.get_x() - part.get_x()) < 1e-6
        assert w.get_top()[1] < pair.get_bottom()[1]
        assert arrow.get_start()[1] < w.get_bottom()[1] and arrow.get_end()[1] > sm.merged.get_top()[1] - 0.1
    for a, b in zip(sm.pairs, sm.pairs[1:]):
        assert a.get_right()[0] < b.get_left()[0]                         # pairs do not touch
    assert sm.merged.get_top()[1] < min(w.get_bottom()[1] for w in sm.weights)
    assert not find_overlaps([*sm.key_labels, *sm.weights, *(p[1] for p in sm.pairs), sm.merged[1]])
    box = sm.highlight(2)
    assert box.width > sm.pairs[2].width and box.get_bottom()[1] < sm.pairs[2].get_bottom()[1]


def test_bad_splits_are_refused():
    sk = data.split_k()
    args = ([s.lse for s in sk.splits], [s.out for s in sk.splits], [s.weight for s in sk.splits], sk.lse, sk.merged)
    with pytest.raises(ValueError, match="contiguously"):
        SplitMerge([(0, 4), (5, 8), (8, 12), (12, 16)], *args)
    with pytest.raises(ValueError, match="4 splits with 3 LSEs"):
        SplitMerge([s.cols for s in sk.splits], args[0][:3], *args[1:])
