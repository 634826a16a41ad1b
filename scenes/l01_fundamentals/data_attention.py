"""L01.4, L01.5, L01.7, L01.8: the soft dictionary, Q/K/V projections, the dot product cell by cell,
the worked example checked against one ``ar.sdpa`` call, and attention patterns.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

import attn_ref as ar

from .data_common import Mat, Vec, as_tensor, qualname, shared, to_tuple

QUERY_TOKEN = "sat"
"""The query row followed through L01.5–L01.7."""
KEY_TOKEN = "cat"
"""The key whose score with the query is worked out product by product in L01.5."""


def _b(x: torch.Tensor) -> torch.Tensor:
    """(L, D) -> (1, 1, L, D), the (B, H, L, D) layout of ``ar.sdpa``."""
    return x[None, None]


# -------------------------------------------------------------------------------------------- L01.4


@dataclass(frozen=True)
class SoftDictionary:
    """A Python dict lookup vs attention's similarity-weighted blend.

    Exact: d[key] returns one value, or misses. Soft: w = softmax(q · k_j), answer = Σ_j w_j v_j.
    """

    keys: tuple[str, ...]
    key_vectors: Mat  # k_j, 2-D so they can be drawn as arrows
    values: Vec  # v_j (the animal's number of legs)
    value_name: str
    exact_query: str  # a key that exists: the lookup returns its value …
    exact_weights: Vec  # … i.e. one-hot weights
    exact_value: float
    soft_query: str  # a key that does not exist: the dict lookup misses …
    exact_miss: bool
    query_vector: Vec  # … but its vector is close to some keys
    scores: Vec  # q · k_j
    weights: Vec  # softmax(q · k_j)
    weights_shown: Vec
    blended_value: float  # Σ_j w_j v_j, from ar.sdpa with scale 1


@functools.cache
def soft_dictionary() -> SoftDictionary:
    """Four animals as keys (2-D vectors) with their number of legs as values; the query "kitten"."""
    names = ("cat", "bird", "spider", "fish")
    key_vecs = torch.tensor([[1.0, 0.2], [0.3, 1.0], [-1.0, 0.4], [-0.2, -1.0]], dtype=torch.float64)
    legs = torch.tensor([4.0, 2.0, 8.0, 0.0], dtype=torch.float64)
    table = dict(zip(names, legs.tolist()))
    exact_query, soft_query = "cat", "kitten"
    q = torch.tensor([2.0, 0.5], dtype=torch.float64)  # near "cat", a little towards "bird"
    out, p = ar.sdpa(_b(q[None]), _b(key_vecs), _b(legs[:, None]), scale=1.0, return_weights=True)
    p = p[0, 0, 0]
    return SoftDictionary(
        names, to_tuple(key_vecs), to_tuple(legs), "legs", exact_query,
        tuple(float(n == exact_query) for n in names), table[exact_query], soft_query, soft_query not in table,
        to_tuple(q), to_tuple(key_vecs @ q), to_tuple(p), to_tuple(ar.round_to_sum(p)), out.item())


@dataclass(frozen=True)
class QkvProjections:
    """Q = X W_Q, K = X W_K, V = X W_V for the running sentence (d_model = d_k = d_v = 4).

    X, W_Q, W_K, W_V hold exactly two decimals (what the screen shows is what is used); Q, K, V are
    exact products, shown rounded to 2 decimals.
    """

    tokens: tuple[str, ...]
    x: Mat
    w_q: Mat
    w_k: Mat
    w_v: Mat
    q: Mat
    k: Mat
    v: Mat
    seed: int


@functools.cache
def qkv_projections() -> QkvProjections:
    """The running example's embeddings and projections (see ``data_common.shared``)."""
    s = shared()
    return QkvProjections(s.tokens, to_tuple(s.x), to_tuple(s.w_q), to_tuple(s.w_k), to_tuple(s.w_v),
                          to_tuple(s.q), to_tuple(s.k), to_tuple(s.v), s.seed)


# -------------------------------------------------------------------------------------------- L01.5


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


@functools.cache
def dot_product_walkthrough() -> DotProductWalkthrough:
    """The score of (query "sat", key "cat") product by product; the grid; the weighted sum of V rows."""
    s = shared()
    i, j = s.tokens.index(QUERY_TOKEN), s.tokens.index(KEY_TOKEN)
    scores = ar.attention_scores(_b(s.q), _b(s.k), scale=1.0)[0, 0]  # S = Q Kᵀ
    prod = s.q[i] * s.k[j]  # q_id · k_jd
    score = prod.sum()
    p_i = as_tensor(worked_example().weights)[i]  # the same row L01.7 shows
    weighted = p_i[:, None] * s.v  # P_ij v_j
    return DotProductWalkthrough(
        s.tokens, tuple(s.q.shape), tuple(s.k.T.shape), tuple(scores.shape), i, j, to_tuple(s.q[i]),
        to_tuple(s.k[j]), to_tuple(prod), to_tuple(ar.round_to_sum(prod)), score.item(),
        round(score.item(), 2), to_tuple(scores), to_tuple(p_i), to_tuple(ar.round_to_sum(p_i)),
        to_tuple(s.v), to_tuple(weighted), to_tuple(weighted.sum(0)))


# -------------------------------------------------------------------------------------------- L01.7


@dataclass(frozen=True)
class WorkedExample:
    """The whole of softmax(Q Kᵀ / √d_k) V step by step on the running sentence, and one ar.sdpa call."""

    tokens: tuple[str, ...]
    x: Mat
    w_q: Mat
    w_k: Mat
    w_v: Mat
    q: Mat
    k: Mat
    v: Mat
    scores: Mat  # Q Kᵀ
    scale: float  # 1/√d_k = 0.5
    scaled: Mat  # Q Kᵀ / √d_k
    weights: Mat  # softmax along each row (queries are rows)
    weights_shown: Mat  # two decimals, each row adds up to 1.00
    output: Mat  # P V, step by step
    sdpa_output: Mat  # one call of ar.sdpa(Q, K, V)
    max_abs_diff: float
    code_ref: str  # "attn_ref.core.sdpa"
    seed: int


@functools.cache
def worked_example() -> WorkedExample:
    """Embeddings → Q, K, V → scores → ÷√d_k → softmax → P V, checked against ``ar.sdpa``."""
    s = shared()
    scores = s.q @ s.k.T  # S = Q Kᵀ
    scale = s.q.shape[-1] ** -0.5  # 1/√d_k
    scaled = scores * scale
    p = ar.softmax(scaled, dim=-1)  # rows sum to 1
    out = p @ s.v  # out_i = Σ_j P_ij v_j
    ref = ar.sdpa(_b(s.q), _b(s.k), _b(s.v))[0, 0]
    return WorkedExample(
        s.tokens, to_tuple(s.x), to_tuple(s.w_q), to_tuple(s.w_k), to_tuple(s.w_v), to_tuple(s.q),
        to_tuple(s.k), to_tuple(s.v), to_tuple(scores), scale, to_tuple(scaled), to_tuple(p),
        to_tuple(ar.round_to_sum(p)), to_tuple(out), to_tuple(ref), (out - ref).abs().max().item(),
        qualname(ar.sdpa), s.seed)


# -------------------------------------------------------------------------------------------- L01.8


@dataclass(frozen=True)
class Pattern:
    """One attention pattern: the q, k that produce it and P from ``ar.sdpa(..., return_weights=True)``."""

    name: str
    description: str
    q: Mat
    k: Mat
    scale: float
    weights: Mat
    weights_shown: Mat


@dataclass(frozen=True)
class Patterns:
    """The worked example's weights as a heat map and arcs, and four canonical patterns."""

    tokens: tuple[str, ...]
    heatmap: Mat  # worked example P (rows = queries)
    heatmap_shown: Mat
    arcs: tuple[tuple[int, int, float], ...]  # (query i, key j, P_ij), every pair, largest first
    canonical: tuple[Pattern, ...]  # diagonal, previous token, first token, broad


def _pattern(name, description, q, k, v, scale) -> Pattern:
    _, p = ar.sdpa(_b(q), _b(k), _b(v), scale=scale, return_weights=True)
    p = p[0, 0]
    return Pattern(name, description, to_tuple(q), to_tuple(k), scale, to_tuple(p), to_tuple(ar.round_to_sum(p)))


@functools.cache
def attention_patterns() -> Patterns:
    """Heat-map and arc data of the worked example, and four patterns built from real q, k.

    * diagonal: q_i = k_i = 3 x_i/‖x_i‖, so q_i · k_j = 9 cos θ_ij is largest at j = i;
    * previous token: k_j = PE(j + 1), q_i = PE(i) (sinusoidal table of width 4, base 10, arXiv:1706.03762
      §3.5), so q_i · k_j = Σ_m cos(ω_m (i − j − 1)) is largest at j = i − 1 (scale 5 sharpens it);
    * first token: every query shares a component m; k_0 = 3 m/‖m‖, the other keys are orthogonal to m;
    * broad: q = 0.02 x, so every score is near 0 and every row near uniform.
    """
    s = shared()
    n = len(s.tokens)
    w = worked_example()
    p = as_tensor(w.weights)
    arcs = sorted(((i, j, p[i, j].item()) for i in range(n) for j in range(n)), key=lambda a: -a[2])

    unit = s.x / s.x.norm(dim=-1, keepdim=True)
    diagonal = _pattern("diagonal", "each token attends to itself: keys equal queries, scaled up",
                        3 * unit, 3 * unit, s.v, 1.0)

    pe = ar.sinusoidal_positions(n + 1, 4, base=10.0)
    previous = _pattern("previous token",
                        "each token attends to the one before it (the first, having none, to itself): "
                        "keys are positions shifted by one",
                        pe[:n], pe[1:], s.v, 5.0)

    m = torch.tensor([1.0, 1.0, 1.0, 1.0], dtype=torch.float64)
    m_hat = m / m.norm()
    rest = s.x - (s.x @ m_hat)[:, None] * m_hat  # remove the shared direction
    q_first = m + 0.3 * rest
    k_first = rest.clone()
    k_first[0] = 3 * m_hat
    first = _pattern("first token", "every token attends to the first: its key holds the component all "
                     "queries share", q_first, k_first, s.v, 1.0)

    broad = _pattern("broad", "every token averages over all tokens: scores near zero give near-uniform rows",
                     0.02 * s.x, s.x, s.v, 1.0)
    return Patterns(s.tokens, w.weights, w.weights_shown, tuple(arcs), (diagonal, previous, first, broad))
