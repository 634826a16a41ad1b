"""MetricCard, built from Lecture 4's flat-perplexity and effective-length builders."""
from __future__ import annotations

import pytest

from scenes.kit.format import shown
from scenes.kit.mobjects import MetricCard
from scenes.kit.references import HSIEH
from scenes.l04_context import data


def _ppl_card(width=None):
    f = data.flat_perplexity()
    return f, MetricCard("perplexity", [("inside", shown(f.ppl_inside, 3)), ("at 2×", shown(f.ppl_2x, 3))],
                         note=f"+{shown(100 * f.ppl_change, 2)} %", width=width)


def test_rows_values_and_note_from_the_builder():
    f, card = _ppl_card()
    assert [r[0].original_text for r in card.rows] == ["inside", "at 2×"]
    assert [v.original_text for v in card.values] == [shown(f.ppl_inside, 3), shown(f.ppl_2x, 3)]
    assert card.note.original_text == f"+{shown(100 * f.ppl_change, 2)} %"
    # rows top to bottom, values right-aligned on one edge, everything inside the frame
    assert card.rows[0].get_y() > card.rows[1].get_y() > card.note.get_y()
    assert card.values[0].get_right()[0] == pytest.approx(card.values[1].get_right()[0], abs=1e-6)
    for part in (card.title, *card.rows, card.note):
        assert card.frame.get_left()[0] < part.get_left()[0] and part.get_right()[0] < card.frame.get_right()[0]
        assert card.frame.get_bottom()[1] < part.get_bottom()[1] and part.get_top()[1] < card.frame.get_top()[1]
    assert card.title.get_y() > card.rows[0].get_y()


def test_width_is_the_frame_and_too_narrow_fails():
    _, card = _ppl_card(width=5.0)
    assert card.frame.width == pytest.approx(5.0, abs=1e-6)
    with pytest.raises(ValueError):
        _ppl_card(width=1.0)
    with pytest.raises(ValueError):
        MetricCard("empty", [])


def test_highlight_row_frames_its_row_after_moving_and_scaling():
    _, card = _ppl_card()
    card.scale(0.8).move_to([2, -1, 0])
    box = card.highlight_row(1)
    assert box.get_y() == pytest.approx(card.rows[1].get_y(), abs=1e-6)
    assert box.height >= card.rows[1].height and box.width < card.frame.width
    with pytest.raises(IndexError):
        card.highlight_row(2)


def test_cited_card_has_tag_citation_and_names_only_rows():
    e = data.effective_length()
    card = MetricCard("effective length", [e.definition, ("threshold", shown(e.threshold, 1))], citation=HSIEH)
    assert card.cited and card.tag.original_text == "published"
    assert "2404.06654" in card.citation_text and len(card.citation) >= 1
    assert len(card.rows[0]) == 1 and len(card.values) == 1
    assert card.citation.get_top()[1] < card.rows[-1].get_bottom()[1]
    assert card.tag.get_y() > card.title.get_y()


def test_pair_puts_two_cards_side_by_side():
    a = MetricCard("quality", ["perplexity"])
    b = MetricCard("systems", [m.name for m in data.systems_metrics().metrics])
    pair = MetricCard.pair(a, b)
    assert a.get_right()[0] < b.get_left()[0]
    assert a.get_top()[1] == pytest.approx(b.get_top()[1], abs=1e-6)
    assert pair.get_x() == pytest.approx(0.0, abs=1e-6)
