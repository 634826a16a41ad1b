"""Merging the scenes' SRT captions: shifted by exact offsets, clipped, renumbered."""

from __future__ import annotations

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
    a.write_text("1\n00:00:00,000 --> 00:00:03,000\nOne.\n\n2\n00:00:02,000 --> 00:00:04,000\nTwo.\n")
    subs = captions.merge([(a, 0, None)])
    assert subs[0].end <= subs[1].start
    empty = tmp_path / "e.srt"
    empty.write_text("")
    assert captions.merge([(empty, 0, 5), (tmp_path / "missing.srt", 5, 5)]) == []
    assert captions.compose([]) == ""
