"""``RunningStats``: per-row running statistics in columns beside a :class:`TileGrid`'s row block — the online
softmax's running max m and running sum ℓ (optionally the rescale factor e^{m_old − m_new}) — that update step by
step, the entries whose shown value changed flashed. Lecture 6 drives it from ``ar.flash_attention``'s trace (one
row of keys, then the 4 × 4 tile grid); any online-softmax walk (split-K, the FA-1 vs FA-2 loops) can reuse it.

    t = data.tile_trace()
    grid = TileGrid(t.n, t.n, t.block_q, t.block_k, cell_size=0.34)
    stats = RunningStats.beside(grid, ["m", "ℓ", "rescale"], block=0,
                                colors=[COLORS.SCORE, COLORS.WEIGHT, COLORS.ACCENT])
    self.play(FadeIn(stats))
    for st in t.steps:
        self.play(stats.follow(grid, st.i), run_time=0.3)           # only moves when the row block changes
        self.play(stats.update_values([st.m, st.l, st.rescale]), run_time=0.6)

Values are shown with ``fmt`` (default :func:`scenes.kit.format.shown` with ``decimals``; −∞ shows as "−∞"),
``None`` as the placeholder; the mobject computes nothing but positions. Parts: ``.headers`` (one label per
column), ``.entries`` (``entries[c][r]``, the labels shown), ``.slots`` (``slots[c][r]``: the invisible cell each
entry is set in, right-aligned), ``.frame`` (an outline around the entries), ``.values`` (``values[c][r]``, what is
shown, floats or None), ``.block`` (the row block it stands beside, or None).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from manim import RIGHT, UP, AnimationGroup, FadeIn, Rectangle, Transform, VGroup, there_and_back

from ..format import shown
from ..theme import BUFF, COLORS, SIZES
from .text import label, set_on_line

__all__ = ["RunningStats"]


class RunningStats(VGroup):
    """``columns``: the header of each column ("m", "ℓ", "rescale"); ``n_rows``: rows (the block's queries).
    ``values``: initial ``values[c][r]`` (None: all placeholders). ``row_height``: the row pitch (use the tile
    grid's cell size to line rows up with the grid, see :meth:`beside`). ``col_width``: one column's width
    (default: the widest header or a "−00.00" number, padded). ``colors``: one per column (values; headers take
    it too). ``flash_color``: the fill that flashes behind a changed entry."""

    def __init__(self, columns: Sequence[str], n_rows: int, *, values: Sequence[Sequence[float | None]] | None = None,
                 decimals: int = 2, fmt: Callable[[float], str] | None = None, colors: Sequence[str] | None = None,
                 row_height: float = 0.45, col_width: float | None = None, font_size: float = SIZES.NUMBER,
                 header_size: float = SIZES.LABEL, placeholder: str = "·", flash_color: str = COLORS.ACCENT):
        super().__init__()
        if not columns:
            raise ValueError("running stats need at least one column")
        if not isinstance(n_rows, int) or n_rows <= 0:
            raise ValueError(f"n_rows must be a positive int, got {n_rows!r}")
        self.columns, self.n_rows = tuple(str(c) for c in columns), n_rows
        self.colors = list(colors) if colors is not None else [COLORS.TEXT] * len(columns)
        if len(self.colors) != len(columns):
            raise ValueError(f"{len(self.colors)} colours for {len(columns)} columns")
        self.fmt = fmt or (lambda v: shown(v, decimals))
        self.font_size, self.placeholder, self.flash_color = font_size, placeholder, flash_color
        self.row_height = row_height
        self.block: int | None = None

        self.headers = VGroup(*(label(c, size=header_size, color=col) for c, col in zip(self.columns, self.colors)))
        pad = BUFF.SMALL
        if col_width is None:
            sample = label("\u221200.00", size=font_size, mono=True).width
            col_width = max(max(h.width for h in self.headers), sample) + 2 * pad
        self.col_width, self._pad = col_width, pad
        self.slots = VGroup()
        for c in range(len(columns)):
            col = VGroup()
            for r in range(n_rows):
                cell = Rectangle(width=col_width, height=row_height).set_stroke(width=0).set_fill(opacity=0)
                cell.move_to([c * col_width, -r * row_height, 0])
                col.add(cell)
            self.slots.add(col)
        self.frame = Rectangle(width=col_width * len(columns), height=row_height * n_rows)
        self.frame.set_stroke(COLORS.GRID, 2).set_fill(opacity=0).move_to(self.slots)
        for h, col in zip(self.headers, self.slots):   # bottoms on one line (the headers are short symbols/words)
            h.next_to(col[0], UP, buff=BUFF.TIGHT)
        self.values: list[list[float | None]] = [[None] * n_rows for _ in columns]
        if values is not None:
            self.values = self._check(values)
        self.entries = VGroup(*(VGroup(*(self._entry(c, r, self.values[c][r]) for r in range(n_rows)))
                                for c in range(len(columns))))
        self.add(self.slots, self.frame, self.headers, self.entries)

    # -- helpers ----------------------------------------------------------------------------------------
    def _check(self, values) -> list[list[float | None]]:
        vals = [list(v) if v is not None else [None] * self.n_rows for v in values]
        if len(vals) != len(self.columns) or any(len(v) != self.n_rows for v in vals):
            raise ValueError(f"values must be {len(self.columns)} columns of {self.n_rows} rows, got "
                             f"{[len(v) for v in vals]}")
        return [[None if x is None else float(x) for x in v] for v in vals]

    def text(self, v: float | None) -> str:
        """What an entry with value ``v`` shows."""
        return self.placeholder if v is None else self.fmt(v)

    @property
    def _scale(self) -> float:
        return self.slots[0][0].height / self.row_height

    def _entry(self, c: int, r: int, v: float | None, color: str | None = None):
        lab = label(self.text(v), size=self.font_size, color=color or (COLORS.MUTED if v is None else self.colors[c]),
                    mono=True)
        lab.scale(self._scale)
        slot = self.slots[c][r]
        set_on_line(lab, slot.get_y())
        lab.set_x(slot.get_right()[0] - self._pad * self._scale, direction=RIGHT)
        return lab

    def shown_texts(self) -> list[list[str]]:
        """``[c][r]``: the strings on screen (for tests and checks)."""
        return [[e.original_text for e in col] for col in self.entries]

    # -- placement --------------------------------------------------------------------------------------
    def _shift_to(self, grid, block: int, buff: float):
        row0 = block * grid.block_rows
        if not 0 <= row0 < grid.n_rows:
            raise IndexError(f"row block {block} outside the grid's {grid.n_tiles[0]} row blocks")
        cell = grid.cells[row0][-1]
        x = grid.get_right()[0] + buff
        return [x - self.slots.get_left()[0], cell.get_y() - self.slots[0][0].get_y(), 0]

    @classmethod
    def beside(cls, grid, columns: Sequence[str], *, block: int = 0, buff: float = BUFF.MEDIUM, **kwargs):
        """Stats for ``grid``'s row block ``block``: one row per query of the block, at the grid's row pitch,
        ``buff`` right of the grid, each row on its grid row's line."""
        pitch = grid.cells[0][0].height
        stats = cls(columns, grid.block_rows, row_height=pitch, **kwargs)
        stats.shift(stats._shift_to(grid, block, buff))
        stats.block = block
        return stats

    def follow(self, grid, block: int, buff: float = BUFF.MEDIUM):
        """The animation that moves the stats beside row block ``block`` of ``grid`` (its rows on the grid's
        rows); ``self.animate`` of a zero shift when it is already there."""
        self.block = block
        return self.animate.shift(self._shift_to(grid, block, buff))

    # -- animation --------------------------------------------------------------------------------------
    def update_values(self, values, *, flash: bool = True) -> AnimationGroup:
        """The entries moving to ``values[c][r]`` (a column may be None: placeholders); entries whose shown
        string changes flash ``flash_color`` behind them (when ``flash``). ``.changed`` afterwards lists the
        (c, r) that changed."""
        new = self._check(values)
        anims, self.changed = [], []
        for c, col in enumerate(self.entries):
            for r, e in enumerate(col):
                target = self._entry(c, r, new[c][r])
                if target.original_text != e.original_text:
                    self.changed.append((c, r))
                    if flash:
                        anims.append(FadeIn(self.highlight_entry(c, r, fill=True), rate_func=there_and_back,
                                            remover=True))
                anims.append(Transform(e, target))
                e.original_text = target.original_text
        self.values = new
        return AnimationGroup(*anims)

    def highlight_entry(self, c: int, r: int, color: str | None = None, fill: bool = False) -> Rectangle:
        """A rectangle on entry (c, r)'s cell (not added): outlined, or filled faintly with ``fill``."""
        color = color or self.flash_color
        rect = Rectangle(width=self.slots[c][r].width, height=self.slots[c][r].height).move_to(self.slots[c][r])
        if fill:
            return rect.set_stroke(color, 2).set_fill(color, 0.35)
        return rect.set_stroke(color, 4).set_fill(opacity=0)

    def highlight_column(self, c: int, color: str | None = None) -> Rectangle:
        """A frame around column ``c`` and its header (not added)."""
        color = color or self.flash_color
        col = VGroup(self.slots[c], self.headers[c])
        return Rectangle(width=self.slots[c].width, height=col.height + BUFF.TIGHT).move_to(col).set_stroke(
            color, 4).set_fill(opacity=0)

    def highlight_row(self, r: int, color: str | None = None) -> Rectangle:
        """A frame around row ``r`` across every column (not added)."""
        color = color or self.flash_color
        row = VGroup(*(col[r] for col in self.slots))
        return Rectangle(width=row.width, height=row.height).move_to(row).set_stroke(color, 4).set_fill(opacity=0)
