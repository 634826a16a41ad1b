"""The one visual language of the course: palette, heat-map ramp, fonts, sizes, buffers, safe frame.

Every scene and kit mobject takes its colours, fonts and sizes from here; literals are not repeated
elsewhere. Role colours follow the paper's roles: queries Q, keys K, values V, scores S = QKᵀ/√d,
weights P = softmax(S) (probabilities), masked (−∞) cells, the output PV, heads and experts.
Colour math (sRGB ↔ OKLab, WCAG contrast) lives here too, so tests can check the palette.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields

__all__ = [
    "BUFF",
    "COLORS",
    "FONTS",
    "FRAME",
    "HEAT_STOPS",
    "SAFE",
    "SIZES",
    "Palette",
    "SafeArea",
    "contrast_ratio",
    "heat_color",
    "hex_to_rgb",
    "oklab_distance",
    "relative_luminance",
    "rgb_to_hex",
    "role_color",
    "text_color_on",
    "to_oklab",
]

_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class Palette:
    """Role colours (hex). ``COLORS.Q`` or ``COLORS["Q"]``."""

    BACKGROUND: str = "#0F1117"  # matches manim.cfg
    TEXT: str = "#E8EAED"
    MUTED: str = "#8B93A7"  # secondary text, captions, provenance lines
    GRID: str = "#3A4152"  # cell borders, axes, brackets
    PANEL: str = "#1A1E29"  # card / code panel backgrounds, one step above BACKGROUND
    ACCENT: str = "#FF922B"  # highlights: the cell, row or tile under discussion
    Q: str = "#FFD43B"  # queries
    K: str = "#3BC9DB"  # keys
    V: str = "#FF6B6B"  # values
    SCORE: str = "#B197FC"  # raw / scaled scores QKᵀ/√d
    WEIGHT: str = "#69DB7C"  # attention weights, probabilities
    MASK: str = "#C2255C"  # masked (−∞) cells; TEXT on it ≥ 4.5:1, itself ≥ 3:1 on BACKGROUND
    OUTPUT: str = "#FF8FD8"  # attention output PV
    HEADS: tuple[str, ...] = (
        "#4DABF7", "#FF922B", "#51CF66", "#F06595", "#CC5DE8",
        "#FCC419", "#22B8CF", "#E03131", "#D0BFFF", "#A9A23B",
    )
    EXPERTS: tuple[str, ...] = (
        "#A5D8FF", "#FFC078", "#8CE99A", "#FCC2D7", "#E599F7",
        "#FFF3BF", "#3BC9DB", "#C92A2A", "#5C7CFA", "#C08457",
    )

    def __getitem__(self, role: str):
        try:
            return getattr(self, role.upper())
        except AttributeError:
            raise KeyError(f"unknown colour role {role!r}; roles: {self.roles()}") from None

    @classmethod
    def roles(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name not in ("HEADS", "EXPERTS"))

    def head(self, h: int) -> str:
        """Colour of head ``h`` (cycles after len(HEADS))."""
        return self.HEADS[h % len(self.HEADS)]

    def expert(self, e: int) -> str:
        return self.EXPERTS[e % len(self.EXPERTS)]


COLORS = Palette()


def role_color(role: str | None, default: str | None = None) -> str:
    """``role_color("q") == COLORS.Q``; ``None`` gives ``default`` (TEXT)."""
    if role is None:
        return default or COLORS.TEXT
    return COLORS[role]


@dataclass(frozen=True)
class Fonts:
    BODY: str = "DejaVu Sans"  # all words on screen
    MONO: str = "DejaVu Sans Mono"  # code and numbers (tabular digits: columns line up)


FONTS = Fonts()


@dataclass(frozen=True)
class Sizes:
    """Manim ``font_size`` values. At 1080p, CAPTION 18 has a cap height of about 25 px."""

    TITLE: int = 52
    HEADING: int = 38
    BODY: int = 30
    LABEL: int = 26
    NUMBER: int = 24
    SMALL: int = 22
    CAPTION: int = 18
    EQUATION: int = 44  # MathTex from the equation registry


SIZES = Sizes()


@dataclass(frozen=True)
class Buffers:
    """Standard spacing in scene units (the frame is 8 units high: 1 unit = 135 px at 1080p)."""

    TIGHT: float = 0.08
    SMALL: float = 0.15
    MEDIUM: float = 0.3
    LARGE: float = 0.6
    MARGIN: float = 0.4  # minimum distance from the frame edge


BUFF = Buffers()


@dataclass(frozen=True)
class Frame:
    WIDTH: float = 16 * 8 / 9  # manim's default 16:9 frame, 14.22 units
    HEIGHT: float = 8.0


FRAME = Frame()


@dataclass(frozen=True)
class SafeArea:
    """The part of the frame where content lives: the frame less ``margin`` on every side."""

    margin: float = BUFF.MARGIN

    @property
    def left(self) -> float:
        return -FRAME.WIDTH / 2 + self.margin

    @property
    def right(self) -> float:
        return FRAME.WIDTH / 2 - self.margin

    @property
    def bottom(self) -> float:
        return -FRAME.HEIGHT / 2 + self.margin

    @property
    def top(self) -> float:
        return FRAME.HEIGHT / 2 - self.margin

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.top - self.bottom


SAFE = SafeArea()


# ----------------------------------------------------------------------------------------------
# colour math
def hex_to_rgb(color: str) -> tuple[float, float, float]:
    """'#RRGGBB' → (r, g, b) in [0, 1]."""
    if not isinstance(color, str) or not _HEX.match(color):
        raise ValueError(f"expected a colour '#RRGGBB', got {color!r}")
    return tuple(int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def rgb_to_hex(rgb) -> str:
    return "#" + "".join(f"{round(min(1.0, max(0.0, c)) * 255):02X}" for c in rgb)


def _to_linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _to_srgb(c: float) -> float:
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance."""
    r, g, b = (_to_linear(c) for c in hex_to_rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio (1 … 21); ≥ 4.5 is readable body text."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def to_oklab(color: str) -> tuple[float, float, float]:
    """sRGB hex → OKLab (L in [0, 1]); Björn Ottosson 2020."""
    r, g, b = (_to_linear(c) for c in hex_to_rgb(color))
    lms = (0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b,
           0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b,
           0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b)
    l_, m_, s_ = (math.copysign(abs(v) ** (1 / 3), v) for v in lms)
    return (0.2104542553 * l_ + 0.7936177850 * m_ - 0.0040720468 * s_,
            1.9779984951 * l_ - 2.4285922050 * m_ + 0.4505937099 * s_,
            0.0259040371 * l_ + 0.7827717662 * m_ - 0.8086757660 * s_)


def _from_oklab(lab) -> str:
    L, a, b = lab
    l_ = L + 0.3963377774 * a + 0.2158037573 * b
    m_ = L - 0.1055613458 * a - 0.0638541728 * b
    s_ = L - 0.0894841775 * a - 1.2914855480 * b
    l, m, s = l_ ** 3, m_ ** 3, s_ ** 3
    rgb = (4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
           -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
           -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s)
    return rgb_to_hex(_to_srgb(min(1.0, max(0.0, c))) for c in rgb)


def oklab_distance(a: str, b: str) -> float:
    """Euclidean distance in OKLab (≈ 0.02 just noticeable; ≥ 0.1 clearly different)."""
    return math.dist(to_oklab(a), to_oklab(b))


# ----------------------------------------------------------------------------------------------
# heat-map ramp: a dark-blue → teal → green → yellow ramp (viridis-like) whose darkest stop is still
# visible on BACKGROUND; interpolated in OKLab so lightness rises monotonically with the value.
HEAT_STOPS: tuple[str, ...] = ("#2A2F5A", "#2E4C8C", "#21818C", "#25A584", "#5EC962", "#B5DE2B", "#FDE725")


def heat_color(value: float, vmin: float = 0.0, vmax: float = 1.0) -> str:
    """Map ``value`` in [vmin, vmax] (clipped) to a hex colour on the course heat ramp."""
    if not math.isfinite(value):
        raise ValueError(f"heat_color needs a finite value, got {value!r}")
    if vmax <= vmin:
        raise ValueError(f"need vmax > vmin, got vmin={vmin}, vmax={vmax}")
    t = min(1.0, max(0.0, (value - vmin) / (vmax - vmin)))
    x = t * (len(HEAT_STOPS) - 1)
    i = min(int(x), len(HEAT_STOPS) - 2)
    f = x - i
    a, b = to_oklab(HEAT_STOPS[i]), to_oklab(HEAT_STOPS[i + 1])
    return _from_oklab(tuple(p + (q - p) * f for p, q in zip(a, b)))


def text_color_on(fill: str) -> str:
    """Black or white, whichever reads better on ``fill`` (numbers printed on heat cells).

    One of the two always reaches a WCAG ratio ≥ 4.58 (√21), whatever the fill; TEXT/BACKGROUND would not
    on mid-ramp teal.
    """
    dark, light = "#000000", "#FFFFFF"
    return dark if contrast_ratio(fill, dark) >= contrast_ratio(fill, light) else light
