"""Small bar charts of a handful of numbers: ``ValueBars`` (plain: our own measurement, with its source line
placed by the scene) and ``CitedBars`` (a published table: dashed frame, a "published" tag and the
citation underneath, so it never reads as our measurement).

    table = CitedBars([("BLEU", t.bleu), ("perplexity", t.perplexity)], [f"h = {h}" for h in t.heads],
                      citation=t.cite, baseline="cut", decimals=1)

Bars start at a cut baseline when asked (``baseline="cut"``: a little below the smallest value, so
differences of a few tenths are visible); the cut is drawn as a break mark on the axis and every bar
prints its own value, so no height is read against an unprinted zero.
"""
from __future__ import annotations

from collections.abc import Sequence

from manim import DOWN, LEFT, RIGHT, UP, DashedLine, DashedVMobject, Line, Rectangle, RoundedRectangle, VGroup

from ..format import shown
from ..references import Reference
from ..theme import BUFF, COLORS, SIZES
from .cards import wrap
from .layout import fit_within
from .text import as_array, label, paragraph

__all__ = ["CitedBars", "ValueBars"]


class ValueBars(VGroup):
    """Vertical bars, one per category, each with its value printed above it and its name below.

    ``baseline``: ``"zero"`` (heights ∝ value) or ``"cut"`` (heights ∝ value − cut, with a break mark on
    the axis). ``colors``: one colour for all bars or one per bar. ``sublabels``: a second, muted line
    under each name (e.g. the head width). Parts: ``.bars``, ``.values``, ``.names``, ``.sublabels``,
    ``.axis``, ``.break_mark``, ``.title``. ``highlight(k)`` returns a box around bar k, ``reference_line(v, text)`` a
    dashed line at value v (neither added).
    """

    def __init__(self, values, names: Sequence[str], *, title: str | None = None, decimals: int = 2,
                 value_strings: Sequence[str] | None = None, sublabels: Sequence[str] | None = None,
                 colors: str | Sequence[str] = COLORS.ACCENT, baseline: str = "zero", max_height: float = 2.2,
                 bar_width: float = 0.55, spacing: float = 0.35, font_size: float = SIZES.LABEL,
                 title_size: float = SIZES.LABEL):
        super().__init__()
        v = as_array(values, 1, "values")
        if len(names) != len(v):
            raise ValueError(f"{len(names)} names for {len(v)} values")
        if baseline not in ("zero", "cut"):
            raise ValueError(f"baseline is 'zero' or 'cut', got {baseline!r}")
        if baseline == "zero" and v.min() < 0:
            raise ValueError("a zero baseline needs non-negative values")
        cols = [colors] * len(v) if isinstance(colors, str) else list(colors)
        if len(cols) != len(v):
            raise ValueError(f"{len(cols)} colours for {len(v)} values")
        span = float(v.max() - v.min())
        self.cut = float(v.min() - 0.6 * max(span, 1e-9)) if baseline == "cut" else 0.0
        top = float(v.max() - self.cut) or 1.0
        self.values_data = v
        self.bars, self.values, self.names, self.sublabels = VGroup(), VGroup(), VGroup(), VGroup()
        strings = list(value_strings) if value_strings is not None else [shown(x, decimals) for x in v]
        if len(strings) != len(v):
            raise ValueError(f"{len(strings)} value strings for {len(v)} values")
        for k, x in enumerate(v):
            h = max(0.02, max_height * float(x - self.cut) / top)
            bar = Rectangle(width=bar_width, height=h, stroke_width=0, fill_color=cols[k], fill_opacity=0.9)
            bar.move_to([k * (bar_width + spacing), h / 2, 0])
            self.bars.add(bar)
            self.values.add(label(strings[k], size=font_size, color=COLORS.TEXT, mono=True)
                            .next_to(bar, UP, buff=BUFF.TIGHT))
            self.names.add(label(names[k], size=font_size, color=COLORS.TEXT)
                           .next_to([bar.get_x(), 0, 0], DOWN, buff=BUFF.SMALL))
        if sublabels is not None:
            if len(sublabels) != len(v):
                raise ValueError(f"{len(sublabels)} sublabels for {len(v)} values")
            for name, text in zip(self.names, sublabels):
                self.sublabels.add(label(text, size=font_size, color=COLORS.MUTED).next_to(name, DOWN,
                                                                                          buff=BUFF.SMALL))
        widest = max(m.width for m in [*self.values, *self.names, *self.sublabels])
        if widest + BUFF.MEDIUM > bar_width + spacing:  # labels wider than a slot: spread the bars out
            step = widest + BUFF.MEDIUM
            for k in range(len(v)):
                for part in (self.bars, self.values, self.names, self.sublabels):
                    if len(part):
                        part[k].shift(RIGHT * k * (step - bar_width - spacing))
        self.add(self.bars, self.values, self.names)
        if len(self.sublabels):
            self.add(self.sublabels)
        left, right = self.bars.get_left()[0] - BUFF.SMALL, self.bars.get_right()[0] + BUFF.SMALL
        self.axis = Line([left, 0, 0], [right, 0, 0]).set_stroke(COLORS.GRID, 2)
        self.add(self.axis)
        self.break_mark = VGroup()
        if baseline == "cut":  # two short slanted strokes across the axis: "the bars do not start at zero"
            x = left + 0.12
            self.break_mark = VGroup(*(Line([x + dx - 0.06, -0.1, 0], [x + dx + 0.06, 0.1, 0]) for dx in (0, 0.09)))
            self.break_mark.set_stroke(COLORS.MUTED, 2.5)
            self.add(self.break_mark)
        self.title = VGroup()
        if title:
            self.title = label(title, size=title_size, color=COLORS.MUTED)
            self.title.next_to(VGroup(self.bars, self.values), UP, buff=BUFF.SMALL)
            self.title.set_x(self.axis.get_x())
            self.add(self.title)

    def level(self, value: float) -> float:
        """The scene y of ``value`` on this chart's scale."""
        bar, x = self.bars[0], float(self.values_data[0])
        base = self.axis.get_y()
        return base + (bar.get_top()[1] - base) * (value - self.cut) / (x - self.cut)

    def reference_line(self, value: float, text: str, color: str = COLORS.MUTED) -> VGroup:
        """A dashed line across the chart at ``value`` with ``text`` at its right end (not added)."""
        y = self.level(value)
        line = DashedLine([self.axis.get_left()[0], y, 0], [self.axis.get_right()[0], y, 0], dash_length=0.1)
        line.set_stroke(color, 2)
        lab = label(text, size=SIZES.LABEL, color=color).next_to(line, RIGHT, buff=BUFF.SMALL)
        return VGroup(line, lab)

    def highlight(self, k: int, color: str = COLORS.ACCENT) -> Rectangle:
        """A box around bar ``k``, its value and its name (not added)."""
        group = VGroup(self.bars[k], self.values[k], self.names[k])
        if len(self.sublabels):
            group.add(self.sublabels[k])
        box = Rectangle(width=group.width + 0.16, height=group.height + 0.16).move_to(group)
        return box.set_stroke(color, 3)


class CitedBars(VGroup):
    """A published table's numbers as one or more :class:`ValueBars` panels (``series``: (title, values) or
    (title, values, decimals), sharing ``names``) side by side inside a dashed frame, a "published" tag at
    its top left and the citation (a :class:`Reference` or a string) wrapped underneath: visibly a citation,
    not our measurement.

    Parts: ``.charts`` (one ValueBars per series), ``.frame``, ``.tag``, ``.citation`` (the wrapped text),
    ``.citation_text`` (its string), ``.reference``. Other keyword arguments go to every :class:`ValueBars`.
    """

    def __init__(self, series: Sequence[tuple], names: Sequence[str], *,
                 citation: Reference | str, tag: str = "published", width: float | None = None,
                 citation_size: float = SIZES.SMALL, gap: float = BUFF.LARGE * 1.5, **bars):
        super().__init__()
        if not series:
            raise ValueError("CitedBars needs at least one (title, values) series")
        self.reference = citation
        charts = []
        for item in series:
            title, values, *rest = item
            opts = {**bars, **({"decimals": rest[0]} if rest else {})}
            charts.append(ValueBars(values, names, title=title, **opts))
        self.charts = VGroup(*charts)
        self.charts.arrange(RIGHT, buff=gap, aligned_edge=DOWN)
        text = self.citation_text = citation.short(venue=False) if isinstance(citation, Reference) else str(citation)
        inner = self.charts.width if width is None else width - 2 * BUFF.MEDIUM
        fit_within(self.charts, inner, None)
        self.citation = paragraph(wrap(text, inner, citation_size), size=citation_size, color=COLORS.MUTED)
        fit_within(self.citation, inner, None)
        self.tag = label(tag, size=citation_size, color=COLORS.MUTED)
        body = VGroup(self.tag, self.charts, self.citation).arrange(DOWN, buff=BUFF.MEDIUM)
        self.tag.align_to(body, LEFT)
        self.citation.align_to(body, LEFT)
        box = RoundedRectangle(corner_radius=0.12, width=(width or body.width + 2 * BUFF.MEDIUM),
                               height=body.height + 2 * BUFF.MEDIUM).move_to(body)
        self.frame = DashedVMobject(box.set_stroke(COLORS.MUTED, 1.5), num_dashes=80)
        self.add(self.frame, self.tag, self.charts, self.citation)
