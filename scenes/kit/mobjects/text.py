"""Text in the course fonts: words (sans), numbers (mono, real minus sign), and array input.

Numbers are plain ``Text`` in the mono font (no LaTeX per number: fast to build, digits line up).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from manim import Paragraph, Text, VGroup

from ..theme import COLORS, FONTS, SIZES

__all__ = ["MINUS", "NEG_INF", "as_array", "format_number", "label", "number", "paragraph", "set_on_line"]

MINUS = "\u2212"  # − (typographic minus)
NEG_INF = MINUS + "\u221e"  # −∞


def label(text: str, size: float = SIZES.LABEL, color: str = COLORS.TEXT, mono: bool = False,
          weight: str = "NORMAL", **kwargs) -> Text:
    """A word or phrase in the body font (or mono); ligatures off so glyphs match characters."""
    font = FONTS.MONO if mono else FONTS.BODY
    t = Text(str(text), font=font, font_size=size, color=color, weight=weight, disable_ligatures=True, **kwargs)
    t.kit_style = (font, size, weight)
    return t


def paragraph(lines, size: float = SIZES.BODY, color: str = COLORS.TEXT, mono: bool = False,
              line_spacing: float = 0.7, weight: str = "NORMAL") -> Paragraph:
    """Several lines, left-aligned, on evenly spaced baselines (``para[k]`` is line k's glyphs)."""
    return Paragraph(*[str(t) for t in lines], font=FONTS.MONO if mono else FONTS.BODY, font_size=size,
                     color=color, line_spacing=line_spacing, alignment="left", disable_ligatures=True,
                     weight=weight)


@lru_cache(maxsize=4096)
def _baseline_shift(text: str, font: str, size: float, weight: str) -> float:
    """(centre of ``text``'s glyphs − centre of its line box "Ag…") / height of the glyphs."""
    ref = Text("Ag" + text, font=font, font_size=size, weight=weight, disable_ligatures=True)
    glyphs = VGroup(*ref.submobjects[2:])
    if not glyphs.submobjects or glyphs.height <= 0:
        return 0.0
    return float(glyphs.get_y() - ref.get_y()) / glyphs.height


def set_on_line(lab: Text, y: float) -> Text:
    """Move a :func:`label` vertically so its line box is centred at ``y``: labels set on the same ``y``
    share a baseline ("on" sits as low as "the"), whatever their scale."""
    font, size, weight = getattr(lab, "kit_style", (FONTS.BODY, SIZES.LABEL, "NORMAL"))
    lab.set_y(y + _baseline_shift(lab.original_text, font, size, weight) * lab.height)
    return lab


def format_number(value: float, decimals: int = 2) -> str:
    """``-0.5`` → ``−0.50``; ``-inf`` → ``−∞``; ``-0.00`` is shown as ``0.00``."""
    v = float(value)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return NEG_INF if v < 0 else "\u221e"
    s = f"{v:.{decimals}f}"
    if s.startswith("-") and float(s) == 0.0:
        s = s[1:]
    return s.replace("-", MINUS)


def number(value: float, decimals: int = 2, size: float = SIZES.NUMBER, color: str = COLORS.TEXT) -> Text:
    """A number in the mono font, formatted by :func:`format_number`."""
    return Text(format_number(value, decimals), font=FONTS.MONO, font_size=size, color=color)


def as_array(values, ndim: int | None = None, name: str = "values") -> np.ndarray:
    """Tensor / ndarray / nested list → float64 ndarray (a copy), checking the number of dimensions."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    arr = np.array(values, dtype=np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    return arr
