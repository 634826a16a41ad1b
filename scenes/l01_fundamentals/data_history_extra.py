"""L01.1–L01.3 extras: facts derived from ``history()`` and ``gradient_vs_distance()`` that the scenes
show or say (year spans, the values at the longest distance, their ratios, the plot's decades), and the
second seq2seq paper (Cho et al. 2014). Pure and cached, like the builders in ``data``.
"""
from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

from .data_history import Reference, gradient_vs_distance, history

CHO_2014 = Reference("Cho et al.", 2014, "Learning Phrase Representations using RNN Encoder–Decoder for "
                     "Statistical Machine Translation", "EMNLP 2014", "1406.1078")
"""The encoder–decoder proposed alongside Sutskever et al. (the GRU paper)."""

_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")
_SCALES = ((10 ** 12, "trillion"), (10 ** 9, "billion"), (10 ** 6, "million"), (10 ** 3, "thousand"))


def power_of_ten(exponent: int) -> str:
    """``10⁻¹²`` for -12 (Unicode superscripts, as the axis labels and captions show it)."""
    return "10" + str(int(exponent)).translate(_SUPERSCRIPT)


def sci_parts(value: float, digits: int = 2) -> tuple[str, int]:
    """(mantissa with ``digits`` significant digits, exponent): 9.818e-12 -> ("9.8", -12)."""
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"need a positive finite value, got {value!r}")
    exponent = math.floor(math.log10(value))
    mantissa = round(value / 10 ** exponent, digits - 1)
    if mantissa >= 10:  # 9.96 -> 10.0: carry into the exponent
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.{digits - 1}f}", exponent


def sci_text(value: float, digits: int = 2, sep: str = " \u00d7 ") -> str:
    """``9.8 × 10⁻¹²`` (``sep=" times "`` gives the narration's form, which the lexicon reads aloud)."""
    mantissa, exponent = sci_parts(value, digits)
    return f"{mantissa}{sep}{power_of_ten(exponent)}"


def rough_words(value: float) -> str:
    """A large ratio as it is said: 3.005e9 -> "3 billion", 2.81e5 -> "280 thousand" (2 significant digits
    below 10 of a scale word, 1 above)."""
    if not (value >= 1 and math.isfinite(value)):
        raise ValueError(f"need a finite value >= 1, got {value!r}")
    for scale, name in _SCALES:
        if value >= scale:
            x = value / scale
            digits = 1 if x < 10 else 2
            r = round(x, digits - 1 - math.floor(math.log10(x)))
            return f"{int(r) if r == int(r) else r:g} {name}"
    return f"{round(value):d}"


# ------------------------------------------------------------------------------------------- L01.1


@dataclass(frozen=True)
class TimelineFacts:
    """Spans of the timeline: first to last year, and the gap between consecutive milestones."""

    first_year: int
    last_year: int
    span_years: int
    gaps: tuple[int, ...]  # gaps[k] = year of milestone k+1 − year of milestone k
    longest_gap: int
    longest_gap_after: int  # the milestone index the longest gap follows


@functools.cache
def timeline_facts() -> TimelineFacts:
    years = [m.year for m in history()]
    gaps = tuple(b - a for a, b in itertools.pairwise(years))
    k = max(range(len(gaps)), key=lambda i: gaps[i])
    return TimelineFacts(years[0], years[-1], years[-1] - years[0], gaps, gaps[k], k)


# ------------------------------------------------------------------------------------------- L01.3


@dataclass(frozen=True)
class CurveEnd:
    """One curve of ``gradient_vs_distance()`` at the largest distance."""

    name: str
    value: float
    shown: str  # "9.8 × 10⁻¹²" (or "0.030" when ≥ 0.001)
    spoken: str  # "9.8 times 10⁻¹²" / "0.030"


@dataclass(frozen=True)
class GradientSummary:
    """What L01.3 shows and says about the measured gradient curves."""

    distance: int  # the largest distance measured
    ends: tuple[CurveEnd, ...]  # RNN, LSTM, attention
    ratio_attention_rnn: float  # attention's gradient / the RNN's, at ``distance``
    ratio_attention_lstm: float
    ratio_attention_rnn_words: str  # "3 billion"
    ratio_attention_lstm_words: str
    decades: tuple[int, ...]  # exponents of the log axis, lowest to highest (every decade in range)
    n_seeds: int
    width: int
    length: int


def _shown(value: float) -> tuple[str, str]:
    if value >= 1e-3:
        s = f"{value:.3f}" if value < 0.1 else f"{value:.2f}"
        return s, s
    return sci_text(value), sci_text(value, sep=" times ")


@functools.cache
def gradient_summary() -> GradientSummary:
    g = gradient_vs_distance()
    curves = (("RNN", g.rnn), ("LSTM", g.lstm), ("attention", g.attention))
    ends = tuple(CurveEnd(name, c[-1], *_shown(c[-1])) for name, c in curves)
    everything = [v for _, c in curves for v in c]
    lo, hi = math.floor(math.log10(min(everything))), math.ceil(math.log10(max(everything)))
    r_rnn, r_lstm = g.attention[-1] / g.rnn[-1], g.attention[-1] / g.lstm[-1]
    return GradientSummary(g.distances[-1], ends, r_rnn, r_lstm, rough_words(r_rnn), rough_words(r_lstm),
                           tuple(range(lo, hi + 1)), len(g.seeds), g.width, g.length)
