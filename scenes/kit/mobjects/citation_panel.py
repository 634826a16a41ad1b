"""``CitationPanel``: a published table of figures from a paper, framed so it never reads as our measurement.

``CitedBars`` (cited.py) draws a handful of published numbers as bars; this panel draws a paper's *table*
(several rows of values by one column variable, e.g. TFLOP/s by sequence length per method) the same
way CitedBars marks a citation: a dashed frame, a muted "published" tag at its top left, the reference's
short citation as the title row, the paper's conditions (GPU, dtype, shapes) under it, then the rows,
and the full citation line (figure or table number) at the bottom.

    c = data.fa3_cited()
    panel = CitationPanel([kilo(n) for n in c.seqlens], [(name, r.tflops) for name, r in zip(names, c.rows)],
                          citation=SHAH, conditions=c.setup, source=c.source, unit="TFLOP/s", missing="OOM",
                          highlight=4, width=5.8)
    self.play(FadeIn(panel))
    self.play(Create(panel.highlight_row(2)))     # a frame around one more row (not added)

Values are numbers (shown with ``scenes.kit.format.shown`` at ``decimals``), ``None`` (drawn as
``missing``: a figure's "OOM" or an empty cell) or strings (drawn as given). The panel computes nothing.
"""
from __future__ import annotations

from collections.abc import Sequence

from manim import DOWN, LEFT, UP, DashedVMobject, Rectangle, RoundedRectangle, VGroup

from ..format import shown
from ..references import Reference
from ..theme import BUFF, COLORS, SIZES
from .cards import wrap
from .layout import fit_within
from .tables import DataTable
from .text import label, paragraph

__all__ = ["CitationPanel", "published_frame"]


def published_frame(body: VGroup, width: float | None = None, pad: float = BUFF.MEDIUM) -> DashedVMobject:
    """The dashed, rounded, muted frame CitedBars draws around a citation, around ``body`` (not added)."""
    box = RoundedRectangle(corner_radius=0.12, width=width or body.width + 2 * pad, height=body.height + 2 * pad)
    box.move_to(body).set_stroke(COLORS.MUTED, 1.5)
    return DashedVMobject(box, num_dashes=max(40, int(6 * (box.width + box.height))))


def _cell(v, decimals: int, missing: str) -> str:
    if v is None:
        return missing
    if isinstance(v, str):
        return v
    return shown(float(v), decimals)


class CitationPanel(VGroup):
    """A framed published table: tag, title (the citation), conditions, header, rows, source line.

    ``columns``: the column names (e.g. sequence lengths); ``rows``: ``(label, values)`` with one value per
    column. ``citation``: a :class:`Reference` (title row = its ``cite`` and the title up to a colon:
    "Shah et al. 2024 · FlashAttention-3") or a string.
    ``conditions``: the paper's setup line (wrapped); ``source``: the citation line at the bottom (figure
    or table; default the reference's short citation); ``unit``: drawn at the head of the label column.
    ``highlight``: a row index framed from the start (``.highlight_box``). ``width``: the panel's outer
    width (the table is scaled down to fit it, never up); ``row_colors``: a colour per row label.

    Parts: ``.frame``, ``.tag``, ``.title``, ``.conditions``, ``.table`` (a :class:`DataTable`: ``.header``,
    ``.rows``, ``.rule``), ``.citation`` (the wrapped source line), ``.highlight_box`` (empty VGroup without
    ``highlight``), ``.reference``, ``.values`` (the cell strings as drawn, row by row), ``.title_text``,
    ``.conditions_text``, ``.citation_text`` (the strings of the wrapped parts).
    ``row(i)``, ``cell(i, j)`` (``j`` counts value columns from 0); ``highlight_row(i)`` and
    ``highlight_cell(i, j)`` return frames to add or ``Create``.
    """

    def __init__(self, columns: Sequence[str], rows: Sequence[tuple[str, Sequence]], *,
                 citation: Reference | str, conditions: str | None = None, source: str | None = None,
                 unit: str = "", highlight: int | None = None, width: float | None = None, decimals: int = 0,
                 missing: str = "—", tag: str = "published", row_colors: Sequence[str | None] | None = None,
                 font_size: float = SIZES.LABEL, title_size: float = SIZES.LABEL,
                 note_size: float = SIZES.SMALL, row_height: float = 0.55, col_buff: float = 0.4,
                 highlight_color: str = COLORS.ACCENT):
        super().__init__()
        columns = [str(c) for c in columns]
        if not columns or not rows:
            raise ValueError("a citation panel needs at least one column and one row")
        for name, vals in rows:
            if len(vals) != len(columns):
                raise ValueError(f"row {name!r} has {len(vals)} values for {len(columns)} columns")
        if highlight is not None and not 0 <= highlight < len(rows):
            raise IndexError(f"highlight row {highlight} of a {len(rows)}-row panel")
        self.reference = citation
        self.values = [[_cell(v, decimals, missing) for v in vals] for _, vals in rows]
        colors = [None] + [None] * len(columns)
        self.table = DataTable([unit, *columns], [[str(name), *vals] for (name, _), vals in zip(rows, self.values)],
                               font_size=font_size, header_size=font_size, row_height=row_height,
                               col_buff=col_buff, column_colors=colors)
        if row_colors is not None:
            if len(row_colors) != len(rows):
                raise ValueError(f"{len(row_colors)} row colours for {len(rows)} rows")
            for r, col in zip(self.table.rows, row_colors):
                if col:
                    r[0].set_color(col)
        inner = (width - 2 * BUFF.MEDIUM) if width is not None else self.table.width
        fit_within(self.table, inner, None)
        if isinstance(citation, Reference):
            title = f"{citation.cite} · {citation.title.split(':')[0]}"
            short = citation.short(venue=False)
        else:
            title = short = str(citation)
        self.title_text, self.citation_text, self.conditions_text = title, (source if source is not None
                                                                            else short), conditions or ""
        self.tag = label(tag, size=note_size, color=COLORS.MUTED)
        self.title = paragraph(wrap(title, inner, title_size), size=title_size, color=COLORS.TEXT)
        fit_within(self.title, inner, None)
        self.conditions = VGroup()
        if conditions:
            self.conditions = paragraph(wrap(conditions, inner, note_size), size=note_size, color=COLORS.MUTED)
            fit_within(self.conditions, inner, None)
        text = source if source is not None else short
        self.citation = paragraph(wrap(text, inner, note_size), size=note_size, color=COLORS.MUTED)
        fit_within(self.citation, inner, None)
        parts = [self.tag, self.title, *([self.conditions] if conditions else []), self.table, self.citation]
        body = VGroup(*parts).arrange(DOWN, buff=BUFF.SMALL * 1.5, aligned_edge=LEFT)
        self.tag.next_to(self.title, UP, buff=BUFF.TIGHT, aligned_edge=LEFT)
        self.table.shift(DOWN * BUFF.SMALL)
        self.citation.shift(DOWN * BUFF.SMALL)
        self.frame = published_frame(body, width)
        self.add(self.frame, *parts)
        self.highlight_box = VGroup()
        if highlight is not None:
            self.highlight_box = self.highlight_row(highlight, color=highlight_color)
            self.add(self.highlight_box)

    # -- parts --------------------------------------------------------------------------------------------
    @property
    def n_rows(self) -> int:
        return self.table.n_rows

    def row(self, i: int) -> VGroup:
        """Row ``i``'s label and values."""
        return self.table.rows[i]

    def cell(self, i: int, j: int):
        """The label of row ``i``'s ``j``-th value (0 = the first value column)."""
        return self.table.cell(i, j + 1)

    def highlight_row(self, i: int, color: str = COLORS.ACCENT, stroke_width: float = 3) -> Rectangle:
        """A frame around row ``i`` (label and values), the table's width (not added)."""
        return self.table.highlight_row(i, color=color, stroke_width=stroke_width)

    def highlight_cell(self, i: int, j: int, color: str = COLORS.ACCENT, stroke_width: float = 3) -> Rectangle:
        """A frame around row ``i``'s ``j``-th value (not added)."""
        return self.table.highlight_cell(i, j + 1, color=color, stroke_width=stroke_width)
