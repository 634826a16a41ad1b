"""Before attention: the Elman RNN update, and Bahdanau's additive attention over RNN encoder states
(its alignment score and its context vector)."""
from __future__ import annotations

import sympy as sp
import torch

from scenes.kit.references import BAHDANAU, ELMAN

from .checks import close, expand_sum, mat, numeric, randn, rng
from .notation import Tanh
from .registry import Clause, register
from .symbols import i, j

# --- the RNN update ---------------------------------------------------------------------------------------
hdim, xdim = sp.symbols("H D", integer=True, positive=True)
W_h, U_x = sp.MatrixSymbol("W", hdim, hdim), sp.MatrixSymbol("U", hdim, xdim)
b_h = sp.MatrixSymbol("b", hdim, 1)
h_prev, x_t, h_t = sp.MatrixSymbol("h_{t-1}", hdim, 1), sp.MatrixSymbol("x_{t}", xdim, 1), sp.MatrixSymbol(
    "h_{t}", hdim, 1)


def _claim_rnn(eq):
    """Against ``torch.nn.RNNCell`` (tanh)."""
    cl = eq.clauses[0]
    torch.manual_seed(10)
    cell = torch.nn.RNNCell(3, 4, nonlinearity="tanh").double()
    gen = rng(10)
    xin, hin = randn(gen, 1, 3), randn(gen, 1, 4)
    with torch.no_grad():
        href = cell(xin, hin)
    subs = {W_h: mat(cell.weight_hh.detach()), U_x: mat(cell.weight_ih.detach()),
            b_h: mat((cell.bias_ih + cell.bias_hh).detach()[:, None]),
            h_prev: mat(hin.T), x_t: mat(xin.T), h_t: mat(href.T), hdim: 4, xdim: 3}
    numeric(eq, cl, subs)


register(
    "rnn_update",
    [Clause(h_t, Tanh(sp.MatAdd(W_h * h_prev, U_x * x_t, b_h, evaluate=False)))],
    _claim_rnn,
    "The Elman RNN update: the whole past is squeezed into one hidden state h_t.",
    ELMAN,
)

# --- Bahdanau's additive score ---------------------------------------------------------------------------
adim, sdim, hdim2 = sp.symbols("a S E", integer=True, positive=True)
v_a, W_a, U_a = sp.MatrixSymbol("v_{a}", adim, 1), sp.MatrixSymbol("W_{a}", adim, sdim), sp.MatrixSymbol(
    "U_{a}", adim, hdim2)
s_prev, h_j = sp.MatrixSymbol("s_{i-1}", sdim, 1), sp.MatrixSymbol("h_{j}", hdim2, 1)
e_ij = sp.MatrixSymbol("e_{ij}", 1, 1)


def _claim_bahdanau(eq):
    cl = eq.clauses[0]
    gen = rng(11)
    va, wa, ua = randn(gen, 5, 1), randn(gen, 5, 3), randn(gen, 5, 4)
    s, h = randn(gen, 3, 1), randn(gen, 4, 1)
    ref = torch.nn.functional.linear(torch.tanh(wa @ s + ua @ h).T, va.T)  # (1, 1)
    subs = {v_a: mat(va), W_a: mat(wa), U_a: mat(ua), s_prev: mat(s), h_j: mat(h), e_ij: mat(ref),
            adim: 5, sdim: 3, hdim2: 4}
    numeric(eq, cl, subs)


register(
    "bahdanau_score",
    [Clause(e_ij, v_a.T * Tanh(sp.MatAdd(W_a * s_prev, U_a * h_j, evaluate=False)))],
    _claim_bahdanau,
    "Additive attention: an alignment score from a small feed-forward net of decoder and encoder states.",
    BAHDANAU, {"s_{i-1}": "Q", "h_{j}": "K"}, where="eq. (6) and App. A.1.2",
)

# --- Bahdanau's context vector: the weighted sum of the encoder states (Lecture 1, L01.2) ----------------
alpha_idx, hstate_idx, ctx_idx = sp.IndexedBase(r"\alpha"), sp.IndexedBase("h"), sp.IndexedBase("c")
T_x = sp.Symbol("T_{x}", integer=True, positive=True)


def _claim_bahdanau_context(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    gen = rng(12)
    h, e = randn(gen, 5, 4), randn(gen, 5)
    alpha = ar.softmax(e)
    ref = (alpha[:, None] * h).sum(0)  # c = Σ_j α_j h_j, one coordinate at a time below
    for col in range(4):
        rhs = expand_sum(cl.rhs, {T_x: 5, i: 1}).xreplace(
            {**{alpha_idx[1, t]: float(alpha[t - 1]) for t in range(1, 6)},
             **{hstate_idx[t]: float(h[t - 1, col]) for t in range(1, 6)}})
        close(eq.name, float(ref[col]), rhs)


register(
    "bahdanau_context",
    [Clause(ctx_idx[i], sp.Sum(sp.Mul(alpha_idx[i, j], hstate_idx[j], evaluate=False), (j, 1, T_x)))],
    _claim_bahdanau_context,
    "Additive attention's context vector: the alignment weights α_ij (a softmax of the scores e_ij) mix "
    "the encoder states h_j.",
    BAHDANAU, {"c_{i}": "OUTPUT", r"\alpha_{ij}": "WEIGHT", "h_{j}": "K"}, where="eq. (5)",
)
