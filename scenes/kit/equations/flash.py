"""FlashAttention (Lecture 6, E6.2–E6.8; E6.1, the stable softmax, is ``softmax_stable``; the split-K merge is
Lecture 5's ``split_lse_merge``): the online-softmax update of m, ℓ and Õ over key blocks; the log-sum-exp and
its base-2 form; the HBM traffic of standard vs flash attention (Dao et al. 2022, Theorem 2); the paper's
block sizes from the SRAM size M; the backward's recomputation with D_i = rowsum(dO ∘ O); the FA-1 update of
a normalised O_i; the FLOP convention of the benchmarks.

Checks: sympy where the lecture derives a result (two blocks of symbolic scores give softmax over their
concatenation; LSE = m + log ℓ; D_i = Σ_j P_ij dP_ij = dO_iᵀ O_i; the FLOP multiples), numeric against
``attn_ref`` (``flash_attention`` traces step by step, ``attention_io``, ``trace_io``, ``FlashAttentionFunction``,
``attention_flops``) and independent oracles (torch's SDPA, ``torch.logsumexp``, autograd, ``FlopCounterMode``).
"""
from __future__ import annotations

import math

import sympy as sp
import torch

from scenes.kit.references import DAO_2022, DAO_2023_FLASH2

from .checks import close, identity, rng
from .registry import Clause, EquationError, register


def _mul(*f):
    return sp.Mul(*f, evaluate=False)


def _add(*a):
    return sp.Add(*a, evaluate=False)


def _sub(a, b_):
    return sp.Add(a, sp.Mul(-1, b_, evaluate=False), evaluate=False)


class _Op(sp.Expr):
    """An operator printed as ``\\operatorname{name} arg`` (rowmax, rowsum, diag)."""

    NAME = ""
    PAREN = False

    def __new__(cls, arg):
        return sp.Basic.__new__(cls, sp.sympify(arg))

    def _latex(self, printer):
        arg = printer._print(self.args[0])
        if self.PAREN:
            return rf"\operatorname{{{self.NAME}}}({arg})"
        return rf"\operatorname{{{self.NAME}}}{arg}"


class RowMax(_Op):
    NAME = "rowmax"


class RowSum(_Op):
    NAME = "rowsum"


class Diag(_Op):
    NAME = "diag"
    PAREN = True


class Ln(sp.log):
    """The natural log printed as ``\\ln x`` (sympy prints ``\\log``), for a label that says "ln 2"."""

    def _latex(self, printer):
        return rf"\ln {printer._print(self.args[0])}"

    def _eval_evalf(self, prec):
        return sp.log(self.args[0])._eval_evalf(prec)


class Theta(sp.Expr):
    """Θ(expr): the growth rate, constants dropped."""

    def __new__(cls, arg):
        return sp.Basic.__new__(cls, sp.sympify(arg))

    def _latex(self, printer):
        return rf"\Theta\big({printer._print(self.args[0])}\big)"


# --- a small evaluator: the clauses' right-hand sides on torch tensors (one block of rows) or sympy rows ------
def _is_vec(x) -> bool:
    return isinstance(x, torch.Tensor) and x.dim() == 1


def _is_mat(x) -> bool:
    return (isinstance(x, torch.Tensor) and x.dim() == 2) or isinstance(x, sp.MatrixBase)


def _binary_mul(a, b_):
    if _is_mat(a) and _is_mat(b_):
        return a @ b_ if isinstance(a, torch.Tensor) else a * b_          # matrix product
    if _is_vec(a) and isinstance(b_, torch.Tensor) and b_.dim() == 2:
        return a[:, None] * b_                                              # diag(a) · B (row scaling)
    if _is_vec(b_) and isinstance(a, torch.Tensor) and a.dim() == 2:
        return a * b_[:, None]                                              # A · diag(b)⁻¹-style row scaling
    if _is_vec(a) and _is_vec(b_):
        return a * b_
    if isinstance(b_, sp.MatrixBase) and not isinstance(a, sp.MatrixBase):
        return b_.applyfunc(lambda e: a * e)
    return a * b_


def _binary_add(a, b_):
    if _is_vec(a) and isinstance(b_, torch.Tensor) and b_.dim() == 2:
        return a[:, None] + b_
    if _is_vec(b_) and isinstance(a, torch.Tensor) and a.dim() == 2:
        return a + b_[:, None]
    if isinstance(a, sp.MatrixBase) and not isinstance(b_, sp.MatrixBase):
        return a.applyfunc(lambda e: e + b_)
    if isinstance(b_, sp.MatrixBase) and not isinstance(a, sp.MatrixBase):
        return b_.applyfunc(lambda e: e + a)
    return a + b_


def evaluate(expr, env: dict):
    """Evaluate a clause side: symbols from ``env`` (torch: m, ℓ are (r,), S, P̃ (r, c), V (c, d), Õ (r, d);
    or sympy: scalars and explicit row matrices). Products of two matrices are matrix products, a vector
    times a matrix scales its rows (diag), exp / rowmax / rowsum act element- / row-wise."""
    if expr in env:
        return env[expr]
    if isinstance(expr, sp.Number):
        return float(expr) if env.get("_torch") else expr
    if isinstance(expr, sp.Add):
        out = evaluate(expr.args[0], env)
        for a in expr.args[1:]:
            out = _binary_add(out, evaluate(a, env))
        return out
    if isinstance(expr, sp.Mul):
        out = evaluate(expr.args[0], env)
        for a in expr.args[1:]:
            out = _binary_mul(out, evaluate(a, env))
        return out
    if isinstance(expr, sp.Pow):
        base = evaluate(expr.args[0], env)
        if expr.args[1] != -1:
            raise EquationError(f"unexpected power {expr}")
        return 1 / base if not isinstance(base, sp.MatrixBase) else base.applyfunc(lambda e: 1 / e)
    if isinstance(expr, sp.exp):
        x = evaluate(expr.args[0], env)
        if isinstance(x, torch.Tensor):
            return torch.exp(x)
        return x.applyfunc(sp.exp) if isinstance(x, sp.MatrixBase) else sp.exp(x)
    if isinstance(expr, sp.log):
        x = evaluate(expr.args[0], env)
        return torch.log(x) if isinstance(x, torch.Tensor) else sp.log(x)
    if isinstance(expr, sp.Max):
        a, b_ = (evaluate(x, env) for x in expr.args)
        return torch.maximum(a, b_) if isinstance(a, torch.Tensor) else sp.Max(a, b_)
    if isinstance(expr, RowMax):
        x = evaluate(expr.args[0], env)
        return x.amax(-1) if isinstance(x, torch.Tensor) else sp.Max(*list(x))
    if isinstance(expr, RowSum):
        x = evaluate(expr.args[0], env)
        return x.sum(-1) if isinstance(x, torch.Tensor) else sum(x)
    if isinstance(expr, Diag):
        return evaluate(expr.args[0], env)
    raise EquationError(f"cannot evaluate {expr!r}")


def _qkv(gen, n, d, d_v=None):
    d_v = d if d_v is None else d_v
    return (torch.randn(1, 1, n, d, generator=gen, dtype=torch.float64),
            torch.randn(1, 1, n, d, generator=gen, dtype=torch.float64),
            torch.randn(1, 1, n, d_v, generator=gen, dtype=torch.float64))


# --- E6.2 the online softmax update ----------------------------------------------------------------------------
m_j, m_p = sp.Symbol("m^{(j)}", real=True), sp.Symbol("m^{(j-1)}", real=True)
l_j, l_p = sp.Symbol(r"\ell^{(j)}", positive=True), sp.Symbol(r"\ell^{(j-1)}", positive=True)
O_j, O_p = sp.Symbol(r"\tilde O^{(j)}"), sp.Symbol(r"\tilde O^{(j-1)}")
O_T, l_T = sp.Symbol(r"\tilde O^{(T_c)}"), sp.Symbol(r"\ell^{(T_c)}", positive=True)
S_j, V_j, O_out = sp.Symbol("S_j"), sp.Symbol("V_j"), sp.Symbol("O")
rescale = sp.exp(_sub(m_p, m_j))
p_tile = sp.exp(_sub(S_j, m_j))


def _claim_online(eq):
    import attn_ref as ar

    c_m, c_l, c_o, c_out = eq.clauses
    # sympy: two blocks of two symbolic scores (one query row, d_v = 1), any running maxima a, b: the update
    # gives softmax over the concatenation × V (the maxima cancel: shift invariance)
    s = sp.symbols("s1:5", real=True)
    v = sp.symbols("v1:5", real=True)
    a, b_ = sp.symbols("a b", real=True)
    env1 = {m_p: a, m_j: a, l_p: 0, O_p: sp.ImmutableMatrix([[0]]), S_j: sp.ImmutableMatrix([[s[0], s[1]]]),
            V_j: sp.ImmutableMatrix([[v[0]], [v[1]]])}
    env1[m_j] = a
    l1, o1 = evaluate(c_l.rhs, env1), evaluate(c_o.rhs, env1)
    env2 = {m_p: a, m_j: b_, l_p: l1, O_p: o1, S_j: sp.ImmutableMatrix([[s[2], s[3]]]),
            V_j: sp.ImmutableMatrix([[v[2]], [v[3]]])}
    l2, o2 = evaluate(c_l.rhs, env2), evaluate(c_o.rhs, env2)
    out = evaluate(c_out.rhs, {O_T: o2[0, 0], l_T: l2})
    ref = sum(sp.exp(si) * vi for si, vi in zip(s, v)) / sum(sp.exp(si) for si in s)
    identity(eq, sp.powsimp(sp.expand(out)), ref)
    # numeric: every step of ar.flash_attention(version=2) obeys the recurrence; the last equals SDPA (1e-12)
    gen = rng(601)
    for n, d, bq, bk, causal in ((16, 4, 4, 4, False), (18, 3, 4, 5, False), (13, 2, 3, 4, True)):
        q, k, vv = _qkv(gen, n, d)
        trace = ar.Trace()
        o = ar.flash_attention(q, k, vv, block_q=bq, block_k=bk, causal=causal, trace=trace)
        prev = {}
        for st in trace.of_kind("flash.step"):
            i, j = st.index
            (r0, r1), (c0, c1) = st["rows"], st["cols"]
            r = r1 - r0
            mp, lp, op = prev.get(i, (torch.full((r,), -math.inf, dtype=torch.float64),
                                      torch.zeros(r, dtype=torch.float64), torch.zeros(r, d, dtype=torch.float64)))
            env = {m_p: mp, l_p: lp, O_p: op, S_j: st["S"][0, 0], V_j: vv[0, 0, c0:c1], "_torch": True}
            mn = evaluate(c_m.rhs, env)
            env[m_j] = torch.where(torch.isneginf(mn), torch.zeros_like(mn), mn)
            for got, want in ((mn, st["m"][0, 0]), (evaluate(c_l.rhs, env), st["l"][0, 0]),
                              (evaluate(c_o.rhs, env), st["O"][0, 0])):
                if not torch.allclose(got, want, atol=1e-12, rtol=0):
                    raise EquationError(f"{eq.name}: step {(i, j)} differs from the recurrence")
            prev[i] = (st["m"][0, 0], st["l"][0, 0], st["O"][0, 0])
        final = torch.cat([evaluate(c_out.rhs, {O_T: prev[i][2], l_T: prev[i][1], "_torch": True})
                           for i in sorted(prev)])
        ref_t = torch.nn.functional.scaled_dot_product_attention(q, k, vv, is_causal=causal)[0, 0]
        close(eq.name, float((final - ref_t).abs().max()), 0.0, 1e-12)
        close(eq.name, float((o[0, 0] - ar.sdpa(q, k, vv, is_causal=causal)[0, 0]).abs().max()), 0.0, 1e-12)


register(
    "online_softmax_update",
    [Clause(m_j, sp.Max(m_p, RowMax(S_j), evaluate=False)),
     Clause(l_j, _add(_mul(rescale, l_p), RowSum(p_tile))),
     Clause(O_j, _add(_mul(rescale, O_p), _mul(p_tile, V_j))),
     Clause(O_out, _mul(O_T, sp.Pow(l_T, -1, evaluate=False)))],
    _claim_online,
    "The online softmax over key blocks j: the running max m, the running sum ℓ and the unnormalised output Õ "
    "are rescaled by e^{m_old − m_new} whenever the max grows; one division by ℓ at the end gives exact attention.",
    DAO_2023_FLASH2, {"V_{j}": "V"}, where="Algorithm 1, lines 8–10 and 12 (after Milakov & Gimelshein 2018)",
)


# --- E6.3 LSE = m + log ℓ = log Σ e^{s_j};  LSE_2 = LSE / ln 2 ----------------------------------------------------
LSE, LSE2 = sp.Symbol(r"\mathrm{LSE}", real=True), sp.Symbol(r"\mathrm{LSE}_2", real=True)
m_sym, ell = sp.Symbol("m", real=True), sp.Symbol(r"\ell", positive=True)
jj, nn = sp.Symbol("j", integer=True, positive=True), sp.Symbol("n", integer=True, positive=True)
s_idx = sp.IndexedBase("s", real=True)


def _claim_lse(eq):
    import attn_ref as ar
    from attn_ref.kernels import triton_flash

    c1, c2, c3 = eq.clauses
    # sympy: with ℓ = Σ_j e^{s_j − m} (n = 4), m + log ℓ = log Σ_j e^{s_j} for any m
    sv = sp.symbols("s1:5", real=True)
    ell_v = sum(sp.exp(x - m_sym) for x in sv)
    lhs = c1.rhs.xreplace({ell: ell_v})
    rhs = c2.rhs.xreplace({nn: 4}).doit().xreplace({s_idx[k + 1]: sv[k] for k in range(4)})
    identity(eq, sp.exp(lhs), sp.exp(rhs))
    # numeric: return_lse against torch.logsumexp of the scaled scores; the trace's m + log ℓ; base 2
    gen = rng(603)
    for n, d, causal in ((16, 4, False), (11, 3, True)):
        q, k, v = _qkv(gen, n, d)
        trace = ar.Trace()
        _, lse = ar.flash_attention(q, k, v, block_q=4, block_k=4, causal=causal, return_lse=True, trace=trace)
        sc = (q @ k.transpose(-1, -2)) / math.sqrt(d)
        if causal:
            sc = sc.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), -math.inf)
        close(eq.name, float((lse - torch.logsumexp(sc, -1)).abs().max()), 0.0, 1e-12)
        for st in trace.of_kind("flash.step"):
            if st.index[1] == max(s.index[1] for s in trace.of_kind("flash.step") if s.index[0] == st.index[0]):
                r0, r1 = st["rows"]
                got = evaluate(c1.rhs, {m_sym: st["m"][0, 0], ell: st["l"][0, 0], "_torch": True})
                close(eq.name, float((got - lse[0, 0, r0:r1]).abs().max()), 0.0, 1e-12)
        # base 2: the Triton kernel's running max and sum in log2 units give LSE / ln 2
        s2 = sc[0, 0, -1] * triton_flash.LOG2E
        m2 = float(s2.max())
        l2 = float(torch.exp2(s2 - m2).sum())
        close(eq.name, float(c3.rhs.xreplace({LSE: float(lse[0, 0, -1])})), m2 + math.log2(l2), 1e-12)


register(
    "log_sum_exp",
    [Clause(LSE, _add(m_sym, sp.log(ell))),
     Clause(LSE, sp.log(sp.Sum(sp.exp(s_idx[jj]), (jj, 1, nn)))),
     Clause(LSE2, _mul(LSE, sp.Pow(Ln(2), -1, evaluate=False)))],
    _claim_lse,
    "The forward keeps one number per row, the log-sum-exp of its scores (natural log in attn_ref; base 2 in the "
    "Triton tutorial's kernel, which stores LSE / ln 2).",
    DAO_2023_FLASH2, where="Algorithm 1, line 13 (L_i = m_i + log ℓ_i)",
)


# --- E6.4 HBM traffic: Θ(Nd + N²) vs Θ(N²d²/M) --------------------------------------------------------------------
N_s, d_s, M_s = sp.symbols("N d M", integer=True, positive=True)
HBM_std, HBM_flash = sp.Symbol(r"\mathrm{HBM}_{\mathrm{std}}"), sp.Symbol(r"\mathrm{HBM}_{\mathrm{flash}}")


def _claim_io(eq):
    import attn_ref as ar

    std_cl, fl_cl = eq.clauses
    std_expr, fl_expr = std_cl.rhs.args[0], fl_cl.rhs.args[0]
    # standard: attention_io's exact count is 4 (Nd + N²): the constant is 4 for every N, d
    for n in (1, 7, 64, 1000):
        for d in (1, 8, 64):
            _, s = ar.attention_io(n, d, 1024, method="standard", breakdown=True)
            if s["elements"] != 4 * std_expr.xreplace({N_s: n, d_s: d}):
                raise EquationError(f"{eq.name}: standard count at N={n}, d={d} is not 4(Nd + N²)")
    # flash: when M/4d divides N the N² term is 8 N²d²/M (FA-2) and (12 + 16/d) N²d²/M (FA-1)
    for d in (4, 8, 64):
        for per in (2, 4, 16):
            mem = 4 * d * per
            for n in (per * 4, per * 32):
                theta = fl_expr.xreplace({N_s: n, d_s: d, M_s: mem})
                for version, const in ((2, 8), (1, 12 + sp.Rational(16, d))):
                    _, f = ar.attention_io(n, d, 2 * mem, method="flash", version=version, breakdown=True)
                    if f["quadratic"] != const * theta:
                        raise EquationError(f"{eq.name}: FA-{version} at N={n}, d={d}, M={mem}: "
                                            f"{f['quadratic']} vs {const} · {theta}")
    # and the counts attention_io models are the ones a trace of flash_attention performs (ar.trace_io)
    gen = rng(604)
    for version in (1, 2):
        q, k, v = _qkv(gen, 16, 4)
        trace = ar.Trace()
        ar.flash_attention(q, k, v, block_q=4, block_k=4, version=version, trace=trace)
        _, f = ar.attention_io(16, 4, 64, method="flash", version=version, block_r=4, block_c=4, breakdown=True)
        if ar.trace_io(trace, 4, version)["elements"] != f["elements"]:
            raise EquationError(f"{eq.name}: trace and attention_io disagree (FA-{version})")
    # at the lecture's example: N = 4096, d = 64, M = 98,304 → 0.70M vs 17.0M
    close(eq.name, float(fl_expr.xreplace({N_s: 4096, d_s: 64, M_s: 98304})) / 1e6, 0.699, 1e-3)
    close(eq.name, float(std_expr.xreplace({N_s: 4096, d_s: 64})) / 1e6, 17.039, 1e-3)


register(
    "attention_hbm_io",
    [Clause(HBM_std, Theta(_add(_mul(N_s, d_s), N_s ** 2))),
     Clause(HBM_flash, Theta(_mul(N_s ** 2, d_s ** 2, sp.Pow(M_s, -1, evaluate=False))))],
    _claim_io,
    "HBM accesses of standard attention (S and P written and read back) against FlashAttention with an SRAM of "
    "M elements: d² ≪ M makes the flash count many times smaller.",
    DAO_2022, where="Theorem 2",
)


# --- E6.5 block sizes ---------------------------------------------------------------------------------------------
B_c, B_r = sp.Symbol("B_c", integer=True, positive=True), sp.Symbol("B_r", integer=True, positive=True)
big = sp.ceiling(_mul(M_s, sp.Pow(_mul(4, d_s), -1, evaluate=False)))


def _claim_blocks(eq):
    import attn_ref as ar

    c_c, c_r = eq.clauses
    for d in (1, 3, 64, 128):
        for mem in (d, 4 * d - 1, 4 * d, 1000, 98304, 116736):
            bc = int(c_c.rhs.xreplace({M_s: mem, d_s: d}))
            br = int(c_r.rhs.xreplace({M_s: mem, d_s: d}))
            _, f = ar.attention_io(512, d, 2 * mem, method="flash", version=1, breakdown=True)
            if (bc, br) != (f["block_c"], f["block_r"]):
                raise EquationError(f"{eq.name}: M={mem}, d={d}: ({bc}, {br}) vs attention_io "
                                    f"({f['block_c']}, {f['block_r']})")
            if bc != -(-mem // (4 * d)) or 4 * (bc - 1) * d >= mem:     # ⌈M/4d⌉: the smallest with 4 B_c d ≥ M
                raise EquationError(f"{eq.name}: ⌈M/4d⌉ wrong at M={mem}, d={d}")
    if (int(c_c.rhs.xreplace({M_s: 98304, d_s: 64})), int(c_r.rhs.xreplace({M_s: 98304, d_s: 64}))) != (384, 64):
        raise EquationError(f"{eq.name}: A100 example")


register(
    "flash_block_sizes",
    [Clause(B_c, big), Clause(B_r, sp.Min(big, d_s, evaluate=False))],
    _claim_blocks,
    "Block sizes from the SRAM size M (in elements): four tiles of d columns fit, and B_r ≤ d.",
    DAO_2022, where="Algorithm 1, line 1",
)


# --- E6.6 the backward ------------------------------------------------------------------------------------------
Nb, db = sp.Symbol("N", integer=True, positive=True), sp.Symbol("d", integer=True, positive=True)
Pm, dOm, Vm, dPm = (sp.MatrixSymbol(x, Nb, Nb if x in ("P", "dP") else db) for x in ("P", "dO", "V", "dP"))
Km, Qm, dSm, Om = sp.MatrixSymbol("K", Nb, db), sp.MatrixSymbol("Q", Nb, db), sp.MatrixSymbol("dS", Nb, Nb), \
    sp.MatrixSymbol("O", Nb, db)
dVm, dQm, dKm = sp.MatrixSymbol("dV", Nb, db), sp.MatrixSymbol("dQ", Nb, db), sp.MatrixSymbol("dK", Nb, db)
Dv, ones = sp.MatrixSymbol("D", Nb, 1), sp.MatrixSymbol(r"\mathbf{1}", Nb, 1)
D_i = sp.Symbol("D_i")
P_idx, dP_idx = sp.IndexedBase("P"), sp.IndexedBase("dP")
i_s, j_s = sp.Symbol("i", integer=True, positive=True), sp.Symbol("j", integer=True, positive=True)
dO_i, O_i = sp.MatrixSymbol("dO_i", db, 1), sp.MatrixSymbol("O_i", db, 1)
s_scale = sp.Symbol("s", positive=True)


def _claim_backward(eq):
    import attn_ref as ar

    c_dv, c_dp, c_d1, c_d2, c_ds, c_dq, c_dk = eq.clauses
    # sympy: D_i = Σ_j P_ij dP_ij = dO_iᵀ O_i for one row of 3 keys, d = 2 (P = softmax, dP = dO Vᵀ, O = P V)
    sc = sp.symbols("t1:4", real=True)
    vv = sp.Matrix(3, 2, sp.symbols("v1:7", real=True))
    do = sp.Matrix(1, 2, sp.symbols("g1:3", real=True))
    z = sum(sp.exp(x) for x in sc)
    p = sp.Matrix(1, 3, [sp.exp(x) / z for x in sc])
    dp, o = do * vv.T, p * vv
    identity(eq, c_d1.rhs.xreplace({Nb: 3, i_s: 1}).doit().xreplace(
        {**{P_idx[1, k + 1]: p[0, k] for k in range(3)}, **{dP_idx[1, k + 1]: dp[0, k] for k in range(3)}}),
        (do * o.T)[0, 0])
    # numeric: the clauses with explicit matrices = autograd through torch's SDPA (float64), and = the
    # gradients of ar.FlashAttentionFunction; a float64 gradcheck of the flash backward
    gen = rng(606)
    for n, d in ((6, 3), (10, 4)):
        q, k, v = (t.requires_grad_() for t in _qkv(gen, n, d))
        g = torch.randn(1, 1, n, d, generator=gen, dtype=torch.float64)
        s = 1 / math.sqrt(d)
        ref = torch.autograd.grad(torch.nn.functional.scaled_dot_product_attention(q, k, v), (q, k, v), g)
        fl = torch.autograd.grad(ar.flash_attention_autograd(q, k, v, block_q=4, block_k=4), (q, k, v), g)
        Q, K, V, G = (sp.ImmutableMatrix(t.detach()[0, 0].tolist()) for t in (q, k, v, g))
        P = sp.ImmutableMatrix(torch.softmax(q.detach() @ k.detach().transpose(-1, -2) * s, -1)[0, 0].tolist())
        O = P * V
        subs = {Pm: P, dOm: G, Vm: V, Km: K, Qm: Q, Om: O, s_scale: s, Nb: n, db: d}
        dP = c_dp.rhs.xreplace(subs).doit()
        D = sp.ImmutableMatrix([[(G[r, :] * O[r, :].T)[0, 0]] for r in range(n)])
        for r in range(n):
            d1 = c_d1.rhs.xreplace({Nb: n, i_s: r + 1}).doit().xreplace(
                {**{P_idx[r + 1, c + 1]: P[r, c] for c in range(n)},
                 **{dP_idx[r + 1, c + 1]: dP[r, c] for c in range(n)}})
            d2 = c_d2.rhs.xreplace({dO_i: G[r, :].T, O_i: O[r, :].T}).doit()
            close(eq.name, d1, D[r, 0], 1e-12)
            close(eq.name, d2[0, 0] if isinstance(d2, sp.MatrixBase) else d2, D[r, 0], 1e-12)
        dS = c_ds.rhs.xreplace({**subs, dPm: dP, Dv: D, ones: sp.ones(n, 1)}).doit()
        grads = [c.rhs.xreplace({**subs, dSm: sp.ImmutableMatrix(dS)}).doit() for c in (c_dq, c_dk, c_dv)]
        for got, want, want2 in zip(grads, ref, fl):
            w = want[0, 0]
            close(eq.name, float(max(abs(float(got[a, b_]) - float(w[a, b_])) for a in range(n) for b_ in range(d))),
                  0.0, 1e-12)
            close(eq.name, float((want2 - want).abs().max()), 0.0, 1e-12)
    small = [t.requires_grad_() for t in _qkv(gen, 5, 2)]
    if not torch.autograd.gradcheck(lambda a, b_, c: ar.flash_attention_autograd(a, b_, c, block_q=2, block_k=3),
                                    small):
        raise EquationError(f"{eq.name}: gradcheck failed")


register(
    "flash_backward",
    [Clause(dVm, Pm.T * dOm), Clause(dPm, dOm * Vm.T),
     Clause(D_i, sp.Sum(_mul(P_idx[i_s, j_s], dP_idx[i_s, j_s]), (j_s, 1, Nb))),
     Clause(D_i, dO_i.T * O_i),
     Clause(dSm, sp.HadamardProduct(Pm, sp.MatAdd(dPm, -Dv * ones.T, evaluate=False))),
     Clause(dQm, s_scale * dSm * Km), Clause(dKm, s_scale * dSm.T * Qm)],
    _claim_backward,
    "The backward from the saved LSE: P is rebuilt tile by tile; D_i = Σ_j P_ij dP_ij equals dO_iᵀ O_i, so the "
    "softmax's Jacobian needs only O, never the whole P.",
    DAO_2023_FLASH2, {"dQ": "Q", "dK": "K", "dV": "V"},
    where="Algorithm 2 and §3.1.2 (after Dao et al. 2022, Appendix B.2)",
)


# --- E6.7 the FA-1 update of a normalised O_i ---------------------------------------------------------------------
O_i1, ell_i, ell_new = sp.Symbol("O_i"), sp.Symbol(r"\ell_i", positive=True), \
    sp.Symbol(r"\ell_i^{\mathrm{new}}", positive=True)
m_i1, m_new1, m_t = sp.Symbol("m_i", real=True), sp.Symbol(r"m_i^{\mathrm{new}}", real=True), \
    sp.Symbol(r"\tilde m_{ij}", real=True)
P_t, V_j1 = sp.Symbol(r"\tilde P_{ij}"), sp.Symbol("V_j")


def _claim_fa1(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    gen = rng(607)
    for n, d, bq, bk in ((16, 4, 4, 4), (11, 3, 3, 4)):
        q, k, v = _qkv(gen, n, d)
        t1, t2 = ar.Trace(), ar.Trace()
        o1 = ar.flash_attention(q, k, v, block_q=bq, block_k=bk, version=1, trace=t1)
        o2 = ar.flash_attention(q, k, v, block_q=bq, block_k=bk, version=2, trace=t2)
        m = torch.full((n,), -math.inf, dtype=torch.float64)
        ell_ = torch.zeros(n, dtype=torch.float64)
        out = torch.zeros(n, d, dtype=torch.float64)
        for st in t1.of_kind("flash.step"):
            (r0, r1), (c0, c1) = st["rows"], st["cols"]
            mt = st["S"][0, 0].amax(-1)
            env = {O_i1: out[r0:r1], ell_i: ell_[r0:r1], m_i1: m[r0:r1], m_new1: st["m"][0, 0],
                   ell_new: st["l"][0, 0], m_t: mt, P_t: st["P"][0, 0], V_j1: v[0, 0, c0:c1], "_torch": True}
            got = evaluate(cl.rhs, env)
            close(eq.name, float((got - st["O"][0, 0, r0:r1]).abs().max()), 0.0, 1e-12)
            out, m, ell_ = st["O"][0, 0].clone(), m.clone(), ell_.clone()
            m[r0:r1], ell_[r0:r1] = st["m"][0, 0], st["l"][0, 0]
        close(eq.name, float((o1 - o2).abs().max()), 0.0, 1e-12)
        close(eq.name, float((o1 - torch.nn.functional.scaled_dot_product_attention(q, k, v)).abs().max()), 0.0, 1e-12)


register(
    "fa1_output_update",
    [Clause(O_i1, _mul(sp.Pow(Diag(ell_new), -1, evaluate=False),
                       _add(_mul(Diag(ell_i), sp.exp(_sub(m_i1, m_new1)), O_i1),
                            _mul(sp.exp(_sub(m_t, m_new1)), P_t, V_j1))), r"\leftarrow")],
    _claim_fa1,
    "FlashAttention-1 keeps O_i normalised in HBM: every K/V block it is read, un-normalised with the old ℓ_i, "
    "updated, divided by the new ℓ and written back.",
    DAO_2022, {"V_{j}": "V"}, where="Algorithm 1, line 12",
)


# --- E6.8 the FLOP convention ---------------------------------------------------------------------------------------
b_s, h_s, n_s = sp.symbols("b h n", integer=True, positive=True)
F_fwd = sp.Symbol(r"\mathrm{FLOPs}_{\mathrm{fwd}}")
F_causal = sp.Symbol(r"\mathrm{FLOPs}_{\mathrm{fwd}}^{\mathrm{causal}}")
F_bwd, F_both = sp.Symbol(r"\mathrm{FLOPs}_{\mathrm{bwd}}"), sp.Symbol(r"\mathrm{FLOPs}_{\mathrm{fwd+bwd}}")


def _claim_flops(eq):
    import json
    from pathlib import Path

    import attn_ref as ar
    from torch.utils.flop_counter import FlopCounterMode

    c_f, c_c, c_b, c_fb = eq.clauses
    identity(eq, c_b.rhs + F_fwd, c_fb.rhs)                         # bwd + fwd = 3.5 fwd
    for b, h, n, d in ((1, 1, 8, 4), (2, 3, 16, 8), (4, 16, 4096, 128)):
        sub = {b_s: b, h_s: h, n_s: n, d_s: d}
        f = c_f.rhs.xreplace(sub)
        if f != ar.attention_flops(b, h, n, n, d) or c_c.rhs.xreplace({F_fwd: f}) != ar.attention_flops(
                b, h, n, n, d, causal=True):
            raise EquationError(f"{eq.name}: attention_flops disagrees at {sub}")
    # torch's FlopCounter on attn_ref's tiled forward and recomputing backward: 4bhn²d and 2.5× that
    gen = rng(608)
    q, k, v = (t.requires_grad_() for t in _qkv(gen, 16, 8))
    with FlopCounterMode(display=False) as fc:
        out = ar.flash_attention_autograd(q, k, v, block_q=4, block_k=4)
    fwd = fc.get_total_flops()
    with FlopCounterMode(display=False) as fc:
        out.backward(torch.ones_like(out))
    bwd = fc.get_total_flops()
    f = c_f.rhs.xreplace({b_s: 1, h_s: 1, n_s: 16, d_s: 8})
    if fwd != f or bwd != c_b.rhs.xreplace({F_fwd: f}):
        raise EquationError(f"{eq.name}: FlopCounter counts fwd {fwd}, bwd {bwd}; convention {f}, 2.5 × {f}")
    # the committed benchmark file counts its prefill FLOPs the same way, with the flag each kernel received
    path = Path(__file__).resolve().parents[3] / "benchmarks" / "results" / "gpu-nvidia-h200.json"
    if path.exists():
        for x in json.loads(path.read_text())["records"]:
            if x["suite"] == "prefill" and "flops" in x:
                f = c_f.rhs.xreplace({b_s: x["batch"], h_s: x["heads"], n_s: x["seqlen"], d_s: x["head_dim"]})
                want = c_c.rhs.xreplace({F_fwd: f}) if x["causal"] else f
                if x["flops"] != want:
                    raise EquationError(f"{eq.name}: the bench counts {x['flops']} for {x}")


register(
    "attention_flops_convention",
    [Clause(F_fwd, _mul(4, b_s, h_s, n_s ** 2, d_s)),
     Clause(F_causal, _mul(sp.Rational(1, 2), F_fwd)),
     Clause(F_bwd, _mul(sp.Rational(5, 2), F_fwd)),
     Clause(F_both, _mul(sp.Rational(7, 2), F_fwd))],
    _claim_flops,
    "The FLOPs every FlashAttention benchmark divides by: the two matmuls of the forward (halved when causal); "
    "the backward's five matmuls (S recomputed, dV, dP, dQ, dK) are 2.5× that.",
    None, where="convention of the FlashAttention benchmarks (Dao-AILab/flash-attention benchmarks; "
                "attn_ref.attention_flops); backward counted with torch's FlopCounter",
)
