"""Multi-head attention (``attn_ref.multihead``): heads and their concatenation, d_h = d_model / H, the
parameter and FLOP counts that do not depend on H, concatenate-then-project as a sum of per-head writes,
the convex hull of one head's output, and the rank of one head's scores."""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch
from sympy.matrices.expressions import MatrixExpr

from scenes.kit.references import BHOJANAPALLI, DAO_2022, ELHAGE, OLSSON, VASWANI

from .checks import close, expand_sum, identity, mat, numeric, randn, rng
from .notation import Softmax, explicit, is_explicit, to_numpy
from .registry import Clause, EquationError, register
from .symbols import A_idx, X_emb, d_model, i, j, m, n, o_idx, v_idx

H = sp.Symbol("H", integer=True, positive=True)      # number of heads
d_h = sp.Symbol("d_h", integer=True, positive=True)  # head width
b = sp.Symbol("b", integer=True, positive=True)      # batch
W_Qi, W_Ki, W_Vi = (sp.MatrixSymbol(f"W^{{{r}}}_{{i}}", d_model, d_h) for r in "QKV")
W_O = sp.MatrixSymbol("W^{O}", H * d_h, d_model)
W_Oi = sp.MatrixSymbol("W^{O}_{i}", d_h, d_model)    # row block i of W^O
head_1, head_i, head_H = (sp.MatrixSymbol(rf"\mathrm{{head}}_{{{t}}}", n, d_h) for t in ("1", "i", "H"))
# whole symbols: an isolated ^{Q} would push _{i} aside
HEAD_ROLES = {"W^{Q}_{i}": "Q", "W^{K}_{i}": "K", "W^{V}_{i}": "V"}


class MultiHead(MatrixExpr):
    """MultiHead(X): the module's output, (n × d_model); a claim replaces it by the reference's numbers."""

    def __new__(cls, x):
        return sp.Basic.__new__(cls, x)

    @property
    def shape(self):
        return (self.args[0].shape[0], d_model)

    def _latex(self, printer):
        return r"\operatorname{MultiHead}(" + printer._print(self.args[0]) + ")"


class Concat(MatrixExpr):
    """Concat(head_1, …, head_H): the heads side by side, (n × H·d_h)."""

    def __new__(cls, first, last):
        return sp.Basic.__new__(cls, first, last)

    @property
    def shape(self):
        return (self.args[0].shape[0], H * d_h)

    def _latex(self, printer):
        first, last = (printer._print(a) for a in self.args)
        return rf"\operatorname{{Concat}}\left({first}, \dots, {last}\right)"


class HeadSum(MatrixExpr):
    """Σ_{i=1}^{H} term(i): a sum over heads of matrix terms (printed; a claim expands it)."""

    def __new__(cls, term):
        return sp.Basic.__new__(cls, term)

    @property
    def shape(self):
        return self.args[0].shape

    def _latex(self, printer):
        return r"\sum_{i=1}^{H} " + printer._print(self.args[0])


class Hull(sp.Expr):
    """conv{v_j}: the convex hull of the value vectors (membership is checked numerically)."""

    def __new__(cls, v):
        return sp.Basic.__new__(cls, v)

    def _latex(self, printer):
        return r"\operatorname{conv}\left\{" + printer._print(self.args[0]) + r"\right\}"


class Rank(sp.Expr):
    """rank(M), evaluated with numpy's SVD-based matrix_rank once M is explicit."""

    def __new__(cls, arg):
        return sp.Basic.__new__(cls, arg)

    def _latex(self, printer):
        return r"\operatorname{rank}\left(" + printer._print(self.args[0]) + r"\right)"

    def doit(self, **hints):
        a = explicit(self.args[0])
        if not is_explicit(a):
            return self
        return sp.Integer(int(np.linalg.matrix_rank(to_numpy(a))))


def _mha(w_q, w_k, w_v, w_o, heads):
    """ar.MultiHeadAttention (float64, no bias, no mask) holding x W matrices (nn.Linear stores Wᵀ)."""
    import attn_ref as ar

    mha = ar.MultiHeadAttention(w_q.shape[0], heads, causal=False).double()
    with torch.no_grad():
        for lin, w in ((mha.q_proj, w_q), (mha.k_proj, w_k), (mha.v_proj, w_v), (mha.o_proj, w_o)):
            lin.weight.copy_(w.T)
    return mha


def _reference(gen, nn_, d, heads):
    """Random X and weights; ar.MultiHeadAttention's output and per-head outputs, checked against
    torch.nn.MultiheadAttention loaded with the same weights (float64, 1e-12)."""
    x = randn(gen, nn_, d)
    w_q, w_k, w_v, w_o = (randn(gen, d, d) for _ in range(4))
    mha = _mha(w_q, w_k, w_v, w_o, heads)
    ref = torch.nn.MultiheadAttention(d, heads, bias=False, batch_first=True).double()
    steps = []
    with torch.no_grad():
        out = mha(x[None], trace=steps.append)
        p, v = steps[-1]["weights"], steps[-1]["v"]
        ref.in_proj_weight.copy_(torch.cat([w_q.T, w_k.T, w_v.T]))
        ref.out_proj.weight.copy_(w_o.T)
        theirs, _ = ref(x[None], x[None], x[None], need_weights=False)
    if not torch.allclose(out, theirs, atol=1e-12, rtol=0):
        raise EquationError(f"ar.MultiHeadAttention and torch.nn.MultiheadAttention differ: "
                            f"{float((out - theirs).abs().max()):.3g}")
    return x, (w_q, w_k, w_v, w_o), out[0], (p @ v)[0]


def _blocks(w, heads):
    hd = w.shape[1] // heads
    return [w[:, h * hd:(h + 1) * hd] for h in range(heads)]


# --- E2.1 MultiHead(X) = Concat(head_1, …, head_H) W^O, head_i = softmax(X W_i^Q (X W_i^K)ᵀ/√d_h) X W_i^V --------
def _claim_multihead(eq):
    top, per_head = eq.clauses
    gen = rng(21)
    for nn_, d, heads in ((5, 6, 3), (4, 8, 2)):
        hd = d // heads
        x, (w_q, w_k, w_v, w_o), out, ref_heads = _reference(gen, nn_, d, heads)
        sizes = {n: nn_, d_model: d, d_h: hd, H: heads}
        formula_heads = []
        for h, (bq, bk, bv) in enumerate(zip(_blocks(w_q, heads), _blocks(w_k, heads), _blocks(w_v, heads))):
            subs = {X_emb: mat(x), W_Qi: mat(bq), W_Ki: mat(bk), W_Vi: mat(bv), head_i: mat(ref_heads[h]), **sizes}
            numeric(eq, per_head, subs, tol=1e-10)
            formula_heads.append(explicit(per_head.rhs.xreplace({k: sp.sympify(v) for k, v in subs.items()})))
        concat_node = top.rhs.args[0]
        rhs = top.rhs.xreplace({concat_node: sp.ImmutableMatrix(sp.BlockMatrix([formula_heads]).as_explicit()),
                                W_O: mat(w_o), **sizes})
        close(eq.name, explicit(rhs), mat(out), 1e-10)


register(
    "multihead",
    [Clause(MultiHead(X_emb), sp.MatMul(Concat(head_1, head_H), W_O)),
     Clause(head_i, sp.MatMul(Softmax(sp.MatMul(1 / sp.sqrt(d_h), X_emb, W_Qi, sp.Transpose(sp.MatMul(X_emb, W_Ki)),
                                                evaluate=False)), X_emb, W_Vi))],
    _claim_multihead,
    "Multi-head attention: H heads, each attention over its own projections, side by side, then W^O.",
    VASWANI, HEAD_ROLES, where="§3.2.2",
)


# --- E2.2 d_h = d_model / H ------------------------------------------------------------------------------------
def _claim_head_dim(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    for d, heads in ((512, 8), (768, 12), (4096, 32), (8192, 64), (12, 3)):
        got = ar.MultiHeadAttention(d, heads).head_dim
        if cl.rhs.xreplace({d_model: d, H: heads}) != got:
            raise EquationError(f"{eq.name}: d={d}, H={heads}: drawn {cl.rhs.xreplace({d_model: d, H: heads})}, "
                                f"attn_ref head_dim {got}")
    for cfg in (ar.TRANSFORMER_BASE, ar.GPT2_SMALL, ar.LLAMA2_7B, ar.LLAMA2_70B, ar.MISTRAL_7B):
        if cl.rhs.xreplace({d_model: cfg.d_model, H: cfg.n_heads}) != cfg.head_dim:
            raise EquationError(f"{eq.name}: {cfg.name} has head_dim {cfg.head_dim}")


register(
    "head_dim",
    [Clause(d_h, d_model / H)],
    _claim_head_dim,
    "Each head is d_model / H wide, so the heads together are as wide as the model.",
    VASWANI, where="§3.2.2 (d_k = d_v = d_model / h)",
)


# --- E2.2 P = 4 d² (+ 4 d with biases) --------------------------------------------------------------------------
P_attn, P_bias = sp.Symbol(r"P_{\mathrm{attn}}"), sp.Symbol(r"P_{\mathrm{attn}}^{\mathrm{bias}}")


def _claim_params(eq):
    import attn_ref as ar

    plain, with_bias = eq.clauses
    for d, heads in ((512, 8), (768, 12), (4096, 32), (64, 1), (64, 2), (64, 64)):
        for cl, bias in ((plain, False), (with_bias, True)):
            want = ar.attention_params(d, heads, bias=bias)
            if cl.rhs.xreplace({d_model: d}) != want:
                raise EquationError(f"{eq.name}: d={d}, H={heads}, bias={bias}: drawn "
                                    f"{cl.rhs.xreplace({d_model: d})}, attn_ref {want}")
    if ar.attention_params(768, 12, bias=True) != 2_362_368 or ar.attention_params(4096, 32) != 67_108_864:
        raise EquationError(f"{eq.name}: the plan's published counts do not hold")


register(
    "attention_params",
    [Clause(P_attn, 4 * d_model ** 2), Clause(P_bias, sp.Add(4 * d_model ** 2, 4 * d_model, evaluate=False))],
    _claim_params,
    "W^Q, W^K, W^V, W^O are four d × d matrices whatever H is (plus 4d biases when used).",
    VASWANI, where="§3.2.2, counted: four d_model × d_model projections",
)


# --- E2.3 FLOPs: 4 b H n² (d/H) = 4 b n² d ----------------------------------------------------------------------
def _claim_flops(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    identity(eq, cl.lhs, cl.rhs)
    bb, nn_, d = 2, 128, 512
    for heads in (1, 2, 4, 8, 16, 32):
        want = ar.attention_flops(bb, heads, nn_, nn_, d // heads)
        for side in (cl.lhs, cl.rhs):
            got = sp.sympify(side.xreplace({b: bb, H: heads, n: nn_, d_model: d})).doit()
            if got != want:
                raise EquationError(f"{eq.name}: H={heads}: {side} gives {got}, attn_ref {want}")


register(
    "attention_flops_heads",
    [Clause(sp.Mul(4, b, H, n ** 2, d_model / H, evaluate=False), sp.Mul(4, b, n ** 2, d_model, evaluate=False))],
    _claim_flops,
    "The attention core's FLOPs with d_h = d/H: H cancels, so more heads cost nothing extra.",
    DAO_2022, where="FLOP convention 4·b·h·n²·d_h of the FlashAttention benchmarks, with d_h = d/H",
)


# --- E2.4 Concat(head_1, …, head_H) W^O = Σ_i head_i W^O_i ------------------------------------------------------
def _claim_concat_sum(eq):
    cl = eq.clauses[0]
    # symbolic: three heads as blocks
    hs = [sp.MatrixSymbol(f"h{t}", n, d_h) for t in range(3)]
    ws = [sp.MatrixSymbol(f"W{t}", d_h, d_model) for t in range(3)]
    prod = sp.block_collapse(sp.BlockMatrix([hs]) * sp.BlockMatrix([[w] for w in ws]))
    if sp.simplify((prod - sp.MatAdd(*[h * w for h, w in zip(hs, ws)])).doit()) != sp.ZeroMatrix(n, d_model):
        raise EquationError(f"{eq.name}: block identity fails: {prod}")
    # numeric: both drawn sides from ar.MultiHeadAttention's heads, equal to its forward
    gen = rng(24)
    for nn_, d, heads in ((5, 6, 3), (3, 8, 4)):
        hd = d // heads
        _, (_, _, _, w_o), out, ref_heads = _reference(gen, nn_, d, heads)
        concat = torch.cat(list(ref_heads), dim=-1)
        lhs = explicit(cl.lhs.xreplace({cl.lhs.args[0]: mat(concat), W_O: mat(w_o), H: heads, d_h: hd, n: nn_,
                                        d_model: d}))
        terms = [explicit(cl.rhs.args[0].xreplace({head_i: mat(ref_heads[h]), W_Oi: mat(w_o[h * hd:(h + 1) * hd]),
                                                   d_h: hd, n: nn_, d_model: d})) for h in range(heads)]
        rhs = sp.ImmutableMatrix(sp.MatAdd(*terms).doit())
        close(eq.name, lhs, rhs, 1e-10)
        close(eq.name, rhs, mat(out), 1e-10)


register(
    "concat_project_sum",
    [Clause(sp.MatMul(Concat(head_1, head_H), W_O), HeadSum(sp.MatMul(head_i, W_Oi)))],
    _claim_concat_sum,
    "Concatenate-then-project equals the sum of each head's write through its row block of W^O.",
    ELHAGE, {"W^{O}_{i}": "OUTPUT", "W^{O}": "OUTPUT"}, where="'attention heads are independent and additive'",
)


# --- E2.5 a convex combination stays in the hull --------------------------------------------------------------------
def _claim_hull(eq):
    import attn_ref as ar

    combo, nonneg, total, member = eq.clauses
    if (member.rel, nonneg.rel) != (r"\in", r"\ge") or nonneg.rhs != 0:
        raise EquationError(f"{eq.name}: the clauses must read a ≥ 0 and o ∈ conv")
    gen = rng(25)
    nk = 6
    v = randn(gen, nk, 2)
    out, p = ar.sdpa(randn(gen, 1, 1, 4, 3), randn(gen, 1, 1, nk, 3), v[None, None], return_weights=True)
    out, p = out[0, 0], p[0, 0]
    for row in range(4):
        w = {A_idx[row + 1, col + 1]: float(p[row, col]) for col in range(nk)}
        if not all(float(sp.sympify(nonneg.lhs).xreplace({i: row + 1, j: col + 1}).xreplace(w)) >= 0
                   for col in range(nk)):
            raise EquationError(f"{eq.name}: a negative weight in row {row}")
        close(eq.name, expand_sum(total.lhs, {m: nk, i: row + 1}).xreplace(w), total.rhs, 1e-12)
        for c in range(2):
            rhs = expand_sum(combo.rhs, {m: nk, i: row + 1}).xreplace(
                {**w, **{v_idx[t + 1]: float(v[t, c]) for t in range(nk)}})
            close(eq.name, rhs, float(out[row, c]), 1e-12)
        # membership: the output never passes the hull's support line in any of 720 directions
        ang = torch.linspace(0, 2 * torch.pi, 721, dtype=torch.float64)[:-1]
        u = torch.stack([ang.cos(), ang.sin()], -1)
        if bool(((u @ out[row]) > (u @ v.T).max(-1).values + 1e-12).any()):
            raise EquationError(f"{eq.name}: output {out[row].tolist()} lies outside the hull of the values")


register(
    "convex_hull",
    [Clause(o_idx[i], sp.Sum(sp.Mul(A_idx[i, j], v_idx[j], evaluate=False), (j, 1, m))),
     Clause(A_idx[i, j], sp.S.Zero, rel=r"\ge"),
     Clause(sp.Sum(A_idx[i, j], (j, 1, m)), sp.S.One),
     Clause(o_idx[i], Hull(v_idx[j]), rel=r"\in")],
    _claim_hull,
    "One head's output is a weighted average of the values, so it stays inside their convex hull.",
    VASWANI, {"o_{i}": "OUTPUT", "A_{ij}": "WEIGHT", "v_{j}": "V"},
    where="§3.2.2 ('with a single attention head, averaging inhibits this')",
)


# --- E2.6 rank(Q_h K_hᵀ) ≤ d_h ------------------------------------------------------------------------------------
Q_h, K_h = sp.MatrixSymbol("Q_{h}", n, d_h), sp.MatrixSymbol("K_{h}", m, d_h)


def _claim_rank(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    if cl.rel != r"\le":
        raise EquationError(f"{eq.name}: the relation must be ≤")
    torch.manual_seed(26)
    d, heads, nn_ = 16, 4, 10
    hd = d // heads
    mha = ar.MultiHeadAttention(d, heads, causal=False).double()
    steps = []
    with torch.no_grad():
        mha(randn(rng(26), 1, nn_, d), trace=steps.append)
    q, k = steps[-1]["q"][0], steps[-1]["k"][0]
    for h in range(heads):
        rank = cl.lhs.xreplace({Q_h: mat(q[h]), K_h: mat(k[h]), n: nn_, m: nn_, d_h: hd}).doit()
        bound = cl.rhs.xreplace({d_h: hd})
        if not rank <= bound or rank != int(torch.linalg.matrix_rank(q[h] @ k[h].T)):
            raise EquationError(f"{eq.name}: head {h}: rank {rank}, drawn bound {bound}")
        if rank != hd:  # n > d_h: the bound is reached, so a smaller bound would fail
            raise EquationError(f"{eq.name}: head {h}: rank {rank} < d_h = {hd}")


register(
    "score_rank",
    [Clause(Rank(sp.MatMul(Q_h, K_h.T)), d_h, rel=r"\le")],
    _claim_rank,
    "One head's n × n score matrix has rank at most d_h: the low-rank bottleneck of thin heads.",
    BHOJANAPALLI, {"Q_{h}": "Q", "K_{h}": "K"}, where="§3 (rank of a head's attention scores)",
)


# --- E2.7 the lab's head scores: previous-token and induction (0-based positions) ----------------------------------
A_map = sp.MatrixSymbol("A", n, n)                   # one head's attention map, rows = queries
T_period, a_start = sp.Symbol("T", integer=True, positive=True), sp.Symbol("a", integer=True, nonnegative=True)
s_prev, s_ind = sp.Symbol(r"s_{\mathrm{prev}}"), sp.Symbol(r"s_{\mathrm{ind}}")


class Entry(sp.Expr):
    """A[row, col] with 0-based positions, printed ``A_{i,\\,i - 1}``; evaluated once A is explicit."""

    def __new__(cls, mat_, row, col):
        return sp.Basic.__new__(cls, mat_, sp.sympify(row), sp.sympify(col))

    def _latex(self, printer):
        m_, r, c = self.args
        return f"{printer._print(m_)}_{{{printer._print(r)},\\,{printer._print(c)}}}"

    def doit(self, **hints):
        m_, r, c = self.args
        if isinstance(m_, sp.MatrixBase) and r.is_Integer and c.is_Integer:
            return m_[int(r), int(c)]
        return self


class Mean(sp.Expr):
    """(1/count) · total, printed ``\\frac{1}{count} total`` (a mean written as the lab computes it)."""

    def __new__(cls, total, count):
        return sp.Basic.__new__(cls, total, count)

    def _latex(self, printer):
        total, count = self.args
        return rf"\frac{{1}}{{{printer._print(count)}}} {printer._print(total)}"

    def doit(self, **hints):
        total, count = (sp.sympify(x).doit() for x in self.args)
        return (total.doit() / count) if count.is_number else self


def _sub(*terms):
    """An unevaluated sum, printed in the order written (``n - 1``, ``i - T + 1``)."""
    return sp.Add(*terms, evaluate=False)


def _claim_head_scores(eq):
    import attn_ref as ar
    from attn_ref.lab import induction_score, previous_token_score

    prev, ind = eq.clauses
    gen = rng(27)
    L = 12
    _, p = ar.sdpa(randn(gen, 3, 1, L, 4) * 2, randn(gen, 3, 1, L, 4) * 2, randn(gen, 3, 1, L, 2), is_causal=True,
                   return_weights=True)
    for smp, (period, start) in enumerate(((3, 0), (4, 2), (5, 1))):
        a = p[smp, 0]
        subs = {A_map: mat(a), n: L, T_period: period, a_start: start}
        got_prev, got_ind = (sp.sympify(cl.rhs.xreplace(subs)).doit() for cl in (prev, ind))
        close(eq.name, got_prev, float(previous_token_score(a)), 1e-12)
        close(eq.name, got_ind, float(induction_score(a[None], torch.tensor([period]), torch.tensor([start]))), 1e-12)


register(
    "head_scores",
    [Clause(s_prev, Mean(sp.Sum(Entry(A_map, i, _sub(i, -1)), (i, 1, _sub(n, -1))), _sub(n, -1))),
     Clause(s_ind, Mean(sp.Sum(Entry(A_map, i, _sub(i, -T_period, 1)),
                               (i, _sub(a_start, T_period), _sub(a_start, 2 * T_period, -1))), T_period))],
    _claim_head_scores,
    "The lab's scores of one head: mean attention to the previous token, and to the token after the earlier "
    "occurrence on the second copy of a repeat of period T starting at a.",
    OLSSON, {"A_{": "WEIGHT"}, where="prefix-matching score of induction heads (§'Induction heads'), lab convention",
)
