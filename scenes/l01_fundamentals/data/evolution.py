"""L01.2: a real tanh RNN reading the sentence, the seq2seq bottleneck, and one decoder step of
Bahdanau's additive attention.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

import attn_ref as ar
from scenes.kit.data_builders import builder

from ._shared import D_MODEL, SENTENCE, Mat, Vec, embed, gaussian, to_tuple

RNN_SEED = 1
"""Seed of the Elman encoder ``torch.nn.RNN(4, 4, tanh)`` (PyTorch default init U(±1/√4))."""
BAHDANAU_SEED = 2
"""Seed of the additive-attention parameters W_s, W, U (N(0, 1)) and v (N(0, 2²)), 2 decimals."""
LONG_SENTENCE: tuple[str, ...] = ("the", "dog", "slept", "on", "the", "warm", "mats", "all", "day")


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


@builder("L01.2")
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


@builder("L01.2")
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


@builder("L01.2")
def bahdanau_alignment() -> Bahdanau:
    """Additive attention of the decoder's first state over the encoder states of the running sentence."""
    h = _encode(SENTENCE)
    p = gaussian((3, D_MODEL, D_MODEL), BAHDANAU_SEED)
    w_s, w, u = p[0], p[1], p[2]
    v = gaussian((D_MODEL,), BAHDANAU_SEED + 100, std=2.0)
    s = torch.tanh(w_s @ h[-1])  # s = tanh(W_s h_T)
    hidden = torch.tanh((w @ s)[None, :] + h @ u.T)  # tanh(W s + U h_j)
    e = hidden @ v  # e_j = vᵀ tanh(W s + U h_j)
    alpha = ar.softmax(e)  # α_j = exp(e_j) / Σ_k exp(e_k)
    c = alpha @ h  # c = Σ_j α_j h_j
    return Bahdanau(SENTENCE, to_tuple(h), to_tuple(w_s), to_tuple(w), to_tuple(u), to_tuple(v), to_tuple(s),
                    to_tuple(hidden), to_tuple(e), to_tuple(alpha), to_tuple(ar.round_to_sum(alpha)),
                    to_tuple(c), BAHDANAU_SEED)
