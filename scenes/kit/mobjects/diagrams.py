"""Diagrams: token-to-token arcs, a stack of attention heads, a matrix split into tiles.

- ``ArcDiagram``: arcs above a token row from a query to the keys it attends to; stroke width and
  opacity grow with the weight (one query, or every query).
- ``HeadStack``: one heat-map grid per head, framed in the head's colour, stacked (fanned) or in a row.
- ``TileGrid``: an n × m matrix cut into B_r × B_c tiles (FlashAttention's blocks), a tile highlightable.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import (DOWN, LEFT, ORIGIN, PI, RIGHT, UP, Animation, ArcBetweenPoints, Brace, Circle, Create, LaggedStart,
                   Line, Rectangle, SurroundingRectangle, VGroup)

from ..theme import BUFF, COLORS, SIZES
from .matrices import MatrixGrid
from .text import as_array, label
from .tokens import TokenRow

__all__ = ["ArcDiagram", "HeadStack", "TileGrid"]


class ArcDiagram(VGroup):
    """Arcs between tokens, width and opacity by attention weight.

    ``weights``: (n, n) attention matrix (row = query) or, with ``query=i``, row ``i`` alone (shape (n,)).
    With a matrix and ``query`` given, only that query's arcs are drawn. Arcs with weight below
    ``min_weight`` (and zero weights) are left out; a token attending to itself gets a small loop.
    Parts: ``.tokens`` (TokenRow), ``.arcs`` (dict (i, j) → arc; also ``arc(i, j)``), ``.arc_group``.
    """

    def __init__(self, tokens: Sequence[str], weights, *, query: int | None = None,
                 color: str = COLORS.WEIGHT, max_width: float = 14.0, min_weight: float = 0.02,
                 token_buff: float = 0.35, font_size: float = SIZES.LABEL):
        super().__init__()
        n = len(tokens)
        w = as_array(weights, None, "weights")
        if w.ndim == 1:
            if query is None:
                raise ValueError("a single row of weights needs query=<index>")
            if w.shape != (n,):
                raise ValueError(f"weights has shape {w.shape}, expected ({n},)")
            rows = {query: w}
        elif w.ndim == 2:
            if w.shape != (n, n):
                raise ValueError(f"weights has shape {w.shape}, expected ({n}, {n})")
            rows = {query: w[query]} if query is not None else {i: w[i] for i in range(n)}
        else:
            raise ValueError(f"weights must be 1-D or 2-D, got shape {w.shape}")
        if np.any(w < -1e-12) or np.any(w > 1 + 1e-12):
            raise ValueError("weights must lie in [0, 1]")
        self.weights, self.query = w, query
        self.tokens = TokenRow(tokens, font_size=font_size, buff=token_buff)
        if query is not None:
            self.tokens.boxes[query].set_stroke(COLORS.Q, 3)
        self.arcs: dict[tuple[int, int], object] = {}
        self.arc_group = VGroup()
        span = self.tokens.width
        for i, row in rows.items():
            for j, wij in enumerate(row):
                if wij <= 0 or wij < min_weight:
                    continue
                stroke = max(1.0, max_width * float(wij))
                opacity = 0.25 + 0.75 * float(wij)
                if i == j:
                    top = self.tokens.boxes[i].get_top()
                    arc = Circle(radius=0.16).move_to(top + UP * 0.16)
                else:
                    start = self.tokens.boxes[i].get_top() + UP * 0.05
                    end = self.tokens.boxes[j].get_top() + UP * 0.05
                    # bulge upwards: the angle's sign depends on the direction of travel
                    dist = abs(end[0] - start[0])
                    angle = -(0.55 + 0.35 * dist / max(span, 1e-6)) * PI * np.sign(end[0] - start[0])
                    arc = ArcBetweenPoints(start, end, angle=angle)
                arc.set_stroke(color, stroke, opacity=opacity).set_fill(opacity=0)
                self.arcs[(i, j)] = arc
                self.arc_group.add(arc)
        self.add(self.tokens, self.arc_group)
        self.move_to(ORIGIN)

    def arc(self, i: int, j: int):
        return self.arcs[(i, j)]

    def draw_arcs(self, lag_ratio: float = 0.2) -> Animation:
        """The arcs drawn one after another (a LaggedStart of Create), in the order of ``arc_group``."""
        if not len(self.arc_group):
            raise ValueError("this diagram has no arcs to draw (every weight is below min_weight)")
        return LaggedStart(*(Create(a) for a in self.arc_group), lag_ratio=lag_ratio)


class HeadStack(VGroup):
    """Several attention patterns, one per head, as heat-map grids framed in the head colours.

    ``weights``: (H, n, m). ``layout="stack"`` fans them behind each other (head 1 in front);
    ``"row"`` puts them side by side with a label under each. Parts: ``.heads`` (MatrixGrid per head,
    in head order), ``.frames``, ``.labels``.
    """

    def __init__(self, weights, *, layout: str = "stack", cell_size: float = 0.28,
                 offset: Sequence[float] = (0.3, 0.22), show_numbers: bool = False, head_labels: bool = True,
                 font_size: float = SIZES.SMALL):
        super().__init__()
        w = as_array(weights, 3, "weights")
        if layout not in ("stack", "row"):
            raise ValueError(f"layout must be 'stack' or 'row', got {layout!r}")
        self.weights, self.layout = w, layout
        self.heads, self.frames, self.labels = VGroup(), VGroup(), VGroup()
        for h in range(w.shape[0]):
            grid = MatrixGrid(w[h], heat=True, show_numbers=show_numbers, vmin=0.0, vmax=1.0, cell_size=cell_size)
            frame = SurroundingRectangle(grid.cells, color=COLORS.head(h), buff=0.04, stroke_width=4)
            grid.add(frame)
            self.heads.add(grid)
            self.frames.add(frame)
        if layout == "stack":
            for h, grid in enumerate(self.heads):
                grid.shift(np.array([offset[0] * h, offset[1] * h, 0.0]))
            # draw the back heads first so head 1 is in front
            self.add(*reversed(list(self.heads)))
            if head_labels:
                front = label("head 1", size=font_size, color=COLORS.head(0))
                front.next_to(self.frames[0], DOWN, buff=BUFF.SMALL).align_to(self.frames[0], LEFT)
                count = label(f"{w.shape[0]} heads", size=font_size, color=COLORS.MUTED)
                count.next_to(self.frames[-1], UP, buff=BUFF.SMALL).align_to(self.frames[-1], RIGHT)
                self.labels.add(front, count)
        else:
            self.heads.arrange(RIGHT, buff=BUFF.MEDIUM)
            self.add(self.heads)
            if head_labels:
                for h, frame in enumerate(self.frames):
                    self.labels.add(label(f"head {h + 1}", size=font_size, color=COLORS.head(h)).next_to(
                        frame, DOWN, buff=BUFF.SMALL))
        self.add(self.labels)
        self.move_to(ORIGIN)


class TileGrid(VGroup):
    """An ``n_rows × n_cols`` matrix split into ``block_rows × block_cols`` tiles.

    Optional ``values`` fill the cells as a heat map. Parts: ``.cells[i][j]``, ``.tiles`` (dict
    (bi, bj) → outline; also ``tile(bi, bj)``), ``.braces`` and ``.block_labels`` (block sizes B_r, B_c as words),
    ``.axis_labels``. ``highlight_tile(bi, bj)`` returns a filled rectangle (not added); ``mark_tiles(status)`` the
    overlays of a causal walk (skipped tiles crossed out, the masked cells of diagonal tiles shaded; not added).
    """

    def __init__(self, n_rows: int, n_cols: int, block_rows: int, block_cols: int, *, values=None,
                 cell_size: float = 0.32, row_label: str | None = "queries", col_label: str | None = "keys",
                 show_block_sizes: bool = True, font_size: float = SIZES.SMALL):
        super().__init__()
        for name, v in (("n_rows", n_rows), ("n_cols", n_cols), ("block_rows", block_rows),
                        ("block_cols", block_cols)):
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.n_rows, self.n_cols, self.block_rows, self.block_cols = n_rows, n_cols, block_rows, block_cols
        self.n_tiles = (-(-n_rows // block_rows), -(-n_cols // block_cols))
        if values is not None:
            vals = as_array(values, 2, "values")
            if vals.shape != (n_rows, n_cols):
                raise ValueError(f"values has shape {vals.shape}, expected ({n_rows}, {n_cols})")
            grid = MatrixGrid(vals, heat=True, show_numbers=False, cell_size=cell_size)
        else:
            grid = MatrixGrid(np.zeros((n_rows, n_cols)), show_numbers=False, cell_size=cell_size)
        self.grid, self.cells = grid, grid.cells
        self.add(grid)
        self.tiles: dict[tuple[int, int], Rectangle] = {}
        self.tile_group = VGroup()
        for bi in range(self.n_tiles[0]):
            for bj in range(self.n_tiles[1]):
                block = self._block_cells(bi, bj)
                rect = Rectangle(width=block.width, height=block.height).move_to(block)
                rect.set_stroke(COLORS.TEXT, 3).set_fill(opacity=0)
                self.tiles[(bi, bj)] = rect
                self.tile_group.add(rect)
        self.add(self.tile_group)
        self.braces, self.block_labels = VGroup(), VGroup()
        if show_block_sizes:
            col_brace = Brace(self._block_cells(0, 0), UP, buff=0.08, color=COLORS.K)
            col_text = label(f"{block_cols} keys", size=font_size, color=COLORS.K)
            col_text.next_to(col_brace, UP, buff=0.06)
            row_brace = Brace(self._block_cells(0, 0), LEFT, buff=0.08, color=COLORS.Q)
            row_text = label(f"{block_rows} queries", size=font_size, color=COLORS.Q)
            row_text.next_to(row_brace, LEFT, buff=0.06)
            self.braces.add(row_brace, col_brace)
            self.block_labels.add(row_text, col_text)
            self.add(self.braces, self.block_labels)
        self.axis_labels = VGroup()
        if col_label:
            lab = label(f"{col_label} ({n_cols})", size=font_size, color=COLORS.K)
            lab.next_to(self.cells, DOWN, buff=BUFF.SMALL)
            self.axis_labels.add(lab)
        if row_label:
            lab = label(f"{row_label} ({n_rows})", size=font_size, color=COLORS.Q).rotate(PI / 2)
            lab.next_to(self.cells, RIGHT, buff=BUFF.SMALL)
            self.axis_labels.add(lab)
        self.add(self.axis_labels)
        self.move_to(ORIGIN)

    def _block_cells(self, bi: int, bj: int) -> VGroup:
        r0, c0 = bi * self.block_rows, bj * self.block_cols
        return VGroup(*(self.cells[r][c] for r in range(r0, min(r0 + self.block_rows, self.n_rows))
                        for c in range(c0, min(c0 + self.block_cols, self.n_cols))))

    def tile(self, bi: int, bj: int) -> Rectangle:
        return self.tiles[(bi, bj)]

    def highlight_tile(self, bi: int, bj: int, color: str = COLORS.ACCENT, opacity: float = 0.35) -> Rectangle:
        t = self.tiles[(bi, bj)]
        return Rectangle(width=t.width, height=t.height).move_to(t).set_stroke(color, 5).set_fill(color, opacity)

    def mark_tiles(self, status, *, skipped_opacity: float = 0.85, mask_opacity: float = 0.85) -> VGroup:
        """Overlays for a causal tile walk (not added): ``status[bi][bj]`` is "skipped" (never loaded: the tile
        is shaded with the background and crossed out), "masked" (computed, the cells with key > query shaded
        in the mask colour) or "full" (nothing drawn). Returns a VGroup with parts ``.skipped`` and ``.masked``
        (dicts (bi, bj) → overlay) and ``.masked_cells`` (how many cells the masked overlays shade)."""
        if len(status) != self.n_tiles[0] or any(len(r) != self.n_tiles[1] for r in status):
            raise ValueError(f"status must be {self.n_tiles[0]} × {self.n_tiles[1]}")
        out = VGroup()
        out.skipped, out.masked, out.masked_cells = {}, {}, 0
        for bi, row in enumerate(status):
            for bj, kind in enumerate(row):
                t = self.tiles[(bi, bj)]
                if kind == "skipped":
                    shade = Rectangle(width=t.width, height=t.height).move_to(t)
                    shade.set_stroke(COLORS.GRID, 2).set_fill(COLORS.BACKGROUND, skipped_opacity)
                    cross = VGroup(Line(t.get_corner(UP + LEFT), t.get_corner(DOWN + RIGHT)),
                                   Line(t.get_corner(UP + RIGHT), t.get_corner(DOWN + LEFT))).set_stroke(COLORS.GRID, 2)
                    mark = VGroup(shade, cross)
                    out.skipped[(bi, bj)] = mark
                elif kind == "masked":
                    r0, c0 = bi * self.block_rows, bj * self.block_cols
                    mark = VGroup(*(Rectangle(width=self.cells[r][c].width, height=self.cells[r][c].height)
                                    .move_to(self.cells[r][c]).set_stroke(width=0).set_fill(COLORS.MASK, mask_opacity)
                                    for r in range(r0, min(r0 + self.block_rows, self.n_rows))
                                    for c in range(c0, min(c0 + self.block_cols, self.n_cols)) if c > r))
                    out.masked[(bi, bj)] = mark
                    out.masked_cells += len(mark)
                elif kind == "full":
                    continue
                else:
                    raise ValueError(f"tile ({bi}, {bj}): unknown status {kind!r} (skipped, masked or full)")
                out.add(mark)
        return out
