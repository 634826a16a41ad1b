"""YouTube chapters from section timings: 0:00 first, >= 3 chapters, each >= 10 s, short ones merged."""

from __future__ import annotations

from fractions import Fraction as F

from scenes.pipeline import chapters as ch


def sec(name, start, dur, kind="scene"):
    return ch.TimedSection(name, F(start), F(dur), kind)


def lines_for(sections, total):
    return ch.format_lines(ch.build(sections, total), total)


def test_cards_join_neighbours_and_first_chapter_is_zero():
    s = [sec("Title card", 0, 4, "card"), sec("L01.1 History", 4, 30), sec("L01.2 Evolution", 34, 25),
         sec("L01.3 Direct connections", 59, 40), sec("End card", 99, 5, "card")]
    lines = lines_for(s, 104)
    assert lines == ["0:00 History", "0:34 Evolution", "0:59 Direct connections"]
    assert ch.check_lines(lines, 104) == []


def test_short_sections_merge_and_keep_the_longest_title():
    s = [sec("autocreated", 0, 2), sec("L01.1 History", 2, 5), sec("L01.2 Evolution", 7, 30),
         sec("L01.3 Direct", 37, 12), sec("Recap", 49, 6), sec("References", 55, 4), sec("L01.4 QKV", 59, 20)]
    chs = ch.build(s, 79)
    lines = ch.format_lines(chs, 79)
    assert ch.check_lines(lines, 79) == []
    assert lines[0] == "0:00 Evolution"  # History (5 s) merged into Evolution (30 s), which names it
    # References (4 s) joins its shorter neighbour Recap (6 s): together they reach 10 s
    assert [c.title for c in chs] == ["Evolution", "Direct", "Recap", "QKV"]
    assert sum(len(c.parts) for c in chs) == 6  # every real section is in some chapter


def test_boundaries_are_judged_on_displayed_whole_seconds():
    # B lasts 9.2 s but is displayed from 0:10 to 0:20: YouTube counts 10 s, so it stays
    s = [sec("A", 0, F(109, 10)), sec("B", F(109, 10), F(92, 10)), sec("C", F(201, 10), F(291, 10))]
    lines = lines_for(s, F(492, 10))
    assert lines == ["0:00 A", "0:10 B", "0:20 C"]
    assert ch.check_lines(lines, 49.2) == []
    # displayed 0:10 to 0:19 (9 s): merged into A, which leaves two chapters: none at all
    s = [sec("A", 0, F(109, 10)), sec("B", F(109, 10), F(83, 10)), sec("C", F(192, 10), F(30))]
    assert lines_for(s, F(492, 10)) == []


def test_too_few_chapters_gives_none():
    assert ch.build([sec("A", 0, 15), sec("B", 15, 12)], 27) == []
    assert ch.build([sec("A", 0, 5), sec("B", 5, 5), sec("C", 10, 5)], 15) == []
    assert ch.build([], 10) == []


def test_hour_format_and_timestamps():
    assert ch.format_timestamp(0) == "0:00"
    assert ch.format_timestamp(61.9) == "1:01"
    assert ch.format_timestamp(3725) == "1:02:05"
    assert ch.format_timestamp(59, hours=True) == "0:00:59"
    s = [sec("A", 0, 1800), sec("B", 1800, 1800), sec("C", 3600, 600)]
    assert lines_for(s, 4200) == ["0:00:00 A", "0:30:00 B", "1:00:00 C"]
    assert ch.parse_timestamp("1:00:00") == 3600


def test_check_lines_finds_every_rule():
    assert ch.check_lines(["0:01 A", "0:20 B", "0:40 C"], 60)  # not starting at 0:00
    assert ch.check_lines(["0:00 A", "0:20 B"], 60)  # fewer than three
    assert ch.check_lines(["0:00 A", "0:05 B", "0:40 C"], 60)  # a 5 s chapter
    assert ch.check_lines(["0:00 A", "0:20 B", "0:15 C"], 60)  # not ascending
    assert ch.check_lines(["0:00 A", "0:20 B", "0:55 C"], 60)  # last one too short


def test_titles_are_clean():
    assert ch.display_title("L01.5 Dot-product <attention>") == "Dot-product ‹attention›"
    assert ch.display_title("Recap") == "Recap"
    assert len(ch.clean_title("x" * 300)) == ch.MAX_TITLE_CHARS
