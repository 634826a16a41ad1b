"""Cards: lecture title, recap, references, and the citation line at the bottom of a slide."""
from __future__ import annotations

import textwrap
from collections.abc import Sequence

from manim import DOWN, LEFT, RIGHT, Line, Square, VGroup

from ..references import Reference
from ..theme import BUFF, COLORS, SAFE, SIZES
from .layout import fit_within
from .text import label, paragraph

__all__ = ["CitationLine", "RecapCard", "ReferencesCard", "TitleCard", "wrap"]


def wrap(text: str, width_units: float, font_size: float) -> list[str]:
    """Split ``text`` into lines about ``width_units`` wide at ``font_size`` (measured average advance)."""
    per_char = label(text, size=font_size).width / max(1, len(text))
    return textwrap.wrap(text, max(8, int(0.97 * width_units / per_char))) or [""]


class CitationLine(VGroup):
    """A small source line at the bottom left of the frame: ``reference.short(venue)`` (or a plain string).
    Parts: ``.text``; ``.citation`` (the reference)."""

    def __init__(self, citation: Reference | str, *, venue: bool = True, font_size: float = SIZES.CAPTION,
                 place: bool = True):
        super().__init__()
        self.citation = citation
        s = citation.short(venue=venue) if isinstance(citation, Reference) else str(citation)
        self.text = label(s, size=font_size, color=COLORS.MUTED)
        self.add(self.text)
        fit_within(self, SAFE.width, None)
        if place:
            self.move_to([SAFE.left + self.width / 2, SAFE.bottom + self.height / 2, 0])


class TitleCard(VGroup):
    """Lecture number, title, subtitle; three small Q/K/V squares as the course mark.

    Parts: ``.number``, ``.title``, ``.subtitle``, ``.rule``, ``.mark``.
    """

    def __init__(self, number: int, title: str, subtitle: str | None = None):
        super().__init__()
        self.mark = VGroup(*(Square(0.22, stroke_width=0, fill_color=c, fill_opacity=1)
                             for c in (COLORS.Q, COLORS.K, COLORS.V))).arrange(RIGHT, buff=0.08)
        self.number = label(f"Lecture {number}", size=SIZES.HEADING, color=COLORS.ACCENT)
        head = VGroup(self.mark, self.number).arrange(RIGHT, buff=BUFF.MEDIUM)
        size = SIZES.TITLE + 12
        self.title = paragraph(wrap(title, SAFE.width, size), size=size, color=COLORS.TEXT, weight="BOLD")
        fit_within(self.title, SAFE.width, None)
        self.rule = Line(LEFT, RIGHT).set_stroke(COLORS.GRID, 2)
        self.subtitle = VGroup()
        parts = [head, self.title, self.rule]
        if subtitle:
            sub = SIZES.HEADING - 4
            self.subtitle = paragraph(wrap(subtitle, SAFE.width * 0.85, sub), size=sub, color=COLORS.MUTED)
            parts.append(self.subtitle)
        self.add(*parts)
        self.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.MEDIUM)
        self.rule.stretch_to_fit_width(max(self.title.width, self.subtitle.width if subtitle else 0))
        self.rule.align_to(self.title, LEFT)
        fit_within(self, SAFE.width, SAFE.height)
        self.move_to([0, 0.2, 0])


class _ListCard(VGroup):
    """A heading and items; each item one paragraph whose first line starts with a marker ("•", "[1]").

    Continuation lines carry the same marker, invisible, so wrapped lines hang exactly under the text.
    """

    def __init__(self, heading: str, lines: Sequence[str], marker, font_size: float):
        super().__init__()
        if not lines:
            raise ValueError("a card needs at least one line")
        self.heading = label(heading, size=SIZES.HEADING, color=COLORS.ACCENT, weight="BOLD")
        self.items = VGroup()
        self.markers = [marker(k) for k in range(len(lines))]
        for mark, line in zip(self.markers, lines):
            wrapped = wrap(line, SAFE.width - 1.2, font_size)
            para = paragraph([f"{mark} {t}" for t in wrapped], size=font_size, color=COLORS.TEXT)
            n_mark = len(mark.replace(" ", ""))
            for r, row in enumerate(para):
                marks = VGroup(*row.submobjects[:n_mark])
                marks.set_color(COLORS.ACCENT)
                if r > 0:
                    marks.set_opacity(0)
            self.items.add(para)
        self.items.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.MEDIUM)
        self.add(self.heading, self.items)
        self.arrange(DOWN, aligned_edge=LEFT, buff=BUFF.LARGE)
        fit_within(self, SAFE.width, SAFE.height)
        left = min(SAFE.left + 0.6, SAFE.right - self.width)
        top = SAFE.top - min(0.3, SAFE.height - self.height)      # a card shrunk to fit still stays inside
        self.move_to([left + self.width / 2, top - self.height / 2, 0])


class RecapCard(_ListCard):
    """"Recap" heading and bullet points (wrapped). Parts: ``.heading``, ``.items`` (one Paragraph each)."""

    def __init__(self, points: Sequence[str], title: str = "Recap", font_size: float = SIZES.BODY):
        super().__init__(title, points, lambda k: "\u2022", font_size)


class ReferencesCard(_ListCard):
    """Numbered references from ``start`` (a second page goes on counting), each ``reference.short(venue)``: by
    default the arXiv id, the venue only for a paper without one. Parts: ``.heading``, ``.items``;
    ``.citations`` (the references), ``.lines`` (their text)."""

    def __init__(self, citations: Sequence[Reference], title: str = "References", font_size: float = SIZES.LABEL,
                 *, venue: bool = False, start: int = 1):
        if isinstance(start, bool) or not isinstance(start, int) or start < 1:
            raise ValueError(f"start is the first reference's number, an integer >= 1, got {start!r}")
        self.citations = list(citations)
        self.lines = [c.short(venue=venue) for c in self.citations]
        super().__init__(title, self.lines, lambda k: f"[{k + start}]", font_size)
