"""A timeline (or a road map): evenly spaced stops on a line, a label above and a tag below each.

    Timeline([(str(m.year), "RNN") for m in history()], dashed_after=(2,))

Stops are evenly spaced (not to scale), so clustered years stay readable; ``dashed_after`` draws the
segment after stop ``i`` dashed, to mark a long gap. The same mobject serves as a lecture road map
(topic ids above, short names below).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import DOWN, ORIGIN, UP, Circle, DashedLine, Line, VGroup

from ..theme import BUFF, COLORS, SAFE, SIZES
from .matrices import _fit_uniform
from .text import label, set_on_line

__all__ = ["Timeline"]


class Timeline(VGroup):
    """Stops on a horizontal line: ``events`` = [(above, below), ...], left to right.

    Parts: ``.segments`` (Line or DashedLine between stops i and i+1, ``len(events) - 1`` of them),
    ``.nodes`` (Circle per stop), ``.tops`` and ``.bottoms`` (labels, one baseline each),
    ``.items[i]`` = VGroup(node, top, bottom). ``node_state(i, state)`` restyles a stop
    (``"future"``, ``"current"``, ``"past"``) and returns it; ``advance_to(i)`` restyles the whole road at
    once, ``step_to(i)`` returns the animations that take it there, ``step_next()`` those to the next stop,
    and ``pulse()`` indicates the current stop.
    """

    STATES = ("future", "current", "past")

    def __init__(self, events: Sequence[tuple[str, str]], *, width: float = SAFE.width - 0.4,
                 node_radius: float = 0.11, top_size: float = SIZES.SMALL, bottom_size: float = SIZES.SMALL,
                 top_mono: bool = True, dashed_after: Sequence[int] = (), color: str = COLORS.ACCENT,
                 label_buff: float = BUFF.SMALL):
        super().__init__()
        if len(events) < 2:
            raise ValueError(f"a timeline needs at least two events, got {len(events)}")
        for k in dashed_after:
            if not 0 <= k < len(events) - 1:
                raise ValueError(f"dashed_after index {k} is not a segment of {len(events)} stops")
        self.events = [(str(a), str(b)) for a, b in events]
        self.color = color
        n = len(events)
        pitch = width / (n - 1 + 1.0)  # half a pitch of room beyond the first and last stop
        xs = [(-(n - 1) / 2 + k) * pitch for k in range(n)]
        self.positions = [np.array([x, 0.0, 0.0]) for x in xs]

        self.nodes = VGroup(*(Circle(radius=node_radius).move_to(p) for p in self.positions))
        self.segments = VGroup()
        for k in range(n - 1):
            a = self.positions[k] + np.array([node_radius, 0, 0])
            b = self.positions[k + 1] - np.array([node_radius, 0, 0])
            seg = DashedLine(a, b, dash_length=0.09, dashed_ratio=0.55) if k in dashed_after else Line(a, b)
            self.segments.add(seg.set_stroke(COLORS.GRID, 3))

        self.tops = VGroup(*(label(a, size=top_size, color=COLORS.MUTED, mono=top_mono) for a, _ in self.events))
        self.bottoms = VGroup(*(label(b, size=bottom_size, color=COLORS.MUTED) for _, b in self.events))
        _fit_uniform(list(self.tops), 0.92 * pitch, 10.0)
        _fit_uniform(list(self.bottoms), 0.92 * pitch, 10.0)
        for p, t, b in zip(self.positions, self.tops, self.bottoms):  # one baseline per row of labels
            set_on_line(t, 0.0).set_x(p[0])
            set_on_line(b, 0.0).set_x(p[0])
        gap = node_radius + label_buff
        self.tops.shift(UP * (gap - min(t.get_bottom()[1] for t in self.tops)))
        self.bottoms.shift(DOWN * (gap + max(b.get_top()[1] for b in self.bottoms)))
        self.items = VGroup(*(VGroup(nd, t, b) for nd, t, b in zip(self.nodes, self.tops, self.bottoms)))
        self.states = ["future"] * n  # per stop, as last styled (or animated to)
        self.lit = [False] * (n - 1)  # per segment: drawn bright (the road travelled)
        for k in range(n):
            self.node_state(k, "future")
        self.add(self.segments, self.nodes, self.tops, self.bottoms)
        self.move_to(ORIGIN)

    def __len__(self) -> int:  # number of stops (VGroup's len would count the four part groups)
        return len(self.events)

    def node_state(self, i: int, state: str) -> VGroup:
        """Restyle stop ``i``: future (dim outline), current (filled accent, labels bright), past (filled muted)."""
        if state not in self.STATES:
            raise ValueError(f"state must be one of {self.STATES}, got {state!r}")
        self._style(self.items[i], state)
        self.states[i] = state
        return self.items[i]

    def _style(self, item: VGroup, state: str) -> VGroup:
        node, top, bottom = item
        if state == "future":
            node.set_stroke(COLORS.GRID, 3).set_fill(COLORS.BACKGROUND, 1)
            top.set_color(COLORS.MUTED)
            bottom.set_color(COLORS.MUTED)
        elif state == "current":
            node.set_stroke(self.color, 4).set_fill(self.color, 1)
            top.set_color(self.color)
            bottom.set_color(COLORS.TEXT)
        else:
            node.set_stroke(COLORS.TEXT, 3).set_fill(COLORS.TEXT, 1)
            top.set_color(COLORS.TEXT)
            bottom.set_color(COLORS.TEXT)
        return item

    @staticmethod
    def _state_at(k: int, i: int) -> str:
        return "past" if k < i else "current" if k == i else "future"

    def advance_to(self, i: int) -> Timeline:
        """Stops before ``i`` past, ``i`` current, later ones future; the road travelled drawn bright.
        Restyles at once and returns self (see ``step_to`` for the animated version)."""
        if not 0 <= i < len(self):
            raise ValueError(f"stop {i} is not one of {len(self)}")
        for k in range(len(self)):
            self.node_state(k, self._state_at(k, i))
        for k, seg in enumerate(self.segments):
            seg.set_stroke(COLORS.TEXT if k < i else COLORS.GRID, 3)
            self.lit[k] = k < i
        return self

    def step_to(self, i: int) -> list:
        """Animations taking the timeline to stop ``i`` (only the stops and segments that change):
        ``self.play(*tl.step_to(3))``. An empty list when nothing changes."""
        from manim import Transform

        if not 0 <= i < len(self):
            raise ValueError(f"stop {i} is not one of {len(self)}")
        anims = []
        for k in range(len(self)):
            state = self._state_at(k, i)
            if self.states[k] != state:
                anims.append(Transform(self.items[k], self._style(self.items[k].copy(), state)))
                self.states[k] = state
        for k, seg in enumerate(self.segments):
            lit = k < i
            if self.lit[k] != lit:
                anims.append(seg.animate.set_stroke(COLORS.TEXT if lit else COLORS.GRID, 3))
                self.lit[k] = lit
        return anims

    def segment_up_to(self, i: int) -> VGroup:
        """The segments from the first stop to stop ``i`` (for colouring the road travelled)."""
        return VGroup(*self.segments[:max(0, i)])

    def stop_center(self, i: int) -> np.ndarray:
        return self.nodes[i].get_center()

    def below(self, i: int) -> np.ndarray:
        """A point just under stop ``i``'s tag (to hang a pointer from)."""
        return self.bottoms[i].get_bottom() + DOWN * BUFF.TIGHT

    def above(self, i: int) -> np.ndarray:
        return self.tops[i].get_top() + UP * BUFF.TIGHT

    @property
    def current(self) -> int | None:
        """The stop styled "current" (None before the first ``step_to`` / ``step_next``)."""
        return self.states.index("current") if "current" in self.states else None

    def step_next(self) -> list:
        """Animations taking the timeline on to the next stop (the first, from the start):
        ``self.play(*tl.step_next())``. Raises ``ValueError`` past the last stop."""
        i = 0 if self.current is None else self.current + 1
        if i >= len(self):
            raise ValueError(f"the timeline is already at its last stop ({len(self) - 1})")
        return self.step_to(i)

    def pulse(self, i: int | None = None, scale_factor: float = 1.15):
        """An ``Indicate`` of stop ``i`` (default: the current one) in the timeline's colour, to play
        once the stop is reached (not in the same ``play`` as the ``step_next`` that restyles it)."""
        from manim import Indicate

        i = self.current if i is None else i
        if i is None or not 0 <= i < len(self):
            raise ValueError(f"no stop {i} to pulse on a timeline of {len(self)}")
        return Indicate(self.items[i], color=self.color, scale_factor=scale_factor)
