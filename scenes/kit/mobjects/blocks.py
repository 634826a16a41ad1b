"""Matrices as blocks and tensors as buffers: the shapes of a layer's weights and the memory order of its
activations.

- ``BlockMatrix``: a matrix drawn as one labelled block (its name above, its shape below), sliceable into
  H coloured column blocks (W_Q, W_K, W_V per head) or row blocks (W_O per head), each with its own name.
- ``TensorLayout``: a tensor's buffer as a row of cells in memory order; ``arrange_as(shape, perm)`` moves
  the cells to where ``buffer.view(shape).permute(perm)`` puts them on screen (``view`` regroups, a
  transpose permutes), so the viewer sees which numbers a reshape keeps together (heads, KV cache, GQA).
- ``matrix_name``: W with a superscript role letter and a subscript head number (W^Q_1) in the words' font.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import (DOWN, LEFT, ORIGIN, RIGHT, UP, Animation, AnimationGroup, LaggedStart, Line, Mobject,
                   Rectangle, Square, SurroundingRectangle, VGroup)

from ..theme import BUFF, COLORS, SIZES
from .text import label

__all__ = ["BlockMatrix", "TensorLayout", "matrix_name"]

ROLES = ("row", "col", "hblock", "vblock")
"""How a dimension of a TensorLayout is drawn: rows (down, no gap), columns (right, no gap), horizontal
blocks (right, with a gap) or vertical blocks (down, with a gap)."""


def matrix_name(base: str, sup: str | None = None, sub: str | None = None, *, color: str = COLORS.TEXT,
                sup_color: str | None = None, sub_color: str | None = None, size: float = SIZES.LABEL) -> VGroup:
    """``W`` with a superscript (``Q``) and/or a subscript (``1``) at its right, as three labels:
    ``matrix_name("W", "Q", "1")`` is W^Q_1. Parts: ``.base``, ``.sup``, ``.sub`` (empty groups when absent)."""
    group = VGroup()
    group.base = label(base, size=size, color=color)
    group.add(group.base)
    small = max(SIZES.CAPTION, 0.72 * size)
    group.sup, group.sub = VGroup(), VGroup()
    mid = group.base.get_y()
    if sup:  # bottom just above the middle of the base letter
        group.sup = label(sup, size=small, color=sup_color or color)
        group.sup.next_to(group.base, RIGHT, buff=0.04)
        group.sup.shift(UP * (mid + 0.03 - group.sup.get_bottom()[1]))
        group.add(group.sup)
    if sub:  # top just below the middle
        group.sub = label(sub, size=small, color=sub_color or color)
        group.sub.next_to(group.base, RIGHT, buff=0.04)
        group.sub.shift(UP * (mid - 0.03 - group.sub.get_top()[1]))
        group.add(group.sub)
    return group


def _as_label(text: Mobject | str, size: float, color: str) -> Mobject:
    return text if isinstance(text, Mobject) else label(text, size=size, color=color)


def _fit(mob: Mobject, width: float, height: float) -> Mobject:
    s = min(1.0, width / mob.width if mob.width > 0 else 1.0, height / mob.height if mob.height > 0 else 1.0)
    if s < 1.0:
        mob.scale(s)
    return mob


class BlockMatrix(VGroup):
    """A matrix as a block ``width`` × ``height`` in its role colour, named above and shaped below, that
    ``split()`` cuts into ``n_blocks`` coloured blocks: columns (``axis="cols"``, W_Q's heads) or rows
    (``axis="rows"``, W_O's heads).

    Parts: ``.body`` (Rectangle), ``.name`` (above), ``.shape_label`` (below; empty without ``shape``),
    ``.blocks`` (one Rectangle per block, head colours), ``.dividers`` (lines between blocks),
    ``.block_names`` (one label per block, inside it). The blocks, dividers and names are in the group from the
    start, transparent (``FadeIn(m)`` draws the uncut block); ``self.play(m.split())`` makes them appear.
    ``block(h)``, ``highlight(h)``.
    """

    def __init__(self, name: Mobject | str, n_blocks: int, *, axis: str = "cols", width: float = 2.0,
                 height: float = 2.0, color: str = COLORS.TEXT, shape: Mobject | str | None = None,
                 block_names: Sequence[Mobject | str] | None = None, block_colors: Sequence[str] | None = None,
                 label_size: float = SIZES.LABEL, fill_opacity: float = 0.15, block_opacity: float = 0.45):
        super().__init__()
        if axis not in ("cols", "rows"):
            raise ValueError(f"axis must be 'cols' or 'rows', got {axis!r}")
        if not isinstance(n_blocks, (int, np.integer)) or n_blocks < 1:
            raise ValueError(f"n_blocks must be a positive int, got {n_blocks!r}")
        if block_names is not None and len(block_names) != n_blocks:
            raise ValueError(f"{len(block_names)} block names for {n_blocks} blocks")
        colors = list(block_colors) if block_colors is not None else [COLORS.head(h) for h in range(n_blocks)]
        if len(colors) != n_blocks:
            raise ValueError(f"{len(colors)} block colours for {n_blocks} blocks")
        self.axis, self.n_blocks, self.block_colors = axis, int(n_blocks), colors
        self.body = Rectangle(width=width, height=height).set_stroke(color, 4).set_fill(color, fill_opacity)
        self.name = _as_label(name, SIZES.BODY, color).next_to(self.body, UP, buff=BUFF.SMALL)
        self.shape_label = VGroup()
        if shape is not None:
            self.shape_label = _as_label(shape, label_size, COLORS.MUTED).next_to(self.body, DOWN, buff=BUFF.SMALL)
        self.add(self.body, self.name, self.shape_label)

        self.blocks, self.dividers, self.block_names = VGroup(), VGroup(), VGroup()
        n = self.n_blocks
        bw, bh = (width / n, height) if axis == "cols" else (width, height / n)
        corner = self.body.get_corner(UP + LEFT)
        self.block_opacity = block_opacity
        for h in range(n):
            step = RIGHT * bw * h if axis == "cols" else DOWN * bh * h
            rect = Rectangle(width=bw, height=bh).set_stroke(colors[h], 3, opacity=0).set_fill(colors[h], 0)
            rect.move_to(corner + step + np.array([bw / 2, -bh / 2, 0.0]))
            self.blocks.add(rect)
            if h:
                a = rect.get_corner(UP + LEFT)
                b = rect.get_corner(DOWN + LEFT) if axis == "cols" else rect.get_corner(UP + RIGHT)
                self.dividers.add(Line(a, b).set_stroke(COLORS.TEXT, 3, opacity=0))
            if block_names is not None:
                lab = _as_label(block_names[h], label_size, COLORS.TEXT)
                self.block_names.add(_fit(lab, 0.85 * bw, 0.85 * bh).move_to(rect).set_opacity(0))
        # the cut is drawn but invisible until split(): it moves and scales with the block
        self.add(self.blocks, self.dividers, self.block_names)
        self._split = False

    @property
    def is_split(self) -> bool:
        return self._split

    def split(self, lag_ratio: float = 0.25) -> Animation:
        """The animation that cuts the block: the coloured blocks appear one after another, then their names."""
        if self._split:
            raise ValueError("this BlockMatrix is already split")
        self._split = True
        parts = []
        for h, (b, color) in enumerate(zip(self.blocks, self.block_colors)):
            anims = [b.animate.set_fill(color, self.block_opacity).set_stroke(color, 3, opacity=1)]
            if h:
                anims.append(self.dividers[h - 1].animate.set_stroke(opacity=1))
            parts.append(AnimationGroup(*anims))
        anims = [LaggedStart(*parts, lag_ratio=lag_ratio)]
        if len(self.block_names):
            anims.append(LaggedStart(*(t.animate.set_opacity(1) for t in self.block_names), lag_ratio=lag_ratio))
        return LaggedStart(*anims, lag_ratio=0.5)

    def block(self, h: int) -> Rectangle:
        return self.blocks[h]

    def highlight(self, h: int | None = None, color: str = COLORS.ACCENT, buff: float = 0.05,
                  stroke_width: float = 6) -> SurroundingRectangle:
        """A rectangle around block ``h`` (or the whole body), not added."""
        target = self.body if h is None else self.blocks[h]
        return SurroundingRectangle(target, color=color, buff=buff, stroke_width=stroke_width)


class TensorLayout(VGroup):
    """A tensor's buffer: one cell per element, in memory (row-major) order, ``texts[m]`` on a cell filled
    with ``colors[m]``.

    ``arrange_as(shape, perm, roles)`` is the animation that moves every cell to its place in
    ``buffer.view(shape).permute(perm)``: dimension k of the permuted tensor is drawn as ``roles[k]`` (see
    ``ROLES``; default: the last dimension ``col``, the one before ``row``, any earlier ``hblock``). ``view``
    only regroups (perm None): the cells keep their order; a transpose moves them. Memory never changes:
    ``.cells[m]`` is always element m of the buffer. ``cells_at(prefix)`` is the group of cells whose index in
    the current arrangement starts with ``prefix`` (e.g. ``(h,)``: head h after the transpose).
    Parts: ``.cells`` (VGroup(square, text) per element), ``.shape``, ``.perm`` (the current arrangement).
    """

    def __init__(self, texts: Sequence[str], colors: Sequence[str], *, cell_size: float = 0.62,
                 font_size: float = SIZES.NUMBER, gap: float = 0.3, fill_opacity: float = 0.4,
                 text_color: str = COLORS.TEXT, mono: bool = True):
        super().__init__()
        if len(texts) != len(colors):
            raise ValueError(f"{len(texts)} texts for {len(colors)} colours")
        if not len(texts):
            raise ValueError("a TensorLayout needs at least one element")
        self.cell_size, self.gap, self.size, self.fill_opacity = cell_size, gap, len(texts), fill_opacity
        self.cells = VGroup()
        labels = []
        for text, color in zip(texts, colors):
            sq = Square(side_length=cell_size).set_stroke(COLORS.GRID, 1.5).set_fill(color, fill_opacity)
            t = label(text, size=font_size, color=text_color, mono=mono)
            labels.append(t)
            self.cells.add(VGroup(sq, t))
        w = max(t.width for t in labels)
        h = max(t.height for t in labels)
        s = min(1.0, 0.86 * cell_size / w, 0.55 * cell_size / h)
        for cell in self.cells:
            if s < 1.0:
                cell[1].scale(s)
        self.font_size = font_size * s
        self.add(self.cells)
        self.shape: tuple[int, ...] = (self.size,)
        self.perm: tuple[int, ...] = (0,)
        for m, p in enumerate(self.offsets((self.size,))):
            self.cells[m].move_to(p)
            self.cells[m][1].move_to(self.cells[m][0])
        self.move_to(ORIGIN)

    # -- geometry -------------------------------------------------------------------------------------
    def _check(self, shape, perm, roles):
        shape = tuple(int(s) for s in shape)
        if int(np.prod(shape)) != self.size:
            raise ValueError(f"shape {shape} holds {int(np.prod(shape))} elements, the buffer {self.size}")
        perm = tuple(range(len(shape))) if perm is None else tuple(int(p) for p in perm)
        if sorted(perm) != list(range(len(shape))):
            raise ValueError(f"perm {perm} is not a permutation of {len(shape)} dimensions")
        if roles is None:
            roles = ("hblock",) * max(0, len(shape) - 2) + (("row",) if len(shape) > 1 else ()) + ("col",)
        roles = tuple(roles)
        if len(roles) != len(shape) or any(r not in ROLES for r in roles):
            raise ValueError(f"roles {roles} must name one of {ROLES} per dimension of {shape}")
        return shape, perm, roles

    def offsets(self, shape: Sequence[int], perm: Sequence[int] | None = None,
                roles: Sequence[str] | None = None, gap: float | None = None) -> list[np.ndarray]:
        """Centre of every cell (memory order), relative to the arrangement's top-left cell, for
        ``view(shape).permute(perm)`` drawn with ``roles``."""
        shape, perm, roles = self._check(shape, perm, roles)
        logical = tuple(shape[p] for p in perm)
        c, g = self.cell_size, self.gap if gap is None else gap
        step_x, step_y = [0.0] * len(shape), [0.0] * len(shape)
        w = h = c
        for k in reversed(range(len(logical))):
            n, r = logical[k], roles[k]
            if r == "col":
                step_x[k], w = w, n * w
            elif r == "hblock":
                step_x[k], w = w + g, n * w + (n - 1) * g
            elif r == "row":
                step_y[k], h = h, n * h
            else:
                step_y[k], h = h + g, n * h + (n - 1) * g
        out = []
        for m in range(self.size):
            orig = np.unravel_index(m, shape)
            idx = [orig[p] for p in perm]
            out.append(np.array([sum(i * s for i, s in zip(idx, step_x)), -sum(i * s for i, s in zip(idx, step_y)),
                                 0.0]))
        return out

    def logical_index(self, m: int) -> tuple[int, ...]:
        """Index of buffer element ``m`` in the current arrangement."""
        orig = np.unravel_index(m, self.shape)
        return tuple(int(orig[p]) for p in self.perm)

    def cells_at(self, prefix: Sequence[int]) -> VGroup:
        """The cells whose index in the current arrangement starts with ``prefix`` (in memory order)."""
        prefix = tuple(prefix)
        return VGroup(*(self.cells[m] for m in range(self.size) if self.logical_index(m)[:len(prefix)] == prefix))

    def positions_for(self, shape: Sequence[int], perm: Sequence[int] | None = None, roles: Sequence[str] | None = None,
               center: np.ndarray | None = None, gap: float | None = None) -> list[np.ndarray]:
        """Where ``arrange_as`` puts each cell: the arrangement centred at ``center`` (default: the cells'
        current centre); ``gap`` between blocks (default: the layout's)."""
        offs = self.offsets(shape, perm, roles, gap)
        lo = np.min(offs, axis=0) - self.cell_size / 2
        hi = np.max(offs, axis=0) + self.cell_size / 2
        mid = (lo + hi) / 2
        mid[2] = 0.0
        c = self.cells.get_center() if center is None else np.asarray(center, dtype=float)
        scale = self.cells[0][0].width / self.cell_size
        return [c + (o - mid) * scale for o in offs]

    def arrange_as(self, shape: Sequence[int], perm: Sequence[int] | None = None, roles: Sequence[str] | None = None,
                   center: np.ndarray | None = None, gap: float | None = None, lag_ratio: float = 0.0) -> Animation:
        """The animation that moves the cells to ``view(shape).permute(perm)``'s arrangement (see the class)."""
        shape, perm, roles = self._check(shape, perm, roles)
        points = self.positions_for(shape, perm, roles, center, gap)
        self.shape, self.perm = shape, perm
        return LaggedStart(*(cell.animate.move_to(p) for cell, p in zip(self.cells, points)), lag_ratio=lag_ratio)

    def place_as(self, shape: Sequence[int], perm: Sequence[int] | None = None, roles: Sequence[str] | None = None,
                 center: np.ndarray | None = None, gap: float | None = None) -> TensorLayout:
        """``arrange_as`` without the animation; returns self."""
        shape, perm, roles = self._check(shape, perm, roles)
        for cell, p in zip(self.cells, self.positions_for(shape, perm, roles, center, gap)):
            cell.move_to(p)
        self.shape, self.perm = shape, perm
        return self

    def fade_cells(self, prefix: Sequence[int] = (), level: float = 0.25) -> Animation:
        """Fade the cells at ``prefix`` to ``level`` of their opacity (``fade_cells(prefix, 1)`` restores them)."""
        anims = []
        for cell in self.cells_at(prefix):
            anims.append(cell[0].animate.set_fill(opacity=self.fill_opacity * level).set_stroke(opacity=level))
            anims.append(cell[1].animate.set_opacity(level))
        return AnimationGroup(*anims)

    def brace_label(self, prefix: Sequence[int], text: Mobject | str, direction=UP, color: str = COLORS.TEXT,
                    size: float = SIZES.LABEL, buff: float = BUFF.SMALL) -> Mobject:
        """A label beside the cells at ``prefix`` (e.g. "head 1" above head 1's block), not added."""
        lab = _as_label(text, size, color)
        return lab.next_to(self.cells_at(prefix), direction, buff=buff)

