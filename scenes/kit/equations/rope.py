"""Positions (``attn_ref.rope``, ``attn_ref.positions``): the 2-D rotation and its composition, RoPE's
relative inner product (block-diagonal and complex forms), the frequencies and wavelengths, norm
preservation, the half/interleaved pairing permutation, the sinusoidal shift matrix, ALiBi, the
context-extension scalings (PI, static NTK-aware, YaRN and its attention factor, Llama 3.1) and
RoFormer's long-term decay bound (Lecture 3, E3.1–E3.14).

Index conventions: E3.4 uses the paper's 1-based θ_i = b^(−2(i−1)/d); the scalings (E3.9–E3.14) use
the code's 0-based ``inv_freq[i] = b^(−2i/d)``, as HF and attn_ref do; each entry's ``where`` says which.
"""
from __future__ import annotations

import math

import sympy as sp
import torch
from sympy.matrices.expressions import MatrixExpr

from scenes.kit.references import CHEN_2023_PI, LLAMA, PENG, PRESS, SU, VASWANI

from .checks import close, randn, rng
from .notation import explicit, is_explicit
from .registry import Clause, EquationError, register

# --- symbols ------------------------------------------------------------------------------------------------
alpha, beta = sp.symbols(r"\alpha \beta", real=True)
theta = sp.Symbol(r"\theta", real=True)
m_pos, n_pos, t_shift = sp.symbols("m n t", integer=True)   # positions (own symbols: not the sizes n, m)
p_pos, k_off = sp.symbols("p k", integer=True)
d = sp.Symbol("d", integer=True, positive=True)              # head width
b = sp.Symbol("b", positive=True)                            # base
s = sp.Symbol("s", positive=True)                            # scaling factor
L = sp.Symbol("L", positive=True)                            # original (pre-training) context
t_temp = sp.Symbol("t", positive=True)                       # YaRN temperature
r_dist = sp.Symbol("r", real=True)                           # relative distance
i_idx = sp.Symbol("i", integer=True, positive=True)
j_idx = sp.Symbol("j", integer=True, positive=True)
k_idx0 = sp.Symbol("k", integer=True, nonnegative=True)
h_idx = sp.Symbol("h", integer=True, positive=True)
H = sp.Symbol("H", integer=True, positive=True)
Theta_i = sp.IndexedBase(r"\theta")
Theta_p = sp.IndexedBase(r"\theta'")
Lambda_i = sp.IndexedBase(r"\lambda")
Gamma_i = sp.IndexedBase(r"\gamma")
Omega_i = sp.IndexedBase(r"\omega")
I_beta = sp.IndexedBase("i")
b_new = sp.Symbol("b'", positive=True)
beta_h, beta_l = sp.symbols(r"\beta_{h} \beta_{l}", positive=True)
mu = sp.Symbol(r"\mu", real=True)
m_h = sp.Symbol("m_{h}", positive=True)
f_att = sp.Symbol("f", positive=True)
B_r = sp.Function("B")(r_dist)


def _add(*terms):
    return sp.Add(*terms, evaluate=False)


def _mul(*factors):
    return sp.Mul(*factors, evaluate=False)


def _inv_freq(dim: int, base: float = 10_000.0) -> torch.Tensor:
    import attn_ref as ar

    return ar.rope_frequencies(dim, base)[0]


def _rope(x: torch.Tensor, positions, inv_freq, pairing="interleaved", factor=1.0) -> torch.Tensor:
    """x (D,) rotated at each of positions: (len, D) through attn_ref.apply_rope."""
    import attn_ref as ar

    pos = torch.as_tensor(positions, dtype=torch.long)
    xs = x.expand(1, 1, len(pos), x.shape[-1]).clone()
    return ar.apply_rope(xs, pos, inv_freq, pairing, factor)[0, 0]


def _zero(eq, expr, what: str) -> None:
    """Raise unless ``expr`` (a scalar or matrix) simplifies to zero with trigsimp."""
    expr = sp.Matrix(expr) if isinstance(expr, sp.MatrixBase) else expr
    z = expr.applyfunc(lambda e: sp.trigsimp(sp.expand_trig(sp.expand(e)))) if isinstance(expr, sp.MatrixBase) \
        else sp.trigsimp(sp.expand_trig(sp.expand(expr)))
    if (z.is_zero_matrix if isinstance(z, sp.MatrixBase) else z == 0) is not True:
        raise EquationError(f"{eq.name}: {what} does not simplify to 0: {z}")


# --- lecture notation ---------------------------------------------------------------------------------------
class Rot(MatrixExpr):
    """R(α): the 2 × 2 rotation by α; explicit on doit."""

    def __new__(cls, angle):
        return sp.Basic.__new__(cls, sp.sympify(angle))

    @property
    def shape(self):
        return (sp.Integer(2), sp.Integer(2))

    def _latex(self, printer):
        return r"R\left(" + printer._print(self.args[0]) + r"\right)"

    def doit(self, **hints):
        a = self.args[0]
        return sp.ImmutableMatrix([[sp.cos(a), -sp.sin(a)], [sp.sin(a), sp.cos(a)]])


class RopeMat(MatrixExpr):
    """R_{Θ,p}: the d × d block-diagonal RoPE matrix at position p (a claim replaces it by numbers)."""

    def __new__(cls, pos):
        return sp.Basic.__new__(cls, sp.sympify(pos))

    @property
    def shape(self):
        return (d, d)

    def _latex(self, printer):
        return r"R_{\Theta,\," + printer._print(self.args[0]) + "}"


class Inner(sp.Expr):
    """⟨a, b⟩ of two column vectors; evaluated once both are explicit."""

    def __new__(cls, a, b_):
        return sp.Basic.__new__(cls, a, b_)

    def _latex(self, printer):
        a, c = (printer._print(x) for x in self.args)
        return r"\left\langle " + a + r",\ " + c + r"\right\rangle"

    def doit(self, **hints):
        a, c = (explicit(x) for x in self.args)
        if not (is_explicit(a) and is_explicit(c)):
            return self
        return (a.T * c)[0, 0]


class Norm(sp.Expr):
    """‖x‖ of a column vector."""

    def __new__(cls, x):
        return sp.Basic.__new__(cls, x)

    def _latex(self, printer):
        return r"\left\lVert " + printer._print(self.args[0]) + r"\right\rVert"

    def doit(self, **hints):
        x = explicit(self.args[0])
        if not is_explicit(x):
            return self
        return sp.sqrt(sum(v ** 2 for v in x))


class Det(sp.Expr):
    """det M."""

    def __new__(cls, x):
        return sp.Basic.__new__(cls, x)

    def _latex(self, printer):
        return r"\det " + printer._print(self.args[0])

    def doit(self, **hints):
        x = explicit(self.args[0])
        return x.det() if is_explicit(x) else self


class RopeOp(MatrixExpr):
    """rope_pairing(x, m): x rotated at position m with the named pairing (evaluated by attn_ref.apply_rope,
    base 10⁴, once x is explicit and m an integer)."""

    def __new__(cls, x, pos, pairing: str):
        name = pairing.name if isinstance(pairing, sp.Symbol) else pairing
        return sp.Basic.__new__(cls, x, sp.sympify(pos), sp.Symbol(name))

    @property
    def shape(self):
        return self.args[0].shape

    def _latex(self, printer):
        x, pos, pairing = self.args
        return (rf"\operatorname{{rope}}_{{\mathrm{{{pairing.name}}}}}\left(" + printer._print(x) + ", "
                + printer._print(pos) + r"\right)")

    def doit(self, **hints):
        x, pos, pairing = explicit(self.args[0]), self.args[1], self.args[2].name
        if not (is_explicit(x) and pos.is_Integer):
            return self
        v = torch.tensor([float(e) for e in x], dtype=torch.float64)
        out = _rope(v, [int(pos)], _inv_freq(v.shape[0]), pairing)[0]
        return sp.ImmutableMatrix([[float(e)] for e in out])


class PE(sp.Expr):
    """PE_{p, c}: entry (position p, channel c) of the sinusoidal table."""

    def __new__(cls, pos, ch):
        return sp.Basic.__new__(cls, sp.sympify(pos), sp.sympify(ch))

    def _latex(self, printer):
        return r"PE_{" + printer._print(self.args[0]) + r",\," + printer._print(self.args[1]) + "}"


class SoftmaxJ(sp.Expr):
    """softmax over j of a scalar expression in j (printed; a claim evaluates it row by row)."""

    def __new__(cls, arg, over):
        return sp.Basic.__new__(cls, arg, over)

    def _latex(self, printer):
        return (r"\operatorname{softmax}_{" + printer._print(self.args[1]) + r"}\!\left(" + printer._print(self.args[0])
                + r"\right)")


class Clamp(sp.Expr):
    """clamp(x, lo, hi) = min(max(x, lo), hi)."""

    def __new__(cls, x, lo, hi):
        return sp.Basic.__new__(cls, sp.sympify(x), sp.sympify(lo), sp.sympify(hi))

    def _latex(self, printer):
        return r"\operatorname{clamp}\left(" + ", ".join(printer._print(a) for a in self.args) + r"\right)"

    def doit(self, **hints):
        x, lo, hi = (sp.sympify(a).doit() for a in self.args)
        return sp.Min(sp.Max(x, lo), hi)


# --- E3.1 R(α), R(α)R(β) = R(α + β), R(mθ)ᵀR(nθ) = R((n − m)θ) ------------------------------------------------
def _claim_rotation(eq):
    form, compose, relative = eq.clauses
    _zero(eq, form.lhs.doit() - form.rhs, "R(α) − its matrix")
    _zero(eq, explicit(compose.lhs) - explicit(compose.rhs), "R(α)R(β) − R(α + β)")
    _zero(eq, explicit(relative.lhs) - explicit(relative.rhs), "R(mθ)ᵀR(nθ) − R((n − m)θ)")
    # numeric: R(pθ) x is attn_ref.apply_rope on one plane at position p (either pairing: d = 2)
    gen = rng(301)
    x = randn(gen, 2)
    for th, p in ((0.3, 5), (1.0, 17), (1e-4, 4096)):
        want = _rope(x, [p], torch.tensor([th], dtype=torch.float64))[0]
        got = explicit(sp.MatMul(form.lhs.xreplace({alpha: p * th}), sp.ImmutableMatrix(x.tolist())))
        close(eq.name, got, sp.ImmutableMatrix(want.tolist()), 1e-12)


register(
    "rope_rotation",
    [Clause(Rot(alpha), sp.ImmutableMatrix([[sp.cos(alpha), -sp.sin(alpha)], [sp.sin(alpha), sp.cos(alpha)]])),
     Clause(sp.MatMul(Rot(alpha), Rot(beta)), Rot(_add(alpha, beta))),
     Clause(sp.MatMul(sp.Transpose(Rot(_mul(m_pos, theta))), Rot(_mul(n_pos, theta))),
            Rot(_mul(_add(n_pos, -m_pos), theta)))],
    _claim_rotation,
    "A 2-D rotation; rotations compose by adding angles, so R(mθ)ᵀR(nθ) depends on n − m only.",
    SU, where="§3.2.1 (the 2D case)",
)


# --- E3.2 ⟨R_m W_q x_m, R_n W_k x_n⟩ = x_mᵀ W_qᵀ R_{n−m} W_k x_n -------------------------------------------------
W_q4 = sp.MatrixSymbol("W_{q}", d, d)
W_k4 = sp.MatrixSymbol("W_{k}", d, d)
x_m = sp.MatrixSymbol("x_{m}", d, 1)
x_n = sp.MatrixSymbol("x_{n}", d, 1)


def _block_rope(pos, thetas) -> sp.ImmutableMatrix:
    """The block-diagonal R_{Θ,pos} (paper's interleaved layout) with one 2 × 2 block per θ."""
    return sp.ImmutableMatrix(sp.diag(*[Rot(pos * th).doit() for th in thetas]))


def _claim_relative(eq):
    cl = eq.clauses[0]
    # symbolic, d = 4: R_{Θ,m}ᵀ R_{Θ,n} = R_{Θ,n−m} on the block-diagonal form
    t1, t2 = sp.symbols("theta_1 theta_2", real=True)
    _zero(eq, _block_rope(m_pos, (t1, t2)).T * _block_rope(n_pos, (t1, t2)) - _block_rope(n_pos - m_pos, (t1, t2)),
          "R_mᵀ R_n − R_{n−m} (d = 4)")
    # numeric: both sides with the block matrices of attn_ref's frequencies, the left side also via apply_rope
    gen = rng(302)
    for dim, (pm, pn) in ((4, (3, 7)), (8, (11, 2)), (16, (100, 140))):
        inv = _inv_freq(dim)
        wq, wk, xm, xn = randn(gen, dim, dim), randn(gen, dim, dim), randn(gen, dim), randn(gen, dim)
        blocks = {RopeMat(m_pos): _block_rope(pm, inv.tolist()), RopeMat(n_pos): _block_rope(pn, inv.tolist()),
                  RopeMat(_add(n_pos, -m_pos)): _block_rope(pn - pm, inv.tolist())}
        subs = {W_q4: sp.ImmutableMatrix(wq.tolist()), W_k4: sp.ImmutableMatrix(wk.tolist()),
                x_m: sp.ImmutableMatrix(xm.tolist()), x_n: sp.ImmutableMatrix(xn.tolist()), d: dim}
        lhs = explicit(cl.lhs.xreplace(blocks).xreplace(subs))
        rhs = explicit(cl.rhs.xreplace(blocks).xreplace(subs))
        rhs = rhs[0, 0] if isinstance(rhs, sp.MatrixBase) else rhs
        via_ar = float(_rope(wq @ xm, [pm], inv) @ _rope(wk @ xn, [pn], inv).T)
        close(eq.name, lhs, rhs, 1e-10)
        close(eq.name, lhs, via_ar, 1e-10)
        # shift invariance with attn_ref.apply_rope, both pairings (1e-12 relative to the score's size)
        for pairing in ("interleaved", "half"):
            for t in (1, 5, 1000):
                a = float(_rope(wq @ xm, [pm], inv, pairing) @ _rope(wk @ xn, [pn], inv, pairing).T)
                c = float(_rope(wq @ xm, [pm + t], inv, pairing) @ _rope(wk @ xn, [pn + t], inv, pairing).T)
                if abs(a - c) > 1e-12 * max(1.0, abs(a)) * dim:
                    raise EquationError(f"{eq.name}: shift by {t} changes the score: {a} vs {c}")


register(
    "rope_relative",
    [Clause(Inner(sp.MatMul(RopeMat(m_pos), W_q4, x_m), sp.MatMul(RopeMat(n_pos), W_k4, x_n)),
            sp.MatMul(x_m.T, W_q4.T, RopeMat(_add(n_pos, -m_pos)), W_k4, x_n))],
    _claim_relative,
    "RoPE's score: rotating q by its position and k by its own gives a score that depends on n − m only.",
    SU, {"W_{q}": "Q", "W_{k}": "K"}, where="§3.2.2 (general form, R^d_{Θ,n−m})",
)


# --- E3.3 complex form --------------------------------------------------------------------------------------------
q_t, k_t = sp.Symbol(r"\tilde{q}"), sp.Symbol(r"\tilde{k}")


def _claim_complex(eq):
    cl = eq.clauses[0]
    a1, a2, c1, c2 = sp.symbols("a1 a2 c1 c2", real=True)
    subs = {q_t: a1 + sp.I * a2, k_t: c1 + sp.I * c2}
    th = sp.Symbol("th", real=True)
    mm, nn = sp.symbols("mm nn", real=True)
    pos = {theta: th, m_pos: mm, n_pos: nn}
    lhs = sp.expand_complex(cl.lhs.xreplace(subs).xreplace(pos).doit())
    rhs = sp.expand_complex(cl.rhs.xreplace(subs).xreplace(pos).doit())
    _zero(eq, lhs - rhs, "left − right (expand_complex)")
    # numeric: Re[q̃ e^{imθ} conj(k̃ e^{inθ})] is the dot product of the rotated 2-D vectors (attn_ref)
    gen = rng(303)
    for th_v, pm, pn in ((0.7, 2, 9), (0.01, 400, 30)):
        q, k = randn(gen, 2), randn(gen, 2)
        inv = torch.tensor([th_v], dtype=torch.float64)
        want = float(_rope(q, [pm], inv)[0] @ _rope(k, [pn], inv)[0])
        num = {q_t: complex(q[0], q[1]), k_t: complex(k[0], k[1]), theta: th_v, m_pos: pm, n_pos: pn}
        close(eq.name, sp.N(cl.lhs.xreplace(num).doit()), want, 1e-12)
        close(eq.name, sp.N(cl.rhs.xreplace(num).doit()), want, 1e-12)


register(
    "rope_complex",
    [Clause(sp.re(_mul(q_t, sp.exp(_mul(sp.I, m_pos, theta), evaluate=False),
                       sp.conjugate(_mul(k_t, sp.exp(_mul(sp.I, n_pos, theta), evaluate=False)), evaluate=False)),
                  evaluate=False),
            sp.re(_mul(q_t, sp.conjugate(k_t, evaluate=False),
                       sp.exp(_mul(sp.I, _add(m_pos, -n_pos), theta), evaluate=False)), evaluate=False))],
    _claim_complex,
    "The same in complex numbers: a plane is one complex number, a rotation a multiplication by e^{iθ}.",
    SU, {r"\tilde{q}": "Q", r"\tilde{k}": "K"}, where="§3.2.1 (the 2D case in complex form)",
)


# --- E3.4 θ_i = b^{−2(i−1)/d}, λ_i = 2π/θ_i -------------------------------------------------------------------------
def _claim_frequencies(eq):
    freq, wave = eq.clauses
    for dim, base in ((128, 10_000.0), (64, 10_000.0), (128, 500_000.0)):
        inv = _inv_freq(dim, base)
        for ii in range(1, dim // 2 + 1):
            got = freq.rhs.xreplace({b: base, d: dim, i_idx: ii})
            close(eq.name, got, float(inv[ii - 1]), 1e-13)
    inv = _inv_freq(128)
    lam = [float(wave.rhs.xreplace({Theta_i[i_idx]: float(inv[ii - 1])})) for ii in (1, 64)]
    if abs(lam[0] - 2 * math.pi) > 1e-12 or abs(lam[1] - 54_410.14) > 0.01:
        raise EquationError(f"{eq.name}: λ_1 = {lam[0]}, λ_64 = {lam[1]} (want 2π and ≈ 54,410)")


register(
    "rope_frequencies",
    [Clause(Theta_i[i_idx], sp.Pow(b, _mul(-2, _add(i_idx, -1), 1 / d), evaluate=False)),
     Clause(Lambda_i[i_idx], 2 * sp.pi / Theta_i[i_idx])],
    _claim_frequencies,
    "Plane i turns θ_i radians per token (i = 1 … d/2; the code's inv_freq is 0-based); λ_i tokens per turn.",
    SU, where="§3.2.2, Θ = {θ_i = 10000^{−2(i−1)/d}} (1-based, as in the paper)",
)


# --- E3.5 RᵀR = I, det R = 1 ⇒ ‖R x‖ = ‖x‖ ------------------------------------------------------------------------
x_vec = sp.MatrixSymbol("x", d, 1)


def _claim_norm(eq):
    orth, det, norm = eq.clauses
    _zero(eq, explicit(orth.lhs) - sp.eye(2), "R(α)ᵀR(α) − I")
    _zero(eq, explicit(det.lhs) - det.rhs, "det R(α) − 1")
    gen = rng(305)
    for dim in (2, 8, 128):
        inv = _inv_freq(dim)
        x = randn(gen, dim)
        rot = _rope(x, [0, 1, 7, 1000, 100_000], inv)
        for row in rot:
            got = explicit(norm.lhs.xreplace({sp.MatMul(RopeMat(m_pos), x_vec): sp.ImmutableMatrix(row.tolist())}))
            close(eq.name, got, explicit(norm.rhs.xreplace({x_vec: sp.ImmutableMatrix(x.tolist())})), 1e-12)


register(
    "rope_norm",
    [Clause(sp.MatMul(sp.Transpose(Rot(alpha)), Rot(alpha)), sp.Identity(2)),
     Clause(Det(Rot(alpha)), sp.S.One),
     Clause(Norm(sp.MatMul(RopeMat(m_pos), x_vec)), Norm(x_vec))],
    _claim_norm,
    "Rotations are orthogonal with determinant 1: RoPE never changes the length of q or k.",
    SU, where="§3.2.2 (R^d_{Θ,m} is orthogonal)",
)


# --- E3.6 rope_half(P x) = P rope_interleaved(x) --------------------------------------------------------------------
P_mat = sp.MatrixSymbol("P", d, d)


def _hf_permutation(dim: int) -> list[int]:
    """Row order of HF's convert_llama_weights_to_hf permute: w.view(dim//2, 2, ·).transpose(0, 1), one head."""
    return torch.arange(dim).view(dim // 2, 2).transpose(0, 1).reshape(dim).tolist()


def _claim_pairing(eq):
    cl = eq.clauses[0]
    gen = rng(306)
    for dim in (4, 8, 16):
        perm = _hf_permutation(dim)
        # (P x)_r = x_{perm[r]}
        pm = sp.ImmutableMatrix([[1 if perm[r] == c else 0 for c in range(dim)] for r in range(dim)])
        x = randn(gen, dim)
        for pos in (0, 3, 250):
            subs = {P_mat: pm, x_vec: sp.ImmutableMatrix(x.tolist()), m_pos: pos, d: dim}
            close(eq.name, explicit(cl.lhs.xreplace(subs)), explicit(cl.rhs.xreplace(subs)), 1e-12)
    import attn_ref as ar

    if _hf_permutation(8) != ar.rope_permutation(8).tolist():
        raise EquationError(f"{eq.name}: attn_ref.rope_permutation differs from HF's conversion permutation")


register(
    "rope_pairing",
    [Clause(RopeOp(sp.MatMul(P_mat, x_vec), m_pos, "half"), sp.MatMul(P_mat, RopeOp(x_vec, m_pos, "interleaved")))],
    _claim_pairing,
    "The half and interleaved pairings are the same rotation up to a fixed permutation P of the channels.",
    None, where="course notation: HF convert_llama_weights_to_hf.py permutation (huggingface/transformers#25199)",
)


# --- E3.7 sinusoidal: PE_{p+k} = M(k) PE_p per pair ---------------------------------------------------------------
def _claim_sinusoidal(eq):
    shift, omega = eq.clauses
    w = sp.Symbol("w", positive=True)
    table = {PE(_add(p_pos, k_off), 2 * i_idx): sp.sin((p_pos + k_off) * w),
             PE(_add(p_pos, k_off), _add(2 * i_idx, 1)): sp.cos((p_pos + k_off) * w),
             PE(p_pos, 2 * i_idx): sp.sin(p_pos * w), PE(p_pos, _add(2 * i_idx, 1)): sp.cos(p_pos * w),
             Omega_i[i_idx]: w}
    _zero(eq, shift.lhs.xreplace(table) - shift.rhs.xreplace(table).doit(), "PE_{p+k} − M(k) PE_p (expand_trig)")
    import attn_ref as ar

    n_, dim = 40, 16
    pe = ar.sinusoidal_positions(n_, dim)
    for ii in range(dim // 2):
        om = float(omega.rhs.xreplace({i_idx: ii, d: dim}))
        if abs(om - 10_000.0 ** (-2 * ii / dim)) > 1e-15:
            raise EquationError(f"{eq.name}: ω_{ii} drawn {om}")
        for p, k in ((0, 1), (3, 10), (20, 19)):
            num = {PE(_add(p_pos, k_off), 2 * i_idx): float(pe[p + k, 2 * ii]),
                   PE(_add(p_pos, k_off), _add(2 * i_idx, 1)): float(pe[p + k, 2 * ii + 1]),
                   PE(p_pos, 2 * i_idx): float(pe[p, 2 * ii]), PE(p_pos, _add(2 * i_idx, 1)): float(pe[p, 2 * ii + 1]),
                   Omega_i[i_idx]: om, k_off: k}
            close(eq.name, shift.lhs.xreplace(num), explicit(shift.rhs.xreplace(num)), 1e-12)


register(
    "sinusoidal_shift",
    [Clause(sp.ImmutableMatrix([[PE(_add(p_pos, k_off), 2 * i_idx)], [PE(_add(p_pos, k_off), _add(2 * i_idx, 1))]]),
            sp.MatMul(sp.ImmutableMatrix([[sp.cos(_mul(k_off, Omega_i[i_idx])), sp.sin(_mul(k_off, Omega_i[i_idx]))],
                                          [-sp.sin(_mul(k_off, Omega_i[i_idx])), sp.cos(_mul(k_off, Omega_i[i_idx]))]]),
                      sp.ImmutableMatrix([[PE(p_pos, 2 * i_idx)], [PE(p_pos, _add(2 * i_idx, 1))]]))),
     Clause(Omega_i[i_idx], sp.Pow(10000, _mul(-2, i_idx, 1 / d), evaluate=False))],
    _claim_sinusoidal,
    "Sinusoidal positions: shifting by k is a fixed rotation of each (sin, cos) pair — but they are added to x.",
    VASWANI, where="§3.5 ('PE_{pos+k} can be represented as a linear function of PE_{pos}')",
)


# --- E3.8 ALiBi ------------------------------------------------------------------------------------------------------
a_ij = sp.IndexedBase("a")[i_idx, j_idx]
qk_ij = sp.Symbol(r"q_{i}^{\top} k_{j}")


def _claim_alibi(eq):
    import attn_ref as ar

    weights, slope = eq.clauses
    gen = rng(308)
    n_, dim, heads = 5, 4, 8
    q, k, v = randn(gen, 1, heads, n_, dim), randn(gen, 1, heads, n_, dim), randn(gen, 1, heads, n_, 2)
    bias = ar.alibi_bias(heads, n_, n_)
    _, p = ar.sdpa(q, k, v, attn_mask=bias, return_weights=True)   # the bias is not scaled by 1/√d
    inner = weights.rhs.args[0]
    for h in range(1, heads + 1):
        mh = float(slope.rhs.xreplace({h_idx: h, H: heads}))
        if abs(mh - 2.0 ** (-8 * h / heads)) > 1e-15 or abs(mh - float(ar.alibi_slopes(heads)[h - 1])) > 1e-15:
            raise EquationError(f"{eq.name}: m_{h} drawn {mh}, attn_ref {float(ar.alibi_slopes(heads)[h - 1])}")
        s_ = q[0, h - 1] @ k[0, h - 1].T
        for row in range(n_):
            logits = [float(inner.xreplace({qk_ij: float(s_[row, col]), d: dim, m_h: mh, i_idx: row + 1,
                                            j_idx: col + 1})) for col in range(n_)]
            want = torch.softmax(torch.tensor(logits, dtype=torch.float64), -1)
            close(eq.name, sp.ImmutableMatrix(want.tolist()), sp.ImmutableMatrix(p[0, h - 1, row].tolist()), 1e-12)
    # H = 12: the paper's interpolation (8 slopes of H = 8, then every other slope of H = 16)
    want12 = [2.0 ** (-8 * h / 8) for h in range(1, 9)] + [2.0 ** (-x) for x in (0.5, 1.5, 2.5, 3.5)]
    close(eq.name, sp.ImmutableMatrix(ar.alibi_slopes(12).tolist()), sp.ImmutableMatrix(want12), 1e-15)


register(
    "alibi",
    [Clause(a_ij, SoftmaxJ(_add(qk_ij / sp.sqrt(d), -_mul(m_h, _add(i_idx, -j_idx))), j_idx)),
     Clause(m_h, sp.Pow(2, _mul(-8, h_idx, 1 / H), evaluate=False))],
    _claim_alibi,
    "ALiBi: a fixed linear penalty per head on the distance, added to the scores (not scaled by 1/√d).",
    PRESS, where="§3, eq. (1) and the head slopes (H = 12: the paper's interpolation)",
)


# --- E3.9 PI: θ'_i = θ_i/s ⇔ m ↦ m/s ---------------------------------------------------------------------------------
def _claim_pi(eq):
    import attn_ref as ar

    freq, pos = eq.clauses
    gen = rng(309)
    for dim, factor in ((128, 8.0), (64, 4.0), (16, 2.5)):
        plain = _inv_freq(dim)
        got, f = ar.rope_frequencies(dim, scaling=ar.RopeScaling("linear", factor))
        for ii in range(dim // 2):
            close(eq.name, freq.rhs.xreplace({Theta_i[i_idx]: float(plain[ii]), s: factor}), float(got[ii]), 1e-15)
        # the same angles as positions divided by s: rotate at m with θ/s = rotate by (m/s)·θ
        x = randn(gen, dim)
        m_ = 37
        scaled = _rope(x, [m_], got, "half")[0]
        m_over_s = float(pos.rhs.xreplace({m_pos: m_, s: factor}))
        ang = m_over_s * plain
        a, c = x[: dim // 2], x[dim // 2:]
        direct = torch.cat([a * ang.cos() - c * ang.sin(), c * ang.cos() + a * ang.sin()])
        close(eq.name, sp.ImmutableMatrix(scaled.tolist()), sp.ImmutableMatrix(direct.tolist()), 1e-12)
        if f != 1.0:
            raise EquationError(f"{eq.name}: linear scaling has attention factor {f}")


register(
    "rope_pi",
    [Clause(Theta_p[i_idx], Theta_i[i_idx] / s), Clause(m_pos, m_pos / s, rel=r"\mapsto")],
    _claim_pi,
    "Position interpolation: every frequency divided by s, the same as squeezing positions by s.",
    CHEN_2023_PI,
    where="position interpolation f'(x, m) = f(x, mL/L'); RopeScaling('linear', s), code index i = 0 … d/2 − 1",
)


# --- E3.10 NTK-aware: b' = b s^{d/(d−2)} ⇒ θ'_{d/2−1} = θ_{d/2−1}/s, θ'_0 = θ_0 ---------------------------------------
def _claim_ntk(eq):
    import attn_ref as ar

    new_base, lowest, highest = eq.clauses
    # sympy via logs: (b s^{d/(d−2)})^{−(d−2)/d} = b^{−(d−2)/d} / s   (positive symbols)
    bp, sp_, dp = sp.symbols("bp sp dp", positive=True)
    lhs = (bp * sp_ ** (dp / (dp - 2))) ** (-(dp - 2) / dp)
    rhs = bp ** (-(dp - 2) / dp) / sp_
    diff = sp.simplify(sp.expand_log(sp.log(lhs), force=True) - sp.expand_log(sp.log(rhs), force=True))
    if diff != 0:
        raise EquationError(f"{eq.name}: log identity fails: {diff}")
    for dim, base, factor in ((128, 10_000.0, 8.0), (64, 10_000.0, 4.0), (128, 500_000.0, 2.0)):
        plain = _inv_freq(dim, base)
        got, _ = ar.rope_frequencies(dim, base, ar.RopeScaling("ntk", factor))
        bnew = float(new_base.rhs.xreplace({b: base, s: factor, d: dim}))
        close(eq.name, bnew ** (-2 / dim), float(got[1]), 1e-13)             # θ'_1 = b'^{−2/d}
        last = {Theta_i[_add(sp.Rational(1, 2) * d, -1)]: float(plain[-1]), s: factor}
        close(eq.name, float(got[-1]), lowest.rhs.xreplace(last), 1e-13)
        close(eq.name, float(got[0]), highest.rhs.xreplace({Theta_i[0]: float(plain[0])}), 1e-15)
    if abs(10_000.0 * 8.0 ** (128 / 126) - 82_684.6) > 0.05:
        raise EquationError(f"{eq.name}: b' for s = 8 is not 82,684.6")


register(
    "rope_ntk",
    [Clause(b_new, _mul(b, sp.Pow(s, _mul(d, sp.Pow(_add(d, -2), -1, evaluate=False)), evaluate=False))),
     Clause(Theta_p[_add(sp.Rational(1, 2) * d, -1)], Theta_i[_add(sp.Rational(1, 2) * d, -1)] / s),
     Clause(Theta_p[0], Theta_i[0])],
    _claim_ntk,
    "NTK-aware scaling raises the base so the slowest plane is interpolated by exactly s and the fastest not at all.",
    PENG, where="'NTK-aware' interpolation (bloc97 2023, as described by Peng et al.); code index i = 0 … d/2 − 1",
)


# --- E3.11 YaRN as implemented -----------------------------------------------------------------------------------
def _claim_yarn(eq):
    import attn_ref as ar

    cdim, ramp, freq, temp = eq.clauses
    for dim, base, L0, factor in ((128, 10_000.0, 4096, 16.0), (128, 10_000.0, 4096, 8.0), (64, 10_000.0, 2048, 4.0),
                                  (128, 500_000.0, 8192, 4.0)):
        plain = _inv_freq(dim, base)
        got, f = ar.rope_frequencies(dim, base, ar.RopeScaling("yarn", factor, L0))
        corr = {bb: float(cdim.rhs.xreplace({d: dim, L: L0, b: base, beta: bb})) for bb in (32, 1)}
        lo, hi = math.floor(corr[32]), math.ceil(corr[1])
        if not (0 <= lo < hi <= dim - 1):
            raise EquationError(f"{eq.name}: the check's config leaves the unclamped range: {lo}, {hi}")
        for ii in range(dim // 2):
            g = float(ramp.rhs.xreplace({I_beta[32]: corr[32], I_beta[1]: corr[1], i_idx: ii}).doit())
            th = float(freq.rhs.xreplace({Gamma_i[i_idx]: g, Theta_i[i_idx]: float(plain[ii]), s: factor}))
            close(eq.name, th, float(got[ii]), 1e-13)
        close(eq.name, temp.rhs.xreplace({s: factor}), f, 1e-14)
    # the plan's example: L 4096, d 128, b 10⁴: planes 0–20 kept, 46–63 fully interpolated; √(1/t) = 1.2773 at s = 16
    got, f = ar.rope_frequencies(128, 10_000.0, ar.RopeScaling("yarn", 16.0, 4096))
    ratio = (_inv_freq(128) / got).tolist()
    kept = [ii for ii, r_ in enumerate(ratio) if abs(r_ - 1) < 1e-12]
    full = [ii for ii, r_ in enumerate(ratio) if abs(r_ - 16) < 1e-9]
    if kept != list(range(21)) or full != list(range(46, 64)) or abs(f - 1.2773) > 5e-5:
        raise EquationError(f"{eq.name}: bands {kept[-1:]}, {full[:1]}, factor {f}")


register(
    "rope_yarn",
    [Clause(I_beta[beta], sp.Mul(_mul(d, sp.log(_mul(L, sp.Pow(_mul(2, sp.pi, beta), -1, evaluate=False)))),
                                  sp.Pow(_mul(2, sp.log(b)), -1, evaluate=False), evaluate=False)),
     Clause(Gamma_i[i_idx], Clamp(_add(i_idx, -sp.floor(I_beta[32])) / _add(sp.ceiling(I_beta[1]),
                                                                         -sp.floor(I_beta[32])), 0, 1)),
     Clause(Theta_p[i_idx], _add(_mul(Gamma_i[i_idx], Theta_i[i_idx] / s), _mul(_add(1, -Gamma_i[i_idx]),
                                                                             Theta_i[i_idx]))),
     Clause(sp.Pow(sp.Pow(t_temp, -1, evaluate=False), sp.Rational(1, 2), evaluate=False),
            _add(_mul(sp.Float("0.1"), sp.log(s)), 1))],
    _claim_yarn,
    "YaRN: planes that turn fewer than β times in L are interpolated, those turning more are kept, a linear ramp "
    "between; logits get the temperature √(1/t) on q and k.",
    PENG, where="as implemented (jquesnelle/yarn, HF _compute_yarn_parameters): ramp linear in the code's plane "
                "index i = 0 … d/2 − 1, β = 32 and 1; the attention temperature √(1/t) = 0.1 ln s + 1",
)


# --- E3.12 ⟨f R_m q, f R_n k⟩ = f² ⟨R_m q, R_n k⟩ ------------------------------------------------------------------
q_col = sp.MatrixSymbol("q", d, 1)
k_col = sp.MatrixSymbol("k", d, 1)


def _claim_factor(eq):
    import attn_ref as ar

    prod, fdef = eq.clauses
    gen = rng(312)
    for dim, factor in ((128, 16.0), (64, 40.0)):
        inv, f = ar.rope_frequencies(dim, scaling=ar.RopeScaling("yarn", factor, 4096))
        close(eq.name, fdef.rhs.xreplace({s: factor}), f, 1e-14)
        q, k = randn(gen, dim), randn(gen, dim)
        rq, rk = _rope(q, [9], inv), _rope(k, [4], inv)
        fq, fk = _rope(q, [9], inv, factor=f), _rope(k, [4], inv, factor=f)   # attention_factor on cos and sin
        close(eq.name, float(fq @ fk.T), float(prod.rhs.xreplace({f_att: f, Inner(sp.MatMul(RopeMat(m_pos), q_col),
                                                                               sp.MatMul(RopeMat(n_pos), k_col)):
                                                                     float(rq @ rk.T)})), 1e-10)
    if abs(float(fdef.rhs.xreplace({s: 16})) ** 2 - 1.6314) > 5e-5:
        raise EquationError(f"{eq.name}: f² at s = 16 is not 1.6314")


register(
    "yarn_attention_factor",
    [Clause(Inner(_mul(f_att, sp.MatMul(RopeMat(m_pos), q_col)), _mul(f_att, sp.MatMul(RopeMat(n_pos), k_col))),
            _mul(f_att ** 2, Inner(sp.MatMul(RopeMat(m_pos), q_col), sp.MatMul(RopeMat(n_pos), k_col)))),
     Clause(f_att, _add(_mul(sp.Float("0.1"), sp.log(s)), 1))],
    _claim_factor,
    "YaRN's factor multiplies cos and sin, so it lands on q and on k: the logits scale by its square.",
    PENG, where="the attention temperature √(1/t), as applied by HF (attention_scaling on cos and sin)",
)


# --- E3.13 Llama 3.1 ------------------------------------------------------------------------------------------------
def _claim_llama3(eq):
    import attn_ref as ar

    piece, mu_def = eq.clauses
    for base, factor, L0, lo, hi in ((500_000.0, 8.0, 8192, 1.0, 4.0), (10_000.0, 4.0, 4096, 1.0, 4.0),
                                     (500_000.0, 32.0, 8192, 1.0, 4.0), (500_000.0, 8.0, 8192, 2.0, 8.0)):
        plain = _inv_freq(128, base)
        got, _ = ar.rope_frequencies(128, base, ar.RopeScaling("llama3", factor, L0, low_freq_factor=lo,
                                                               high_freq_factor=hi))
        for ii in range(64):
            lam = 2 * math.pi / float(plain[ii])
            mu_v = float(mu_def.rhs.xreplace({L: L0, Lambda_i[i_idx]: lam, beta_l: lo, beta_h: hi}))
            th = piece.rhs.xreplace({Theta_i[i_idx]: float(plain[ii]), Lambda_i[i_idx]: lam, L: L0, beta_h: hi,
                                     beta_l: lo, s: factor, mu: mu_v})
            close(eq.name, float(th), float(got[ii]), 1e-13)
    got, _ = ar.rope_frequencies(128, 500_000.0, ar.RopeScaling("llama3", 8.0, 8192))
    r_ = (_inv_freq(128, 500_000.0) / got).tolist()
    counts = (sum(abs(x - 1) < 1e-12 for x in r_), sum(abs(x - 8) < 1e-9 for x in r_))
    if counts != (29, 29):
        raise EquationError(f"{eq.name}: kept/divided planes {counts}, want 29/29 (and 6 blended)")


register(
    "rope_llama3",
    [Clause(Theta_p[i_idx], sp.Piecewise((Theta_i[i_idx], Lambda_i[i_idx] < L / beta_h),
                                         (Theta_i[i_idx] / s, Lambda_i[i_idx] > L / beta_l),
                                         (_add(_mul(_add(1, -mu), Theta_i[i_idx] / s), _mul(mu, Theta_i[i_idx])),
                                          True))),
     Clause(mu, _add(L / Lambda_i[i_idx], -beta_l) / _add(beta_h, -beta_l))],
    _claim_llama3,
    "Llama 3.1: planes whose wavelength is short against L are kept, long ones divided by s, a blend between.",
    LLAMA, where="as implemented (Meta's apply_scaling, HF _compute_llama3_parameters): β_l = low_freq_factor, "
                 "β_h = high_freq_factor, L = original_max_position_embeddings",
)


# --- E3.14 RoFormer's decay bound --------------------------------------------------------------------------------
def _claim_decay(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    for dim in (4, 8, 16):
        inv = _inv_freq(dim)
        dists = (0, 1, 3, 10, 57, 300)
        got = ar.rope_decay_bound(list(dists), dim)
        for r_v, g in zip(dists, got.tolist()):
            expr = cl.rhs.xreplace({d: dim, r_dist: r_v}).doit()
            expr = expr.xreplace({Theta_i[kk]: float(inv[kk]) for kk in range(dim // 2)})
            close(eq.name, complex(sp.N(expr)).real, g, 1e-12)
            # an independent direct loop in plain Python complex arithmetic
            loop = 0.0
            for jj in range(1, dim // 2 + 1):
                partial = sum(complex(math.cos(r_v * float(inv[kk])), math.sin(r_v * float(inv[kk])))
                              for kk in range(jj))
                loop += abs(partial)
            close(eq.name, 2 * loop / dim, g, 1e-12)
    if abs(float(ar.rope_decay_bound([0], 128)[0]) - 32.5) > 1e-12:
        raise EquationError(f"{eq.name}: B(0) for d = 128 is not (d/2 + 1)/2 = 32.5")


register(
    "rope_decay_bound",
    [Clause(B_r, _mul(2 / d, sp.Sum(sp.Abs(sp.Sum(sp.exp(_mul(sp.I, r_dist, Theta_i[k_idx0]), evaluate=False),
                                                  (k_idx0, 0, _add(j_idx, -1)))),
                                    (j_idx, 1, sp.Rational(1, 2) * d))))],
    _claim_decay,
    "RoFormer's long-term decay: an upper bound on the score's size that shrinks with distance (not the score).",
    SU, where="§3.4.3 and Fig. 2 (θ_k with k = 0 … d/2 − 1, the code's index)",
)
