"""Extra numbers for the L01.5 and L01.6 scenes: display forms of the data module's results.

Only rearrangements and consistent rounding of what ``data.py`` already computes with ``attn_ref``:
Kᵀ for the score layout, the extremes of the query's score row, and rounded values (``ar.round_to_sum``)
that add up on screen exactly as the rounded totals they sit next to.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import attn_ref as ar

from .data_attention import dot_product_walkthrough, worked_example
from .data_common import Mat, Vec, as_tensor, to_tuple
from .data_softmax import softmax_walkthrough, stable_softmax_demo


@dataclass(frozen=True)
class ScoreGridExtra:
    """L01.5: Kᵀ, where the query's score row peaks and dips, and the weighted value rows rounded so that
    each column adds up to the rounded output (Σ_j P_ij v_jd shown = o_id shown)."""

    kt: Mat  # Kᵀ (d_k × n): column j is key j
    row_max_key: int  # argmax_j S_ij for the walkthrough's query i
    row_max: float
    row_min_key: int
    row_min: float
    weighted_values_shown: Mat  # P_ij v_j rounded per column so the columns add up to output_shown
    output_shown: Vec  # o_i rounded to 2 decimals
    scale: float  # 1/√d_k of the worked example


@functools.cache
def score_grid_extra() -> ScoreGridExtra:
    """Display data for the score grid and the weighted sum of the walkthrough's query."""
    w = dot_product_walkthrough()
    k = as_tensor(worked_example().k)
    row = as_tensor(w.scores)[w.query_index]
    weighted = as_tensor(w.weighted_values)
    shown = ar.round_to_sum(weighted, decimals=2, dim=0)  # each column sums to its rounded total
    return ScoreGridExtra(to_tuple(k.T), int(row.argmax()), row.max().item(), int(row.argmin()), row.min().item(),
                          to_tuple(shown), to_tuple(shown.sum(0).round(decimals=2)), worked_example().scale)


@dataclass(frozen=True)
class SoftmaxExtra:
    """L01.6: exponentials rounded so that they add up to their rounded sum, for the walkthrough row and for
    the max-shifted large scores."""

    exps_shown: Vec  # exp(s_j), two decimals, adding up to total_shown
    total_shown: float
    shifted_exps_shown: Vec  # exp(s_j − max s), two decimals, adding up to shifted_total_shown
    shifted_total_shown: float


@functools.cache
def softmax_extra() -> SoftmaxExtra:
    sw, st = softmax_walkthrough(), stable_softmax_demo()
    e = ar.round_to_sum(as_tensor(sw.exps), decimals=2)
    se = ar.round_to_sum(as_tensor(st.shifted_exps), decimals=2)
    return SoftmaxExtra(to_tuple(e), round(e.sum().item(), 2), to_tuple(se), round(se.sum().item(), 2))


def cache_clear() -> None:
    for fn in (score_grid_extra, softmax_extra):
        fn.cache_clear()
