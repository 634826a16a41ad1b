"""``SMOccupancy``: the streaming multiprocessors of a GPU as a grid of squares, filled by the thread blocks of
one kernel launch. A launch of ``blocks`` thread blocks on ``sms`` SMs runs in ``ceil(blocks / sms)`` waves; in
a wave every SM takes at most one block (one block per SM, the simple model the FlashAttention-2 paper uses to
argue for splitting the sequence), so a launch with fewer blocks than SMs leaves SMs idle, and the last wave
of a long launch may be partial.

    p = data.parallelism().cases[1]                   # 16 blocks (batch 1 × 16 heads) on 132 SMs
    occ = SMOccupancy(p.sms, p.fa1_blocks, title="FlashAttention-1")
    self.play(FadeIn(occ))
    self.play(occ.launch())                           # the first wave's squares light up, one after the other
    self.play(occ.show_wave(occ.waves - 1))           # the last wave (partial when blocks % sms != 0)

Lecture 6 shows FA-1 (one block per batch × head) against FA-2 (also one per Q block); later lectures reuse
it for decoding (one block per sequence, split-K) and for parallelism across devices.

Parts: ``.squares`` (one per SM, row-major, ``columns`` per row), ``.title`` (empty VGroup when none),
``.caption`` (blocks, waves), ``.status`` (the wave shown, busy SMs). Numbers: ``.sms``, ``.blocks``,
``.waves``, ``.busy(w)`` (blocks in wave ``w``), ``.idle(w)``, ``.fill`` (busy fraction of the first wave =
min(1, blocks / sms)), ``.busy_color``, ``.wave`` (the wave shown, -1 before ``launch``).
``idle_squares(w)`` are the squares left idle in wave ``w``; ``mark_idle(w)`` outlines them (an animation).
Strings are made with :func:`scenes.kit.format.grouped`, so the screen shows exactly the counts passed in;
nothing else is computed but positions and the wave arithmetic.
"""
from __future__ import annotations

import math

from manim import DOWN, AnimationGroup, LaggedStart, Square, Transform, VGroup

from ..format import grouped
from ..theme import BUFF, COLORS, SIZES
from .text import label

__all__ = ["SMOccupancy"]


class SMOccupancy(VGroup):
    """``sms`` squares in rows of ``columns``, lit by a launch of ``blocks`` thread blocks (see the module
    docstring). ``cell``: a square's side; ``gap``: between squares; ``color``: a busy SM; ``title``: a line
    above the grid (None: none); ``unit``: what the SMs are called in the caption ("SMs")."""

    def __init__(self, sms: int, blocks: int, *, columns: int = 12, cell: float = 0.22, gap: float = 0.05,
                 title: str | None = None, color: str = COLORS.ACCENT, unit: str = "SMs",
                 font_size: float = SIZES.LABEL, title_color: str = COLORS.TEXT):
        super().__init__()
        for name, v in (("sms", sms), ("blocks", blocks), ("columns", columns)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.sms, self.blocks, self.columns, self.busy_color, self.unit = sms, blocks, columns, color, unit
        self.font_size = font_size
        self.waves = math.ceil(blocks / sms)
        self.fill = min(1.0, blocks / sms)
        self.wave = -1
        self.squares = VGroup()
        for k in range(sms):
            r, c = divmod(k, columns)
            sq = Square(cell).set_stroke(COLORS.GRID, 1.5).set_fill(COLORS.PANEL, 1)
            sq.move_to([c * (cell + gap), -r * (cell + gap), 0])
            self.squares.add(sq)
        self.title = VGroup()
        if title:
            self.title = label(title, size=font_size, color=title_color)
            self.title.next_to(self.squares, direction=[0, 1, 0], buff=BUFF.SMALL)
        self.caption = label(self.caption_text(), size=font_size, color=COLORS.TEXT)
        self.caption.next_to(self.squares, DOWN, buff=BUFF.SMALL)
        self.status = self._status_label(-1)
        self.add(self.title, self.squares, self.caption, self.status)

    # -- numbers ----------------------------------------------------------------------------------------
    def busy(self, wave: int) -> int:
        """Thread blocks running in wave ``wave`` (0-based): ``sms`` except in the last, partial wave."""
        if not 0 <= wave < self.waves:
            raise IndexError(f"wave {wave} outside 0…{self.waves - 1}")
        return min(self.sms, self.blocks - wave * self.sms)

    def idle(self, wave: int = 0) -> int:
        return self.sms - self.busy(wave)

    def caption_text(self) -> str:
        waves = "wave" if self.waves == 1 else "waves"
        return f"{grouped(self.blocks)} blocks: {grouped(self.waves)} {waves}"

    def status_text(self, wave: int) -> str:
        if wave < 0:
            return "not launched"
        return f"wave {grouped(wave + 1)}: {grouped(self.busy(wave))} of {grouped(self.sms)} {self.unit} busy"

    # -- geometry ---------------------------------------------------------------------------------------
    def _status_label(self, wave: int):
        lab = label(self.status_text(wave), size=self.font_size, color=COLORS.MUTED)
        lab.next_to(self.caption, DOWN, buff=BUFF.SMALL)
        return lab

    def idle_squares(self, wave: int = 0) -> VGroup:
        """The squares left idle in ``wave`` (an empty VGroup when every SM is busy)."""
        return VGroup(*self.squares[self.busy(wave):])

    # -- animation --------------------------------------------------------------------------------------
    def _fills(self, wave: int) -> list:
        n = self.busy(wave)
        return [sq.animate.set_fill(self.busy_color if k < n else COLORS.PANEL, 1) for k, sq in enumerate(self.squares)]

    def launch(self, lag_ratio: float = 0.02) -> AnimationGroup:
        """The first wave: busy squares light up one after the other, the status line follows."""
        self.wave = 0
        n = self.busy(0)
        status = self._status_label(0)
        self.status.original_text = status.original_text
        lit = LaggedStart(*(self.squares[k].animate.set_fill(self.busy_color, 1) for k in range(n)),
                          lag_ratio=lag_ratio)
        return AnimationGroup(lit, Transform(self.status, status))

    def mark_idle(self, wave: int = 0, color: str = COLORS.MASK) -> AnimationGroup:
        """The idle squares of ``wave`` outlined in ``color`` (an empty animation when none is idle)."""
        return AnimationGroup(*(sq.animate.set_stroke(color, 2.5) for sq in self.idle_squares(wave)))

    def show_wave(self, wave: int) -> AnimationGroup:
        """The squares and status line of wave ``wave`` (0-based)."""
        self.busy(wave)                                   # range check
        self.wave = wave
        status = self._status_label(wave)
        self.status.original_text = status.original_text
        return AnimationGroup(*self._fills(wave), Transform(self.status, status))
