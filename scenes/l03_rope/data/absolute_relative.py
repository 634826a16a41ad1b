"""L03.1 Absolute vs relative positioning: attention without positions is permutation-equivariant (computed
with non-causal ``ar.sdpa``), a causal mask alone already breaks that symmetry; then three position schemes
as grids (sinusoidal table, T5 buckets and bias, ALiBi bias) and the Toeplitz test: relative schemes are
constant along diagonals, additive absolute embeddings are not."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import HAVIV, KAZEMNEJAD, PRESS, RAFFEL, VASWANI

from ._shared import UNTRAINED, Mat, Vec, embed, gaussian, projections, to_tuple, toeplitz_deviation

SENTENCE: tuple[str, ...] = ("dog", "bites", "man")
PERMUTED: tuple[str, ...] = ("man", "bites", "dog")
PERMUTATION: tuple[int, ...] = (2, 1, 0)
"""PERMUTED[i] = SENTENCE[PERMUTATION[i]]."""
SIN_N, SIN_D = 32, 16
"""The sinusoidal heat map: 32 positions × 16 dimensions."""
T5_BUCKETS, T5_MAX_DISTANCE = 32, 128
"""T5's defaults (HF T5Config relative_attention_num_buckets=32, relative_attention_max_distance=128)."""
T5_TABLE_SEED = 32
GRID_N = 8
"""Positions of the three side-by-side grids."""
ALIBI_HEADS = 8
FIXED_TOKEN = "dog"
"""The additive-sinusoidal grid puts the same token at every position, so only positions differ."""


@dataclass(frozen=True)
class Permutation:
    """No positions: permuting the tokens permutes the output rows, values unchanged (non-causal sdpa)."""
    tokens: tuple[str, ...]
    permuted_tokens: tuple[str, ...]
    permutation: tuple[int, ...]          # permuted_tokens[i] = tokens[permutation[i]]
    outputs: Mat                          # (3, d) outputs of `tokens`
    permuted_outputs: Mat                 # (3, d) outputs of `permuted_tokens`
    max_row_difference: float             # max |permuted_outputs − outputs[permutation]|: 0 up to rounding
    same_multiset: bool                   # sorted rows equal (to 1e-12)
    causal_max_row_difference: float      # the same with a causal mask: far from 0
    causal_equivariant: bool              # False: the mask alone leaks order
    caption: str
    nope_sources: tuple[str, ...]         # Haviv et al. 2022, Kazemnejad et al. 2023


def _attend(tokens, causal: bool) -> torch.Tensor:
    x = embed(tokens)
    w_q, w_k, w_v = projections()
    return ar.sdpa((x @ w_q)[None, None], (x @ w_k)[None, None], (x @ w_v)[None, None], is_causal=causal)[0, 0]


@builder("L03.1")
def permutation_equivariance() -> Permutation:
    """'dog bites man' vs 'man bites dog' through one attention head with no position information."""
    perm = list(PERMUTATION)
    out, out_p = _attend(SENTENCE, False), _attend(PERMUTED, False)
    diff = float((out_p - out[perm]).abs().max())
    rows = lambda t: sorted(tuple(round(v, 12) for v in r) for r in t.tolist())  # noqa: E731
    c_out, c_out_p = _attend(SENTENCE, True), _attend(PERMUTED, True)
    c_diff = float((c_out_p - c_out[perm]).abs().max())
    return Permutation(SENTENCE, PERMUTED, PERMUTATION, to_tuple(out), to_tuple(out_p), diff,
                       rows(out) == rows(out_p), c_diff, c_diff < 1e-12, UNTRAINED,
                       (HAVIV.short(venue=False), KAZEMNEJAD.short(venue=False)))


@dataclass(frozen=True)
class SinusoidalTable:
    """ar.sinusoidal_positions(n, d): PE[p, 2i] = sin(p ω_i), PE[p, 2i+1] = cos(p ω_i), ω_i = base^(−2i/d)."""
    n: int
    d: int
    base: float
    table: Mat                  # (n, d)
    omega: Vec                  # (d/2,) ω_i
    wavelengths: Vec            # 2π / ω_i
    source: str


@builder("L03.1")
def sinusoidal_table() -> SinusoidalTable:
    """The sinusoidal embeddings heat map, n × d, added to the input (Vaswani et al. §3.5)."""
    pe = ar.sinusoidal_positions(SIN_N, SIN_D)
    omega = 10_000.0 ** (-torch.arange(0, SIN_D, 2, dtype=torch.float64) / SIN_D)
    return SinusoidalTable(SIN_N, SIN_D, 10_000.0, to_tuple(pe), to_tuple(omega), to_tuple(2 * math.pi / omega),
                           VASWANI.short(venue=False))


@dataclass(frozen=True)
class T5Buckets:
    """T5's bucketed relative positions (bidirectional, 32 buckets, max distance 128)."""
    num_buckets: int
    max_distance: int
    exact: int                                     # distances 0 … exact−1 get their own bucket
    distances: tuple[int, ...]                     # 0 … 160
    past_bucket: tuple[int, ...]                   # bucket of key − query = −distance
    future_bucket: tuple[int, ...]                 # bucket of key − query = +distance
    first_distance_of_bucket: tuple[tuple[int, int], ...]   # (bucket, first distance) for the past side
    grid_n: int
    bucket_grid: tuple[tuple[int, ...], ...]       # (n, n) buckets of t5_relative_buckets
    bias_grid: Mat                                 # (n, n) t5_relative_bias with a seeded table, one head
    caption: str
    source: str


@builder("L03.1")
def t5_buckets() -> T5Buckets:
    """Exact buckets for |i − j| < 8, log-spaced up to 128, one bucket beyond (per direction)."""
    dist = torch.arange(0, 161)
    past = ar.t5_bucket(-dist, True, T5_BUCKETS, T5_MAX_DISTANCE)
    future = ar.t5_bucket(dist, True, T5_BUCKETS, T5_MAX_DISTANCE)
    first: dict[int, int] = {}
    for dd, b in zip(dist.tolist(), past.tolist()):
        first.setdefault(b, dd)
    table = gaussian((T5_BUCKETS, 1), T5_TABLE_SEED)
    bias = ar.t5_relative_bias(GRID_N, GRID_N, table, max_distance=T5_MAX_DISTANCE)[0]
    return T5Buckets(T5_BUCKETS, T5_MAX_DISTANCE, T5_BUCKETS // 4, tuple(dist.tolist()), tuple(past.tolist()),
                     tuple(future.tolist()), tuple(sorted(first.items())), GRID_N,
                     tuple(tuple(r) for r in ar.t5_relative_buckets(GRID_N, GRID_N, T5_BUCKETS,
                                                                    T5_MAX_DISTANCE).tolist()),
                     to_tuple(bias), "untrained: seeded bias table (T5 learns one scalar per bucket and head)",
                     RAFFEL.short(venue=False))


@dataclass(frozen=True)
class AlibiGrid:
    """ar.alibi_bias(H, n, n): bias[h, i, j] = −m_h (i − j), m_h = 2^(−8h/H); not scaled by 1/√d."""
    n_heads: int
    n: int
    slopes: Vec                  # H = 8: 1/2 … 1/256
    slopes_12: Vec               # H = 12: the 8 above interleaved with 2^−0.5, 2^−1.5, 2^−2.5, 2^−3.5
    bias: tuple[Mat, ...]        # (H, n, n); entries above the diagonal are masked by the causal mask
    source: str
    slope_inverses: Vec          # 1 / m_h for H = 8: 2, 4, … 256 (the slide writes the slopes as 1/2 … 1/256)


@builder("L03.1")
def alibi_grid() -> AlibiGrid:
    """ALiBi's per-head linear penalties, head slopes from the paper's geometric sequence."""
    return AlibiGrid(ALIBI_HEADS, GRID_N, to_tuple(ar.alibi_slopes(ALIBI_HEADS)), to_tuple(ar.alibi_slopes(12)),
                     to_tuple(ar.alibi_bias(ALIBI_HEADS, GRID_N, GRID_N)), PRESS.short(venue=False),
                     to_tuple(1.0 / ar.alibi_slopes(ALIBI_HEADS)))


@dataclass(frozen=True)
class DiagonalStructure:
    """Three n × n grids side by side and how far each is from constant-along-diagonals (Toeplitz)."""
    n: int
    sinusoidal_scores: Mat          # (x + PE_i) W_Q · (x + PE_j) W_K / √d, the same token x everywhere
    t5_bias: Mat                    # one head of T5's bias
    alibi_bias: Mat                 # ALiBi head 1 (m = 1/2)
    sinusoidal_deviation: float     # large: additive absolute positions are not relative
    t5_deviation: float             # 0
    alibi_deviation: float          # 0
    relative: tuple[tuple[str, bool], ...]   # (scheme, Toeplitz?)
    caption: str
    widest_offset: int              # j − i of the diagonal along which the sinusoidal scores spread most


@builder("L03.1")
def diagonal_structure() -> DiagonalStructure:
    """Relative schemes give grids constant along diagonals (depend on i − j only); added sinusoids do not."""
    x = embed([FIXED_TOKEN] * GRID_N) + ar.sinusoidal_positions(GRID_N, embed([FIXED_TOKEN]).shape[-1])
    w_q, w_k, _ = projections()
    s = (x @ w_q) @ (x @ w_k).T / math.sqrt(x.shape[-1])
    t5 = torch.tensor(t5_buckets().bias_grid, dtype=torch.float64)
    al = ar.alibi_bias(ALIBI_HEADS, GRID_N, GRID_N)[0]
    dev = [toeplitz_deviation(g) for g in (s, t5, al)]
    spread = {o: float(torch.diagonal(s, o).max() - torch.diagonal(s, o).min()) for o in range(-(GRID_N - 1), GRID_N)}
    return DiagonalStructure(GRID_N, to_tuple(s), to_tuple(t5), to_tuple(al), *dev,
                             tuple((name, v < 1e-12) for name, v in zip(("sinusoidal", "T5", "ALiBi"), dev)),
                             UNTRAINED, max(spread, key=spread.get))
