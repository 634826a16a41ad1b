"""L01.6: softmax step by step, temperature, why scores are divided by √d_k (measured variance and
saturation), the max-subtraction that keeps softmax finite, and rounded exponentials that add up on screen.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder

from ._shared import QUERY_TOKEN, Mat, Vec, as_tensor, to_tuple
from .worked_example import worked_example

TEMPERATURES: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0)
D_KS: tuple[int, ...] = (4, 16, 64, 256, 1024)
VARIANCE_SAMPLES = 20_000
VARIANCE_SEED = 10
SATURATION_SAMPLES = 400
SATURATION_KEYS = 8
SATURATION_SEED = 20
LARGE_SCORES: tuple[float, ...] = (1000.0, 1001.0, 1002.0)


def _query_row() -> tuple[str, torch.Tensor]:
    w = worked_example()
    i = w.tokens.index(QUERY_TOKEN)
    return w.tokens[i], as_tensor(w.scaled)[i]


@dataclass(frozen=True)
class SoftmaxWalkthrough:
    """softmax(s)_j = exp(s_j) / Σ_k exp(s_k) for the worked example's scaled score row of one query."""

    tokens: tuple[str, ...]
    query: str
    scores: Vec  # s_j = q · k_j / √d_k
    exps: Vec  # exp(s_j)
    total: float  # Σ_k exp(s_k)
    weights: Vec  # exp(s_j) / Σ, equal to ar.softmax(s)
    weights_shown: Vec


@builder("L01.6")
def softmax_walkthrough() -> SoftmaxWalkthrough:
    """Exponentiate, add up, divide: one score row of the running example."""
    query, row = _query_row()
    e = torch.exp(row)
    p = ar.softmax(row)
    return SoftmaxWalkthrough(worked_example().tokens, query, to_tuple(row), to_tuple(e), e.sum().item(),
                              to_tuple(p), to_tuple(ar.round_to_sum(p)))


@dataclass(frozen=True)
class TemperatureRows:
    """softmax(s / T) for one score row at several temperatures: small T sharpens, large T flattens."""

    tokens: tuple[str, ...]
    query: str
    scores: Vec
    temperatures: tuple[float, ...]
    weights: Mat  # one row per temperature
    weights_shown: Mat
    max_weight: Vec
    entropy: Vec  # −Σ p log p in nats (log 5 ≈ 1.61 is uniform)


@builder("L01.6")
def temperature_rows() -> TemperatureRows:
    """The running example's row at T = 0.5, 1, 2, 5."""
    query, row = _query_row()
    p = torch.stack([ar.softmax(row / t) for t in TEMPERATURES])
    ent = -(p * p.log()).sum(-1)
    return TemperatureRows(worked_example().tokens, query, to_tuple(row), TEMPERATURES, to_tuple(p),
                           to_tuple(ar.round_to_sum(p)), to_tuple(p.max(-1).values), to_tuple(ent))


@dataclass(frozen=True)
class DotProductVariance:
    """Var(q · k) for q, k with i.i.d. N(0, 1) entries: d_k in theory (a sum of d_k unit-variance
    products), 1 after ÷√d_k."""

    d_k: tuple[int, ...]
    samples: int
    measured: Vec  # sample variance of q · k
    theory: Vec  # d_k
    measured_scaled: Vec  # sample variance of q · k / √d_k
    theory_scaled: Vec  # 1
    seed: int


@builder("L01.6")
def dot_product_variance() -> DotProductVariance:
    """Measured on 20,000 seeded pairs per d_k (entries drawn in float32, products summed in float64)."""
    measured, scaled = [], []
    chunk = 2_500
    for d in D_KS:
        g = torch.Generator().manual_seed(VARIANCE_SEED + d)
        dots = torch.cat([
            (torch.randn(chunk, d, generator=g) * torch.randn(chunk, d, generator=g)).sum(-1, dtype=torch.float64)
            for _ in range(VARIANCE_SAMPLES // chunk)])  # q · k = Σ_i q_i k_i
        measured.append(dots.var().item())
        scaled.append((dots / math.sqrt(d)).var().item())
    return DotProductVariance(D_KS, VARIANCE_SAMPLES, tuple(measured), tuple(float(d) for d in D_KS),
                              tuple(scaled), tuple(1.0 for _ in D_KS), VARIANCE_SEED)


@dataclass(frozen=True)
class Saturation:
    """Softmax of q · k_j over 8 random keys, unscaled vs ÷√d_k, as d_k grows (means over 400 draws).

    max weight: max_j P_j. Gradient size: ‖∂P/∂s‖_F, the Frobenius norm of the softmax Jacobian
    diag(P) − P Pᵀ, measured with autograd through ``ar.softmax``; it goes to 0 as P becomes one-hot.
    """

    d_k: tuple[int, ...]
    n_keys: int
    samples: int
    max_weight_unscaled: Vec
    max_weight_scaled: Vec
    jacobian_norm_unscaled: Vec
    jacobian_norm_scaled: Vec
    jacobian_norm_uniform: float  # at P uniform: ‖diag(P) − P Pᵀ‖_F = √(n − 1)/n
    seed: int


def _jacobian_frobenius(s: torch.Tensor) -> torch.Tensor:
    """‖∂ softmax(s)/∂s‖_F per row of ``s`` (samples, n), one autograd pass per output index."""
    s = s.clone().requires_grad_(True)
    p = ar.softmax(s, dim=-1)
    sq = torch.zeros(s.shape[0], dtype=s.dtype)
    for c in range(s.shape[1]):
        (g,) = torch.autograd.grad(p[:, c].sum(), s, retain_graph=True)  # row c of each sample's Jacobian
        sq += (g ** 2).sum(-1)
    return sq.sqrt()


@builder("L01.6")
def saturation() -> Saturation:
    """Unscaled scores grow like √d_k, so softmax saturates (one-hot) and its gradient vanishes; ÷√d_k prevents it."""
    n = SATURATION_KEYS
    mw_u, mw_s, jn_u, jn_s = [], [], [], []
    for d in D_KS:
        g = torch.Generator().manual_seed(SATURATION_SEED + d)
        q = torch.randn(SATURATION_SAMPLES, 1, d, generator=g, dtype=torch.float64)
        k = torch.randn(SATURATION_SAMPLES, n, d, generator=g, dtype=torch.float64)
        s = (q * k).sum(-1)  # q · k_j, (samples, n)
        for scores, mw, jn in ((s, mw_u, jn_u), (s / math.sqrt(d), mw_s, jn_s)):
            mw.append(ar.softmax(scores).max(-1).values.mean().item())
            jn.append(_jacobian_frobenius(scores).mean().item())
    uniform = _jacobian_frobenius(torch.zeros(1, n, dtype=torch.float64)).item()
    return Saturation(D_KS, n, SATURATION_SAMPLES, tuple(mw_u), tuple(mw_s), tuple(jn_u), tuple(jn_s), uniform,
                      SATURATION_SEED)


@dataclass(frozen=True)
class StableSoftmax:
    """softmax(s) = softmax(s − max s): the shift changes nothing mathematically and avoids overflow.

    In float32, exp(x) overflows to inf for x > log(3.4·10³⁸) ≈ 88.72, so exp(1000) = inf and the
    naive quotient inf / inf is NaN.
    """

    scores: Vec
    naive_dtype: str
    naive_exps: Vec  # exp(s_j) in float32: inf
    naive_total: float
    naive_weights: Vec  # NaN
    overflow_threshold: float  # log(float32 max)
    max_score: float
    shifted: Vec  # s_j − max s
    shifted_exps: Vec
    shifted_total: float
    weights: Vec  # ar.softmax in float64
    weights_float32: Vec  # ar.softmax in float32: finite too
    reference: Vec  # torch.softmax in float64
    weights_shown: Vec


@builder("L01.6")
def stable_softmax_demo() -> StableSoftmax:
    """Scores (1000, 1001, 1002): naive float32 softmax gives NaN, the max-subtracted one (0.09, 0.24, 0.67)."""
    s32 = torch.tensor(LARGE_SCORES, dtype=torch.float32)
    e32 = torch.exp(s32)  # overflows
    naive = e32 / e32.sum()
    s = s32.double()
    shifted = s - s.max()
    e = torch.exp(shifted)
    p = ar.softmax(s)
    return StableSoftmax(
        LARGE_SCORES, "float32", to_tuple(e32.double()), e32.sum().item(), to_tuple(naive.double()),
        math.log(torch.finfo(torch.float32).max), s.max().item(), to_tuple(shifted), to_tuple(e), e.sum().item(),
        to_tuple(p), to_tuple(ar.softmax(s32).double()), to_tuple(torch.softmax(s, -1)), to_tuple(ar.round_to_sum(p)))


@dataclass(frozen=True)
class SoftmaxExtra:
    """L01.6: exponentials rounded so that they add up to their rounded sum, for the walkthrough row and for
    the max-shifted large scores."""

    exps_shown: Vec  # exp(s_j), two decimals, adding up to total_shown
    total_shown: float
    shifted_exps_shown: Vec  # exp(s_j − max s), two decimals, adding up to shifted_total_shown
    shifted_total_shown: float


@builder("L01.6")
def softmax_extra() -> SoftmaxExtra:
    """The walkthrough row's and the shifted large scores' exponentials, rounded to add up on screen."""
    sw, st = softmax_walkthrough(), stable_softmax_demo()
    e = ar.round_to_sum(as_tensor(sw.exps), decimals=2)
    se = ar.round_to_sum(as_tensor(st.shifted_exps), decimals=2)
    return SoftmaxExtra(to_tuple(e), round(e.sum().item(), 2), to_tuple(se), round(se.sum().item(), 2))
