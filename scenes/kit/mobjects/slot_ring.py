"""A rolling buffer of ``window`` slots: position p is written into slot p mod W, overwriting what was there.

    ring = SlotRing(4)                       # a row of 4 slots, slot indices under them, a wrap-around arrow
    self.play(ring.write(0)); ...; self.play(ring.write(4))   # 4 lands in slot 0: position 0 is evicted
    ring.contents() == (4, 1, 2, 3); ring.held() == (1, 2, 3, 4)

With ``n_sink`` (attention sinks, StreamingLLM) the first ``n_sink`` positions go to pinned slots drawn apart on
the left and are never overwritten; position p ≥ n_sink goes to window slot (p − n_sink) mod W. The slots are a
row (``layout="row"``, a curved arrow from the last slot back to the first) or a circle (``layout="ring"``,
clockwise from the top). Used by Lecture 5 (rolling KV cache) and Lecture 7 (sliding-window attention).
"""
from __future__ import annotations

import numpy as np
from manim import (DOWN, LEFT, ORIGIN, PI, RIGHT, UP, AnimationGroup, CurvedArrow, FadeIn, FadeOut, Square,
                   SurroundingRectangle, VGroup)

from ..theme import BUFF, COLORS, SIZES
from .text import label

__all__ = ["SlotRing"]


class SlotRing(VGroup):
    """``window`` rolling slots (plus ``n_sink`` pinned ones) holding token positions.

    Parts: ``.slots`` (every Square, sinks first), ``.sink_slots``, ``.window_slots``, ``.slot_labels`` (the
    slot index under/outside each window slot, "slot 0" … when ``slot_names``), ``.sink_label`` ("sink", over
    the pinned slots), ``.wrap_arrow`` (row layout: last slot → first), ``.entries`` (slot index in ``.slots``
    → the Text of the position it holds now). State: :meth:`contents`, :meth:`held`, ``.seen`` (positions
    written so far: the next write must be position ``seen``).
    """

    def __init__(self, window: int, n_sink: int = 0, *, cell_size: float = 0.8, layout: str = "row",
                 slot_names: bool = True, color: str = COLORS.K, sink_color: str = COLORS.ACCENT,
                 font_size: float = SIZES.NUMBER, label_size: float = SIZES.SMALL, sink_text: str = "sinks",
                 radius: float | None = None):
        super().__init__()
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be an int >= 1, got {window!r}")
        if isinstance(n_sink, bool) or not isinstance(n_sink, int) or n_sink < 0:
            raise ValueError(f"n_sink must be an int >= 0, got {n_sink!r}")
        if layout not in ("row", "ring"):
            raise ValueError(f"layout must be 'row' or 'ring', got {layout!r}")
        self.window, self.n_sink, self.cell_size, self.layout = window, n_sink, cell_size, layout
        self.color, self.sink_color, self.font_size = color, sink_color, font_size
        self.seen = 0
        self._held: list[int | None] = [None] * (n_sink + window)
        self.entries: dict[int, object] = {}

        def cell(c):
            return Square(side_length=cell_size, stroke_color=c, stroke_width=3, fill_color=COLORS.PANEL,
                          fill_opacity=1)

        self.sink_slots = VGroup(*(cell(sink_color) for _ in range(n_sink)))
        self.window_slots = VGroup(*(cell(color) for _ in range(window)))
        if layout == "row":
            self.window_slots.arrange(RIGHT, buff=0.12 * cell_size)
            if n_sink:
                self.sink_slots.arrange(RIGHT, buff=0.12 * cell_size)
                self.sink_slots.next_to(self.window_slots, LEFT, buff=0.8 * cell_size)
        else:
            r = radius if radius is not None else max(cell_size * window / (2 * PI) * 1.6, cell_size)
            for s, sq in enumerate(self.window_slots):
                a = PI / 2 - 2 * PI * s / window           # clockwise from the top
                sq.move_to(r * np.array([np.cos(a), np.sin(a), 0.0]))
            if n_sink:
                self.sink_slots.arrange(DOWN, buff=0.12 * cell_size)
                self.sink_slots.next_to(self.window_slots, LEFT, buff=0.8 * cell_size)
        self.slots = VGroup(*self.sink_slots, *self.window_slots)
        self.add(self.sink_slots, self.window_slots)

        self.slot_labels = VGroup()
        if slot_names:
            for s, sq in enumerate(self.window_slots):
                lab = label(str(s), size=label_size, color=COLORS.MUTED)
                if layout == "row":
                    lab.next_to(sq, DOWN, buff=BUFF.SMALL)
                else:
                    out = sq.get_center() / max(np.linalg.norm(sq.get_center()), 1e-9)
                    lab.move_to(sq.get_center() + out * (0.5 * cell_size + BUFF.SMALL + 0.5 * lab.height))
                self.slot_labels.add(lab)
            self.add(self.slot_labels)
        self.sink_label = VGroup()
        if n_sink and sink_text:
            self.sink_label = label(sink_text, size=label_size, color=sink_color)
            self.sink_label.next_to(self.sink_slots, UP if layout == "row" else LEFT, buff=BUFF.SMALL)
            self.add(self.sink_label)
        self.wrap_arrow = VGroup()
        if layout == "row" and window > 1:
            first, last = self.window_slots[0], self.window_slots[-1]
            self.wrap_arrow = CurvedArrow(last.get_top() + UP * 0.05, first.get_top() + UP * 0.05,
                                          angle=PI / 2.5, color=COLORS.MUTED, stroke_width=2.5, tip_length=0.15)
            self.add(self.wrap_arrow)
        self.move_to(ORIGIN)

    # -- the rule -----------------------------------------------------------------------------------
    def slot_of(self, p: int) -> int:
        """Index in ``.slots`` of position ``p``: p for a sink, else n_sink + (p − n_sink) mod W (= p mod W
        without sinks)."""
        if isinstance(p, bool) or not isinstance(p, int) or p < 0:
            raise ValueError(f"a position is an int >= 0, got {p!r}")
        if p < self.n_sink:
            return p
        return self.n_sink + (p - self.n_sink) % self.window

    def contents(self) -> tuple[int | None, ...]:
        """Position held by each window slot (None: empty), slot 0 first."""
        return tuple(self._held[self.n_sink:])

    def sinks(self) -> tuple[int | None, ...]:
        return tuple(self._held[:self.n_sink])

    def held(self) -> tuple[int, ...]:
        """Every position held (sinks and window), in increasing order."""
        return tuple(sorted(p for p in self._held if p is not None))

    # -- drawing ------------------------------------------------------------------------------------
    def entry(self, p: int, color: str | None = None):
        """The Text of position ``p`` drawn in its slot (not added)."""
        s = self.slot_of(p)
        c = color or (self.sink_color if s < self.n_sink else COLORS.TEXT)
        t = label(str(p), size=self.font_size, color=c, mono=True)
        if t.width > 0.8 * self.cell_size:
            t.scale_to_fit_width(0.8 * self.cell_size)
        return t.move_to(self.slots[s])

    def write(self, p: int, color: str | None = None, evicted_color: str = COLORS.MASK):
        """Write position ``p`` (must be the next one, ``seen``): an animation in which it drops into its slot
        and the position it overwrites (if any) turns ``evicted_color`` and falls out. The state changes
        now; the mobjects join the ring as the animation runs."""
        if p != self.seen:
            raise ValueError(f"positions are written in order: the next is {self.seen}, got {p}")
        s = self.slot_of(p)
        self.seen += 1
        new = self.entry(p, color)
        anims = [FadeIn(new, shift=DOWN * 0.5 * self.cell_size)]
        old = self.entries.get(s)
        if old is not None:
            self.remove(old)
            anims.append(FadeOut(old.set_color(evicted_color), shift=DOWN * 0.8 * self.cell_size))
        self._held[s] = p
        self.entries[s] = new
        self.add(new)
        return AnimationGroup(*anims)

    def fill(self, upto: int) -> SlotRing:
        """Write positions ``seen`` … ``upto − 1`` at once, without animation; returns the ring."""
        for p in range(self.seen, upto):
            s = self.slot_of(p)
            old = self.entries.get(s)
            if old is not None:
                self.remove(old)
            self.seen += 1
            self._held[s] = p
            self.entries[s] = self.entry(p)
            self.add(self.entries[s])
        return self

    def highlight_slot(self, s: int, color: str = COLORS.ACCENT):
        """A frame around ``.slots[s]`` (not added)."""
        return SurroundingRectangle(self.slots[s], color=color, buff=0.05, stroke_width=5)

    def highlight_position(self, p: int, color: str = COLORS.ACCENT):
        """A frame around the slot position ``p`` goes to (not added)."""
        return self.highlight_slot(self.slot_of(p), color)
