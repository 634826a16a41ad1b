"""Devices: work split across accelerators (heads, experts, shards) and joined again by an all-reduce.

    split = DeviceSplit(((0, 1), (2, 3)), notes=[["W_Q, W_K, W_V: columns 0–3", "W_O: rows 0–3"], [...]])
    self.play(FadeIn(split.boxes), FadeIn(split.titles), LaggedStart(*(FadeIn(b) for b in split.blocks)))
    self.play(split.all_reduce())            # arrows into the Σ node, then the output appears

Tensor parallelism (Megatron-LM) for attention is the first use: each device holds some heads (the columns of
W_Q, W_K, W_V that make them and the rows of W_O that read them), computes a partial output, and one
all-reduce sums the partials. Expert and sequence parallelism draw the same picture with other blocks.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from manim import (DOWN, ORIGIN, RIGHT, UP, AnimationGroup, Arrow, Circle, FadeIn, GrowArrow, Indicate,
                   Rectangle, RoundedRectangle, Succession, VGroup)

from ..theme import BUFF, COLORS, SIZES, text_color_on
from .text import label

__all__ = ["DeviceSplit"]


def _head_label(i: int) -> str:
    return f"head {i + 1}"


class DeviceSplit(VGroup):
    """``len(groups)`` device boxes side by side; box ``k`` holds one coloured block per id in ``groups[k]``
    (a head, an expert, a shard), an optional title and note lines; arrows join the boxes in a Σ node
    (the all-reduce) with an output label under it.

    ``block_color(i)`` / ``block_label(i)`` colour and name block ``i`` (default: head colours, "head i+1").
    ``titles``: one per device (default "device 0", "device 1", …). ``notes``: per device, lines of text
    under its blocks (what it stores). ``reduce``: draw the Σ join; ``reduce_label`` names it, ``output`` is
    the text under it.

    Parts: ``.boxes``, ``.titles``, ``.blocks`` (``blocks[k]``: VGroup of device ``k``'s blocks, each
    VGroup(rectangle, label)), ``.notes`` (``notes[k]``), ``.devices`` (``devices[k]``: box, title, blocks,
    notes), ``.arrows``, ``.node`` (circle and Σ), ``.reduce_label``, ``.output``. ``block(i)`` finds block
    ``i``; ``highlight_device(k)`` returns a frame; ``all_reduce()`` animates the join.
    """

    def __init__(self, groups: Sequence[Sequence[int]], *, titles: Sequence[str] | None = None,
                 notes: Sequence[Sequence[str]] | None = None,
                 block_color: Callable[[int], str] = COLORS.head, block_label: Callable[[int], str] = _head_label,
                 block_size: tuple[float, float] = (1.35, 0.6), device_buff: float = 0.9, reduce: bool = True,
                 reduce_label: str = "all-reduce", output: str = "output", font_size: float = SIZES.LABEL,
                 note_size: float = SIZES.LABEL, node_radius: float = 0.38, drop: float = 1.0):
        super().__init__()
        groups = [tuple(int(i) for i in g) for g in groups]
        if not groups or any(not g for g in groups):
            raise ValueError("every device needs at least one block")
        ids = [i for g in groups for i in g]
        if len(set(ids)) != len(ids):
            raise ValueError(f"a block is on two devices: {groups}")
        titles = list(titles) if titles is not None else [f"device {k}" for k in range(len(groups))]
        notes = [list(n) for n in notes] if notes is not None else [[] for _ in groups]
        if len(titles) != len(groups) or len(notes) != len(groups):
            raise ValueError(f"{len(groups)} devices need as many titles ({len(titles)}) and notes ({len(notes)})")
        self.groups = groups
        self._where: dict[int, tuple[int, int]] = {}
        self.boxes, self.titles, self.blocks, self.notes, self.devices = (VGroup() for _ in range(5))
        for k, (g, title, lines) in enumerate(zip(groups, titles, notes)):
            blocks = VGroup()
            for n, i in enumerate(g):
                color = block_color(i)
                rect = RoundedRectangle(corner_radius=0.08, width=block_size[0], height=block_size[1])
                rect.set_fill(color, opacity=0.9).set_stroke(color, 2)
                text = label(block_label(i), size=font_size, color=text_color_on(color))
                if text.width > block_size[0] * 0.9:
                    text.scale(block_size[0] * 0.9 / text.width)
                blocks.add(VGroup(rect, text.move_to(rect)))
                self._where[i] = (k, n)
            blocks.arrange(RIGHT, buff=BUFF.SMALL)
            head = label(title, size=font_size, color=COLORS.TEXT)
            note = VGroup(*(label(t, size=note_size, color=COLORS.MUTED) for t in lines))
            if len(note):
                note.arrange(DOWN, buff=BUFF.TIGHT)
            inner = VGroup(head, blocks, *([note] if len(note) else [])).arrange(DOWN, buff=BUFF.MEDIUM)
            box = Rectangle(width=inner.width + 2 * BUFF.MEDIUM, height=inner.height + 2 * BUFF.MEDIUM)
            box.set_fill(COLORS.PANEL, opacity=1).set_stroke(COLORS.GRID, 3).move_to(inner)
            self.boxes.add(box)
            self.titles.add(head)
            self.blocks.add(blocks)
            self.notes.add(note)
            self.devices.add(VGroup(box, head, blocks, note))
        self.devices.arrange(RIGHT, buff=device_buff, aligned_edge=UP)
        self.add(self.devices)
        self.arrows, self.node, self.reduce_label, self.output = VGroup(), VGroup(), VGroup(), VGroup()
        if reduce:
            y = self.boxes.get_bottom()[1] - drop - node_radius
            circle = Circle(radius=node_radius).set_stroke(COLORS.ACCENT, 3).set_fill(COLORS.BACKGROUND, 1)
            circle.move_to([self.devices.get_x(), y, 0])
            sigma = label("\u03a3", size=SIZES.HEADING, color=COLORS.ACCENT).move_to(circle)
            self.node = VGroup(circle, sigma)
            for box in self.boxes:
                start = box.get_bottom()
                self.arrows.add(Arrow(start, circle.get_center(), buff=node_radius + 0.02, stroke_width=4,
                                      max_tip_length_to_length_ratio=0.15).set_color(COLORS.MUTED))
            self.reduce_label = label(reduce_label, size=font_size, color=COLORS.ACCENT)
            self.reduce_label.next_to(circle, RIGHT, buff=BUFF.MEDIUM)
            if output:
                self.output = label(output, size=font_size, color=COLORS.OUTPUT).next_to(circle, DOWN,
                                                                                       buff=BUFF.MEDIUM)
            self.add(self.arrows, self.node, self.reduce_label, self.output)
        self.move_to(ORIGIN)

    def block(self, i: int) -> VGroup:
        """Block ``i`` (rectangle and label), wherever it sits."""
        if i not in self._where:
            raise KeyError(f"no block {i}; blocks: {sorted(self._where)}")
        k, n = self._where[i]
        return self.blocks[k][n]

    def device_of(self, i: int) -> int:
        """The device holding block ``i``."""
        return self._where[i][0]

    def highlight_device(self, k: int, color: str = COLORS.ACCENT, stroke_width: float = 5) -> Rectangle:
        """A frame around device ``k``'s box."""
        box = self.boxes[k]
        return Rectangle(width=box.width + 0.12, height=box.height + 0.12).set_stroke(color, stroke_width).move_to(
            box)

    def all_reduce(self, lag_ratio: float = 0.5) -> Succession:
        """Arrows grow into the Σ node, the node pulses, then its label and the output appear."""
        if not len(self.node):
            raise ValueError("this split has no all-reduce (reduce=False)")
        return Succession(AnimationGroup(*(GrowArrow(a) for a in self.arrows), FadeIn(self.node)),
                          Indicate(self.node, color=COLORS.ACCENT),
                          AnimationGroup(FadeIn(self.reduce_label), FadeIn(self.output, shift=DOWN * 0.2),
                                         lag_ratio=lag_ratio))
