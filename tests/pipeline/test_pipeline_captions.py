"""Merging the scenes' SRT captions: re-cut at sentence ends, shifted by exact offsets, clipped, renumbered."""

from __future__ import annotations

import itertools
from fractions import Fraction as F

import srt

from scenes.pipeline import captions

A = """1
00:00:00,000 --> 00:00:02,500
First scene, first cue.

2
00:00:02,600 --> 00:00:04,000
First scene, second cue.
"""
B = """1
00:00:00,000 --> 00:00:01,000
Second scene.

2
00:00:09,500 --> 00:00:12,000
Runs past the end of its scene.

3
00:00:20,000 --> 00:00:21,000
Entirely after its scene.
"""


def test_merge_shifts_clips_and_renumbers(tmp_path):
    a, b = tmp_path / "A.srt", tmp_path / "B.srt"
    a.write_text(A)
    b.write_text(B)
    # title card 4 s, scene A 61 frames at 15 fps (4.0667 s), scene B 10 s
    off_a, dur_a = F(60, 15), F(61, 15)
    off_b = off_a + dur_a
    subs = captions.merge([(None, 0, F(4)), (a, off_a, dur_a), (b, off_b, F(10)), (None, off_b + 10, F(5))])
    assert [s.index for s in subs] == [1, 2, 3, 4]
    assert subs[0].start.total_seconds() == 4.0
    assert abs(subs[2].start.total_seconds() - float(off_b)) < 1e-6
    assert subs[2].content == "Second scene."
    # clipped to the end of scene B, and the cue beyond it dropped
    assert abs(subs[3].end.total_seconds() - float(off_b + 10)) < 1e-6
    text = captions.compose(subs)
    again = list(srt.parse(text))
    assert len(again) == 4 and again[3].content == "Runs past the end of its scene."
    assert "00:00:08,066 -->" in text  # 4 s + 61/15 s = 8.0667 s, in SRT's milliseconds


def test_overlapping_cues_are_trimmed_and_empty_input_is_fine(tmp_path):
    a = tmp_path / "a.srt"
    a.write_text("1\n00:00:00,000 --> 00:00:03,000\nThe first cue is one sentence.\n\n"
                 "2\n00:00:02,000 --> 00:00:04,000\nThe second cue overlaps it.\n")
    subs = captions.merge([(a, 0, None)])
    assert subs[0].end <= subs[1].start
    empty = tmp_path / "e.srt"
    empty.write_text("")
    assert captions.merge([(empty, 0, 5), (tmp_path / "missing.srt", 5, 5)]) == []
    assert captions.compose([]) == ""


def _cue(start: float, end: float, text: str) -> srt.Subtitle:
    td = lambda s: captions._td(s)  # noqa: E731
    return srt.Subtitle(index=0, start=td(start), end=td(end), content=text)


# manim-voiceover's cut: ~70 characters per cue, mid-sentence, timed in proportion to characters
VOICEOVER = [
    _cue(0.0, 4.223, "Softmax turns a row of scores into weights in two moves. Here is"),
    _cue(4.323, 8.141, "the row of sat, already divided by the square root of d_k."),
    _cue(8.233, 12.169, "First, exponentiate: every score becomes positive,"),
    _cue(12.269, 14.913, "and the larger scores grow faster."),
    _cue(20.0, 22.0, "After a pause. A new block"),
    _cue(22.1, 23.0, "of narration."),
]


def test_resegment_cuts_at_sentence_ends_and_keeps_word_times():
    new = captions.resegment(VOICEOVER)
    texts = [s.content.replace("\n", " ") for s in new]
    assert texts == ["Softmax turns a row of scores into weights in two moves.",
                     "Here is the row of sat, already divided by the square root of d_k.",
                     "First, exponentiate: every score becomes positive,",   # 85 characters with the
                     "and the larger scores grow faster.",                   # rest: cut at the comma
                     "After a pause. A new block of narration."]             # a short sentence joins the next
    # every word is said in the same order, and each cue sits inside the span its words had
    assert " ".join(texts).split() == " ".join(c.content for c in VOICEOVER).split()
    assert new[0].start.total_seconds() == 0.0 and new[-1].end.total_seconds() == 23.0
    # "Here is" ended cue 1 of manim-voiceover at 4.223 s: 7 of its 64 characters, so it starts at 3.76 s
    assert abs(new[1].start.total_seconds() - 4.223 * 57 / 64) < 1e-3
    assert all(a.end <= b.start for a, b in itertools.pairwise(new))
    assert new[3].end.total_seconds() == 14.913 and new[4].start.total_seconds() == 20.0  # pause kept


def test_resegment_keeps_cues_to_two_short_lines():
    long = " ".join(f"word{i}," if i % 7 == 6 else f"word{i}" for i in range(60)) + "."
    new = captions.resegment([_cue(0, 30, long)])
    for s in new:
        lines = s.content.split("\n")
        assert len(lines) <= 2 and all(len(x) <= captions.LINE_CHARS for x in lines), s.content
    assert " ".join(s.content.replace("\n", " ") for s in new) == long
    assert sum(s.content.endswith(",") for s in new[:-1]) >= len(new) - 2   # cut at clause ends where it can
