"""The course's shared notation as sympy symbols (queries are rows; d_k is the query/key width).

A symbol used by one concept's entries only lives in that entry module; symbols shared across concepts
(Q, K, V, sizes, indices, the softmax vector, the projections) live here.
"""
from __future__ import annotations

import sympy as sp

__all__ = ["QKV_ROLES", "A", "A_idx", "K", "M", "Q", "V", "W_k", "W_q", "W_v", "X_emb", "d_k", "d_model", "d_v",
           "i", "j", "k_idx", "k_vec", "m", "n", "o_idx", "q_idx", "q_vec", "v_idx", "x", "x_vec"]

n, m = sp.symbols("n m", integer=True, positive=True)  # number of queries, number of keys
d_k = sp.Symbol("d_k", integer=True, positive=True)
d_v = sp.Symbol("d_v", integer=True, positive=True)
d_model = sp.Symbol("d", integer=True, positive=True)  # embedding width
i, j = sp.symbols("i j", integer=True, positive=True)
Q = sp.MatrixSymbol("Q", n, d_k)
K = sp.MatrixSymbol("K", m, d_k)
V = sp.MatrixSymbol("V", m, d_v)
M = sp.MatrixSymbol("M", n, m)  # additive mask
A = sp.MatrixSymbol("A", n, m)  # attention weights
X_emb = sp.MatrixSymbol("X", n, d_model)  # token embeddings, one per row
W_q, W_k, W_v = (sp.MatrixSymbol(f"W_{{{r}}}", d_model, d) for r, d in (("Q", d_k), ("K", d_k), ("V", d_v)))
x = sp.IndexedBase("x")
x_vec = sp.Symbol("x")  # the vector x as a whole, argument of softmax(x)
q_vec = sp.MatrixSymbol(r"\mathbf{q}", d_k, 1)  # vectors are bold
k_vec = sp.MatrixSymbol(r"\mathbf{k}", d_k, 1)
q_idx, k_idx = sp.IndexedBase("q"), sp.IndexedBase("k")
A_idx, v_idx, o_idx = sp.IndexedBase("A"), sp.IndexedBase("v"), sp.IndexedBase("o")
QKV_ROLES = {"Q": "Q", "K": "K", "V": "V"}
