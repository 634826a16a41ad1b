"""``CapacityBar``: one device's memory as a horizontal bar of a fixed capacity, filled left to right by
labelled segments (the weights, then the KV cache of each request), with the free space left over.

    bar = CapacityBar(80e9, title="H100 SXM 80 GB", capacity_text="80 GB", width=10.5)
    self.play(FadeIn(bar))                                    # the empty outline, its title and capacity
    self.play(bar.add_segment("weights", w_bytes, COLORS.WEIGHT, "weights 13.48 GB"))
    self.play(bar.add_segment("kv", 30 * per_request, COLORS.K, "30 requests", count=30))  # 30 cells
    ghost = bar.ghost(64 * 2**30, "one 128K request")         # dashed, may run past the end: "does not fit"

Widths are proportional to bytes (``bar.width_of(n)``); a segment that does not fit raises a
``ValueError`` naming the segment, its size and the free space (``ghost`` is the one way to draw what
does not fit). ``count=k`` splits a segment into k equal cells by thin ticks (a request each; no ticks
above ``max_ticks``, the label carries the count). ``fits(n)`` is how many segments of n bytes the free
space still holds. Lecture 4 fills an H100 with Llama-2-7B; Lecture 5 (KV cache) reuses it per batch.

Parts: ``.frame`` (the outline), ``.title`` (above, left), ``.capacity_label`` (above, right),
``.segments`` (one VGroup(rect, ticks) per segment), ``.labels`` (one label per segment, under the bar,
or an empty VGroup), ``.free_label`` (set by :meth:`label_free`).
"""
from __future__ import annotations

from manim import (DOWN, LEFT, RIGHT, UP, AnimationGroup, DashedVMobject, FadeIn, GrowFromEdge, Line, Rectangle,
                   VGroup)

from ..theme import BUFF, COLORS, SIZES
from .text import label

__all__ = ["CapacityBar"]


class CapacityBar(VGroup):
    """A device's ``capacity`` bytes as an outlined bar ``width`` × ``height`` units; segments fill it from
    the left in the order they are added. ``title`` sits above the bar's left end, ``capacity_text`` above
    its right end (both optional; a ghost running past the end stays clear of them)."""

    def __init__(self, capacity: float, *, width: float = 10.0, height: float = 0.6, title: str | None = None,
                 capacity_text: str | None = None, font_size: float = SIZES.LABEL, max_ticks: int = 160):
        super().__init__()
        if not capacity > 0:
            raise ValueError(f"a capacity bar needs a positive capacity, got {capacity!r}")
        if not (width > 0 and height > 0):
            raise ValueError(f"a capacity bar needs a positive size, got {width} × {height}")
        self.capacity = float(capacity)
        self.width_units, self.height_units = float(width), float(height)
        self.font_size, self.max_ticks = font_size, max_ticks
        self.used = 0.0
        self.names: list[str] = []
        self.sizes: list[float] = []
        self.frame = Rectangle(width=width, height=height).set_stroke(COLORS.GRID, 2).set_fill(COLORS.PANEL, 1)
        self.title = VGroup()
        if title:
            self.title = label(title, size=font_size, color=COLORS.TEXT)
            self.title.next_to(self.frame, UP, buff=0.2).align_to(self.frame, LEFT)
        self.capacity_label = VGroup()
        if capacity_text:
            self.capacity_label = label(capacity_text, size=font_size, color=COLORS.MUTED)
            self.capacity_label.next_to(self.frame, UP, buff=0.2).align_to(self.frame, RIGHT)
        self.segments, self.labels, self.free_label = VGroup(), VGroup(), VGroup()
        self.add(self.frame, self.title, self.capacity_label, self.segments, self.labels, self.free_label)

    # -- geometry ---------------------------------------------------------------------------------------
    def width_of(self, nbytes: float) -> float:
        """Scene width of ``nbytes`` on this bar (wherever it was moved or scaled)."""
        return self.frame.width * float(nbytes) / self.capacity

    def x_at(self, nbytes: float) -> float:
        """Scene x of the point ``nbytes`` from the bar's left end."""
        return self.frame.get_left()[0] + self.width_of(nbytes)

    @property
    def free(self) -> float:
        """Bytes not yet taken by a segment."""
        return self.capacity - self.used

    def fits(self, nbytes: float) -> int:
        """How many more segments of ``nbytes`` bytes fit in the free space."""
        if not nbytes > 0:
            raise ValueError(f"a segment has a positive size, got {nbytes!r}")
        return int(self.free // float(nbytes))

    # -- segments ---------------------------------------------------------------------------------------
    def segment(self, name: str, nbytes: float, color: str, text: str | None = None, count: int | None = None,
                label_color: str | None = None) -> VGroup:
        """Make (and record) the next segment: a filled rectangle of ``nbytes`` right after the last one, split
        into ``count`` equal cells by ticks, and its label under it (in ``.labels``). Raises ``ValueError`` when
        it does not fit. Returns VGroup(rect, ticks); it is added to ``.segments``."""
        nbytes = float(nbytes)
        if not nbytes > 0:
            raise ValueError(f"segment {name!r} needs a positive size, got {nbytes!r}")
        if nbytes > self.free * (1 + 1e-12):
            raise ValueError(f"segment {name!r} needs {nbytes:,.0f} bytes but only {self.free:,.0f} of "
                             f"{self.capacity:,.0f} are free: it does not fit (draw it with ghost())")
        if count is not None and count < 1:
            raise ValueError(f"segment {name!r}: count is at least 1, got {count}")
        left = self.x_at(self.used)
        w = self.width_of(nbytes)
        h = self.frame.height
        rect = Rectangle(width=w, height=h).set_stroke(width=0).set_fill(color, 0.85)
        rect.move_to([left + w / 2, self.frame.get_y(), 0])
        ticks = VGroup()
        if count and 1 < count <= self.max_ticks:
            for k in range(1, count):
                x = left + w * k / count
                ticks.add(Line([x, rect.get_bottom()[1], 0], [x, rect.get_top()[1], 0]))
            ticks.set_stroke(COLORS.BACKGROUND, max(0.5, min(2.0, 40.0 / count)))
        seg = VGroup(rect, ticks)
        self.used += nbytes
        self.names.append(name)
        self.sizes.append(nbytes)
        self.segments.add(seg)
        lab = VGroup()
        if text:
            lab = label(text, size=self.font_size, color=label_color or color)
            lab.next_to(rect, DOWN, buff=BUFF.SMALL)
            lab.set_x(max(lab.get_x(), self.frame.get_left()[0] + lab.width / 2))   # never left of the bar
        self.labels.add(lab)
        return seg

    def add_segment(self, name: str, nbytes: float, color: str, text: str | None = None, count: int | None = None,
                    label_color: str | None = None) -> AnimationGroup:
        """The next segment growing from its left edge, then its label: an animation to play."""
        seg = self.segment(name, nbytes, color, text, count, label_color)
        lab = self.labels[-1]
        anims = [GrowFromEdge(seg, LEFT)]
        if len(lab):
            anims.append(FadeIn(lab))
        return AnimationGroup(*anims, lag_ratio=0.6)

    def ghost(self, nbytes: float, text: str | None = None, color: str = COLORS.MASK, side=DOWN) -> VGroup:
        """A dashed outline of ``nbytes`` starting at the current fill, allowed to run past the bar's end
        (what does not fit), with ``text`` centred under it (``side=UP``: above): VGroup(outline, label). Not
        recorded, not added."""
        left, w = self.x_at(self.used), self.width_of(nbytes)
        box = Rectangle(width=w, height=self.frame.height * 1.15).move_to(
            [left + w / 2, self.frame.get_y(), 0])
        out = VGroup(DashedVMobject(box.set_stroke(color, 3), num_dashes=max(12, int(4 * w))))
        if text:
            out.add(label(text, size=self.font_size, color=color).next_to(box, side, buff=BUFF.SMALL))
        return out

    def label_free(self, text: str, color: str = COLORS.MUTED) -> VGroup:
        """``text`` under the free space's right end (set as ``.free_label``; not animated)."""
        lab = label(text, size=self.font_size, color=color)
        lab.next_to(self.frame, DOWN, buff=BUFF.SMALL).align_to(self.frame, RIGHT)
        self.free_label.remove(*self.free_label.submobjects)
        self.free_label.add(lab)
        return self.free_label

    def highlight_segment(self, k: int, color: str = COLORS.ACCENT) -> Rectangle:
        """A frame around segment ``k`` (not added)."""
        rect = self.segments[k][0]
        return Rectangle(width=rect.width + 0.1, height=rect.height + 0.1).move_to(rect).set_stroke(color, 3)
