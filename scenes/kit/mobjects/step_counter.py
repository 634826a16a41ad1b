"""``StepCounter``: running totals that tick step by step — a :class:`MetricCard` whose rows are counters
(e.g. "FLOPs saved" and "bytes spent" while a model decodes; Lecture 6 counts HBM reads and writes per tile
the same way), each with the step's increment ("+1,024") printed beside it and the current step under a rule.

    c = data.counters()
    counter = StepCounter("per layer, per head", [("FLOPs saved", c.cumulative_saved),
                                                  ("bytes spent", c.cache_bytes)],
                          increments=[c.flops_saved, c.bytes_added], steps=c.steps,
                          colors=[COLORS.WEIGHT, COLORS.K])
    self.play(FadeIn(counter))                       # shows step index ``start`` (default 0: the first step)
    for k in range(1, len(c.steps)):
        self.play(counter.show_step(k), run_time=0.4)

The counter formats the numbers it is given with ``fmt`` (default :func:`scenes.kit.format.grouped`: whole
numbers with thousands separators), so the screen string is always the builder's value; it computes nothing
but positions. The card is as wide as the widest total any step will show, so it never changes size while it
ticks; values stay right-aligned on one edge, increments left-aligned just right of the frame.

Parts: ``.card`` (the MetricCard: ``.card.frame``, ``.card.title``, ``.card.names``), ``.values`` (one label
per row, the current totals), ``.increments`` (one label per row, empty VGroup for a row without increments),
``.step_label`` (the card's note: "step 3"), ``.full_width`` (card + widest increment: ``place(x, y)`` centres
that span), ``.index`` (the step index shown, or the one an animation made by
:meth:`show_step` moves to). ``highlight_row(i)`` returns a frame around row ``i`` (not added).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from manim import LEFT, RIGHT, AnimationGroup, Rectangle, Transform, VGroup

from ..format import grouped
from ..theme import BUFF, COLORS, SIZES
from .metric_card import MetricCard
from .text import label, set_on_line

__all__ = ["StepCounter"]


def _step_text(step) -> str:
    return f"step {step}"


class StepCounter(VGroup):
    """Counters over steps. ``rows``: ``(name, totals)`` pairs, ``totals[k]`` the running total after step
    index ``k`` (all rows as long). ``increments``: per row the step's own amount (same length) or None (no
    "+x" column for that row); the whole argument None: no increments. ``steps``: what each index is called
    (default 1, 2, …); ``step_text(step)`` makes the note ("step 3"). ``colors``: one per row (values and
    increments; names stay in the text colour). ``sign``: printed before an increment. ``start``: the index
    shown first. ``width``: the card's outer width (None: as wide as the widest content)."""

    def __init__(self, title: str, rows: Sequence[tuple[str, Sequence[float]]], *,
                 increments: Sequence[Sequence[float] | None] | None = None, steps: Sequence | None = None,
                 colors: Sequence[str] | None = None, fmt: Callable[[float], str] = grouped,
                 step_text: Callable[[object], str] = _step_text, sign: str = "+", start: int = 0,
                 width: float | None = None, font_size: float = SIZES.LABEL, title_size: float = SIZES.BODY,
                 color: str = COLORS.ACCENT, row_height: float = 0.55):
        super().__init__()
        if not rows:
            raise ValueError("a step counter needs at least one row")
        self.totals = [tuple(float(x) for x in r[1]) for r in rows]
        n = len(self.totals[0])
        if n == 0 or any(len(t) != n for t in self.totals):
            raise ValueError(f"every row needs the same, non-zero number of steps, got {[len(t) for t in self.totals]}")
        incs = list(increments) if increments is not None else [None] * len(rows)
        if len(incs) != len(rows):
            raise ValueError(f"{len(incs)} increment series for {len(rows)} rows")
        self.increments_data = [None if s is None else tuple(float(x) for x in s) for s in incs]
        for i, s in enumerate(self.increments_data):
            if s is not None and len(s) != n:
                raise ValueError(f"row {i}: {len(s)} increments for {n} steps")
        self.steps = tuple(steps) if steps is not None else tuple(range(1, n + 1))
        if len(self.steps) != n:
            raise ValueError(f"{len(self.steps)} step names for {n} steps")
        self.colors = list(colors) if colors is not None else [COLORS.TEXT] * len(rows)
        if len(self.colors) != len(rows):
            raise ValueError(f"{len(self.colors)} colours for {len(rows)} rows")
        if not 0 <= start < n:
            raise IndexError(f"start {start} outside 0…{n - 1}")
        self.fmt, self.step_text, self.sign, self.font_size = fmt, step_text, sign, font_size
        self.n_steps = n

        widest = [max((fmt(v) for v in t), key=len) for t in self.totals]
        widest_step = max((step_text(s) for s in self.steps), key=len)
        self.card = MetricCard(title, [(str(r[0]), w) for r, w in zip(rows, widest)], color=color, width=width,
                               note=widest_step, note_color=COLORS.MUTED, font_size=font_size,
                               title_size=title_size, row_height=row_height)
        # positions relative to the frame's centre, in the card's own units (the counter may be moved or scaled)
        frame = self.card.frame
        self._w0 = frame.width
        cx, cy = frame.get_center()[:2]
        pad = (frame.width - self.card.inner_width) / 2
        self._value_dx = frame.get_right()[0] - pad - cx
        self._note_dx = frame.get_left()[0] + pad - cx
        self._line_dy = [-row_height * k - cy for k in range(len(rows))]
        self._note_dy = self.card.note.get_y() - cy
        self._inc_gap = BUFF.SMALL

        self.values = VGroup(*self.card.values)
        self.step_label = self.card.note
        self.increments = VGroup(*(VGroup() for _ in rows))
        self.index = start
        for i, v in enumerate(self.values):
            v.become(self._value_label(i, start))
            v.original_text = fmt(self.totals[i][start])
        self.step_label.become(self._note_label(start))
        self.step_label.original_text = step_text(self.steps[start])
        for i in range(len(rows)):
            if self.increments_data[i] is not None:
                lab = self._increment_label(i, start)
                self.increments[i] = lab
        self._inc_w0 = max((label(f"{sign}{fmt(x)}", size=font_size, mono=True).width
                            for s in self.increments_data if s is not None for x in s), default=0.0)
        self.add(self.card, self.increments)

    # -- geometry ---------------------------------------------------------------------------------------
    @property
    def _scale(self) -> float:
        return self.card.frame.width / self._w0

    def _at(self, dx: float, dy: float):
        c = self.card.frame.get_center()
        s = self._scale
        return c[0] + dx * s, c[1] + dy * s

    def _value_label(self, i: int, k: int):
        lab = label(self.fmt(self.totals[i][k]), size=self.font_size, color=self.colors[i], mono=True)
        lab.scale(self._scale)
        x, y = self._at(self._value_dx, self._line_dy[i])
        set_on_line(lab, y).set_x(x, direction=RIGHT)
        return lab

    def _note_label(self, k: int):
        lab = label(self.step_text(self.steps[k]), size=self.font_size, color=COLORS.MUTED)
        lab.scale(self._scale)
        x, _ = self._at(self._note_dx, 0)
        lab.set_x(x, direction=LEFT).set_y(self._at(0, self._note_dy)[1])
        return lab

    def _increment_label(self, i: int, k: int):
        lab = label(f"{self.sign}{self.fmt(self.increments_data[i][k])}", size=self.font_size,
                    color=self.colors[i], mono=True)
        lab.scale(self._scale)
        _, y = self._at(0, self._line_dy[i])
        set_on_line(lab, y).set_x(self.card.frame.get_right()[0] + self._inc_gap * self._scale, direction=LEFT)
        return lab

    @property
    def full_width(self) -> float:
        """The card's width plus the widest increment any step shows (what to keep inside the frame)."""
        extra = (self._inc_gap + self._inc_w0) * self._scale if self._inc_w0 else 0.0
        return self.card.frame.width + extra

    def place(self, x: float, y: float) -> StepCounter:
        """Centre the card and its widest increment column at (x, y) (the card's frame centred vertically)."""
        left = x - self.full_width / 2
        self.shift([left - self.card.frame.get_left()[0], y - self.card.frame.get_y(), 0])
        return self

    # -- animation --------------------------------------------------------------------------------------
    def show_step(self, k: int) -> AnimationGroup:
        """The totals, increments and step note moving to step index ``k`` (an animation to play)."""
        if not 0 <= k < self.n_steps:
            raise IndexError(f"step index {k} outside 0…{self.n_steps - 1}")
        anims = []
        for i, v in enumerate(self.values):
            anims.append(Transform(v, self._value_label(i, k)))
            v.original_text = self.fmt(self.totals[i][k])
        for i, inc in enumerate(self.increments):
            if self.increments_data[i] is not None:
                new = self._increment_label(i, k)
                anims.append(Transform(inc, new))
                inc.original_text = new.original_text
        anims.append(Transform(self.step_label, self._note_label(k)))
        self.step_label.original_text = self.step_text(self.steps[k])
        self.index = k
        return AnimationGroup(*anims)

    def highlight_row(self, i: int, color: str = COLORS.ACCENT, stroke_width: float = 3) -> Rectangle:
        """A frame around row ``i`` (its name and total), the card's inner width."""
        return self.card.highlight_row(i, color, stroke_width)
