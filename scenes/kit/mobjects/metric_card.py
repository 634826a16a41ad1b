"""``MetricCard``: a framed panel that names a metric (or a family of metrics) and lists rows under it, each a
name with an optional value on the right, and an optional note line at the bottom; a ``cited`` card has a dashed
frame, a "published" tag and its citation underneath, so a published figure never reads as our measurement.

    inside = MetricCard("perplexity (filler)", [("positions 16–63", shown(f.ppl_inside, 3)),
                                                ("positions 64–127", shown(f.ppl_2x, 3))],
                        note=f"+{shown(100 * f.ppl_change, 2)} %", color=COLORS.K)
    self.play(FadeIn(inside.frame), FadeIn(inside.title)); self.play(FadeIn(inside.rows[0]))
    self.play(Create(inside.highlight_row(1)))

The card draws the strings it is given (a scene formats numbers with ``scenes.kit.format.shown``); values are
right-aligned in the mono font so digits line up. Two cards side by side make a two-column comparison
(``MetricCard.pair(a, b)``).
"""
from __future__ import annotations

from collections.abc import Sequence

from manim import DOWN, LEFT, RIGHT, UP, DashedVMobject, Line, Rectangle, RoundedRectangle, VGroup

from ..references import Reference
from ..theme import BUFF, COLORS, SIZES
from .cards import wrap
from .layout import fit_within
from .text import label, paragraph, set_on_line

__all__ = ["MetricCard"]


class MetricCard(VGroup):
    """A titled panel of rows. ``rows``: strings (a name alone) or ``(name, value)`` pairs (value may be None).

    ``color``: the title's and the frame's colour. ``width``: the card's outer width (None: as wide as its
    content). ``note``: a line under a rule at the bottom (e.g. the change between two rows). ``citation``: a
    :class:`Reference` or string: the card becomes cited (dashed muted frame, ``tag`` at its top, the citation
    wrapped under the rows, in ``SIZES.SMALL``).

    Parts: ``.frame``, ``.title``, ``.rows`` (``rows[i]`` = VGroup(name, value) or VGroup(name)), ``.names``,
    ``.values`` (only the rows that have one), ``.rule`` and ``.note`` (empty without a note), ``.tag`` and
    ``.citation`` (empty unless cited; its string is ``.citation_text``). ``highlight_row(i)`` returns a frame
    around row ``i`` (not added).
    """

    def __init__(self, title: str, rows: Sequence[str | tuple[str, str | None]], *, color: str = COLORS.ACCENT,
                 width: float | None = None, note: str | None = None, note_color: str | None = None,
                 citation: Reference | str | None = None, tag: str = "published", font_size: float = SIZES.LABEL,
                 title_size: float = SIZES.BODY, row_height: float = 0.55, pad: float = BUFF.MEDIUM):
        super().__init__()
        if not rows:
            raise ValueError("a metric card needs at least one row")
        pairs = [(r, None) if isinstance(r, str) else (str(r[0]), None if r[1] is None else str(r[1])) for r in rows]
        self.cited = citation is not None
        self.title = label(title, size=title_size, color=COLORS.MUTED if self.cited else color)
        self.names, self.values, self.rows = VGroup(), VGroup(), VGroup()
        for k, (name, value) in enumerate(pairs):
            y = -row_height * k
            n = set_on_line(label(name, size=font_size, color=COLORS.TEXT), y).set_x(0, direction=LEFT)
            self.names.add(n)
            row = VGroup(n)
            if value is not None:
                v = set_on_line(label(value, size=font_size, color=COLORS.TEXT, mono=True), y)
                self.values.add(v)
                row.add(v)
            self.rows.add(row)
        name_w = max(n.width for n in self.names)
        value_w = max((v.width for v in self.values), default=0.0)
        inner = max(self.title.width, name_w + (value_w + BUFF.LARGE if value_w else 0.0))
        self.note, self.rule = VGroup(), VGroup()
        if note:
            self.note = label(note, size=font_size, color=note_color or color)
            inner = max(inner, self.note.width)
        self.tag, self.citation, self.citation_text = VGroup(), VGroup(), ""
        if self.cited:
            self.tag = label(tag, size=SIZES.SMALL, color=COLORS.MUTED)
        if width is not None:
            if width - 2 * pad < inner:
                raise ValueError(f"the card's content needs {inner + 2 * pad:.2f} units, width is {width:.2f}")
            inner = width - 2 * pad
        for v in self.values:
            v.set_x(inner, direction=RIGHT)
        if self.cited:
            text = self.citation_text = citation.short(venue=False) if isinstance(citation, Reference) \
                else str(citation)
            self.citation = paragraph(wrap(text, inner, SIZES.SMALL), size=SIZES.SMALL, color=COLORS.MUTED)
            fit_within(self.citation, inner, None)
        self.inner_width = inner
        self.row_height = row_height
        parts = [m for m in (self.tag, self.title) if len(m.get_family()) > 1 or m.has_points()]
        head = VGroup(*parts).arrange(DOWN, aligned_edge=LEFT, buff=BUFF.SMALL)
        head.next_to(self.rows, UP, buff=BUFF.MEDIUM).set_x(0, direction=LEFT)
        body = [head, self.rows]
        if note:
            self.rule = Line([0, 0, 0], [inner, 0, 0]).set_stroke(COLORS.GRID, 2)
            self.rule.next_to(self.rows, DOWN, buff=BUFF.SMALL).set_x(0, direction=LEFT)
            self.note.next_to(self.rule, DOWN, buff=BUFF.SMALL).set_x(0, direction=LEFT)
            body += [self.rule, self.note]
        if self.cited:
            self.citation.next_to(VGroup(*body), DOWN, buff=BUFF.MEDIUM).set_x(0, direction=LEFT)
            body.append(self.citation)
        content = VGroup(*body)
        box = RoundedRectangle(corner_radius=0.12, width=inner + 2 * pad, height=content.height + 2 * pad)
        box.move_to([inner / 2, content.get_y(), 0])
        if self.cited:
            self.frame = DashedVMobject(box.set_stroke(COLORS.MUTED, 1.5), num_dashes=80)
        else:
            self.frame = box.set_stroke(color, 2).set_fill(COLORS.PANEL, opacity=0.6)
        self._frame_width = self.frame.width
        self.add(self.frame, *body)

    def highlight_row(self, i: int, color: str = COLORS.ACCENT, stroke_width: float = 3) -> Rectangle:
        """A frame around row ``i``, the card's inner width."""
        if not 0 <= i < len(self.rows):
            raise IndexError(f"row {i} of a {len(self.rows)}-row card")
        scale = self.frame.width / self._frame_width
        row = self.rows[i]
        h = max(row.height, self.row_height * 0.8 * scale) + BUFF.TIGHT
        left = self.frame.get_left()[0] + BUFF.SMALL
        right = self.frame.get_right()[0] - BUFF.SMALL
        return Rectangle(width=right - left, height=h).set_stroke(color, stroke_width).move_to(
            [(left + right) / 2, row.get_y(), 0])

    @staticmethod
    def pair(a: MetricCard, b: MetricCard, buff: float = BUFF.LARGE) -> VGroup:
        """Two cards side by side, tops aligned (a two-column comparison); returns VGroup(a, b) centred."""
        group = VGroup(a, b)
        b.next_to(a, RIGHT, buff=buff).align_to(a, UP)
        group.move_to([0, group.get_y(), 0])
        return group
