"""A row of tokens in boxes: the running example sentence, keys/queries along a grid, a decoded prefix."""
from __future__ import annotations

from collections.abc import Sequence

from manim import DOWN, RIGHT, RoundedRectangle, SurroundingRectangle, VGroup

from ..theme import BUFF, COLORS, SIZES, role_color
from .text import label, set_on_line

__all__ = ["TokenRow"]


class TokenRow(VGroup):
    """Tokens in rounded boxes, left to right.

    Parts: ``.boxes``, ``.labels``, ``.items`` (``items[i]`` = VGroup(box, label)), ``.indices``
    (position numbers under the boxes when ``show_indices``). ``row[i]`` is ``items[i]`` (items come first).
    """

    def __init__(self, tokens: Sequence[str], *, role: str | None = None, font_size: float = SIZES.LABEL,
                 buff: float = BUFF.SMALL, pad: float = 0.16, min_width: float = 0.55,
                 show_indices: bool = False, fill_opacity: float = 0.12):
        super().__init__()
        if len(tokens) == 0:
            raise ValueError("TokenRow needs at least one token")
        self.tokens = [str(t) for t in tokens]
        color = role_color(role)
        self.labels = VGroup(*(label(t, size=font_size, color=COLORS.TEXT) for t in self.tokens))
        height = max(lab.height for lab in self.labels) + 2 * pad
        height = max(height, label("Ag", size=font_size).height + 2 * pad)
        self.boxes = VGroup()
        for lab in self.labels:
            box = RoundedRectangle(width=max(min_width, lab.width + 2 * pad), height=height, corner_radius=0.08,
                                   stroke_color=color if role else COLORS.GRID, stroke_width=2,
                                   fill_color=color if role else COLORS.PANEL, fill_opacity=fill_opacity)
            self.boxes.add(box)
        self.boxes.arrange(RIGHT, buff=buff)
        for lab, box in zip(self.labels, self.boxes):
            set_on_line(lab.move_to(box), box.get_y())  # one baseline for all tokens
        self.items = VGroup(*(VGroup(b, lab) for b, lab in zip(self.boxes, self.labels)))
        self.add(*self.items)
        self.indices = VGroup()
        if show_indices:
            for k, box in enumerate(self.boxes):
                index = label(str(k), size=SIZES.CAPTION, color=COLORS.MUTED)
                self.indices.add(index.next_to(box, DOWN, buff=BUFF.TIGHT))
            self.add(self.indices)

    def mark_pads(self, start: int) -> TokenRow:
        """Style tokens ``start`` … end as padding (mask-coloured boxes, muted words); returns the row."""
        if not 0 <= start <= len(self.tokens):
            raise ValueError(f"start must be in 0..{len(self.tokens)}, got {start}")
        for k in range(start, len(self.tokens)):
            self.boxes[k].set_stroke(COLORS.MASK, 2).set_fill(COLORS.MASK, 0.15)
            self.labels[k].set_color(COLORS.MUTED)
        return self

    def highlight(self, i: int, color: str = COLORS.ACCENT, buff: float = 0.05) -> SurroundingRectangle:
        """A rectangle around token ``i`` (not added; animate it with Create)."""
        return SurroundingRectangle(self.boxes[i], color=color, buff=buff, corner_radius=0.1)
