"""Masks (``attn_ref.masks``): an additive mask entry, the causal mask, masked softmax."""
from __future__ import annotations

import sympy as sp
import torch

from scenes.kit.references import VASWANI

from .checks import mat, numeric, randn, rng
from .notation import Softmax
from .registry import Clause, EquationError, register
from .symbols import A, K, M, Q, d_k, i, j, m, n

s_sym = sp.Symbol("s", real=True)  # one score


def _claim_mask_exp(eq):
    import attn_ref as ar

    for cl in eq.clauses:
        if sp.simplify(cl.lhs.doit() - cl.rhs) != 0:
            raise EquationError(f"{eq.name}: {cl.lhs} does not evaluate to {cl.rhs}")
    # numeric: an additive -inf mask entry gives weight exactly 0; a 0 entry keeps the weight
    scores = torch.tensor([[0.3, -1.2, 2.0, 0.5]], dtype=torch.float64)
    bias = torch.tensor([[0.0, float("-inf"), 0.0, float("-inf")]], dtype=torch.float64)
    p = ar.softmax(scores + bias)
    kept = torch.softmax(scores[:, [0, 2]], dim=-1)
    if not (p[0, 1] == 0 and p[0, 3] == 0 and torch.allclose(p[0, [0, 2]], kept[0])):
        raise EquationError(f"{eq.name}: attn_ref.softmax does not drop -inf entries: {p}")


register(
    "mask_exp",
    [Clause(sp.exp(sp.Add(s_sym, -sp.oo, evaluate=False), evaluate=False), sp.S.Zero),
     Clause(sp.exp(sp.Add(s_sym, sp.S.Zero, evaluate=False), evaluate=False), sp.exp(s_sym))],
    _claim_mask_exp,
    "An additive mask: −∞ turns a weight into exactly 0, 0 leaves it unchanged.",
    VASWANI, {r"\infty": "MASK"}, where="§3.2.3",
)


def _claim_causal(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    size = 5
    ref = ar.bool_to_additive(ar.causal_mask(size, size))
    for a in range(size):
        for b in range(size):
            got = cl.rhs.xreplace({i: a + 1, j: b + 1})
            want = -sp.oo if torch.isneginf(ref[a, b]) else sp.Integer(int(ref[a, b]))
            if got != want:
                raise EquationError(f"{eq.name}: M[{a},{b}] drawn {got}, attn_ref {want}")


register(
    "causal_mask",
    [Clause(sp.IndexedBase("M")[i, j], sp.Piecewise((0, j <= i), (-sp.oo, True)))],
    _claim_causal,
    "The causal mask: query i may attend to keys j ≤ i.",
    VASWANI, {r"-\infty": "MASK"}, where="§3.2.3",
)


def _claim_masked_softmax(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    gen = rng(8)
    nq = nk = 4
    q, k = randn(gen, nq, 3), randn(gen, nk, 3)
    allowed = ar.causal_mask(nq, nk)
    _, p = ar.sdpa(q[None, None], k[None, None], randn(gen, 1, 1, nk, 2), attn_mask=allowed, return_weights=True)
    bias = sp.ImmutableMatrix(nq, nk, lambda a, b: 0 if allowed[a, b] else -sp.oo)
    subs = {Q: mat(q), K: mat(k), M: bias, A: mat(p[0, 0]), d_k: 3, n: nq, m: nk}
    numeric(eq, cl, subs)


register(
    "masked_softmax",
    [Clause(A, Softmax(sp.MatAdd(Q * K.T / sp.sqrt(d_k), M, evaluate=False)))],
    _claim_masked_softmax,
    "Masking adds M (0 or −∞) to the scores before the softmax.",
    VASWANI, {"Q": "Q", "K": "K", "M": "MASK", "A": "WEIGHT"}, where="§3.2.3",
)
