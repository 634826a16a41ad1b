"""YouTube chapters from section timings.

YouTube's rules: the first timestamp is 0:00, at least three timestamps in ascending order, each
chapter at least 10 s long (counted from the timestamps as displayed, whole seconds). Sections
shorter than that are merged into a neighbour; a merged chapter keeps the title of its longest
part. Title and end cards and manim's implicit "autocreated" section are never chapters of their
own: they join the chapter next to them. When fewer than three chapters remain the lecture gets
none (an empty list) rather than chapters YouTube would reject.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction

from scenes.course import IMPLICIT_SECTION_NAMES, TOPICS, chapter_title, parse_section_name
import itertools

MIN_CHAPTER_SECONDS = 10
MIN_CHAPTERS = 3
MAX_TITLE_CHARS = 100


@dataclass
class TimedSection:
    name: str
    start: Fraction  # seconds from the start of the lecture
    duration: Fraction
    kind: str = "scene"  # "scene" | "card"
    scene: str = ""

    @property
    def end(self) -> Fraction:
        return self.start + self.duration

    @property
    def topic_ids(self) -> tuple[str, ...]:
        return parse_section_name(self.name)[0]

    @property
    def absorbed(self) -> bool:
        """Joins a neighbouring chapter instead of being one."""
        return self.kind != "scene" or self.name in IMPLICIT_SECTION_NAMES or not self.name.strip()


def display_title(name: str) -> str:
    ids, title = parse_section_name(name)
    if ids and not title:
        title = chapter_title(ids[0]) if ids[0] in TOPICS else name
    return clean_title(title or name)


def clean_title(text: str) -> str:
    t = re.sub(r"\s+", " ", text.replace("<", "‹").replace(">", "›")).strip()
    return t if len(t) <= MAX_TITLE_CHARS else t[: MAX_TITLE_CHARS - 1].rstrip() + "…"


@dataclass
class Chapter:
    start: Fraction
    end: Fraction
    parts: list[tuple[str, Fraction]] = field(default_factory=list)  # (section name, seconds)

    @property
    def title(self) -> str:
        if not self.parts:
            return "Introduction"
        name = max(self.parts, key=lambda p: p[1])[0]  # first longest part wins ties
        return display_title(name)

    @property
    def timestamp_s(self) -> int:
        return math.floor(self.start)


def _displayed_lengths(chs: list[Chapter], total: Fraction) -> list[float]:
    starts = [c.timestamp_s for c in chs]
    return [(starts[i + 1] if i + 1 < len(chs) else float(total)) - starts[i] for i in range(len(chs))]


def build(sections: list[TimedSection], total: Fraction | float,
          min_seconds: float = MIN_CHAPTER_SECONDS, min_count: int = MIN_CHAPTERS) -> list[Chapter]:
    total = Fraction(total)
    chapters: list[Chapter] = []
    pending: list[TimedSection] = []  # absorbed sections before the first chapter
    for s in sections:
        if s.absorbed:
            if chapters:
                chapters[-1].end = max(chapters[-1].end, s.end)
            else:
                pending.append(s)
            continue
        chapters.append(Chapter(s.start, s.end, [(s.name, s.duration)]))
    if not chapters:
        return []
    chapters[0].start = Fraction(0)
    chapters[-1].end = max(chapters[-1].end, total)

    while len(chapters) > 1:
        lengths = _displayed_lengths(chapters, total)
        short = [i for i, n in enumerate(lengths) if n < min_seconds]
        if not short:
            break
        i = min(short, key=lambda k: (lengths[k], k))
        if i == 0:
            j = 1
        elif i == len(chapters) - 1:
            j = i - 1
        else:
            j = i - 1 if lengths[i - 1] <= lengths[i + 1] else i + 1
        a, b = sorted((i, j))
        merged = Chapter(chapters[a].start, chapters[b].end, chapters[a].parts + chapters[b].parts)
        chapters[a:b + 1] = [merged]
    if len(chapters) < min_count or _displayed_lengths(chapters, total)[0] < min_seconds:
        return []
    return chapters


def format_timestamp(seconds: float, hours: bool = False) -> str:
    s = math.floor(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if hours or h:
        return f"{h}:{m:02d}:{sec:02d}"
    return f"{m}:{sec:02d}"


def format_lines(chapters: list[Chapter], total: Fraction | float) -> list[str]:
    hours = float(total) >= 3600
    return [f"{format_timestamp(c.start, hours)} {c.title}" for c in chapters]


def parse_timestamp(ts: str) -> int:
    parts = [int(p) for p in ts.split(":")]
    value = 0
    for p in parts:
        value = value * 60 + p
    return value


def check_lines(lines: list[str], total: float, min_seconds: float = MIN_CHAPTER_SECONDS,
                min_count: int = MIN_CHAPTERS) -> list[str]:
    """Problems YouTube would have with these chapter lines (empty list when valid)."""
    problems = []
    stamps = []
    for ln in lines:
        m = re.match(r"^(\d+(?::\d{2}){1,2}) (\S.*)$", ln)
        if not m:
            problems.append(f"not a chapter line: {ln!r}")
            continue
        stamps.append(parse_timestamp(m.group(1)))
    if len(stamps) < min_count:
        problems.append(f"{len(stamps)} chapters; YouTube needs at least {min_count}")
    if stamps and stamps[0] != 0:
        problems.append("the first chapter does not start at 0:00")
    for a, b in itertools.pairwise(stamps):
        if b <= a:
            problems.append(f"timestamps not ascending at {b}")
        elif b - a < min_seconds:
            problems.append(f"chapter at {a} s is {b - a} s long (< {min_seconds})")
    if stamps and total - stamps[-1] < min_seconds:
        problems.append(f"last chapter is {total - stamps[-1]:.1f} s long (< {min_seconds})")
    return problems
