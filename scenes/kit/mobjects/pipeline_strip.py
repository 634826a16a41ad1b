"""A compact progress strip: the stages of a computation left to right, the current one highlighted.

    strip = PipelineStrip([("X", None), ("Q K V", None), ("QKᵀ", "SCORE"), ("softmax", "WEIGHT")],
                          colors={"Q": COLORS.Q, "K": COLORS.K, "V": COLORS.V})
    self.play(strip.animate.set_current(2))   # stages 0, 1 done, stage 2 current, the rest to come

Each stage is ``(text, role)``; ``role`` names a theme colour (``"SCORE"``, ``"WEIGHT"`` …) or is None
(TEXT). ``colors`` colours substrings of every label (e.g. Q, K, V in their role colours), as ``t2c``.
Done stages keep their role colour, the current one is filled and outlined in ACCENT, stages to come
are muted. Parts: ``.boxes``, ``.labels``, ``.arrows``, ``.stages`` (``stages[k]`` = VGroup(box, label)),
``.current`` (index, or None before ``set_current``), ``.texts`` (the stage texts).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from manim import ORIGIN, RIGHT, Arrow, RoundedRectangle, VGroup

from ..theme import BUFF, COLORS, SAFE, SIZES, role_color
from .layout import fit_within
from .text import label, set_on_line

__all__ = ["PipelineStrip"]


class PipelineStrip(VGroup):
    """Stages in rounded boxes joined by arrows; ``set_current(k)`` restyles them (see module docstring)."""

    def __init__(self, stages: Sequence[tuple[str, str | None]], *, colors: Mapping[str, str] | None = None,
                 font_size: float = SIZES.SMALL, pad: float = 0.14, arrow_length: float = 0.42,
                 max_width: float = SAFE.width):
        super().__init__()
        if not stages:
            raise ValueError("PipelineStrip needs at least one stage")
        self.texts = [str(t) for t, _ in stages]
        self.roles = [r for _, r in stages]
        self._colors = dict(colors or {})
        self.labels = VGroup(*(label(t, size=font_size, color=COLORS.TEXT) for t in self.texts))
        height = label("Ag", size=font_size).height + 2 * pad
        self.boxes = VGroup(*(RoundedRectangle(width=lab.width + 2.2 * pad, height=height, corner_radius=0.1)
                              for lab in self.labels))
        self.boxes.arrange(RIGHT, buff=arrow_length + 2 * BUFF.TIGHT)
        for lab, box in zip(self.labels, self.boxes):
            set_on_line(lab.move_to(box), box.get_y())
        self.arrows = VGroup(*(
            Arrow(a.get_right(), b.get_left(), buff=BUFF.TIGHT, stroke_width=2.5, tip_length=0.12,
                  max_tip_length_to_length_ratio=0.4, color=COLORS.GRID)
            for a, b in zip(self.boxes[:-1], self.boxes[1:])))
        self.stages = VGroup(*(VGroup(b, lab) for b, lab in zip(self.boxes, self.labels)))
        self.add(self.arrows, self.stages)
        self.current: int | None = None
        self._paint(None)
        fit_within(self, max_width, None)
        self.move_to(ORIGIN)

    def state(self, k: int) -> str:
        """``"done"``, ``"current"`` or ``"todo"`` for stage ``k`` (all ``"todo"`` before ``set_current``)."""
        if self.current is None or k > self.current:
            return "todo"
        return "current" if k == self.current else "done"

    def _paint(self, current: int | None) -> None:
        self.current = current
        for k, (box, lab) in enumerate(zip(self.boxes, self.labels)):
            color = role_color(self.roles[k])
            state = self.state(k)
            if state == "current":
                box.set_stroke(COLORS.ACCENT, 4, opacity=1).set_fill(COLORS.ACCENT, 0.22)
                lab.set_color(COLORS.TEXT).set_opacity(1)
            elif state == "done":
                box.set_stroke(color, 2, opacity=0.9).set_fill(color, 0.08)
                lab.set_color(color).set_opacity(1)
            else:
                box.set_stroke(COLORS.GRID, 1.5, opacity=1).set_fill(COLORS.PANEL, 1)
                lab.set_color(COLORS.MUTED).set_opacity(1)
            if state != "todo":  # role colours for Q, K, V … inside done and current labels
                for sub, c in self._colors.items():
                    for part in _find_all(lab, sub):
                        part.set_color(c)
        for k, arrow in enumerate(self.arrows):
            arrow.set_color(COLORS.TEXT if current is not None and k < current else COLORS.GRID)

    def set_current(self, k: int | None) -> PipelineStrip:
        """Make stage ``k`` the current one (earlier stages done); None: none started. Returns self."""
        if k is not None and not 0 <= k < len(self.texts):
            raise IndexError(f"stage {k} outside 0..{len(self.texts) - 1}")
        self._paint(k)
        return self

    def advance(self) -> PipelineStrip:
        """Move to the next stage (the first one when none started). Returns self."""
        return self.set_current(0 if self.current is None else min(self.current + 1, len(self.texts) - 1))

    def highlight(self, k: int):
        """The box of stage ``k`` (for ``Indicate`` and the like)."""
        return self.stages[k]


def _find_all(lab, sub: str) -> list:
    """The glyph groups of ``lab`` that spell ``sub`` (one submobject per character, spaces included)."""
    text = lab.original_text
    if not sub or len(lab.submobjects) != len(text):
        return []
    out, start = [], text.find(sub)
    while start >= 0:
        out.append(VGroup(*lab.submobjects[start:start + len(sub)]))
        start = text.find(sub, start + 1)
    return out
