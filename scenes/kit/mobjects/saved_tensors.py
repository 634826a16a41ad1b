"""``SavedTensors``: what a forward pass keeps for its backward, as a strip of boxes. Each tensor is a rectangle
of ``rows × cols`` cells of side ``unit`` (its area is its element count), its name above it and its shape under
it; tensors the pass does *not* keep (P, N × N, for FlashAttention) follow after a gap, dimmed and crossed out,
with a "not kept" tag. Optional captions under each group carry the totals the caller formatted.

    r = data.recomputation()
    st = SavedTensors([("Q", (16, 4), COLORS.Q), ("K", (16, 4), COLORS.K), ("V", (16, 4), COLORS.V),
                       ("O", (16, 4), COLORS.OUTPUT), ("LSE", (16,), COLORS.SCORE)],
                      dropped=[("P", (16, 16), COLORS.WEIGHT)],
                      kept_caption=f"kept: {grouped(r.saved_elems)} elements")
    self.play(st.reveal_kept()); self.play(st.reveal_dropped())

A shape ``(r, c)`` is drawn r rows by c columns; a 1-D shape ``(n,)`` as one column of n (a per-row statistic
beside the matrices whose rows it belongs to); leading size-1 dimensions (batch, heads) are dropped
(:func:`display_shape`), and a longer shape folds its leading dimensions into the rows. The
strip only draws what it is given: shapes come from the caller (e.g. autograd's saved-tensor hooks), numbers in
captions are formatted by the caller (``scenes.kit.format``). Reusable for activations kept for training,
checkpointing, KV caches.

Parts: ``.kept`` and ``.dropped`` (VGroups of items), ``.items`` (name -> item), each item a VGroup with
``.box``, ``.name``, ``.shape_label``, ``.shape``, ``.elements``; dropped items also ``.cross`` and ``.tag``;
``.kept_caption`` / ``.dropped_caption`` (empty VGroups when not given). ``item(name)``, ``box(name)``,
``highlight(name)`` (a rectangle around an item, not added), ``reveal_kept()``, ``reveal_dropped()``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from manim import (DOWN, LEFT, RIGHT, UP, AnimationGroup, Create, FadeIn, LaggedStart, Line, Rectangle,
                   RoundedRectangle, VGroup)

from ..theme import BUFF, COLORS, SIZES
from .text import label, set_on_line

__all__ = ["SavedTensors", "display_shape", "grid_shape"]

Entry = tuple[str, Sequence[int], str]


def display_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """``shape`` without its leading size-1 (batch, head) dimensions: (1, 1, 16, 4) -> (16, 4), (1, 1, 16) -> (16,)."""
    dims = tuple(int(s) for s in shape)
    k = 0
    while k < len(dims) - 1 and dims[k] == 1:
        k += 1
    return dims[k:]


def grid_shape(shape: Sequence[int]) -> tuple[int, int]:
    """(rows, cols) a tensor of ``shape`` is drawn with, after :func:`display_shape`: (n,) -> (n, 1);
    (..., r, c) -> (prod(...) · r, c)."""
    dims = display_shape(shape)
    if not dims or any(s <= 0 for s in dims):
        raise ValueError(f"a tensor shape needs positive dimensions, got {tuple(shape)!r}")
    if len(dims) == 1:
        return dims[0], 1
    return math.prod(dims[:-1]), dims[-1]


class SavedTensors(VGroup):
    """A strip of tensors kept by a forward pass (``kept`` = ((name, shape, colour), …)) and, after a gap, those
    not kept (``dropped``), each a box of area ∝ its element count (``unit`` per cell side)."""

    def __init__(self, kept: Sequence[Entry], dropped: Sequence[Entry] = (), *, unit: float = 0.12,
                 font_size: float = SIZES.LABEL, gap: float = BUFF.MEDIUM, group_gap: float = BUFF.LARGE * 1.5,
                 kept_caption: str | None = None, dropped_caption: str | None = None, not_kept: str = "not kept"):
        super().__init__()
        if not kept:
            raise ValueError("SavedTensors needs at least one kept tensor")
        if unit <= 0:
            raise ValueError(f"unit must be positive, got {unit!r}")
        names = [e[0] for e in (*kept, *dropped)]
        if len(set(names)) != len(names):
            raise ValueError(f"tensor names must be unique, got {names}")
        self.unit, self.font_size = unit, font_size
        self.items: dict[str, VGroup] = {}
        self.kept = VGroup(*(self._item(e, dropped=False) for e in kept)).arrange(RIGHT, buff=gap)
        self.dropped = VGroup(*(self._item(e, dropped=True, tag=not_kept) for e in dropped))
        if dropped:
            self.dropped.arrange(RIGHT, buff=gap).next_to(self.kept, RIGHT, buff=group_gap)
        top = self.kept[0].box.get_top()[1]
        for it in (*self.kept, *self.dropped):       # boxes share a top edge, names sit on one line
            it.shift(UP * (top - it.box.get_top()[1]))
            set_on_line(it.name, it.box.get_top()[1] + BUFF.SMALL + it.name.height / 2)
        self.kept_caption = self._caption(kept_caption, self.kept, COLORS.TEXT)
        self.dropped_caption = self._caption(dropped_caption, self.dropped, COLORS.MUTED) if dropped else VGroup()
        if len(self.kept_caption) and len(self.dropped_caption) and (
                self.dropped_caption.get_left()[0] < self.kept_caption.get_right()[0] + BUFF.MEDIUM):
            self.dropped_caption.next_to(self.kept_caption, DOWN, buff=BUFF.SMALL)   # one line lower
            self.dropped_caption.set_x(self.dropped.get_x())
        self.add(self.kept, self.dropped, self.kept_caption, self.dropped_caption)

    # -- construction ------------------------------------------------------------------------------------------
    def _item(self, entry: Entry, *, dropped: bool, tag: str = "") -> VGroup:
        name, shape, color = entry
        rows, cols = grid_shape(shape)
        box = Rectangle(width=cols * self.unit, height=rows * self.unit)
        box.set_stroke(color, 3).set_fill(color, 0.12 if dropped else 0.35)
        title = label(name, size=self.font_size, color=color, weight="BOLD").next_to(box, UP, buff=BUFF.SMALL)
        dims = display_shape(shape)
        shape_label = label(" × ".join(str(s) for s in dims), size=self.font_size, color=COLORS.MUTED, mono=True)
        shape_label.next_to(box, DOWN, buff=BUFF.SMALL)
        item = VGroup(box, title, shape_label)
        item.box, item.name, item.shape_label = box, title, shape_label
        item.shape, item.elements, item.is_dropped = dims, math.prod(dims), dropped
        if dropped:
            box.set_stroke(opacity=0.6)
            cross = VGroup(Line(box.get_corner(UP + LEFT), box.get_corner(DOWN + RIGHT)),
                           Line(box.get_corner(DOWN + LEFT), box.get_corner(UP + RIGHT))).set_stroke(COLORS.MASK, 6)
            mark = label(tag, size=self.font_size, color=COLORS.MASK).next_to(shape_label, DOWN, buff=BUFF.SMALL)
            item.add(cross, mark)
            item.cross, item.tag = cross, mark
        self.items[name] = item
        return item

    def _caption(self, text: str | None, group: VGroup, color: str) -> VGroup:
        if not text:
            return VGroup()
        cap = label(text, size=self.font_size, color=color)
        lowest = min(it.get_bottom()[1] for it in (*self.kept, *self.dropped))   # both captions on one line
        cap.move_to([group.get_x(), lowest - BUFF.MEDIUM - cap.height / 2, 0])
        return VGroup(cap)

    # -- access --------------------------------------------------------------------------------------------------
    def item(self, name: str) -> VGroup:
        return self.items[name]

    def box(self, name: str) -> Rectangle:
        return self.items[name].box

    @property
    def kept_elements(self) -> int:
        return sum(it.elements for it in self.kept)

    @property
    def dropped_elements(self) -> int:
        return sum(it.elements for it in self.dropped)

    def highlight(self, name: str, color: str = COLORS.ACCENT) -> RoundedRectangle:
        """A rounded frame around item ``name`` (box and labels), not added."""
        it = self.items[name]
        return RoundedRectangle(corner_radius=0.1, width=it.width + 2 * BUFF.SMALL,
                                height=it.height + 2 * BUFF.SMALL).move_to(it).set_stroke(color, 4)

    # -- animation -----------------------------------------------------------------------------------------------
    def reveal_kept(self, lag_ratio: float = 0.25, **kwargs) -> AnimationGroup:
        """The kept tensors one after another, then their caption."""
        parts = [FadeIn(it, shift=DOWN * 0.15) for it in self.kept]
        if len(self.kept_caption):
            parts.append(FadeIn(self.kept_caption))
        return LaggedStart(*parts, lag_ratio=lag_ratio, **kwargs)

    def reveal_dropped(self, **kwargs) -> AnimationGroup:
        """The tensors not kept fade in, are crossed out, their tag and caption appear."""
        if not len(self.dropped):
            raise ValueError("no dropped tensors to reveal")
        boxes = [FadeIn(VGroup(it.box, it.name, it.shape_label)) for it in self.dropped]
        crosses = [Create(it.cross) for it in self.dropped]
        tags = [FadeIn(it.tag) for it in self.dropped] + ([FadeIn(self.dropped_caption)]
                                                          if len(self.dropped_caption) else [])
        return AnimationGroup(AnimationGroup(*boxes), AnimationGroup(*crosses), AnimationGroup(*tags),
                              lag_ratio=0.6, **kwargs)
