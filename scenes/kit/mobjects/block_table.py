"""``BlockTable``: a paged KV cache (PagedAttention): a pool of fixed-size physical blocks and, per sequence, a
table of the block ids that hold its positions in logical order; only a sequence's last block is partly empty.

    pb = data.paged_blocks()
    table = BlockTable(pb.block_tables, pb.lengths, pb.block, names=("A", "B", "C"))
    self.play(FadeIn(table.pool_frame()), FadeIn(table.tables))
    self.play(LaggedStart(*(FadeIn(table.slot(s, p)) for s, p in pb.order)))   # tokens arrive, round robin
    self.play(*map(Create, table.links(2)))                                   # sequence C's table → its blocks

Position p of sequence s lives in physical block ``block_tables[s][p // block]``, slot ``p % block``; the slot
shows p. Left: the tables (one row per sequence, its name and its block ids in boxes); right: the pool (one row
per physical block, its id on the left, ``block`` slots). Colours: ``COLORS.head(s)`` per sequence unless given.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, AnimationGroup, Arrow, FadeOut, Rectangle, RoundedRectangle, VGroup

from ..theme import BUFF, COLORS, SIZES
from .text import label

__all__ = ["BlockTable"]


class BlockTable(VGroup):
    """The tables and the pool of a paged KV cache (see the module docstring).

    Parts: ``.tables`` (per sequence ``VGroup(name, entries)``; ``entries[j]`` = ``VGroup(box, id)``),
    ``.pool`` (per physical block ``VGroup(id label, slots)``), ``.slots[b][j]`` (the slot rectangles),
    ``.fills`` (the filled slots: ``fills[(s, p)]`` = ``VGroup(colour fill, position label)``; not in the
    group until shown: ``slot`` places one where its cell is now), ``.titles`` (“block tables”, “physical blocks”).
    ``slot(s, p)`` is sequence s's position p in its block; ``links(s)`` arrows from sequence s's table entries
    to its blocks (not added); ``free(s)`` the animation that returns sequence s's blocks to the pool."""

    def __init__(self, block_tables: Sequence[Sequence[int]], lengths: Sequence[int], block: int, *,
                 n_blocks: int | None = None, names: Sequence[str] | None = None,
                 colors: Sequence[str] | None = None, slot_size: float = 0.5, row_gap: float = 0.12,
                 gap: float = 2.2, font_size: float = SIZES.LABEL, number_size: float = SIZES.NUMBER,
                 titles: tuple[str, str] = ("block tables", "physical blocks")):
        super().__init__()
        tables = [[int(b) for b in t] for t in block_tables]
        lengths = [int(n) for n in lengths]
        if len(tables) != len(lengths):
            raise ValueError(f"{len(tables)} tables for {len(lengths)} sequences")
        if block < 1:
            raise ValueError(f"block size must be positive, got {block}")
        for s, (t, n) in enumerate(zip(tables, lengths)):
            if len(t) != -(-n // block):
                raise ValueError(f"sequence {s}: {n} positions need {-(-n // block)} blocks of {block}, table has "
                                 f"{len(t)}")
        used = [b for t in tables for b in t]
        if len(set(used)) != len(used):
            raise ValueError(f"a physical block is in two tables: {tables}")
        n_blocks = n_blocks if n_blocks is not None else max(used) + 1
        if used and max(used) >= n_blocks:
            raise ValueError(f"block id {max(used)} outside a pool of {n_blocks}")
        self.block_tables, self.lengths, self.block, self.n_blocks = tables, lengths, int(block), n_blocks
        self.names = list(names) if names is not None else [chr(ord("A") + s) for s in range(len(tables))]
        self.colors = list(colors) if colors is not None else [COLORS.head(s) for s in range(len(tables))]
        self.owner = {b: s for s, t in enumerate(tables) for b in t}

        # the pool: one row per physical block
        self.pool, self.slots = VGroup(), []
        id_w = label(f"#{n_blocks - 1}", size=font_size, mono=True).width
        for b in range(n_blocks):
            cells = VGroup(*(Rectangle(width=slot_size, height=slot_size).set_stroke(COLORS.GRID, 2)
                             .set_fill(COLORS.PANEL, 1.0) for _ in range(block))).arrange(RIGHT, buff=0)
            cells.move_to([0, -b * (slot_size + row_gap), 0], aligned_edge=LEFT)
            tag = label(f"#{b}", size=font_size, color=COLORS.MUTED, mono=True)
            tag.next_to(cells, LEFT, buff=BUFF.SMALL).align_to([-BUFF.SMALL - id_w, 0, 0], LEFT)
            self.pool.add(VGroup(tag, cells))
            self.slots.append(list(cells))
        self.fills: dict[tuple[int, int], VGroup] = {}
        for s, (t, n) in enumerate(zip(tables, lengths)):
            for p in range(n):
                cell = self.slots[t[p // block]][p % block]
                fill = Rectangle(width=slot_size, height=slot_size).set_stroke(self.colors[s], 2)
                fill.set_fill(self.colors[s], 0.35).move_to(cell)
                num = label(str(p), size=number_size, color=COLORS.TEXT, mono=True).move_to(cell)
                self.fills[(s, p)] = VGroup(fill, num)

        # the tables: one row per sequence, left of the pool, rows spread over the pool's height
        self.tables = VGroup()
        name_w = max(label(f"{nm}:", size=font_size).width for nm in self.names)
        for s, t in enumerate(tables):
            name = label(f"{self.names[s]}:", size=font_size, color=self.colors[s])
            entries = VGroup()
            for b in t:
                box = RoundedRectangle(width=slot_size * 1.1, height=slot_size, corner_radius=0.06)
                box.set_stroke(self.colors[s], 2).set_fill(self.colors[s], 0.15)
                entries.add(VGroup(box, label(str(b), size=number_size, color=COLORS.TEXT, mono=True).move_to(box)))
            entries.arrange(RIGHT, buff=BUFF.TIGHT)
            entries.next_to([name_w + BUFF.SMALL, 0, 0], RIGHT, buff=0)
            name.next_to(entries, LEFT, buff=BUFF.SMALL)
            self.tables.add(VGroup(name, entries))
        pool_top, pool_bottom = self.pool.get_top()[1], self.pool.get_bottom()[1]
        ys = np.linspace(pool_top - slot_size / 2, pool_bottom + slot_size / 2, len(tables)) if len(tables) > 1 \
            else [(pool_top + pool_bottom) / 2]
        widest = max(r[1].get_right()[0] for r in self.tables)
        for row, y in zip(self.tables, ys):
            row.shift([self.pool.get_left()[0] - gap - widest, y - row[1].get_y(), 0])
        self.titles = VGroup(label(titles[0], size=font_size, color=COLORS.TEXT),
                             label(titles[1], size=font_size, color=COLORS.TEXT))
        self.titles[0].next_to(self.tables, UP, buff=BUFF.MEDIUM).align_to(self.tables, LEFT)
        self.titles[1].next_to(self.pool, UP, buff=BUFF.MEDIUM).align_to(self.pool, LEFT)
        self.titles.set_y(max(t.get_y() for t in self.titles))
        self.add(self.titles, self.tables, self.pool)

    # -- parts ------------------------------------------------------------------------------------------------
    def slot(self, s: int, p: int) -> VGroup:
        """Sequence s's position p: its coloured fill and number in the right slot (add or FadeIn it)."""
        if not 0 <= p < self.lengths[s]:
            raise ValueError(f"sequence {s} has {self.lengths[s]} positions, not {p + 1}")
        fill, cell = self.fills[(s, p)], self.cell_of(s, p)
        fill.scale(cell.width / fill[0].width).move_to(cell)        # wherever the table was moved or scaled
        return fill

    def cell_of(self, s: int, p: int) -> Rectangle:
        """The pool slot that holds sequence s's position p."""
        return self.slots[self.block_tables[s][p // self.block]][p % self.block]

    def sequence_fills(self, s: int) -> VGroup:
        return VGroup(*(self.slot(s, p) for p in range(self.lengths[s])))

    def empty_slots(self, s: int | None = None) -> VGroup:
        """The unused slots of sequence s's last block (every sequence's when s is None): the waste, < block."""
        seqs = range(len(self.lengths)) if s is None else [s]
        out = VGroup()
        for q in seqs:
            last = self.block_tables[q][-1]
            for j in range(self.lengths[q] - (len(self.block_tables[q]) - 1) * self.block, self.block):
                out.add(self.slots[last][j])
        return out

    def waste(self, s: int) -> int:
        """Empty slots of sequence s (in its last block only)."""
        return len(self.block_tables[s]) * self.block - self.lengths[s]

    def blocks_of(self, s: int) -> VGroup:
        """Sequence s's physical block rows (id and slots), in logical order."""
        return VGroup(*(self.pool[b] for b in self.block_tables[s]))

    def links(self, s: int, color: str | None = None) -> VGroup:
        """Arrows from each entry of sequence s's table to the physical block it names (not added)."""
        c = color or self.colors[s]
        return VGroup(*(Arrow(entry.get_right(), self.pool[b][0].get_left(), buff=BUFF.TIGHT, stroke_width=3,
                              max_tip_length_to_length_ratio=0.08, tip_length=0.18).set_color(c)
                        for entry, b in zip(self.tables[s][1], self.block_tables[s])))

    def free(self, s: int) -> AnimationGroup:
        """Sequence s finished: its slots empty and its table row fades (the blocks go back to the pool)."""
        return AnimationGroup(FadeOut(self.sequence_fills(s)), self.tables[s].animate.set_opacity(0.25))

    def gathered_row(self, s: int) -> VGroup:
        """Sequence s's positions as one contiguous row (what gathering through the table gives), under the
        pool; not added."""
        row = VGroup(*(self.slot(s, p).copy() for p in range(self.lengths[s]))).arrange(RIGHT, buff=0)
        return row.next_to(self.pool, DOWN, buff=BUFF.MEDIUM)
