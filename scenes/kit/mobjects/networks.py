"""Network diagrams of the road to attention: a feed-forward net, an unrolled recurrent chain, an
encoder–decoder (with its bottleneck, or with attention lines), and every-token-to-every-token arcs.

All are schematic (no numbers inside): the scenes put real numbers next to them (hidden states as
``VectorColumn``, weights as arcs from the data). Built from the tokens and sizes passed in.

    chain = RecurrentChain(["the", "cat", "sat"], cell_text="RNN")
    chain.links[0]            # the arrow carrying h_1 into the second cell
    EncoderDecoder(src, tgt, mode="attention").attention_lines(1)   # decoder step 2 looks at every state
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from manim import (DOWN, LEFT, ORIGIN, RIGHT, UP, Arrow, ArcBetweenPoints, Circle, Line, RoundedRectangle,
                   VGroup)

from ..theme import BUFF, COLORS, SIZES
from .text import label
from .tokens import TokenRow

__all__ = ["AllToAll", "EncoderDecoder", "LayeredNet", "RecurrentChain", "arc_over"]


def arc_over(start, end, height: float) -> ArcBetweenPoints:
    """A circular arc from ``start`` to ``end`` bulging upwards by ``height`` (sagitta) over the chord."""
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    chord = float(np.linalg.norm(end - start))
    if chord < 1e-9:
        raise ValueError("arc_over needs two different points")
    angle = 4 * math.atan(2 * height / chord)  # sagitta / chord = tan(angle / 4) / 2
    return ArcBetweenPoints(start, end, angle=-angle * float(np.sign(end[0] - start[0]) or 1.0))


def _arrow(a, b, color: str = COLORS.MUTED, width: float = 3.0) -> Arrow:
    return Arrow(a, b, buff=0.04, stroke_width=width, color=color, tip_length=0.14,
                 max_tip_length_to_length_ratio=0.4, max_stroke_width_to_length_ratio=12)


class LayeredNet(VGroup):
    """A feed-forward network: ``sizes`` units per layer as circles, every unit linked to the next layer.

    Parts: ``.layers`` (VGroup of circles per layer), ``.edges`` (VGroup of lines per layer pair).
    """

    def __init__(self, sizes: Sequence[int], *, unit_radius: float = 0.16, layer_gap: float = 1.5,
                 unit_gap: float = 0.5, color: str = COLORS.TEXT, edge_color: str = COLORS.GRID):
        super().__init__()
        if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
            raise ValueError(f"need at least two layers of at least one unit, got {list(sizes)}")
        self.sizes = [int(s) for s in sizes]
        self.layers = VGroup()
        for k, size in enumerate(self.sizes):
            layer = VGroup(*(Circle(radius=unit_radius).set_stroke(color, 2.5).set_fill(COLORS.PANEL, 1)
                             for _ in range(size)))
            layer.arrange(DOWN, buff=unit_gap - 2 * unit_radius).move_to(RIGHT * k * layer_gap)
            self.layers.add(layer)
        self.edges = VGroup()
        for a, b in zip(self.layers[:-1], self.layers[1:]):
            self.edges.add(VGroup(*(Line(u.get_right(), w.get_left()).set_stroke(edge_color, 1.5)
                                    for u in a for w in b)))
        self.add(self.edges, self.layers)
        self.move_to(ORIGIN)


class RecurrentChain(VGroup):
    """An RNN unrolled over ``tokens``: one cell per token, the same cell each time (``cell_text``).

    Tokens sit below the cells (inputs, ``token_side=DOWN``) or above them (outputs, ``UP``). Cells are
    evenly spaced; ``links[t]`` is the arrow carrying the hidden state from cell t to cell t + 1.
    ``highway=True`` adds the LSTM's cell-state line running through the tops of all cells.
    Parts: ``.tokens`` (TokenRow), ``.cells``, ``.cell_labels``, ``.links``, ``.feeds`` (token ↔ cell
    arrows), ``.highway`` (empty unless asked), ``.pitch``.
    """

    def __init__(self, tokens: Sequence[str], *, cell_text: str = "RNN", cell_width: float = 0.9,
                 cell_height: float = 0.6, gap: float = 0.4, token_side=DOWN, token_buff: float = 0.4,
                 highway: bool = False, color: str = COLORS.MUTED, highway_color: str = COLORS.ACCENT,
                 font_size: float = SIZES.SMALL, token_size: float = SIZES.LABEL):
        super().__init__()
        if len(tokens) == 0:
            raise ValueError("RecurrentChain needs at least one token")
        below = np.allclose(token_side, DOWN)
        if not below and not np.allclose(token_side, UP):
            raise ValueError("token_side must be DOWN (inputs) or UP (outputs)")
        self.tokens = TokenRow(tokens, font_size=token_size)
        if highway:  # room for the cell-state line inside the top of each cell
            cell_height = max(cell_height + 0.25, 0.9)
        self.pitch = max(cell_width, max(b.width for b in self.tokens.boxes)) + gap
        self.cells, self.cell_labels = VGroup(), VGroup()
        for t in range(len(tokens)):
            cell = RoundedRectangle(width=cell_width, height=cell_height, corner_radius=0.1)
            cell.set_stroke(color, 2.5).set_fill(COLORS.PANEL, 1).move_to(RIGHT * t * self.pitch)
            self.cells.add(cell)
            text = label(cell_text, size=font_size, color=COLORS.TEXT, mono=True)
            if text.width > 0.85 * cell_width:
                text.scale_to_fit_width(0.85 * cell_width)
            self.cell_labels.add(text.move_to(cell).shift(DOWN * (0.14 if highway else 0.0)))
        for t, item in enumerate(self.tokens.items):
            item.set_x(self.cells[t].get_x())
        side = DOWN if below else UP
        edge = self.cells[0].get_edge_center(side)[1] + side[1] * token_buff  # where the boxes' near edge goes
        self.tokens.shift(UP * (edge - self.tokens.boxes[0].get_edge_center(-side)[1]))
        self.feeds = VGroup()
        for cell, box in zip(self.cells, self.tokens.boxes):
            if below:
                self.feeds.add(_arrow(box.get_top(), cell.get_bottom()))
            else:
                self.feeds.add(_arrow(cell.get_top(), box.get_bottom()))
        link_dy = -0.14 if highway else 0.0
        self.links = VGroup(*(_arrow(a.get_right() + UP * link_dy, b.get_left() + UP * link_dy)
                              for a, b in zip(self.cells[:-1], self.cells[1:])))
        self.highway = VGroup()
        if highway:
            y = self.cells[0].get_top()[1] - 0.22
            x0 = self.cells[0].get_left()[0] - 0.25
            x1 = self.cells[-1].get_right()[0] + 0.25
            self.highway.add(Line([x0, y, 0], [x1, y, 0]).set_stroke(highway_color, 5))
        self.add(self.feeds, self.links, self.cells, self.cell_labels, self.highway, self.tokens)
        self.move_to(ORIGIN)

    def __len__(self) -> int:
        return len(self.cells)

    def path(self, source: int, target: int) -> VGroup:
        """The links a signal crosses from cell ``source`` to cell ``target`` (source < target)."""
        if not 0 <= source <= target < len(self.cells):
            raise ValueError(f"need 0 <= source <= target < {len(self.cells)}, got {source}, {target}")
        return VGroup(*self.links[source:target])

    def above(self, t: int, buff: float = BUFF.MEDIUM) -> np.ndarray:
        """A point above cell ``t`` (where its hidden state can be drawn)."""
        return self.cells[t].get_top() + UP * buff


class EncoderDecoder(VGroup):
    """A seq2seq pair: an encoder chain over ``source`` (tokens below), then, up and to the right, a
    decoder chain writing ``target`` (tokens above).

    ``mode="bottleneck"``: a staircase; the encoder's last state passes through one box (``.bottleneck``)
    into the decoder — all it knows of the source. ``mode="attention"``: the decoder sits above the
    encoder and ``attention_lines(k)`` draws lines from decoder cell ``k`` down to every encoder cell.
    Parts: ``.encoder``, ``.decoder`` (RecurrentChain), ``.bridge`` (arrows), ``.bottleneck``.
    """

    MODES = ("bottleneck", "attention")

    def __init__(self, source: Sequence[str], target: Sequence[str], *, mode: str = "bottleneck",
                 encoder_text: str = "enc", decoder_text: str = "dec", rise: float | None = None, gap: float = 0.3,
                 bottleneck_color: str = COLORS.ACCENT, token_size: float = SIZES.LABEL, **chain_kwargs):
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        self.mode = mode
        kw = dict(gap=gap, token_size=token_size, token_buff=0.3, **chain_kwargs)
        self.encoder = RecurrentChain(source, cell_text=encoder_text, token_side=DOWN, **kw)
        self.decoder = RecurrentChain(target, cell_text=decoder_text, token_side=UP, **kw)
        first, last = self.decoder.cells[0], self.encoder.cells[-1]
        self.bottleneck = VGroup()
        if mode == "bottleneck":  # a staircase: the decoder starts where the encoder ends
            self.decoder.shift(last.get_center() - first.get_center()
                               + RIGHT * 1.5 * max(self.encoder.pitch, self.decoder.pitch)
                               + UP * (1.3 if rise is None else rise))
            a, b = last.get_right(), first.get_left()
            box = RoundedRectangle(width=0.36, height=0.36, corner_radius=0.06)
            box.set_stroke(bottleneck_color, 3).set_fill(bottleneck_color, 0.35).move_to((a + b) / 2)
            self.bottleneck.add(box)
            self.bridge = VGroup(_arrow(a, box.get_left() + LEFT * 0.02, bottleneck_color),
                                 _arrow(box.get_right(), b, bottleneck_color))
        else:  # the decoder above the encoder, so lines can reach down to every encoder state
            self.decoder.shift(self.encoder.cells.get_center() - self.decoder.cells.get_center()
                               + UP * (2.0 if rise is None else rise))
            self.bridge = VGroup()
        self.add(self.encoder, self.decoder, self.bridge, self.bottleneck)
        self.move_to(ORIGIN)

    def attention_lines(self, k: int, color: str = COLORS.WEIGHT, width: float = 2.5) -> VGroup:
        """Lines from decoder cell ``k`` down to every encoder cell (schematic: equal widths)."""
        start = self.decoder.cells[k].get_bottom()
        return VGroup(*(Line(start, c.get_top()).set_stroke(color, width) for c in self.encoder.cells))


class AllToAll(VGroup):
    """Tokens with an arc between every pair: every token one step from every other (schematic).

    Parts: ``.tokens`` (TokenRow), ``.arcs`` (dict (i, j), i < j → arc; also ``arc(i, j)``),
    ``.arc_group``.
    """

    def __init__(self, tokens: Sequence[str], *, color: str = COLORS.WEIGHT, width: float = 2.5,
                 base_height: float = 0.2, height_per_unit: float = 0.16, token_buff: float = 0.45,
                 font_size: float = SIZES.LABEL):
        super().__init__()
        self.tokens = TokenRow(tokens, font_size=font_size, buff=token_buff)
        self.arcs: dict[tuple[int, int], ArcBetweenPoints] = {}
        self.arc_group = VGroup()
        n = len(tokens)
        for i in range(n):
            for j in range(i + 1, n):
                a = self._end(i, j, n)
                b = self._end(j, i, n)
                arc = arc_over(a, b, base_height + height_per_unit * abs(b[0] - a[0]))
                arc.set_stroke(color, width).set_fill(opacity=0)
                self.arcs[(i, j)] = arc
                self.arc_group.add(arc)
        self.add(self.arc_group, self.tokens)
        self.move_to(ORIGIN)

    def _end(self, i: int, j: int, n: int) -> np.ndarray:
        """Where the arc from token i to token j leaves i: spread across the box top by direction."""
        box = self.tokens.boxes[i]
        spread = 0.32 * box.width * (j - i) / max(1, n - 1)
        return box.get_top() + UP * 0.04 + RIGHT * spread

    def arc(self, i: int, j: int) -> ArcBetweenPoints:
        return self.arcs[(min(i, j), max(i, j))]
