"""Scaled dot-product attention (``attn_ref.core``): the formula, its weights, one score, why √d_k,
the weighted sum of values, shapes, and the Q/K/V projections."""
from __future__ import annotations

import sympy as sp
import torch

from scenes.kit.references import VASWANI

from .checks import close, expand_sum, identity, mat, numeric, randn, rng, unit_variance_moments
from .notation import Attention, Dot, Shape, ShapeProduct, Softmax, Variance, explicit
from .registry import Clause, EquationError, register
from .symbols import (A, A_idx, K, Q, QKV_ROLES, V, W_k, W_q, W_v, X_emb, d_k, d_model, d_v, i, j, k_idx, k_vec, m,
                      n, o_idx, q_idx, q_vec, v_idx)


# --- Attention(Q, K, V) = softmax(QKᵀ/√d_k) V -------------------------------------------------
def _claim_sdpa(eq):
    gen = rng(0)
    for (nq, nk, dk, dv) in ((3, 4, 4, 2), (2, 5, 3, 3)):
        subs = {Q: mat(randn(gen, nq, dk)), K: mat(randn(gen, nk, dk)), V: mat(randn(gen, nk, dv)),
                d_k: dk, n: nq, m: nk, d_v: dv}
        numeric(eq, eq.clauses[0], subs)


register(
    "sdpa",
    [Clause(Attention(Q, K, V), Softmax(Q * K.T / sp.sqrt(d_k)) * V)],
    _claim_sdpa,
    "Scaled dot-product attention; queries are rows, softmax runs along each row.",
    VASWANI, QKV_ROLES, where="eq. (1)",
)


def _claim_weights(eq):
    import attn_ref as ar

    gen = rng(1)
    q, k, v = randn(gen, 4, 3), randn(gen, 5, 3), randn(gen, 5, 2)
    _, p = ar.sdpa(q[None, None], k[None, None], v[None, None], return_weights=True)
    subs = {Q: mat(q), K: mat(k), A: mat(p[0, 0]), d_k: 3, n: 4, m: 5}
    numeric(eq, eq.clauses[0], subs)


register(
    "attention_weights",
    [Clause(A, Softmax(Q * K.T / sp.sqrt(d_k)))],
    _claim_weights,
    "The attention matrix: row i holds query i's weights over the keys.",
    VASWANI, {"Q": "Q", "K": "K", "A": "WEIGHT"},
)


# --- a score is a dot product ------------------------------------------------------------------------
def _claim_dot(eq):
    cl = eq.clauses[0]
    dk = 4
    qs, ks = [q_idx[t] for t in range(1, dk + 1)], [k_idx[t] for t in range(1, dk + 1)]
    lhs = cl.lhs.xreplace({q_vec: sp.ImmutableMatrix(qs), k_vec: sp.ImmutableMatrix(ks), d_k: dk}).doit()
    rhs = expand_sum(cl.rhs, {d_k: dk})
    identity(eq, lhs, rhs)
    # numeric, against the reference's unscaled score Q Kᵀ
    import attn_ref as ar

    gen = rng(5)
    qm, km = randn(gen, 3, dk), randn(gen, 2, dk)
    s = ar.attention_scores(qm[None, None], km[None, None], scale=1.0)[0, 0]
    got = explicit(cl.rhs.xreplace({d_k: dk}).doit().xreplace(
        {**{q_idx[t + 1]: float(qm[2, t]) for t in range(dk)}, **{k_idx[t + 1]: float(km[1, t]) for t in range(dk)}}))
    close(eq.name, got, float(s[2, 1]))


register(
    "score_dot",
    [Clause(Dot(q_vec, k_vec), sp.Sum(sp.Mul(q_idx[i], k_idx[i], evaluate=False), (i, 1, d_k)))],
    _claim_dot,
    "One score: the dot product of a query and a key.",
    VASWANI, {q_vec: "Q", k_vec: "K", "q_{i}": "Q", "k_{i}": "K"}, where="§3.2.1",
)

q_i, k_j = sp.MatrixSymbol(r"\mathbf{q}_{i}", d_k, 1), sp.MatrixSymbol(r"\mathbf{k}_{j}", d_k, 1)
s_ij = sp.Symbol("s_{ij}")


def _claim_scaled_score(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    gen = rng(6)
    qm, km = randn(gen, 3, 8), randn(gen, 4, 8)
    s = ar.attention_scores(qm[None, None], km[None, None])[0, 0]  # default scale 1/√d
    for a in range(3):
        for b in range(4):
            subs = {q_i: mat(qm[a][:, None]), k_j: mat(km[b][:, None]), d_k: 8, s_ij: float(s[a, b])}
            numeric(eq, cl, subs)


register(
    "scaled_score",
    [Clause(s_ij, Dot(q_i, k_j) / sp.sqrt(d_k))],
    _claim_scaled_score,
    "Score of query i for key j, scaled by √d_k.",
    VASWANI, {q_i: "Q", k_j: "K"}, where="§3.2.1",
)


# --- variance of q·k -------------------------------------------------------------------------------------
def _claim_variance(eq):
    cl = eq.clauses[0]
    (inner,) = cl.lhs.args
    for dk in range(1, 7):
        qs, ks = sp.symbols(f"q1:{dk + 1}"), sp.symbols(f"k1:{dk + 1}")
        xv = explicit(inner.xreplace({q_vec: sp.ImmutableMatrix(qs), k_vec: sp.ImmutableMatrix(ks), d_k: dk}))
        var = unit_variance_moments(xv ** 2, qs + ks) - unit_variance_moments(xv, qs + ks) ** 2
        want = cl.rhs.xreplace({d_k: dk})
        if sp.simplify(var - want) != 0:
            raise EquationError(f"{eq.name}: for d_k = {dk}, Var = {var}, drawn {want}")


register(
    "variance_qk",
    [Clause(Variance(Dot(q_vec, k_vec)), d_k)],
    _claim_variance,
    "With independent entries of mean 0 and variance 1, the dot product's variance grows like d_k.",
    VASWANI, {q_vec: "Q", k_vec: "K"}, where="footnote 4",
)

register(
    "variance_scaled",
    [Clause(Variance(Dot(q_vec, k_vec) / sp.sqrt(d_k)), sp.S.One)],
    _claim_variance,
    "Dividing by √d_k brings the variance back to 1, so softmax does not saturate.",
    VASWANI, {q_vec: "Q", k_vec: "K"}, where="§3.2.1",
)


# --- rows sum to 1 -------------------------------------------------------------------------------------
def _claim_rows(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    gen = rng(7)
    _, p = ar.sdpa(randn(gen, 1, 1, 4, 3), randn(gen, 1, 1, 6, 3), randn(gen, 1, 1, 6, 2), return_weights=True)
    p = p[0, 0]
    for row in range(1, 5):
        lhs = expand_sum(cl.lhs, {m: 6, i: row}).xreplace(
            {A_idx[row, col]: float(p[row - 1, col - 1]) for col in range(1, 7)})
        close(eq.name, lhs, cl.rhs)
    # symbolic: weights defined by softmax of arbitrary scores sum to 1 (m = 3)
    s = sp.IndexedBase("s")
    w = {A_idx[2, col]: sp.exp(s[col]) / sum(sp.exp(s[t]) for t in range(1, 4)) for col in range(1, 4)}
    identity(eq, expand_sum(cl.lhs, {m: 3, i: 2}).xreplace(w), cl.rhs)


register(
    "rows_sum_to_one",
    [Clause(sp.Sum(A_idx[i, j], (j, 1, m)), sp.S.One)],
    _claim_rows,
    "Each row of the attention matrix is a probability distribution over the keys.",
    VASWANI, {"A_{ij}": "WEIGHT"},
)


# --- output is a weighted sum of values ----------------------------------------------------------------
def _claim_weighted_sum(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    gen = rng(9)
    v = randn(gen, 5, 3)
    out, p = ar.sdpa(randn(gen, 1, 1, 2, 4), randn(gen, 1, 1, 5, 4), v[None, None], return_weights=True)
    for row in range(1, 3):
        for col in range(3):  # one output coordinate at a time
            rhs = expand_sum(cl.rhs, {m: 5, i: row}).xreplace(
                {**{A_idx[row, t]: float(p[0, 0, row - 1, t - 1]) for t in range(1, 6)},
                 **{v_idx[t]: float(v[t - 1, col]) for t in range(1, 6)}})
            lhs = cl.lhs.xreplace({i: row}).xreplace({o_idx[row]: float(out[0, 0, row - 1, col])})
            close(eq.name, lhs, rhs)


register(
    "weighted_sum",
    [Clause(o_idx[i], sp.Sum(sp.Mul(A_idx[i, j], v_idx[j], evaluate=False), (j, 1, m)))],
    _claim_weighted_sum,
    "Each output row is the attention-weighted average of the value vectors.",
    VASWANI, {"o_{i}": "OUTPUT", "A_{ij}": "WEIGHT", "v_{j}": "V"},
)


# --- shapes --------------------------------------------------------------------------------------------------
def _claim_shape(eq):
    cl = eq.clauses[0]
    got = cl.lhs.doit()
    if got != cl.rhs:
        raise EquationError(f"{eq.name}: product shape is {got}, drawn {cl.rhs}")
    for nn, dd, mm in ((3, 4, 5), (1, 8, 7)):
        sizes = {n: nn, d_k: dd, m: mm}
        shapes = [tuple(int(v) for v in s.xreplace(sizes).args) for s in cl.lhs.args]
        out = torch.zeros(shapes[0]) @ torch.zeros(shapes[1])
        if tuple(out.shape) != tuple(int(v) for v in cl.rhs.xreplace(sizes).args):
            raise EquationError(f"{eq.name}: torch gives {tuple(out.shape)} for {shapes}")


register(
    "qk_shape",
    [Clause(ShapeProduct(Shape(n, d_k), Shape(d_k, m)), Shape(n, m))],
    _claim_shape,
    "Shapes: n queries × d_k times d_k × m keys gives an n × m score matrix.",
    VASWANI,
)


# --- Q, K, V are learned projections of the same token embeddings ------------------------------------------
def _claim_qkv_projection(eq):
    """Each clause against a bias-free single-head ``attn_ref.MultiHeadAttention`` (nn.Linear stores Wᵀ)."""
    import attn_ref as ar

    torch.manual_seed(12)
    mha = ar.MultiHeadAttention(4, 1, bias=False).double()
    x = randn(rng(12), 3, 4)
    with torch.no_grad():
        weights = {W_q: mha.q_proj.weight.T, W_k: mha.k_proj.weight.T, W_v: mha.v_proj.weight.T}
        outputs = {Q: mha.q_proj(x), K: mha.k_proj(x), V: mha.v_proj(x)}  # the role decides the reference
        for cl in eq.clauses:
            subs = {X_emb: mat(x), **{w: mat(t) for w, t in weights.items()}, cl.lhs: mat(outputs[cl.lhs]),
                    n: 3, d_model: 4, d_k: 4, d_v: 4}
            numeric(eq, cl, subs)


register(
    "qkv_projection",
    [Clause(Q, X_emb * W_q), Clause(K, X_emb * W_k), Clause(V, X_emb * W_v)],
    _claim_qkv_projection,
    "Queries, keys and values are three learned linear maps of the same token embeddings (rows of X).",
    VASWANI, QKV_ROLES, where="§3.2.2 (W^Q, W^K, W^V)",
)
