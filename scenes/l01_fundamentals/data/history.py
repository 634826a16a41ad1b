"""L01.1, the timeline FFN → RNN → LSTM → seq2seq → attention → Transformer, and the facts the scene
derives from it (year spans and gaps). The papers are the kit's reference catalogue.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from scenes.kit.data_builders import builder
from scenes.kit.references import (BAHDANAU, ELMAN, HOCHREITER, LUONG, RUMELHART, SUTSKEVER, VASWANI,
                                   Reference)


@dataclass(frozen=True)
class Milestone:
    """One step of the timeline: what it fixed and what it left broken."""

    year: int
    name: str
    authors: str
    source: str  # arXiv id or journal
    fixed: str
    left_broken: str


_ROAD: tuple[tuple[str, Reference, str, str], ...] = (
    ("Feed-forward network (backprop)", RUMELHART,
     "learns its own features by gradient descent",
     "fixed-size input, no order and no memory of earlier inputs"),
    ("Elman RNN", ELMAN,
     "reads sequences of any length through a recurrent hidden state",
     "gradients vanish or explode over long distances; one step at a time"),
    ("LSTM", HOCHREITER,
     "a gated memory cell carries information (and gradients) over longer spans",
     "still sequential: token i reaches token j only through |i − j| steps"),
    ("seq2seq encoder–decoder", SUTSKEVER,
     "maps a variable-length input to a variable-length output",
     "the whole input is squeezed into one fixed-size vector (the bottleneck)"),
    ("Additive attention", BAHDANAU,
     "the decoder looks back at every encoder state with learned alignment weights",
     "the encoder and decoder are still recurrent, so still sequential"),
    ("Multiplicative attention", LUONG,
     "simpler dot-product scores; global and local attention",
     "still attached to a recurrent network"),
    ("Transformer", VASWANI,
     "attention only: every token is one step from every other, all positions in parallel",
     "cost grows with the square of the sequence length (Lecture 4)"),
)


@builder("L01.1")
def history() -> tuple[Milestone, ...]:
    """The road FFN → RNN → LSTM → seq2seq → attention → Transformer, oldest first."""
    return tuple(Milestone(r.year, name, r.authors, r.source, fixed, broken) for name, r, fixed, broken in _ROAD)


@dataclass(frozen=True)
class TimelineFacts:
    """Spans of the timeline: first to last year, and the gap between consecutive milestones."""

    first_year: int
    last_year: int
    span_years: int
    gaps: tuple[int, ...]  # gaps[k] = year of milestone k+1 − year of milestone k
    longest_gap: int
    longest_gap_after: int  # the milestone index the longest gap follows


@builder("L01.1")
def timeline_facts() -> TimelineFacts:
    """Year span of ``history()`` and its longest gap."""
    years = [m.year for m in history()]
    gaps = tuple(b - a for a, b in itertools.pairwise(years))
    k = max(range(len(gaps)), key=lambda i: gaps[i])
    return TimelineFacts(years[0], years[-1], years[-1] - years[0], gaps, gaps[k], k)
