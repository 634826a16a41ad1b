"""L01.3: path lengths (RNN |i − j| vs attention 1) and the measured gradient-vs-distance curves of an
RNN, an LSTM and one attention layer, with the values the scene shows and says about them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.format import shown, spoken

from ._shared import SENTENCE, Mat, Vec, to_tuple

GRAD_SEEDS: tuple[int, ...] = (0, 1, 2, 3)
GRAD_WIDTH = 8
GRAD_MAX_DISTANCE = 32



@dataclass(frozen=True)
class PathLengths:
    """Steps a signal takes from token j to token i: RNN |i − j|; attention 1 (0 to itself)."""

    tokens: tuple[str, ...]
    rnn: tuple[tuple[int, ...], ...]
    attention: tuple[tuple[int, ...], ...]


@builder("L01.3")
def path_lengths() -> PathLengths:
    """Path-length grids over the running sentence."""
    n = len(SENTENCE)
    i, j = torch.arange(n)[:, None], torch.arange(n)[None, :]
    rnn = (i - j).abs()
    attn = (i != j).long()
    return PathLengths(SENTENCE, tuple(map(tuple, rnn.tolist())), tuple(map(tuple, attn.tolist())))


@dataclass(frozen=True)
class GradientCurves:
    """‖∂y_T/∂x_t‖_F at distance T − t = 1 … 32 (measured by autograd, float64, geometric mean over seeds).

    y_T is the last output of a tanh RNN, an LSTM (hidden = input = 8, PyTorch default init) and one
    causal single-head attention layer (``attn_ref.MultiHeadAttention(8, 1)``, default init), fed the
    same seeded N(0, 1) inputs of length 33.
    """

    distances: tuple[int, ...]
    rnn: Vec
    lstm: Vec
    attention: Vec
    rnn_per_seed: Mat  # one curve per seed
    lstm_per_seed: Mat
    attention_per_seed: Mat
    seeds: tuple[int, ...]
    width: int
    length: int


def _jacobian_norms(f, x: torch.Tensor) -> torch.Tensor:
    """‖∂y_T/∂x_t‖_F for every t, returned by distance 1 … T−1 (index 0 = distance 1).

    One backward pass for the whole Jacobian: copy x into a batch of h independent sequences and
    back-propagate Σ_c y_T[c, c], so batch element c receives row c of ∂y_T/∂x.
    """
    h = GRAD_WIDTH
    xs = x.expand(h, -1, -1).clone().requires_grad_(True)
    y = f(xs)[:, -1]  # (h, h): copy c, component c'
    (g,) = torch.autograd.grad(y.diagonal().sum(), xs)  # g[c, t] = ∂y_T[c]/∂x_t
    return (g ** 2).sum(dim=(0, 2)).sqrt().flip(0)[1:]


def _model(kind: str, seed: int):
    d = GRAD_WIDTH
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if kind == "rnn":
            m = nn.RNN(d, d, nonlinearity="tanh", batch_first=True).double()
            return lambda x: m(x)[0]
        if kind == "lstm":
            m = nn.LSTM(d, d, batch_first=True).double()
            return lambda x: m(x)[0]
        return ar.MultiHeadAttention(d, 1, causal=True).double()


@builder("L01.3")
def gradient_vs_distance() -> GradientCurves:
    """Measured gradient size of the last output w.r.t. earlier inputs: RNN and LSTM decay, attention stays flat."""
    length = GRAD_MAX_DISTANCE + 1
    curves = {}
    for kind in ("rnn", "lstm", "attention"):
        runs = []
        for seed in GRAD_SEEDS:
            x = torch.randn(1, length, GRAD_WIDTH, dtype=torch.float64,
                            generator=torch.Generator().manual_seed(1000 + seed))
            runs.append(_jacobian_norms(_model(kind, seed), x))
        curves[kind] = torch.stack(runs)
    geo = {k: c.log().mean(0).exp() for k, c in curves.items()}  # geometric mean over seeds
    return GradientCurves(tuple(range(1, length)), to_tuple(geo["rnn"]), to_tuple(geo["lstm"]),
                          to_tuple(geo["attention"]), to_tuple(curves["rnn"]), to_tuple(curves["lstm"]),
                          to_tuple(curves["attention"]), GRAD_SEEDS, GRAD_WIDTH, length)


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


@builder("L01.3")
def gradient_summary() -> GradientSummary:
    """What the scene shows and says about ``gradient_vs_distance()``: end values, ratios, axis decades."""
    g = gradient_vs_distance()
    curves = (("RNN", g.rnn), ("LSTM", g.lstm), ("attention", g.attention))
    ends = tuple(CurveEnd(name, c[-1], shown(c[-1], auto=True), spoken(c[-1], auto=True)) for name, c in curves)
    everything = [v for _, c in curves for v in c]
    lo, hi = math.floor(math.log10(min(everything))), math.ceil(math.log10(max(everything)))
    r_rnn, r_lstm = g.attention[-1] / g.rnn[-1], g.attention[-1] / g.lstm[-1]
    return GradientSummary(g.distances[-1], ends, r_rnn, r_lstm, spoken(r_rnn, rough=True), spoken(r_lstm, rough=True),
                           tuple(range(lo, hi + 1)), len(g.seeds), g.width, g.length)
