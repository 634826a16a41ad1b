"""WrongRight and issue_citation, built from Lecture 5's pitfall builders."""
from __future__ import annotations

import numpy as np
import pytest

from scenes.kit.format import shown
from scenes.kit.mobjects import AttentionGrid, MaskOverlay, WrongRight, issue_citation
from scenes.kit.theme import COLORS
from scenes.l05_kv_cache import data


def _decode_pair(**kw):
    m = data.decode_mask()
    case = next(c for c in data.masks().cases if c.n_q == 1)
    keys = [str(j) for j in range(m.decode_n_k)]
    grids = []
    for weights, allowed in ((m.wrong_row, case.upper_left), (m.right_row, case.lower_right)):
        g = AttentionGrid([list(weights)], ["q"], keys, caption=None)
        grids.append((g, MaskOverlay(g, np.array(allowed))))
    pair = WrongRight("is_causal=True in a decode step", grids[0][0], grids[1][0],
                      wrong_verdict=f"logits off by {shown(m.decode_logit_diff)}",
                      right_verdict=f"logits off by {shown(m.decode_right_diff, sci=1)}",
                      citation=issue_citation(m.issues), **kw)
    return m, grids, pair


def test_issue_citation_groups_by_repository():
    assert issue_citation(data.decode_mask().issues) == "pytorch/pytorch #103082, #144858"
    assert issue_citation(data.padding_positions().issues) == \
        "unslothai/unsloth #3795; huggingface/transformers #18104"
    assert issue_citation(data.static_length().issue) == "huggingface/transformers #30377"
    for bad in ([], "no-issue", "repo#12", "a/b#x"):
        with pytest.raises(ValueError):
            issue_citation(bad)


def test_panels_side_by_side_with_marks_verdicts_and_citation():
    m, grids, pair = _decode_pair()
    w, r = pair.wrong, pair.right
    assert w.mark.original_text == "\u2717" and r.mark.original_text == "\u2713"
    assert w.name.original_text == "wrong" and r.name.original_text == "right"
    assert w.verdict_text.original_text == f"logits off by {shown(m.decode_logit_diff)}"
    assert "10" in r.verdict_text.original_text
    assert pair.citation.original_text == "pytorch/pytorch #103082, #144858" == pair.citation_text
    # wrong left of right, same size, tops aligned; title above, citation below
    assert w.frame.get_right()[0] < r.frame.get_left()[0]
    assert w.frame.width == pytest.approx(r.frame.width) and w.frame.height == pytest.approx(r.frame.height)
    assert w.frame.get_top()[1] == pytest.approx(r.frame.get_top()[1])
    assert pair.title.get_bottom()[1] > w.frame.get_top()[1]
    assert pair.citation.get_top()[1] < w.frame.get_bottom()[1]
    # header above the content above the verdict, all inside the frame
    for p, (grid, _) in zip((w, r), grids):
        assert p.content is grid
        assert p.header.get_bottom()[1] > p.content.get_top()[1] > p.content.get_bottom()[1] > p.verdict.get_top()[1]
        for part in (p.header, p.content, p.verdict):
            assert p.frame.get_left()[0] < part.get_left()[0] and part.get_right()[0] < p.frame.get_right()[0]
            assert p.frame.get_bottom()[1] < part.get_bottom()[1] and part.get_top()[1] < p.frame.get_top()[1]
    assert w.frame.get_stroke_color().to_hex().upper() == COLORS.MASK.upper()
    assert r.frame.get_stroke_color().to_hex().upper() == COLORS.WEIGHT.upper()


def test_fixed_panel_size_scales_both_contents_alike_and_stacked_layout():
    _, grids, pair = _decode_pair(panel_width=5.0, panel_height=3.2)
    assert pair.wrong.frame.width == pytest.approx(5.0) and pair.wrong.frame.height == pytest.approx(3.2)
    assert pair.wrong.content.width <= 5.0 and grids[0][0].width == pytest.approx(grids[1][0].width)
    _, _, stacked = _decode_pair(stacked=True)
    assert stacked.wrong.frame.get_bottom()[1] > stacked.right.frame.get_top()[1]
    assert stacked.wrong.frame.get_x() == pytest.approx(stacked.right.frame.get_x())


def test_flag_frames_a_verdict_and_bad_sizes_fail():
    _, _, pair = _decode_pair()
    box = pair.flag("wrong")
    assert box.get_center() == pytest.approx(pair.wrong.verdict.get_center())
    assert box.width > pair.wrong.verdict.width
    with pytest.raises(ValueError):
        pair.flag("neither")
    with pytest.raises(ValueError):
        WrongRight("t", "a", "b").flag("right")            # no verdict
    with pytest.raises(ValueError):
        _decode_pair(panel_width=1.0)
    with pytest.raises(ValueError):
        _decode_pair(panel_height=0.5)
    text = WrongRight(None, "one line", "two\nlines", wrong_label="before", right_label="after")
    assert len(text.title) == 0 and text.wrong.name.original_text == "before"
