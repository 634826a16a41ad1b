"""``MemoryPyramid``: a memory hierarchy drawn as stacked levels, fast and small at the top, slow and large at the
bottom (the widest), each level's name inside it and its bandwidth and capacity in two columns on the right
(FlashAttention Fig. 1 draws the A100 this way; later lectures reuse it for inference and MLA).

    p = data.memory_pyramid()
    pyr = MemoryPyramid([(lv.name, lv.bandwidth, lv.capacity) for lv in p.a100], cited="cited: FlashAttention Fig. 1")
    self.play(pyr.build())                           # levels from the bottom up, then the columns and the tag
    self.play(Create(pyr.highlight(0)))              # a frame around the SRAM level and its numbers (not added)
    self.play(pyr.focus(1))                          # HBM at full strength, the other levels dimmed

Levels are given top to bottom as ``(name, bandwidth, capacity)`` strings (the builder's screen strings: the
pyramid formats nothing). ``cited``: a tag above the pyramid (dashed frame, muted text) saying the numbers are
published, not measured. Parts: ``.levels`` (``levels[i]`` = VGroup(shape, name), with ``.shape`` and ``.name``),
``.shapes``, ``.names``, ``.bandwidths``, ``.capacities`` (one label per level), ``.headers`` (the two column
titles; empty with ``headers=None``), ``.tag`` (empty without ``cited``), ``.rows`` (``rows[i]`` = level i with its
two numbers).
"""
from __future__ import annotations

from collections.abc import Sequence

from manim import LEFT, UP, AnimationGroup, DashedVMobject, FadeIn, LaggedStart, Polygon, \
    RoundedRectangle, SurroundingRectangle, VGroup

from ..theme import BUFF, COLORS, SIZES
from .text import label

__all__ = ["MemoryPyramid"]

DEFAULT_COLORS = (COLORS.WEIGHT, COLORS.K, COLORS.SCORE, COLORS.MUTED)


class MemoryPyramid(VGroup):
    """``levels``: ``(name, bandwidth, capacity)`` top (fastest) to bottom. ``width``: the bottom level's width;
    ``top_width``: the top edge of the top level (a pyramid narrows upward); ``level_height``, ``gap``: each
    level's height and the space between levels. ``colors``: one per level (default a ramp). ``headers``: the
    two column titles (None: none). ``cited``: text of a "published" tag above the pyramid (None: none)."""

    def __init__(self, levels: Sequence[tuple[str, str, str]], *, width: float = 5.0, top_width: float = 1.2,
                 level_height: float = 0.85, gap: float = 0.08, colors: Sequence[str] | None = None,
                 headers: tuple[str, str] | None = ("bandwidth", "capacity"), cited: str | None = None,
                 font_size: float = SIZES.LABEL, name_size: float = SIZES.BODY, column_gap: float = BUFF.LARGE):
        super().__init__()
        levels = [tuple(str(x) for x in lv) for lv in levels]
        if not levels or any(len(lv) != 3 for lv in levels):
            raise ValueError("a memory pyramid needs levels of (name, bandwidth, capacity)")
        if not 0 < top_width < width:
            raise ValueError(f"top_width {top_width} must be between 0 and width {width}")
        n = len(levels)
        self.colors = list(colors) if colors is not None else [DEFAULT_COLORS[i % len(DEFAULT_COLORS)]
                                                               for i in range(n)]
        if len(self.colors) != n:
            raise ValueError(f"{len(self.colors)} colours for {n} levels")
        self.level_names = [lv[0] for lv in levels]
        total_h = n * level_height + (n - 1) * gap
        slope = (width - top_width) / 2 / total_h       # half-width grows by this per unit of height downward

        def half(y_from_top: float) -> float:
            return top_width / 2 + slope * y_from_top

        self.shapes, self.names, self.levels = VGroup(), VGroup(), VGroup()
        for i, (name, _, _) in enumerate(levels):
            y0 = i * (level_height + gap)
            y1 = y0 + level_height
            a, b = half(y0), half(y1)
            shape = Polygon([-a, -y0, 0], [a, -y0, 0], [b, -y1, 0], [-b, -y1, 0])
            shape.set_stroke(self.colors[i], 2).set_fill(self.colors[i], opacity=0.28)
            text = label(name, size=name_size, color=COLORS.TEXT)
            if text.width > 2 * a - 2 * BUFF.TIGHT:
                text.scale_to_fit_width(2 * a - 2 * BUFF.TIGHT)
            text.move_to([0, -(y0 + y1) / 2, 0])
            lvl = VGroup(shape, text)
            lvl.shape, lvl.name = shape, text
            self.shapes.add(shape)
            self.names.add(text)
            self.levels.add(lvl)

        x_bw = width / 2 + column_gap                   # the columns start right of the widest level
        self.bandwidths, self.capacities = VGroup(), VGroup()
        for i, (_, bw, cap) in enumerate(levels):
            y = self.levels[i].get_y()
            self.bandwidths.add(label(bw, size=font_size, color=self.colors[i], mono=True).move_to([0, y, 0]))
            self.capacities.add(label(cap, size=font_size, color=COLORS.TEXT, mono=True).move_to([0, y, 0]))
        self.headers = VGroup()
        if headers is not None:
            self.headers = VGroup(*(label(h, size=font_size, color=COLORS.MUTED) for h in headers))
        bw_w = max([m.width for m in self.bandwidths] + ([self.headers[0].width] if headers else []))
        for m in [*self.bandwidths, *self.headers[:1]]:
            m.set_x(x_bw, direction=LEFT)
        x_cap = x_bw + bw_w + column_gap
        for m in [*self.capacities, *self.headers[1:]]:
            m.set_x(x_cap, direction=LEFT)
        for h in self.headers:
            h.set_y(BUFF.MEDIUM + h.height / 2)
        self.rows = VGroup(*(VGroup(self.levels[i], self.bandwidths[i], self.capacities[i]) for i in range(n)))
        self.add(self.levels, self.bandwidths, self.capacities, self.headers)

        self.tag = VGroup()
        if cited:
            text = label(cited, size=SIZES.SMALL, color=COLORS.MUTED)
            box = RoundedRectangle(corner_radius=0.08, width=text.width + 2 * BUFF.SMALL,
                                   height=text.height + 2 * BUFF.TIGHT + 0.06).move_to(text)
            frame = DashedVMobject(box.set_stroke(COLORS.MUTED, 1.5), num_dashes=40)
            self.tag = VGroup(frame, text)
            self.tag.text, self.tag.frame = text, frame
            top = max(self.levels.get_top()[1], self.headers.get_top()[1] if headers else -1e9)
            self.tag.next_to([self.levels.get_left()[0], top, 0], UP, buff=BUFF.MEDIUM, aligned_edge=LEFT)
            self.add(self.tag)
        self.move_to([0, 0, 0])

    # -- lookup ---------------------------------------------------------------------------------------
    def index(self, level: int | str) -> int:
        """A level's index from its index or its name ("HBM")."""
        if isinstance(level, str):
            if level not in self.level_names:
                raise KeyError(f"no level {level!r}; levels: {self.level_names}")
            return self.level_names.index(level)
        if not 0 <= level < len(self.levels):
            raise IndexError(f"level {level} of a {len(self.levels)}-level pyramid")
        return int(level)

    # -- animation ------------------------------------------------------------------------------------
    def build(self, lag_ratio: float = 0.25) -> AnimationGroup:
        """The levels appear from the bottom up, each with its numbers; then the headers and the tag."""
        rows = [FadeIn(self.rows[i], shift=UP * 0.15) for i in reversed(range(len(self.levels)))]
        extra = [FadeIn(m) for m in (self.headers, self.tag) if len(m) > 0]
        return LaggedStart(*rows, *extra, lag_ratio=lag_ratio)

    def highlight(self, level: int | str, color: str = COLORS.ACCENT, stroke_width: float = 4,
                  numbers: bool = True) -> VGroup:
        """The level's outline in ``color`` (and, with ``numbers``, a frame around its two numbers); not added."""
        i = self.index(level)
        outline = self.shapes[i].copy().set_fill(opacity=0).set_stroke(color, stroke_width)
        out = VGroup(outline)
        if numbers:
            out.add(SurroundingRectangle(VGroup(self.bandwidths[i], self.capacities[i]), color=color,
                                         buff=BUFF.TIGHT + 0.04, stroke_width=stroke_width - 1))
        return out

    def _strength(self, k: int, a: float) -> list:
        shape = self.shapes[k]
        anims = [shape.animate.set_fill(self.colors[k], opacity=0.28 * a).set_stroke(self.colors[k], opacity=a)]
        anims += [m.animate.set_opacity(a) for m in (self.names[k], self.bandwidths[k], self.capacities[k])]
        return anims

    def focus(self, level: int | str, dim: float = 0.3) -> AnimationGroup:
        """Level ``level`` (and its numbers) at full strength, every other level dimmed to ``dim``."""
        i = self.index(level)
        return AnimationGroup(*(a for k in range(len(self.levels)) for a in self._strength(k, 1.0 if k == i else dim)))

    def unfocus(self) -> AnimationGroup:
        """Every level back to full strength."""
        return AnimationGroup(*(a for k in range(len(self.levels)) for a in self._strength(k, 1.0)))
