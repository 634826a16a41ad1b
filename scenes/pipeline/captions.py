"""Merge the scenes' SRT captions into one lecture track: each shifted by its scene's offset in the
lecture (exact frame counts), clipped to the scene's span, renumbered from 1."""

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


def merge(parts: Iterable[tuple[Path | None, Fraction | float, Fraction | float | None]]) -> list[srt.Subtitle]:
    """``parts``: (srt path or None, offset s, duration s) per segment in lecture order."""
    subs: list[srt.Subtitle] = []
    for path, offset, span in parts:
        if path is None or not Path(path).exists():
            continue
        subs.extend(shift(read_srt(Path(path)), offset, span))
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
