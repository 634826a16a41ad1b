"""L01.5: S = Q Kᵀ, one score worked out product by product, the grid, and out_i = Σ_j P_ij v_j; the
display forms of the same numbers (Kᵀ, the row's extremes, weighted values rounded so columns add up).
"""
from __future__ import annotations

from dataclasses import dataclass

import attn_ref as ar
from scenes.kit.data_builders import builder

from ._shared import KEY_TOKEN, QUERY_TOKEN, Mat, Vec, as_tensor, batched, shared, to_tuple
from .worked_example import worked_example



@dataclass(frozen=True)
class DotProductWalkthrough:
    """S = Q Kᵀ, one cell S_ij = Σ_d q_id k_jd worked out, and out_i = Σ_j P_ij v_j for the same query."""

    tokens: tuple[str, ...]
    q_shape: tuple[int, int]
    kt_shape: tuple[int, int]
    scores_shape: tuple[int, int]
    query_index: int
    key_index: int
    q_row: Vec
    k_row: Vec
    products: Vec  # q_id · k_jd, d = 1 … 4
    products_shown: Vec  # rounded to 2 decimals so that they add up to score_shown
    score: float  # Σ_d q_id k_jd
    score_shown: float
    scores: Mat  # the full grid Q Kᵀ (unscaled)
    weights_row: Vec  # P_i = softmax(S_i / √d_k)
    weights_row_shown: Vec
    v: Mat
    weighted_values: Mat  # P_ij v_j, one row per key j
    output_row: Vec  # Σ_j P_ij v_j (the worked example's output row i)


@builder("L01.5")
def dot_product_walkthrough() -> DotProductWalkthrough:
    """The score of (query "sat", key "cat") product by product; the grid; the weighted sum of V rows."""
    s = shared()
    i, j = s.tokens.index(QUERY_TOKEN), s.tokens.index(KEY_TOKEN)
    scores = ar.attention_scores(batched(s.q), batched(s.k), scale=1.0)[0, 0]  # S = Q Kᵀ
    prod = s.q[i] * s.k[j]  # q_id · k_jd
    score = prod.sum()
    p_i = as_tensor(worked_example().weights)[i]  # the same row L01.7 shows
    weighted = p_i[:, None] * s.v  # P_ij v_j
    return DotProductWalkthrough(
        s.tokens, tuple(s.q.shape), tuple(s.k.T.shape), tuple(scores.shape), i, j, to_tuple(s.q[i]),
        to_tuple(s.k[j]), to_tuple(prod), to_tuple(ar.round_to_sum(prod)), score.item(),
        round(score.item(), 2), to_tuple(scores), to_tuple(p_i), to_tuple(ar.round_to_sum(p_i)),
        to_tuple(s.v), to_tuple(weighted), to_tuple(weighted.sum(0)))


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


@builder("L01.5")
def score_grid_extra() -> ScoreGridExtra:
    """Display data for the score grid and the weighted sum of the walkthrough's query."""
    w = dot_product_walkthrough()
    k = as_tensor(worked_example().k)
    row = as_tensor(w.scores)[w.query_index]
    weighted = as_tensor(w.weighted_values)
    shown = ar.round_to_sum(weighted, decimals=2, dim=0)  # each column sums to its rounded total
    return ScoreGridExtra(to_tuple(k.T), int(row.argmax()), row.max().item(), int(row.argmin()), row.min().item(),
                          to_tuple(shown), to_tuple(shown.sum(0).round(decimals=2)), worked_example().scale)
