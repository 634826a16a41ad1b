"""``SplitMerge``: the split-K (Flash-Decoding) diagram. A key/value strip cut into S splits along the sequence;
under each split its pair (LSE_s, O_s): the split's log-sum-exp and its normalised output (a row of heat cells);
arrows from every pair into the merged (LSE, O), each arrow labelled with its weight e^(LSE_s − LSE).

    sk = data.split_k()
    sm = SplitMerge([s.cols for s in sk.splits], [s.lse for s in sk.splits], [s.out for s in sk.splits],
                    [s.weight for s in sk.splits], sk.lse, sk.merged)
    self.play(sm.reveal_strip()); self.play(sm.reveal_pairs()); self.play(sm.reveal_merge())

Every number comes from the caller (a builder's trace of ``ar.flash_decoding``); the diagram only draws them.
Lecture 6 reuses it for FlashAttention's online softmax (the splits are then key tiles visited one after
another, and the merge is the running rescale).

Parts: ``.strip`` (one VGroup per split: its K row and V row of cells), ``.row_names`` ("K", "V" at the left),
``.key_labels`` (per split "keys a–b"), ``.pairs`` (per split VGroup(box, LSE text, O cells)), ``.arrows``,
``.weights`` (per split the weight label under its pair, where its arrow starts), ``.merged`` (VGroup(box, LSE
text, O cells)).
``split(k)`` is everything of split k; ``highlight(k)`` a box around its strip and pair (not added).
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from manim import (DOWN, LEFT, RIGHT, UP, Arrow, FadeIn, GrowArrow, LaggedStart, Rectangle, RoundedRectangle,
                   VGroup)

from ..format import shown, subscript
from ..theme import BUFF, COLORS, SIZES, heat_color
from .text import label

__all__ = ["SplitMerge"]


def _cells(values: Sequence[float], cell: float, height: float, vmin: float, vmax: float) -> VGroup:
    row = VGroup(*(Rectangle(width=cell, height=height).set_fill(heat_color(float(v), vmin, vmax), 1)
                   .set_stroke(COLORS.BACKGROUND, 1.5) for v in values))
    return row.arrange(RIGHT, buff=0)


class SplitMerge(VGroup):
    """The split-K diagram of ``len(cols)`` splits.

    ``cols``: per split its key range (start, stop), contiguous from 0; ``lse``/``outs``/``weights``: per split
    LSE_s, O_s (a vector) and e^(LSE_s − LSE); ``merged_lse``/``merged``: the merged LSE and O. ``width``: the
    strip's width (the merge row sits centred under it); ``decimals``: places of the printed LSEs and weights.
    """

    def __init__(self, cols: Sequence[tuple[int, int]], lse: Sequence[float], outs: Sequence[Sequence[float]],
                 weights: Sequence[float], merged_lse: float, merged: Sequence[float], *, width: float = 11.0,
                 decimals: int = 2, row_height: float = 0.36, gap: float = 0.5, drop: float = 1.0,
                 font_size: float = SIZES.LABEL, name: str = "LSE", out_name: str = "O",
                 row_names: tuple[str, str] = ("K", "V")):
        super().__init__()
        n = len(cols)
        if not n or not (len(lse) == len(outs) == len(weights) == n):
            raise ValueError(f"{n} splits with {len(lse)} LSEs, {len(outs)} outputs, {len(weights)} weights")
        if cols[0][0] != 0 or any(a[1] != b[0] for a, b in itertools.pairwise(cols)) or any(a >= b for a, b in cols):
            raise ValueError(f"splits must cover the keys contiguously from 0, got {list(cols)}")
        dims = {len(o) for o in outs} | {len(merged)}
        if len(dims) != 1:
            raise ValueError(f"outputs of different sizes {sorted(dims)}")
        self.n_splits, self.n_keys = n, cols[-1][1]
        self.cols = tuple(tuple(c) for c in cols)
        self.weights_data = tuple(float(w) for w in weights)
        allo = np.asarray([*outs, merged], dtype=float)
        lim = float(np.abs(allo).max()) or 1.0
        cell = (width - gap * (n - 1)) / self.n_keys

        # the K/V strip, cut into splits
        self.strip, self.key_labels = VGroup(), VGroup()
        x = 0.0
        for a, b in self.cols:
            k_row = VGroup(*(Rectangle(width=cell, height=row_height).set_fill(COLORS.K, 0.55)
                             .set_stroke(COLORS.BACKGROUND, 1.5) for _ in range(a, b))).arrange(RIGHT, buff=0)
            v_row = VGroup(*(Rectangle(width=cell, height=row_height).set_fill(COLORS.V, 0.55)
                             .set_stroke(COLORS.BACKGROUND, 1.5) for _ in range(a, b))).arrange(RIGHT, buff=0)
            part = VGroup(k_row, v_row).arrange(DOWN, buff=0)
            part.move_to([x + part.width / 2, 0, 0])
            x += part.width + gap
            self.strip.add(part)
            self.key_labels.add(label(f"keys {a}–{b - 1}", size=font_size, color=COLORS.MUTED)
                                .next_to(part, UP, buff=BUFF.SMALL))
        self.row_names = VGroup(*(label(t, size=font_size, color=c).next_to(row, LEFT, buff=BUFF.SMALL)
                                  for t, c, row in zip(row_names, (COLORS.K, COLORS.V), self.strip[0])))

        # per split: (LSE_s, O_s), no wider than its part of the strip, and its weight under it
        out_cell = min(0.26, 0.8 * (width / n - 2 * BUFF.SMALL) / len(merged))
        self.pairs, self.weights = VGroup(), VGroup()
        for s, part in enumerate(self.strip):
            pair = self._pair(subscript(name, s + 1), lse[s], subscript(out_name, s + 1), outs[s], out_cell, lim,
                              decimals, font_size, COLORS.MUTED)
            if pair.width > part.width + gap * 0.8:
                pair.scale_to_fit_width(part.width + gap * 0.8)
            self.pairs.add(pair.next_to(part, DOWN, buff=BUFF.LARGE))
            self.weights.add(label(f"× {shown(weights[s], decimals)}", size=font_size, color=COLORS.ACCENT,
                                   mono=True).next_to(pair, DOWN, buff=BUFF.SMALL))
        for p, w in zip(self.pairs, self.weights):   # one row, tops aligned
            p.align_to(self.pairs[0], UP)
            w.next_to(p, DOWN, buff=BUFF.SMALL)
        top = min(w.get_bottom()[1] for w in self.weights)

        # the merge
        self.merged = self._pair(name, merged_lse, out_name, merged, out_cell, lim, decimals, font_size,
                                 COLORS.OUTPUT)
        self.merged.scale(self.pairs[0][1].height / self.merged[1].height)    # same text size as the pairs
        self.merged.move_to([self.strip.get_x(), top - drop - self.merged.height / 2, 0])
        self.arrows = VGroup()
        for s, w in enumerate(self.weights):
            end = self.merged[0].get_top() + RIGHT * (s - (n - 1) / 2) * min(0.5, self.merged.width / (n + 1))
            arrow = Arrow(w.get_bottom(), end, buff=BUFF.TIGHT, stroke_width=3, max_tip_length_to_length_ratio=0.15)
            self.arrows.add(arrow.set_color(COLORS.MUTED))
        self.add(self.strip, self.row_names, self.key_labels, self.pairs, self.arrows, self.weights, self.merged)

    @staticmethod
    def _pair(lse_name: str, lse: float, out_name: str, out: Sequence[float], cell: float, lim: float,
              decimals: int, size: float, stroke: str) -> VGroup:
        text = label(f"{lse_name} = {shown(lse, decimals)}", size=size, color=COLORS.TEXT)
        o_name = label(out_name, size=size, color=COLORS.OUTPUT)
        cells = _cells(out, cell, cell * 1.2, -lim, lim)
        o_row = VGroup(o_name, cells).arrange(RIGHT, buff=BUFF.SMALL)
        body = VGroup(text, o_row).arrange(DOWN, buff=BUFF.SMALL)
        box = RoundedRectangle(corner_radius=0.1, width=body.width + 2 * BUFF.SMALL,
                               height=body.height + 2 * BUFF.SMALL).move_to(body)
        box.set_stroke(stroke, 2).set_fill(COLORS.PANEL, 1)
        return VGroup(box, text, o_row)

    # -- parts and animations -----------------------------------------------------------------------------------
    def split(self, k: int) -> VGroup:
        """Split k's strip, key label, pair, arrow and weight."""
        return VGroup(self.strip[k], self.key_labels[k], self.pairs[k], self.arrows[k], self.weights[k])

    def highlight(self, k: int, color: str = COLORS.ACCENT) -> Rectangle:
        """A box around split k's strip, key label and pair (not added)."""
        group = VGroup(self.key_labels[k], self.strip[k], self.pairs[k])
        return Rectangle(width=group.width + 0.2, height=group.height + 0.2).move_to(group).set_stroke(color, 3)

    def reveal_strip(self, **kwargs) -> LaggedStart:
        """The strip split by split, with its key labels and row names."""
        return LaggedStart(FadeIn(self.row_names), *(FadeIn(VGroup(p, t), shift=DOWN * 0.15)
                                                      for p, t in zip(self.strip, self.key_labels)),
                           lag_ratio=0.3, **kwargs)

    def reveal_pairs(self, **kwargs) -> LaggedStart:
        """Every split's (LSE_s, O_s), one after another."""
        return LaggedStart(*(FadeIn(p, shift=DOWN * 0.2) for p in self.pairs), lag_ratio=0.3, **kwargs)

    def reveal_merge(self, **kwargs) -> LaggedStart:
        """The weights, the arrows, then the merged (LSE, O)."""
        return LaggedStart(FadeIn(self.weights), LaggedStart(*(GrowArrow(a) for a in self.arrows), lag_ratio=0.15),
                           FadeIn(self.merged, shift=DOWN * 0.2), lag_ratio=0.5, **kwargs)
