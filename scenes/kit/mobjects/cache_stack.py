"""``CacheStack``: a KV cache as the model keeps it, per layer a K stack and a V stack (one per KV head), one row
of cells per cached position, labelled by its token or position; ``append`` adds the next row to every stack.

    g = data.generation_trace()                       # Lecture 5: cache_k / cache_v, (layers, positions, d_h)
    cache = CacheStack([k[:5] for k in g.cache_k], [v[:5] for v in g.cache_v], ["3", "17", "42", "8", "25"],
                       capacity=7)
    self.play(FadeIn(cache))
    self.play(cache.append([k[5:6] for k in g.cache_k], [v[5:6] for v in g.cache_v], ["5"]))  # new row lit
    self.play(cache.unhighlight())

``k`` and ``v`` are (layers, positions, d) or (layers, kv_heads, positions, d): with several KV heads each
layer draws one K stack per head, then one V stack per head (GQA / MQA lectures draw different head counts).
A cell's fill is its role colour (K or V) with an opacity that grows with |value| / ``vmax`` (the numbers
themselves are too many to print; tests and notebooks read ``.values``). ``capacity`` reserves room (faint empty
slots) so that appended rows never run into the next layer: a pre-allocated cache.

Parts: ``.layer_titles[l]``, ``.stack_titles[l]`` (one per stack), ``.stacks[l][s]`` (a VGroup of rows; row i is
a VGroup of d cells), ``.row_labels[l]`` (left of the layer's first stack), ``.slots`` (empty outlines),
``.highlight`` (the frames around the rows added last), ``.labels`` (the row labels' texts), ``.values``
(``{"K": array, "V": array}`` of shape (layers, heads, rows, d)), ``stack_kinds`` (("K", 0), …, ("V", 0), …).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import (LEFT, AnimationGroup, Create, FadeIn, FadeOut, Rectangle, SurroundingRectangle,
                   VGroup)

from ..theme import BUFF, COLORS, SIZES, role_color
from .text import label

__all__ = ["CacheStack"]

MIN_OPACITY = 0.12   # a zero entry is still a visible cell


def _as_4d(x, name: str, ndim: int | None = None) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 3:
        a = a[:, None]
    elif a.ndim != 4:
        raise ValueError(f"{name} must be (layers, positions, d) or (layers, kv_heads, positions, d), "
                         f"got shape {a.shape}")
    if ndim is not None and np.asarray(x).ndim != ndim:
        raise ValueError(f"{name} has {np.asarray(x).ndim} dimensions; the cache was built with {ndim}")
    return a


class CacheStack(VGroup):
    """Per-layer K and V stacks of a KV cache (see the module docstring)."""

    def __init__(self, k, v, labels: Sequence[str], *, capacity: int | None = None,
                 layer_names: Sequence[str] | None = None, head_names: Sequence[str] | None = None,
                 cell_width: float = 0.17, row_height: float = 0.3, vmax: float | None = None,
                 font_size: float = SIZES.LABEL, stack_buff: float = 0.3, layer_buff: float = 0.45,
                 show_slots: bool = True):
        super().__init__()
        self._ndim = np.asarray(k).ndim
        kk, vv = _as_4d(k, "k"), _as_4d(v, "v")
        if kk.shape[:3] != vv.shape[:3]:
            raise ValueError(f"k {kk.shape} and v {vv.shape} differ in layers, heads or positions")
        n_layers, n_heads, n, _ = kk.shape
        if len(labels) != n:
            raise ValueError(f"{len(labels)} labels for {n} cached positions")
        capacity = n if capacity is None else capacity
        if capacity < n:
            raise ValueError(f"capacity {capacity} is smaller than the {n} positions given")
        layer_names = list(layer_names or [f"layer {i + 1}" for i in range(n_layers)])
        if len(layer_names) != n_layers:
            raise ValueError(f"{len(layer_names)} layer names for {n_layers} layers")
        if head_names is None:
            head_names = [""] if n_heads == 1 else [f"h{h}" for h in range(n_heads)]
        if len(head_names) != n_heads:
            raise ValueError(f"{len(head_names)} head names for {n_heads} KV heads")
        both = np.concatenate([kk.ravel(), vv.ravel()])
        self.vmax = float(vmax if vmax is not None else (np.abs(both).max() if both.size else 1.0)) or 1.0
        self.cell_width, self.row_height, self.capacity = cell_width, row_height, capacity
        self.font_size = font_size
        self.values = {"K": kk[:, :, :0].copy(), "V": vv[:, :, :0].copy()}
        self.stack_kinds = [("K", h) for h in range(n_heads)] + [("V", h) for h in range(n_heads)]
        self.labels: list[str] = []

        d_k, d_v = kk.shape[-1], vv.shape[-1]
        widths = [(d_k if w == "K" else d_v) * cell_width for w, _ in self.stack_kinds]
        title_h = label("Kg", size=font_size).height
        block_h = title_h + BUFF.SMALL + capacity * row_height
        self._origins = []     # per layer, per stack: the top-left corner of row 0
        self.layer_titles, self.stack_titles, self.stacks, self.row_labels = VGroup(), [], [], []
        self.slots = VGroup()
        for layer in range(n_layers):
            top = -layer * (block_h + layer_buff)
            rows_top = top - title_h - BUFF.SMALL
            x, origins, titles, stacks = 0.0, [], VGroup(), []
            for s, (which, h) in enumerate(self.stack_kinds):
                origins.append(np.array([x, rows_top, 0.0]))
                name = which + (f" {head_names[h]}" if head_names[h] else "")
                title = label(name, size=font_size, color=role_color(which))
                title.move_to([x + widths[s] / 2, top - title_h / 2, 0])
                titles.add(title)
                stacks.append(VGroup())
                if show_slots:
                    for i in range(capacity):
                        slot = Rectangle(width=widths[s], height=row_height, stroke_color=COLORS.GRID,
                                         stroke_width=1, stroke_opacity=0.6, fill_opacity=0)
                        slot.move_to([x + widths[s] / 2, rows_top - (i + 0.5) * row_height, 0])
                        self.slots.add(slot)
                x += widths[s] + stack_buff
            self._origins.append(origins)
            lt = label(layer_names[layer], size=font_size, color=COLORS.MUTED)
            lt.next_to(titles[0], LEFT, buff=BUFF.MEDIUM).set_y(titles[0].get_y())
            self.layer_titles.add(lt)
            self.stack_titles.append(titles)
            self.stacks.append(stacks)
            self.row_labels.append(VGroup())
        self.add(self.slots, self.layer_titles, *self.stack_titles,
                 *(st for layer in self.stacks for st in layer), *self.row_labels)
        self.highlight = VGroup()
        self.add(self.highlight)
        # appended rows are placed by mapping build coordinates onto wherever the group is now (moved, scaled)
        self._title_build = self.stack_titles[0][0].get_center().copy()
        self._title_height_build = self.stack_titles[0][0].height
        self._add_rows(kk, vv, labels)

    # -- geometry -------------------------------------------------------------------------------------------
    @property
    def n_layers(self) -> int:
        return len(self.stacks)

    @property
    def n_rows(self) -> int:
        return len(self.labels)

    def _corner(self, layer: int, s: int) -> np.ndarray:
        """Top-left of row 0 of stack ``s`` in ``layer``, in build coordinates."""
        return self._origins[layer][s]

    def stack(self, layer: int, which: str = "K", head: int = 0) -> VGroup:
        return self.stacks[layer][self.stack_kinds.index((which, head))]

    def row(self, layer: int, i: int, which: str = "K", head: int = 0) -> VGroup:
        """The d cells of position ``i`` in one stack."""
        return self.stack(layer, which, head)[i]

    def position_rows(self, i: int) -> VGroup:
        """Row ``i`` of every stack of every layer (what one token adds to the cache)."""
        return VGroup(*(st[i] for layer in self.stacks for st in layer))

    def row_boxes(self, i: int, color: str = COLORS.ACCENT, stroke_width: float = 3) -> VGroup:
        """A frame around row ``i`` of every stack (not added)."""
        return VGroup(*(SurroundingRectangle(st[i], color=color, buff=0.02, stroke_width=stroke_width)
                        for layer in self.stacks for st in layer))

    # -- content --------------------------------------------------------------------------------------------
    def _cell_opacity(self, x: float) -> float:
        return MIN_OPACITY + (1 - MIN_OPACITY) * min(1.0, abs(x) / self.vmax)

    def _add_rows(self, kk: np.ndarray, vv: np.ndarray, labels: Sequence[str]) -> list[VGroup]:
        n_layers, n_heads, m, _ = kk.shape
        if (n_layers, n_heads) != self.values["K"].shape[:2] or vv.shape[:3] != kk.shape[:3]:
            raise ValueError(f"new rows k {kk.shape}, v {vv.shape} do not match the cache "
                             f"{self.values['K'].shape[:2]} (layers, heads)")
        if len(labels) != m:
            raise ValueError(f"{len(labels)} labels for {m} new rows")
        if self.n_rows + m > self.capacity:
            raise ValueError(f"{self.n_rows} + {m} rows exceed the capacity {self.capacity}")
        # the group may have been moved and scaled since it was built: map build coordinates onto the screen
        scale = self.stack_titles[0][0].height / self._title_height_build
        anchor_build, anchor_now = self._title_build, self.stack_titles[0][0].get_center()
        added = []
        for r in range(m):
            i = self.n_rows
            new = VGroup()
            for layer in range(n_layers):
                for s, (which, h) in enumerate(self.stack_kinds):
                    vals = (kk if which == "K" else vv)[layer, h, r]
                    cells = VGroup()
                    x0, y0 = self._corner(layer, s)[:2]
                    for j, x in enumerate(vals):
                        c = Rectangle(width=self.cell_width, height=self.row_height, stroke_color=COLORS.GRID,
                                      stroke_width=1, fill_color=role_color(which),
                                      fill_opacity=self._cell_opacity(float(x)))
                        pos = np.array([x0 + (j + 0.5) * self.cell_width, y0 - (i + 0.5) * self.row_height, 0])
                        c.scale(scale).move_to(anchor_now + (pos - anchor_build) * scale)
                        cells.add(c)
                    self.stacks[layer][s].add(cells)
                    new.add(cells)
                lab = label(labels[r], size=self.font_size, color=COLORS.TEXT)
                lab.scale(min(1.0, 0.85 * self.row_height / lab.height) * scale)
                lab.next_to(self.stacks[layer][0][i], LEFT, buff=BUFF.SMALL * scale)
                self.row_labels[layer].add(lab)
                new.add(lab)
            self.labels.append(str(labels[r]))
            added.append(new)
        for which, arr in (("K", kk), ("V", vv)):
            self.values[which] = np.concatenate([self.values[which], arr], axis=2)
        return added

    def append(self, k, v, labels: Sequence[str], *, color: str = COLORS.ACCENT):
        """Add ``m`` rows (k, v: (layers, m, d) or (layers, heads, m, d), as built) to every stack, framed in
        ``color``; returns the animation (the rows slide in from the right, the previous frames fade)."""
        kk, vv = _as_4d(k, "k", self._ndim), _as_4d(v, "v", self._ndim)
        first = self.n_rows
        added = self._add_rows(kk, vv, labels)
        old = self.highlight
        boxes = VGroup(*(SurroundingRectangle(VGroup(*(st[i] for i in range(first, self.n_rows))), color=color,
                                              buff=0.02, stroke_width=3)
                         for layer in self.stacks for st in layer))
        self.remove(old)
        self.highlight = boxes
        self.add(boxes)
        anims = [FadeIn(VGroup(*added), shift=LEFT * 0.3), Create(boxes)]
        if len(old):
            anims.append(FadeOut(old))
        return AnimationGroup(*anims)

    def unhighlight(self):
        """Fade the frames around the rows added last."""
        old = self.highlight
        self.remove(old)
        self.highlight = VGroup()
        self.add(self.highlight)
        return FadeOut(old)

