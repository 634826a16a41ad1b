"""Merge the scenes' SRT captions into one lecture track: each re-cut at sentence and clause ends,
shifted by its scene's offset in the lecture (exact frame counts), clipped to the scene's span,
renumbered from 1."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import srt
import itertools


def _td(seconds: Fraction | float) -> _dt.timedelta:
    # microseconds, rounded: timedelta(seconds=float) would truncate 1/3 s in a way that drifts
    return _dt.timedelta(microseconds=round(Fraction(seconds) * 1_000_000))


def read_srt(path: Path) -> list[srt.Subtitle]:
    text = Path(path).read_text(encoding="utf-8-sig")
    return list(srt.parse(text)) if text.strip() else []


def shift(subs: Iterable[srt.Subtitle], offset: Fraction | float,
          span: Fraction | float | None = None) -> list[srt.Subtitle]:
    """Subtitles moved by ``offset`` seconds; with ``span`` (the scene's duration), cues are clipped
    to [0, span] of the scene first and cues that fall outside are dropped."""
    off = _td(offset)
    end_limit = _td(span) if span is not None else None
    out = []
    for s in subs:
        start, end = max(s.start, _dt.timedelta(0)), s.end
        if end_limit is not None:
            if start >= end_limit:
                continue
            end = min(end, end_limit)
        if end <= start or not s.content.strip():
            continue
        out.append(srt.Subtitle(index=0, start=start + off, end=end + off, content=s.content.strip()))
    return out


#: caption layout: at most two lines of this many characters (a common broadcast and web limit)
LINE_CHARS = 42
#: how cues are cut; part of the assembly's captions step, so a change here re-cuts assembled lectures
CUT = f"2: sentence and clause ends, at most 2 lines of {LINE_CHARS}"
_SENTENCE_END = (".", "?", "!")
_CLAUSE_END = (",", ";", ":", "\u2014")


def _timed_words(subs: list[srt.Subtitle]) -> list[tuple[str, _dt.timedelta, _dt.timedelta]]:
    """Each word with the time span it has inside its cue: manim-voiceover cuts a narration into cues
    of about 70 characters and times each cue in proportion to its characters, so a word's share of
    its cue is its share of the characters."""
    words = []
    for s in subs:
        text = " ".join(s.content.split())
        if not text:
            continue
        dur, n, pos = s.end - s.start, len(text), 0
        for w in text.split(" "):
            a = text.index(w, pos)
            pos = a + len(w)
            words.append((w, s.start + dur * a / n, s.start + dur * pos / n))
    return words


def _two_lines(text: str, width: int) -> str:
    """``text`` broken at the space nearest its middle when it is longer than one line."""
    if len(text) <= width or " " not in text:
        return text
    mid = len(text) / 2
    spaces = [i for i, c in enumerate(text) if c == " "]
    cut = min(spaces, key=lambda i: (max(i, len(text) - i - 1) > width, abs(i - mid)))
    return text[:cut] + "\n" + text[cut + 1:]


def _fits(text: str, width: int) -> bool:
    """Whether ``text`` fits on at most two lines of ``width`` characters, broken at a space."""
    return all(len(line) <= width for line in _two_lines(text, width).split("\n"))


def resegment(subs: list[srt.Subtitle], line_chars: int = LINE_CHARS, max_gap: float = 0.5) -> list[srt.Subtitle]:
    """Re-cut cues so they end where sentences (or, failing that, clauses) end, each at most two lines
    of ``line_chars``. Words keep their times; cues further apart than ``max_gap`` seconds are never
    joined (a pause in the narration stays a break in the captions)."""
    limit = 2 * line_chars
    runs: list[list[srt.Subtitle]] = []
    for s in sorted(subs, key=lambda s: s.start):
        if runs and (s.start - runs[-1][-1].end).total_seconds() <= max_gap:
            runs[-1].append(s)
        else:
            runs.append([s])
    out: list[srt.Subtitle] = []

    def emit(ws):
        text = " ".join(w for w, _, _ in ws)
        out.append(srt.Subtitle(index=0, start=ws[0][1], end=ws[-1][2], content=_two_lines(text, line_chars)))

    for run in runs:
        cur: list = []
        for word in _timed_words(run):
            if cur and not _fits(" ".join([*(w for w, _, _ in cur), word[0]]), line_chars):
                # too long: end at the last sentence end, else the last clause end, in the later 40%
                cut = len(cur)
                for ends in (_SENTENCE_END, _CLAUSE_END):
                    found = [i + 1 for i, (w, _, _) in enumerate(cur) if w.endswith(ends)
                             and len(" ".join(x for x, _, _ in cur[:i + 1])) >= 0.4 * limit]
                    if found:
                        cut = found[-1]
                        break
                emit(cur[:cut])
                cur = cur[cut:]
            cur.append(word)
            if word[0].endswith(_SENTENCE_END) and len(" ".join(w for w, _, _ in cur)) >= line_chars // 2:
                emit(cur)
                cur = []
        if cur:
            emit(cur)
    return out


def merge(parts: Iterable[tuple[Path | None, Fraction | float, Fraction | float | None]]) -> list[srt.Subtitle]:
    """``parts``: (srt path or None, offset s, duration s) per segment in lecture order."""
    subs: list[srt.Subtitle] = []
    for path, offset, span in parts:
        if path is None or not Path(path).exists():
            continue
        subs.extend(shift(resegment(read_srt(Path(path))), offset, span))
    subs.sort(key=lambda s: (s.start, s.end))
    # cues never overlap the next one (some players show both stacked)
    for a, b in itertools.pairwise(subs):
        if a.end > b.start:
            a.end = max(a.start + _dt.timedelta(milliseconds=1), b.start)
    for i, s in enumerate(subs, 1):
        s.index = i
    return subs


def compose(subs: list[srt.Subtitle]) -> str:
    return srt.compose(subs, reindex=False) if subs else ""
