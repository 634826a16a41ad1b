"""Numbers as the screen shows them and as the narration writes them: one function for each.

    shown(-0.5)                 -> "−0.50"          (typographic minus)
    shown(9.818e-12, sci=2)     -> "9.8 × 10⁻¹²"
    shown(0.0421, auto=True)    -> "0.042"          (fixed above 1e-3, scientific below)
    spoken(-0.5)                -> "−0.50"          (the lexicon says "minus zero point five zero")
    spoken(9.818e-12, sci=2)    -> "9.8 times 10⁻¹²" (the lexicon says "ten to the minus twelve")
    spoken(3.005e9, rough=True) -> "3 billion"

Both take the same arguments, so a scene that shows a number and says it passes the same value and
options to each; a narration line is never built from the screen string (``×`` between two operands
is read "by" for matrix shapes). Pure Python: data modules may import this (no manim).
"""
from __future__ import annotations

import math
import numbers

__all__ = ["MINUS", "NEG_INF", "power_of_ten", "quoted", "sci_parts", "shown", "spoken", "subscript"]

MINUS = "\u2212"  # − (typographic minus)
NEG_INF = MINUS + "\u221e"  # −∞
_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")
_SCALES = ((10 ** 12, "trillion"), (10 ** 9, "billion"), (10 ** 6, "million"), (10 ** 3, "thousand"))


def power_of_ten(exponent: int) -> str:
    """``10⁻¹²`` for -12 (Unicode superscripts, as axis labels and captions show it)."""
    return "10" + str(int(exponent)).translate(_SUPERSCRIPT)


def sci_parts(value: float, digits: int = 2) -> tuple[str, int]:
    """(mantissa with ``digits`` significant digits, exponent): 9.818e-12 -> ("9.8", -12); the sign
    stays on the mantissa (-3.3e-16 -> ("-3.3", -16))."""
    v = float(value)
    if not math.isfinite(v) or v == 0:
        raise ValueError(f"scientific notation needs a non-zero finite value, got {value!r}")
    if digits < 1:
        raise ValueError(f"digits must be at least 1, got {digits}")
    exponent = math.floor(math.log10(abs(v)))
    mantissa = round(abs(v) / 10 ** exponent, digits - 1)
    if mantissa >= 10:  # 9.96 -> 10.0: carry into the exponent
        mantissa, exponent = mantissa / 10, exponent + 1
    return ("-" if v < 0 else "") + f"{mantissa:.{digits - 1}f}", exponent


def _fixed(v: float, decimals: int, group: bool = False) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return NEG_INF if v < 0 else "\u221e"
    s = f"{v:,.{decimals}f}" if group else f"{v:.{decimals}f}"
    if s.startswith("-") and float(s.replace(",", "")) == 0.0:  # -0.00 is shown as 0.00
        s = s[1:]
    return s.replace("-", MINUS)


def _auto_decimals(v: float) -> int:
    """Three places below 0.1 (0.042), two above (0.53): the gradient plot's end values."""
    return 3 if abs(v) < 0.1 else 2


def _rough(v: float) -> str:
    """3.005e9 -> "3 billion", 2.81e5 -> "280 thousand": 1 significant digit below 10 of a scale
    word, 2 above; below a thousand the rounded integer."""
    if not (v >= 1 and math.isfinite(v)):
        raise ValueError(f"rough=True needs a finite value >= 1, got {v!r}")
    for scale, name in _SCALES:
        if v >= scale:
            x = v / scale
            digits = 1 if x < 10 else 2
            r = round(x, digits - 1 - math.floor(math.log10(x)))
            return f"{int(r) if r == int(r) else r:g} {name}"
    return f"{round(v):d}"


def _format(value: float, decimals: int, sci: int | None, auto: bool, rough: bool, sep: str,
            group: bool = False) -> str:
    v = float(value)
    if rough:
        return _rough(v)
    if auto:
        sci = None if (v == 0 or abs(v) >= 1e-3 or not math.isfinite(v)) else (sci or 2)
        if sci is None:
            return _fixed(v, _auto_decimals(v))
    if sci is not None:
        if v == 0:
            return "0"
        mantissa, exponent = sci_parts(v, sci)
        return mantissa.replace("-", MINUS) + sep + power_of_ten(exponent)
    return _fixed(v, decimals, group)


def shown(value: float, decimals: int = 2, *, sci: int | None = None, auto: bool = False,
          rough: bool = False, group: bool = False) -> str:
    """A number as the screen shows it. ``decimals`` fixed places (default); ``sci=k``: k significant
    digits times a power of ten (``9.8 × 10⁻¹²``); ``auto``: fixed (3 places below 0.1, else 2) down
    to 1e-3, scientific (``sci`` digits, default 2) below; ``rough``: a large number in words;
    ``group``: thousands separated by commas in fixed notation (126,882)."""
    return _format(value, decimals, sci, auto, rough, " \u00d7 ", group)


def percent(share: float) -> float:
    """A share (0.14) as the percentage the screen and the narration give (14.0)."""
    return 100 * share


def grouped(value: float) -> str:
    """A count or a size as the screen shows it: rounded to a whole number, thousands separated (126,882)."""
    return shown(value, 0, group=True)


def spoken(value: float, decimals: int = 2, *, sci: int | None = None, auto: bool = False,
           rough: bool = False) -> str:
    """The same number as the narration writes it (the lexicon turns it into words): the options of
    :func:`shown`, with "times" for the product sign so it is never read as "by" (no ``group``: the voice
    reads plain digits, and a separator in a decimal would split the number)."""
    return _format(value, decimals, sci, auto, rough, " times ")


def quoted(token: str) -> str:
    """A token as the narration and the screen quote it, in typographic quotes: sat -> “sat”."""
    if not isinstance(token, str):
        raise TypeError(f"quoted() takes a token string, got {type(token).__name__}")
    if not token.strip():
        raise ValueError("quoted() needs a non-empty token")
    return f"\u201c{token}\u201d"


_SUBSCRIPT = str.maketrans("0123456789", "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089")


def subscript(name: str, k: int) -> str:
    """``h₃`` for ("h", 3): a name with a position index in Unicode subscript digits (for labels in
    the words' font; formulas come from the equation registry)."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0:
        raise ValueError(f"a subscript index is a non-negative integer, got {k!r}")
    return f"{name}{str(int(k)).translate(_SUBSCRIPT)}"
