"""Text in the course fonts: words (sans), numbers (mono, real minus sign), and array input.

Numbers are plain ``Text`` in the mono font (no LaTeX per number: fast to build, digits line up).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from manim import DOWN, RIGHT, Paragraph, Text, VGroup

from ..format import MINUS, NEG_INF, shown
from ..theme import COLORS, FONTS, SIZES

__all__ = ["MINUS", "NEG_INF", "as_array", "drop_svg_sources", "expression", "label", "number", "paragraph",
           "set_on_line"]


def drop_svg_sources(mob):
    """Let go of each glyph's parsed SVG path (``path_obj``) once its outline is built; returns ``mob``.

    manim keeps the svgelements path of every glyph of a ``Text`` or ``MathTex`` after turning it into
    points, and deep-copies it with every copy of the text: every ``FadeIn``, ``FadeOut`` and
    ``Transform`` copies its mobject, and for a page of text half of that time went into these paths
    (10 lines of 41 characters: 0.33 s per copy with them, 0.15 s without). manim reads the path only
    while building the points (``VMobjectFromSVGPath.generate_points``); tests/kit/test_text.py fails if
    that changes. The picture is unchanged: the points are.
    """
    for m in mob.get_family():
        if getattr(m, "path_obj", None) is not None:
            m.path_obj = None
    return mob


def label(text: str, size: float = SIZES.LABEL, color: str = COLORS.TEXT, mono: bool = False,
          weight: str = "NORMAL", **kwargs) -> Text:
    """A word or phrase in the body font (or mono); ligatures off so glyphs match characters."""
    font = FONTS.MONO if mono else FONTS.BODY
    t = Text(str(text), font=font, font_size=size, color=color, weight=weight, disable_ligatures=True, **kwargs)
    t.kit_style = (font, size, weight)
    return drop_svg_sources(t)


def paragraph(lines, size: float = SIZES.BODY, color: str = COLORS.TEXT, mono: bool = False,
              line_spacing: float = 0.7, weight: str = "NORMAL") -> Paragraph:
    """Several lines, left-aligned, on evenly spaced baselines (``para[k]`` is line k's glyphs)."""
    return drop_svg_sources(Paragraph(*[str(t) for t in lines], font=FONTS.MONO if mono else FONTS.BODY,
                                      font_size=size, color=color, line_spacing=line_spacing, alignment="left",
                                      disable_ligatures=True, weight=weight))


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


def expression(*parts, size: float = SIZES.BODY) -> VGroup:
    """Words and symbols on one baseline, left to right, one :func:`label` per part (``expr[k]``).

    A part is ``"text"``, ``("text", colour)`` or ``("text", colour, "sub")``: a subscript, smaller and
    lower, right after the part before it (``expression("W", ("Q", COLORS.Q, "sub"))`` is W_Q).
    """
    if not parts:
        raise ValueError("expression() needs at least one part")
    group = VGroup()
    for part in parts:
        if isinstance(part, str):
            text, color, sub = part, COLORS.TEXT, False
        elif isinstance(part, tuple) and len(part) in (2, 3) and (len(part) == 2 or part[2] == "sub"):
            text, color, sub = part[0], part[1], len(part) == 3
        else:
            raise ValueError(f"an expression part is 'text', ('text', colour) or ('text', colour, 'sub'); "
                             f"got {part!r}")
        if sub:
            if not len(group):
                raise ValueError(f"subscript {text!r} has no part before it")
            t = label(text, size=max(SIZES.SMALL, 0.72 * size), color=color)
            t.next_to(group, RIGHT, buff=0.03).align_to(group[-1], DOWN).shift(DOWN * 0.1)
        else:
            t = label(text, size=size, color=color)
            if len(group):
                t.next_to(group, RIGHT, buff=0.12)
            set_on_line(t, 0.0)
        group.add(t)
    return group


def number(value: float, decimals: int = 2, size: float = SIZES.NUMBER, color: str = COLORS.TEXT) -> Text:
    """A number in the mono font, formatted by :func:`scenes.kit.format.shown`."""
    return drop_svg_sources(Text(shown(value, decimals), font=FONTS.MONO, font_size=size, color=color))


def as_array(values, ndim: int | None = None, name: str = "values") -> np.ndarray:
    """Tensor / ndarray / nested list → float64 ndarray (a copy), checking the number of dimensions."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    arr = np.array(values, dtype=np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    return arr
