"""L01.1–L01.3 and the references card: the timeline, a real RNN, the seq2seq bottleneck, Bahdanau
alignment, path lengths and measured gradient-vs-distance curves.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import nn

import attn_ref as ar

from .data_common import D_MODEL, SENTENCE, Mat, Vec, _gaussian, embed, to_tuple

RNN_SEED = 1
"""Seed of the Elman encoder ``torch.nn.RNN(4, 4, tanh)`` (PyTorch default init U(±1/√4))."""
BAHDANAU_SEED = 2
"""Seed of the additive-attention parameters W_s, W, U (N(0, 1)) and v (N(0, 2²)), 2 decimals."""
LONG_SENTENCE: tuple[str, ...] = ("the", "dog", "slept", "on", "the", "warm", "mats", "all", "day")
GRAD_SEEDS: tuple[int, ...] = (0, 1, 2, 3)
GRAD_WIDTH = 8
GRAD_MAX_DISTANCE = 32


# ----------------------------------------------------------------------------------------- L01.1/2


@dataclass(frozen=True)
class Milestone:
    """One step of the timeline: what it fixed and what it left broken."""

    year: int
    name: str
    authors: str
    source: str  # arXiv id or journal
    fixed: str
    left_broken: str


@dataclass(frozen=True)
class Reference:
    """One entry of the references card."""

    authors: str
    year: int
    title: str
    venue: str
    arxiv: str | None = None

    @property
    def citation(self) -> str:
        where = f"arXiv:{self.arxiv}" if self.arxiv else self.venue
        return f"{self.authors} ({self.year}). {self.title}. {where}"


_RUMELHART = Reference("Rumelhart, Hinton & Williams", 1986, "Learning representations by back-propagating "
                       "errors", "Nature 323, 533–536")
_ELMAN = Reference("Elman", 1990, "Finding Structure in Time", "Cognitive Science 14(2), 179–211")
_BENGIO94 = Reference("Bengio, Simard & Frasconi", 1994, "Learning long-term dependencies with gradient "
                      "descent is difficult", "IEEE Transactions on Neural Networks 5(2), 157–166")
_LSTM = Reference("Hochreiter & Schmidhuber", 1997, "Long Short-Term Memory", "Neural Computation 9(8), "
                  "1735–1780")
_SEQ2SEQ = Reference("Sutskever, Vinyals & Le", 2014, "Sequence to Sequence Learning with Neural Networks",
                     "NeurIPS 2014", "1409.3215")
_BAHDANAU = Reference("Bahdanau, Cho & Bengio", 2014, "Neural Machine Translation by Jointly Learning to "
                      "Align and Translate", "ICLR 2015", "1409.0473")
_LUONG = Reference("Luong, Pham & Manning", 2015, "Effective Approaches to Attention-based Neural Machine "
                   "Translation", "EMNLP 2015", "1508.04025")
_VASWANI = Reference("Vaswani et al.", 2017, "Attention Is All You Need", "NeurIPS 2017", "1706.03762")


def _source(r: Reference) -> str:
    return f"arXiv:{r.arxiv}" if r.arxiv else r.venue


@functools.cache
def history() -> tuple[Milestone, ...]:
    """The road FFN → RNN → LSTM → seq2seq → attention → Transformer, oldest first."""
    rows = [
        ("Feed-forward network (backprop)", _RUMELHART,
         "learns its own features by gradient descent",
         "fixed-size input, no order and no memory of earlier inputs"),
        ("Elman RNN", _ELMAN,
         "reads sequences of any length through a recurrent hidden state",
         "gradients vanish or explode over long distances; one step at a time"),
        ("LSTM", _LSTM,
         "a gated memory cell carries information (and gradients) over longer spans",
         "still sequential: token i reaches token j only through |i − j| steps"),
        ("seq2seq encoder–decoder", _SEQ2SEQ,
         "maps a variable-length input to a variable-length output",
         "the whole input is squeezed into one fixed-size vector (the bottleneck)"),
        ("Additive attention", _BAHDANAU,
         "the decoder looks back at every encoder state with learned alignment weights",
         "the encoder and decoder are still recurrent, so still sequential"),
        ("Multiplicative attention", _LUONG,
         "simpler dot-product scores; global and local attention",
         "still attached to a recurrent network"),
        ("Transformer", _VASWANI,
         "attention only: every token is one step from every other, all positions in parallel",
         "cost grows with the square of the sequence length (Lecture 4)"),
    ]
    return tuple(Milestone(r.year, name, r.authors, _source(r), fixed, broken) for name, r, fixed, broken in rows)


@functools.cache
def references() -> tuple[Reference, ...]:
    """The references card, oldest first."""
    return (_RUMELHART, _ELMAN, _BENGIO94, _LSTM, _SEQ2SEQ, _BAHDANAU, _LUONG, _VASWANI)


def _encoder() -> nn.RNN:
    """The seeded Elman encoder h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh), hidden size 4."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RNN_SEED)
        rnn = nn.RNN(D_MODEL, D_MODEL, nonlinearity="tanh", batch_first=True)
    return rnn.double()


@torch.no_grad()
def _encode(tokens) -> torch.Tensor:
    """Hidden states (len, 4) of the encoder over ``tokens``, h_0 = 0."""
    out, _ = _encoder()(embed(tokens)[None])
    return out[0]


@dataclass(frozen=True)
class RnnStates:
    """The encoder read token by token: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)."""

    tokens: tuple[str, ...]
    inputs: Mat  # x_t, (len, 4)
    w_ih: Mat
    w_hh: Mat
    b_ih: Vec
    b_hh: Vec
    states: Mat  # h_1 … h_len, (len, 4)
    seed: int


@functools.cache
def rnn_states() -> RnnStates:
    """The running sentence through a real ``torch.nn.RNN`` (hidden 4): the hidden state after each token."""
    rnn = _encoder()
    return RnnStates(SENTENCE, to_tuple(embed(SENTENCE)), to_tuple(rnn.weight_ih_l0), to_tuple(rnn.weight_hh_l0),
                     to_tuple(rnn.bias_ih_l0), to_tuple(rnn.bias_hh_l0), to_tuple(_encode(SENTENCE)), RNN_SEED)


@dataclass(frozen=True)
class Bottleneck:
    """Two sentences of different lengths, each ending in one encoder vector of the same size."""

    sentences: tuple[tuple[str, ...], ...]
    lengths: tuple[int, ...]
    input_numbers: tuple[int, ...]  # len × d_model numbers go in …
    states: tuple[Mat, ...]  # every hidden state of each sentence
    final_states: tuple[Vec, ...]  # … and only these 4 numbers reach the decoder
    state_size: int


@functools.cache
def seq2seq_bottleneck() -> Bottleneck:
    """seq2seq (arXiv:1409.3215): the decoder sees only the encoder's last state h_T, whatever T is."""
    sents = (SENTENCE, LONG_SENTENCE)
    states = [_encode(s) for s in sents]
    return Bottleneck(sents, tuple(len(s) for s in sents), tuple(len(s) * D_MODEL for s in sents),
                      tuple(to_tuple(h) for h in states), tuple(to_tuple(h[-1]) for h in states), D_MODEL)


@dataclass(frozen=True)
class Bahdanau:
    """One decoder step of additive attention (arXiv:1409.0473, §3.1 and App. A).

    s = tanh(W_s h_T) (decoder state initialised from the encoder, seq2seq style);
    e_j = vᵀ tanh(W s + U h_j);  α = softmax(e);  c = Σ_j α_j h_j.
    """

    tokens: tuple[str, ...]
    encoder_states: Mat  # h_j (len, 4)
    w_s: Mat
    w: Mat
    u: Mat
    v: Vec
    decoder_state: Vec  # s
    hidden: Mat  # tanh(W s + U h_j), one row per j
    scores: Vec  # e_j
    weights: Vec  # α_j
    weights_shown: Vec  # α_j rounded to 2 decimals, summing to 1.00
    context: Vec  # c
    seed: int


@functools.cache
def bahdanau_alignment() -> Bahdanau:
    """Additive attention of the decoder's first state over the encoder states of the running sentence."""
    h = _encode(SENTENCE)
    p = _gaussian((3, D_MODEL, D_MODEL), BAHDANAU_SEED)
    w_s, w, u = p[0], p[1], p[2]
    v = _gaussian((D_MODEL,), BAHDANAU_SEED + 100, std=2.0)
    s = torch.tanh(w_s @ h[-1])  # s = tanh(W_s h_T)
    hidden = torch.tanh((w @ s)[None, :] + h @ u.T)  # tanh(W s + U h_j)
    e = hidden @ v  # e_j = vᵀ tanh(W s + U h_j)
    alpha = ar.softmax(e)  # α_j = exp(e_j) / Σ_k exp(e_k)
    c = alpha @ h  # c = Σ_j α_j h_j
    return Bahdanau(SENTENCE, to_tuple(h), to_tuple(w_s), to_tuple(w), to_tuple(u), to_tuple(v), to_tuple(s),
                    to_tuple(hidden), to_tuple(e), to_tuple(alpha), to_tuple(ar.round_to_sum(alpha)),
                    to_tuple(c), BAHDANAU_SEED)


# -------------------------------------------------------------------------------------------- L01.3


@dataclass(frozen=True)
class PathLengths:
    """Steps a signal takes from token j to token i: RNN |i − j|; attention 1 (0 to itself)."""

    tokens: tuple[str, ...]
    rnn: tuple[tuple[int, ...], ...]
    attention: tuple[tuple[int, ...], ...]


@functools.cache
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


@functools.cache
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
