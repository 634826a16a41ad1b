"""The registry of verified equations: the only way scenes get math on screen.

Each entry is built from sympy objects (its *clauses*, ``lhs rel rhs``). The drawn TeX is derived from
those objects by :class:`LecturePrinter` (lecture notation: ``softmax``, ``K^⊤``, fractions), and the
entry's *claim* checks the same objects: symbolically (an identity that simplifies to 0) or numerically
(free symbols replaced by seeded random matrices, both sides evaluated, the reference side by
``attn_ref`` or torch). :meth:`Equation.check` also re-derives the TeX, so editing the TeX alone fails,
and editing the sympy side changes what the claim evaluates (a wrong formula fails the claim).

    from scenes.kit.equations import equation
    eq = equation("sdpa")            # MathTex, Q/K/V coloured by role from the theme
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from collections.abc import Callable, Mapping

import numpy as np
import sympy as sp
import torch
from sympy.matrices.expressions import MatrixExpr
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

__all__ = [
    "EQUATIONS",
    "Attention",
    "Clause",
    "Dot",
    "Equation",
    "EquationError",
    "LecturePrinter",
    "MaxOver",
    "Shape",
    "ShapeProduct",
    "Softmax",
    "SoftmaxEntry",
    "Tanh",
    "Variance",
    "equation",
    "render_clauses",
    "to_tex",
    "verify_all",
]


class EquationError(AssertionError):
    """An equation's drawn TeX or its claim does not hold."""


# ----------------------------------------------------------------------------------------------
# lecture notation: sympy objects that print like the lectures and evaluate when made explicit
def _explicit(expr):
    """Evaluate ``expr`` after its symbols were replaced by numbers: a matrix or a scalar."""
    out = expr.doit()
    if isinstance(out, MatrixExpr) and not isinstance(out, sp.MatrixBase):
        if out.atoms(sp.MatrixSymbol) or not all(sp.sympify(d).is_Integer for d in out.shape):
            return out  # still symbolic
        out = out.as_explicit()
    if isinstance(out, sp.MatrixBase):
        return sp.ImmutableMatrix(out)
    return out


def _is_explicit(m) -> bool:
    return isinstance(m, sp.MatrixBase)


def _to_numpy(m) -> np.ndarray:
    if isinstance(m, sp.MatrixBase):
        return np.array(m.evalf(), dtype=float)
    return np.array(float(sp.N(m)))


def _to_torch(m) -> torch.Tensor:
    return torch.tensor(_to_numpy(m), dtype=torch.float64)


class Softmax(MatrixExpr):
    """Row-wise softmax of a matrix expression (queries are rows): softmax(S)_ij = e^{S_ij} / Σ_j' e^{S_ij'}."""

    def __new__(cls, arg):
        return sp.Basic.__new__(cls, sp.sympify(arg))

    @property
    def shape(self):
        return self.args[0].shape

    def _latex(self, printer):
        return rf"\operatorname{{softmax}}\left({printer._print(self.args[0])}\right)"

    def doit(self, **hints):
        s = _explicit(self.args[0])
        if not _is_explicit(s):
            return self
        rows = []
        for i in range(s.rows):
            e = [sp.exp(s[i, j]) for j in range(s.cols)]
            total = sp.Add(*e)
            rows.append([x / total for x in e])
        return sp.ImmutableMatrix(rows)


class Attention(MatrixExpr):
    """Attention(Q, K, V): evaluated by the reference ``attn_ref.sdpa`` once Q, K, V are explicit."""

    def __new__(cls, q, k, v):
        return sp.Basic.__new__(cls, q, k, v)

    @property
    def shape(self):
        return (self.args[0].shape[0], self.args[2].shape[1])

    def _latex(self, printer):
        return r"\operatorname{Attention}(" + ", ".join(printer._print(a) for a in self.args) + ")"

    def doit(self, **hints):
        q, k, v = (_explicit(a) for a in self.args)
        if not all(_is_explicit(a) for a in (q, k, v)):
            return self
        import attn_ref as ar

        out = ar.sdpa(*(_to_torch(a)[None, None] for a in (q, k, v)))[0, 0]
        return sp.ImmutableMatrix(out.tolist())


class SoftmaxEntry(sp.Expr):
    """softmax(x)_i for a vector x (1-based i): evaluated by ``attn_ref.softmax`` once x is explicit."""

    def __new__(cls, x, i):
        return sp.Basic.__new__(cls, sp.sympify(x), sp.sympify(i))

    def _latex(self, printer):
        x, i = self.args
        return rf"\operatorname{{softmax}}\left({printer._print(x)}\right)_{{{printer._print(i)}}}"

    def doit(self, **hints):
        x, i = _explicit(self.args[0]), self.args[1]
        if not (_is_explicit(x) and i.is_Integer):
            return self
        import attn_ref as ar

        p = ar.softmax(_to_torch(x).reshape(-1))
        return sp.Float(float(p[int(i) - 1]), 30)


class MaxOver(sp.Expr):
    """max_j x_j over a vector (printed with its index)."""

    def __new__(cls, x, j):
        return sp.Basic.__new__(cls, sp.sympify(x), sp.sympify(j))

    def _latex(self, printer):
        x, j = self.args
        return rf"\max_{{{printer._print(j)}}} {printer._print(x)}_{{{printer._print(j)}}}"

    def doit(self, **hints):
        x = _explicit(self.args[0])
        if not _is_explicit(x):
            return self
        return sp.Max(*list(x))


class Dot(sp.Expr):
    """Dot product a · b of two column vectors."""

    def __new__(cls, a, b):
        return sp.Basic.__new__(cls, a, b)

    def _latex(self, printer):
        return printer._print(self.args[0]) + r" \cdot " + printer._print(self.args[1])

    def doit(self, **hints):
        a, b = (_explicit(x) for x in self.args)
        if not (_is_explicit(a) and _is_explicit(b)):
            return self
        return sp.expand((a.T * b)[0, 0])


class Variance(sp.Expr):
    """Var(X) of a random scalar; evaluated by :func:`unit_variance_moments` in the checks."""

    def __new__(cls, x):
        return sp.Basic.__new__(cls, sp.sympify(x))

    def _latex(self, printer):
        return r"\operatorname{Var}\left(" + printer._print(self.args[0]) + r"\right)"


class Tanh(MatrixExpr):
    """Element-wise tanh of a matrix expression."""

    def __new__(cls, arg):
        return sp.Basic.__new__(cls, arg)

    @property
    def shape(self):
        return self.args[0].shape

    def _latex(self, printer):
        return r"\tanh\left(" + printer._print(self.args[0]) + r"\right)"

    def doit(self, **hints):
        a = _explicit(self.args[0])
        if not _is_explicit(a):
            return self
        return a.applyfunc(sp.tanh)


class Shape(sp.Expr):
    """A matrix shape ``rows × cols``."""

    def __new__(cls, rows, cols):
        return sp.Basic.__new__(cls, sp.sympify(rows), sp.sympify(cols))

    def _latex(self, printer):
        return printer._print(self.args[0]) + r" \times " + printer._print(self.args[1])


class ShapeProduct(sp.Expr):
    """(a × b)(c × d): the shape of a matrix product, evaluated by sympy's own shape rules."""

    def __new__(cls, *shapes):
        return sp.Basic.__new__(cls, *shapes)

    def _latex(self, printer):
        return r"\,".join(r"\left(" + printer._print(s) + r"\right)" for s in self.args)

    def doit(self, **hints):
        mats = [sp.MatrixSymbol(f"M{i}", *s.args) for i, s in enumerate(self.args)]
        return Shape(*sp.MatMul(*mats).shape)  # raises ShapeError when inner sizes differ


class LecturePrinter(LatexPrinter):
    """sympy → TeX in lecture notation: ``K^{\\top}``, ``\\frac{Q K^{\\top}}{\\sqrt{d_k}}``, ``x_{i}``."""

    def _print_Transpose(self, expr):
        return self.parenthesize(expr.arg, PRECEDENCE["Pow"]) + r"^{\top}"

    def _print_MatMul(self, expr):
        coeff, mats = expr.as_coeff_matrices()
        num, den = sp.fraction(coeff)
        if den != 1:
            parts = ([] if num == 1 else [self._print(num)]) + [
                self.parenthesize(m, PRECEDENCE["Mul"]) for m in mats]
            return r"\frac{" + " ".join(parts) + "}{" + self._print(den) + "}"
        return super()._print_MatMul(expr)

    def _print_Indexed(self, expr):
        idx = "".join(self._print(i) for i in expr.indices)
        return self._print(expr.base.label) + "_{" + idx + "}"

    def _print_ExpBase(self, expr, exp=None):
        # e^{x_i / T}: short fractions in an exponent are written inline
        saved = self._settings["fold_short_frac"]
        self._settings["fold_short_frac"] = True
        try:
            return super()._print_ExpBase(expr, exp)
        finally:
            self._settings["fold_short_frac"] = saved

    def _print_Piecewise(self, expr):
        rows = []
        for value, cond in expr.args:
            c = r"\text{otherwise}" if cond is sp.true else self._print(cond)
            rows.append(self._print(value) + " & " + c)
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"


def to_tex(expr) -> str:
    """TeX of one sympy expression in lecture notation (terms in the order they were built)."""
    return LecturePrinter({"order": "none"}).doprint(expr)


# ----------------------------------------------------------------------------------------------
# the registry
@dataclass(frozen=True)
class Clause:
    """``lhs rel rhs`` (``rhs`` None: an expression on its own, e.g. notation)."""

    lhs: object
    rhs: object = None
    rel: str = "="


def render_clauses(clauses) -> str:
    """The one TeX rendering of a list of clauses, joined by ``,\\quad``."""
    parts = []
    for c in clauses:
        parts.append(to_tex(c.lhs) if c.rhs is None else f"{to_tex(c.lhs)} {c.rel} {to_tex(c.rhs)}")
    return r",\quad ".join(parts)


@dataclass(frozen=True)
class Equation:
    """A verified equation. ``tex`` is what is drawn; ``check()`` returns True or raises EquationError."""

    name: str
    tex: str
    clauses: tuple
    claim: Callable[[Equation], None] = field(repr=False)
    description: str
    source: str
    roles: Mapping[str, str] = field(default_factory=dict)  # TeX substring → theme role (colour)

    def derived_tex(self) -> str:
        return render_clauses(self.clauses)

    def check(self) -> bool:
        derived = self.derived_tex()
        if self.tex != derived:
            raise EquationError(f"{self.name}: drawn TeX differs from its sympy definition:\n"
                                f"  drawn:   {self.tex}\n  derived: {derived}")
        _check_roles(self.name, self.tex, self.roles)
        try:
            self.claim(self)
        except EquationError:
            raise
        except Exception as exc:  # a sympy/torch error in a claim is a failed claim
            raise EquationError(f"{self.name}: claim could not be evaluated: {exc!r}") from exc
        return True


EQUATIONS: dict[str, Equation] = {}


_TEXT_ARG = re.compile(r"\\(?:operatorname|text|mathrm)\{[^}]*\}")


def _check_roles(name: str, tex: str, roles: Mapping[str, str]) -> None:
    """Every role substring occurs in the TeX, never inside a command name (``q`` in ``\\sqrt``) or a
    word (``A`` in ``\\operatorname{Attention}``): manim isolates substrings wherever they occur."""
    words = [mt.span() for mt in _TEXT_ARG.finditer(tex)]
    for sub in roles:
        hits = [m.start() for m in re.finditer(re.escape(sub), tex)]
        if not hits:
            raise EquationError(f"{name}: role substring {sub!r} does not occur in {tex!r}")
        for p in hits:
            if any(a <= p < b for a, b in words):
                raise EquationError(f"{name}: role substring {sub!r} occurs inside a word in {tex!r}")
            k = p
            while k > 0 and tex[k - 1].isalpha():
                k -= 1
            if k > 0 and tex[k - 1] == "\\":
                raise EquationError(f"{name}: role substring {sub!r} occurs inside a TeX command in {tex!r}")


def _register(name, clauses, claim, description, source, roles=None) -> Equation:
    clauses = tuple(clauses)
    roles = {to_tex(k) if not isinstance(k, str) else k: v for k, v in (roles or {}).items()}
    eq = Equation(name, render_clauses(clauses), clauses, claim, description, source, roles)
    if name in EQUATIONS:
        raise ValueError(f"equation {name!r} registered twice")
    EQUATIONS[name] = eq
    return eq


def equation(name: str, *, color_roles: bool = True, font_size: float | None = None, color=None,
             isolate=(), **kwargs):
    """The MathTex of registry entry ``name``, role substrings (Q, K, V, …) isolated and coloured.

    ``isolate`` adds TeX substrings to isolate (for ``TransformMatchingTex``/``get_part_by_tex``);
    other keyword arguments go to ``MathTex``.
    """
    from manim import MathTex

    from .theme import COLORS, SIZES, role_color

    if name not in EQUATIONS:
        raise KeyError(f"no equation {name!r} in the registry; known: {sorted(EQUATIONS)}")
    eq = EQUATIONS[name]
    subs = list(dict.fromkeys([*eq.roles, *isolate]))
    mob = MathTex(eq.tex, substrings_to_isolate=subs or None,
                  font_size=font_size or SIZES.EQUATION, color=color or COLORS.TEXT, **kwargs)
    if color_roles:
        for sub, role in eq.roles.items():
            mob.set_color_by_tex(sub, role_color(role))
    mob.equation_name = name
    return mob


def verify_all() -> dict[str, bool]:
    """Check every entry; raise EquationError naming all failures."""
    failures, results = [], {}
    for name, eq in EQUATIONS.items():
        try:
            results[name] = eq.check()
        except EquationError as exc:
            failures.append(str(exc))
    if failures:
        raise EquationError("\n".join(failures))
    return results


# ----------------------------------------------------------------------------------------------
# helpers for claims
def _rng(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(gen, *shape) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


def _mat(t: torch.Tensor) -> sp.ImmutableMatrix:
    return sp.ImmutableMatrix(t.tolist())


def _close(name: str, a, b, tol: float = 1e-9) -> None:
    a, b = _to_numpy(a), _to_numpy(b)
    if a.shape != b.shape or not np.allclose(a, b, rtol=tol, atol=tol):
        raise EquationError(f"{name}: sides differ numerically:\n{a}\nvs\n{b}")


def _numeric(eq: Equation, clause: Clause, subs: Mapping, tol: float = 1e-9) -> None:
    """Replace the clause's symbols by numbers and compare both evaluated sides."""
    subs = {k: sp.sympify(v) for k, v in subs.items()}
    _close(eq.name, _explicit(clause.lhs.xreplace(subs)), _explicit(clause.rhs.xreplace(subs)), tol)


def _identity(eq: Equation, lhs, rhs) -> None:
    diff = sp.simplify(sp.expand(lhs - rhs))
    if diff != 0:
        raise EquationError(f"{eq.name}: identity fails, lhs − rhs = {diff}")


def _expand_vector_sum(expr, subs):
    """Substitute sizes/indices, expand Σ into explicit terms."""
    return expr.xreplace(subs).doit()


def unit_variance_moments(expr, variables) -> sp.Expr:
    """E[expr] for independent ``variables`` with mean 0 and variance 1 (any distribution).

    ``expr`` is a polynomial; each monomial's expectation is the product of the variables' moments
    (E[x⁰]=1, E[x]=0, E[x²]=1). Higher moments are not needed by our claims and raise.
    """
    poly = sp.Poly(sp.expand(expr), *variables)
    total = sp.S.Zero
    for powers, coeff in poly.terms():
        moment = sp.S.One
        for p in powers:
            if p > 2:
                raise EquationError("a moment above the second is needed; not defined by the assumptions")
            moment *= {0: 1, 1: 0, 2: 1}[p]
        total += coeff * moment
    return sp.simplify(total)


# ----------------------------------------------------------------------------------------------
# symbols of Lecture 1 (queries are rows; d_k is the query/key width)
n, m = sp.symbols("n m", integer=True, positive=True)
d_k = sp.Symbol("d_k", integer=True, positive=True)
d_v = sp.Symbol("d_v", integer=True, positive=True)
i, j = sp.symbols("i j", integer=True, positive=True)
T = sp.Symbol("T", positive=True)
c = sp.Symbol("c", real=True)
Q = sp.MatrixSymbol("Q", n, d_k)
K = sp.MatrixSymbol("K", m, d_k)
V = sp.MatrixSymbol("V", m, d_v)
M = sp.MatrixSymbol("M", n, m)
A = sp.MatrixSymbol("A", n, m)
x = sp.IndexedBase("x")
x_vec = sp.Symbol("x")  # the vector x as a whole, argument of softmax(x)
q_vec = sp.MatrixSymbol(r"\mathbf{q}", d_k, 1)  # vectors are bold
k_vec = sp.MatrixSymbol(r"\mathbf{k}", d_k, 1)
q_idx, k_idx = sp.IndexedBase("q"), sp.IndexedBase("k")
A_idx, v_idx, o_idx = sp.IndexedBase("A"), sp.IndexedBase("v"), sp.IndexedBase("o")
s_sym = sp.Symbol("s", real=True)
QKV_ROLES = {"Q": "Q", "K": "K", "V": "V"}


def _softmax_def(x_base, i_, n_, scale=1):
    return sp.exp(x_base[i_] * scale) / sp.Sum(sp.exp(x_base[j] * scale), (j, 1, n_))


def _lift(arg, values: torch.Tensor) -> sp.ImmutableMatrix:
    """Evaluate a softmax argument written in the vector ``x`` (``x + c``, ``x / T``) element-wise."""
    return sp.ImmutableMatrix([[arg.xreplace({x_vec: sp.Float(float(v))})] for v in values])


def _softmax_lhs(lhs: SoftmaxEntry, values: torch.Tensor, subs: Mapping):
    """softmax(arg)_i with x := values and the other symbols from ``subs``, via attn_ref.softmax."""
    arg, idx = lhs.args
    arg = arg.xreplace({k_: sp.sympify(v) for k_, v in subs.items()})
    return SoftmaxEntry(_lift(arg, values), idx.xreplace(subs)).doit()


# --- Attention(Q, K, V) = softmax(QKᵀ/√d_k) V -------------------------------------------------
def _claim_sdpa(eq):
    gen = _rng(0)
    for (nq, nk, dk, dv) in ((3, 4, 4, 2), (2, 5, 3, 3)):
        subs = {Q: _mat(_randn(gen, nq, dk)), K: _mat(_randn(gen, nk, dk)), V: _mat(_randn(gen, nk, dv)),
                d_k: dk, n: nq, m: nk, d_v: dv}
        _numeric(eq, eq.clauses[0], subs)


_register(
    "sdpa",
    [Clause(Attention(Q, K, V), Softmax(Q * K.T / sp.sqrt(d_k)) * V)],
    _claim_sdpa,
    "Scaled dot-product attention; queries are rows, softmax runs along each row.",
    "Vaswani et al. 2017, Attention Is All You Need, arXiv:1706.03762, eq. (1)",
    QKV_ROLES,
)


def _claim_weights(eq):
    import attn_ref as ar

    gen = _rng(1)
    q, k, v = _randn(gen, 4, 3), _randn(gen, 5, 3), _randn(gen, 5, 2)
    _, p = ar.sdpa(q[None, None], k[None, None], v[None, None], return_weights=True)
    subs = {Q: _mat(q), K: _mat(k), A: _mat(p[0, 0]), d_k: 3, n: 4, m: 5}
    _numeric(eq, eq.clauses[0], subs)


_register(
    "attention_weights",
    [Clause(A, Softmax(Q * K.T / sp.sqrt(d_k)))],
    _claim_weights,
    "The attention matrix: row i holds query i's weights over the keys.",
    "Vaswani et al. 2017, arXiv:1706.03762",
    {"Q": "Q", "K": "K", "A": "WEIGHT"},
)


# --- softmax(x)_i = e^{x_i} / Σ_j e^{x_j} -----------------------------------------------------
def _claim_softmax(eq):
    cl = eq.clauses[0]
    vals = _randn(_rng(2), 5) * 3
    for idx in range(1, 6):
        subs = {n: 5, i: idx}
        rhs = _expand_vector_sum(cl.rhs, subs).xreplace({x[t + 1]: float(vals[t]) for t in range(5)})
        _close(eq.name, _softmax_lhs(cl.lhs, vals, {i: idx}), rhs)
    # shift invariance, symbolic: adding c to every x_j leaves the right-hand side unchanged (n = 4)
    rhs = _expand_vector_sum(cl.rhs, {n: 4, i: 2})
    shifted = rhs.xreplace({x[t]: x[t] + c for t in range(1, 5)})
    _identity(eq, shifted, rhs)


_register(
    "softmax",
    [Clause(SoftmaxEntry(x_vec, i), _softmax_def(x, i, n))],
    _claim_softmax,
    "Softmax turns scores into positive weights that sum to 1; adding a constant changes nothing.",
    "Bridle 1990; Goodfellow et al., Deep Learning, §6.2.2.3",
)


def _claim_shift(eq):
    cl = eq.clauses[0]
    # symbolic: both sides through the definition (n = 4)
    subs = {n: 4, i: 3}
    lhs_arg, rhs_arg = cl.lhs.args[0], cl.rhs.args[0]
    base = _expand_vector_sum(_softmax_def(x, i, n), subs)
    lhs_sym = base.xreplace({x[t]: lhs_arg.xreplace({x_vec: x[t]}) for t in range(1, 5)})
    rhs_sym = base.xreplace({x[t]: rhs_arg.xreplace({x_vec: x[t]}) for t in range(1, 5)})
    _identity(eq, lhs_sym, rhs_sym)
    # numeric, through attn_ref.softmax
    vals = _randn(_rng(3), 4)
    for idx in range(1, 5):
        s = {c: 7.5, i: idx}
        _close(eq.name, _softmax_lhs(cl.lhs, vals, s), _softmax_lhs(cl.rhs, vals, s))


_register(
    "softmax_shift",
    [Clause(SoftmaxEntry(sp.Add(x_vec, c, evaluate=False), i), SoftmaxEntry(x_vec, i))],
    _claim_shift,
    "Shift invariance: softmax(x + c) = softmax(x) for any constant c.",
    "Goodfellow et al., Deep Learning, §4.1",
)


# --- stable softmax: subtract the max -------------------------------------------------------------
m_sym = sp.Symbol("m", real=True)


def _claim_stable(eq):
    formula, where = eq.clauses
    # symbolic: for any m the stable form equals the definition (n = 4)
    subs = {n: 4, i: 2}
    _identity(eq, _expand_vector_sum(formula.rhs, subs), _expand_vector_sum(_softmax_def(x, i, n), subs))
    # numeric with m = max_j x_j, on values where e^{x} overflows float64
    vals = torch.tensor([1000.0, 1001.5, 998.0, 1001.0], dtype=torch.float64)
    mval = _explicit(where.rhs.xreplace({x_vec: _mat(vals[:, None])}))
    for idx in range(1, 5):
        rhs = _expand_vector_sum(formula.rhs, {n: 4, i: idx}).xreplace(
            {**{x[t + 1]: float(vals[t]) for t in range(4)}, m_sym: mval})
        _close(eq.name, _softmax_lhs(formula.lhs, vals, {i: idx}), rhs)


_register(
    "softmax_stable",
    [Clause(SoftmaxEntry(x_vec, i), sp.exp(sp.Add(x[i], -m_sym, evaluate=False))
            / sp.Sum(sp.exp(sp.Add(x[j], -m_sym, evaluate=False)), (j, 1, n))),
     Clause(m_sym, MaxOver(x_vec, j))],
    _claim_stable,
    "Stable softmax: subtracting the row maximum keeps every exponent ≤ 0, so nothing overflows.",
    "Milakov & Gimelshein 2018, Online normalizer calculation for softmax, arXiv:1805.02867",
)


# --- temperature -----------------------------------------------------------------------------------
def _claim_temperature(eq):
    cl = eq.clauses[0]
    vals = _randn(_rng(4), 5) * 2
    for tval in (0.25, 0.5, 1.0, 2.0, 10.0):
        for idx in range(1, 6):
            rhs = _expand_vector_sum(cl.rhs, {n: 5, i: idx, T: tval}).xreplace(
                {x[t + 1]: float(vals[t]) for t in range(5)})
            _close(eq.name, _softmax_lhs(cl.lhs, vals, {i: idx, T: tval}), rhs)


_register(
    "softmax_temperature",
    [Clause(SoftmaxEntry(x_vec / T, i), _softmax_def(x, i, n, 1 / T))],
    _claim_temperature,
    "Temperature T: T < 1 sharpens the distribution, T > 1 flattens it.",
    "Hinton et al. 2015, Distilling the Knowledge in a Neural Network, arXiv:1503.02531",
)


# --- a score is a dot product ------------------------------------------------------------------------
def _claim_dot(eq):
    cl = eq.clauses[0]
    dk = 4
    qs, ks = [q_idx[t] for t in range(1, dk + 1)], [k_idx[t] for t in range(1, dk + 1)]
    lhs = cl.lhs.xreplace({q_vec: sp.ImmutableMatrix(qs), k_vec: sp.ImmutableMatrix(ks), d_k: dk}).doit()
    rhs = _expand_vector_sum(cl.rhs, {d_k: dk})
    _identity(eq, lhs, rhs)
    # numeric, against the reference's unscaled score Q Kᵀ
    import attn_ref as ar

    gen = _rng(5)
    qm, km = _randn(gen, 3, dk), _randn(gen, 2, dk)
    s = ar.attention_scores(qm[None, None], km[None, None], scale=1.0)[0, 0]
    got = _explicit(cl.rhs.xreplace({d_k: dk}).doit().xreplace(
        {**{q_idx[t + 1]: float(qm[2, t]) for t in range(dk)}, **{k_idx[t + 1]: float(km[1, t]) for t in range(dk)}}))
    _close(eq.name, got, float(s[2, 1]))


_register(
    "score_dot",
    [Clause(Dot(q_vec, k_vec), sp.Sum(sp.Mul(q_idx[i], k_idx[i], evaluate=False), (i, 1, d_k)))],
    _claim_dot,
    "One score: the dot product of a query and a key.",
    "Vaswani et al. 2017, arXiv:1706.03762, §3.2.1",
    {q_vec: "Q", k_vec: "K", "q_{i}": "Q", "k_{i}": "K"},
)

q_i, k_j = sp.MatrixSymbol(r"\mathbf{q}_{i}", d_k, 1), sp.MatrixSymbol(r"\mathbf{k}_{j}", d_k, 1)
s_ij = sp.Symbol("s_{ij}")


def _claim_scaled_score(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    gen = _rng(6)
    qm, km = _randn(gen, 3, 8), _randn(gen, 4, 8)
    s = ar.attention_scores(qm[None, None], km[None, None])[0, 0]  # default scale 1/√d
    for a in range(3):
        for b in range(4):
            subs = {q_i: _mat(qm[a][:, None]), k_j: _mat(km[b][:, None]), d_k: 8, s_ij: float(s[a, b])}
            _numeric(eq, cl, subs)


_register(
    "scaled_score",
    [Clause(s_ij, Dot(q_i, k_j) / sp.sqrt(d_k))],
    _claim_scaled_score,
    "Score of query i for key j, scaled by √d_k.",
    "Vaswani et al. 2017, arXiv:1706.03762, §3.2.1",
    {q_i: "Q", k_j: "K"},
)


# --- variance of q·k -------------------------------------------------------------------------------------
def _claim_variance(eq):
    cl = eq.clauses[0]
    (inner,) = cl.lhs.args
    for dk in range(1, 7):
        qs, ks = sp.symbols(f"q1:{dk + 1}"), sp.symbols(f"k1:{dk + 1}")
        xv = _explicit(inner.xreplace({q_vec: sp.ImmutableMatrix(qs), k_vec: sp.ImmutableMatrix(ks), d_k: dk}))
        var = unit_variance_moments(xv ** 2, qs + ks) - unit_variance_moments(xv, qs + ks) ** 2
        want = cl.rhs.xreplace({d_k: dk})
        if sp.simplify(var - want) != 0:
            raise EquationError(f"{eq.name}: for d_k = {dk}, Var = {var}, drawn {want}")


_register(
    "variance_qk",
    [Clause(Variance(Dot(q_vec, k_vec)), d_k)],
    _claim_variance,
    "With independent entries of mean 0 and variance 1, the dot product's variance grows like d_k.",
    "Vaswani et al. 2017, arXiv:1706.03762, footnote 4",
    {q_vec: "Q", k_vec: "K"},
)

_register(
    "variance_scaled",
    [Clause(Variance(Dot(q_vec, k_vec) / sp.sqrt(d_k)), sp.S.One)],
    _claim_variance,
    "Dividing by √d_k brings the variance back to 1, so softmax does not saturate.",
    "Vaswani et al. 2017, arXiv:1706.03762, §3.2.1",
    {q_vec: "Q", k_vec: "K"},
)


# --- rows sum to 1 -------------------------------------------------------------------------------------
def _claim_rows(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    gen = _rng(7)
    _, p = ar.sdpa(_randn(gen, 1, 1, 4, 3), _randn(gen, 1, 1, 6, 3), _randn(gen, 1, 1, 6, 2), return_weights=True)
    p = p[0, 0]
    for row in range(1, 5):
        lhs = _expand_vector_sum(cl.lhs, {m: 6, i: row}).xreplace(
            {A_idx[row, col]: float(p[row - 1, col - 1]) for col in range(1, 7)})
        _close(eq.name, lhs, cl.rhs)
    # symbolic: weights defined by softmax of arbitrary scores sum to 1 (m = 3)
    s = sp.IndexedBase("s")
    w = {A_idx[2, col]: sp.exp(s[col]) / sum(sp.exp(s[t]) for t in range(1, 4)) for col in range(1, 4)}
    _identity(eq, _expand_vector_sum(cl.lhs, {m: 3, i: 2}).xreplace(w), cl.rhs)


_register(
    "rows_sum_to_one",
    [Clause(sp.Sum(A_idx[i, j], (j, 1, m)), sp.S.One)],
    _claim_rows,
    "Each row of the attention matrix is a probability distribution over the keys.",
    "Vaswani et al. 2017, arXiv:1706.03762",
    {"A_{ij}": "WEIGHT"},
)


# --- masks ---------------------------------------------------------------------------------------------
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


_register(
    "mask_exp",
    [Clause(sp.exp(sp.Add(s_sym, -sp.oo, evaluate=False), evaluate=False), sp.S.Zero),
     Clause(sp.exp(sp.Add(s_sym, sp.S.Zero, evaluate=False), evaluate=False), sp.exp(s_sym))],
    _claim_mask_exp,
    "An additive mask: −∞ turns a weight into exactly 0, 0 leaves it unchanged.",
    "Vaswani et al. 2017, arXiv:1706.03762, §3.2.3",
    {r"\infty": "MASK"},
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


_register(
    "causal_mask",
    [Clause(sp.IndexedBase("M")[i, j], sp.Piecewise((0, j <= i), (-sp.oo, True)))],
    _claim_causal,
    "The causal mask: query i may attend to keys j ≤ i.",
    "Vaswani et al. 2017, arXiv:1706.03762, §3.2.3",
    {r"-\infty": "MASK"},
)


def _claim_masked_softmax(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    gen = _rng(8)
    nq = nk = 4
    q, k = _randn(gen, nq, 3), _randn(gen, nk, 3)
    allowed = ar.causal_mask(nq, nk)
    _, p = ar.sdpa(q[None, None], k[None, None], _randn(gen, 1, 1, nk, 2), attn_mask=allowed, return_weights=True)
    bias = sp.ImmutableMatrix(nq, nk, lambda a, b: 0 if allowed[a, b] else -sp.oo)
    subs = {Q: _mat(q), K: _mat(k), M: bias, A: _mat(p[0, 0]), d_k: 3, n: nq, m: nk}
    _numeric(eq, cl, subs)


_register(
    "masked_softmax",
    [Clause(A, Softmax(sp.MatAdd(Q * K.T / sp.sqrt(d_k), M, evaluate=False)))],
    _claim_masked_softmax,
    "Masking adds M (0 or −∞) to the scores before the softmax.",
    "Vaswani et al. 2017, arXiv:1706.03762, §3.2.3",
    {"Q": "Q", "K": "K", "M": "MASK", "A": "WEIGHT"},
)


# --- output is a weighted sum of values ----------------------------------------------------------------
def _claim_weighted_sum(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    gen = _rng(9)
    v = _randn(gen, 5, 3)
    out, p = ar.sdpa(_randn(gen, 1, 1, 2, 4), _randn(gen, 1, 1, 5, 4), v[None, None], return_weights=True)
    for row in range(1, 3):
        for col in range(3):  # one output coordinate at a time
            rhs = _expand_vector_sum(cl.rhs, {m: 5, i: row}).xreplace(
                {**{A_idx[row, t]: float(p[0, 0, row - 1, t - 1]) for t in range(1, 6)},
                 **{v_idx[t]: float(v[t - 1, col]) for t in range(1, 6)}})
            lhs = cl.lhs.xreplace({i: row}).xreplace({o_idx[row]: float(out[0, 0, row - 1, col])})
            _close(eq.name, lhs, rhs)


_register(
    "weighted_sum",
    [Clause(o_idx[i], sp.Sum(sp.Mul(A_idx[i, j], v_idx[j], evaluate=False), (j, 1, m)))],
    _claim_weighted_sum,
    "Each output row is the attention-weighted average of the value vectors.",
    "Vaswani et al. 2017, arXiv:1706.03762",
    {"o_{i}": "OUTPUT", "A_{ij}": "WEIGHT", "v_{j}": "V"},
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


_register(
    "qk_shape",
    [Clause(ShapeProduct(Shape(n, d_k), Shape(d_k, m)), Shape(n, m))],
    _claim_shape,
    "Shapes: n queries × d_k times d_k × m keys gives an n × m score matrix.",
    "Vaswani et al. 2017, arXiv:1706.03762",
)


# --- before attention: the RNN update, Bahdanau's additive score -------------------------------------------
hdim, xdim = sp.symbols("H D", integer=True, positive=True)
W_h, U_x = sp.MatrixSymbol("W", hdim, hdim), sp.MatrixSymbol("U", hdim, xdim)
b_h = sp.MatrixSymbol("b", hdim, 1)
h_prev, x_t, h_t = sp.MatrixSymbol("h_{t-1}", hdim, 1), sp.MatrixSymbol("x_{t}", xdim, 1), sp.MatrixSymbol(
    "h_{t}", hdim, 1)


def _claim_rnn(eq):
    cl = eq.clauses[0]
    torch.manual_seed(10)
    cell = torch.nn.RNNCell(3, 4, nonlinearity="tanh").double()
    gen = _rng(10)
    xin, hin = _randn(gen, 1, 3), _randn(gen, 1, 4)
    with torch.no_grad():
        href = cell(xin, hin)
    subs = {W_h: _mat(cell.weight_hh.detach()), U_x: _mat(cell.weight_ih.detach()),
            b_h: _mat((cell.bias_ih + cell.bias_hh).detach()[:, None]),
            h_prev: _mat(hin.T), x_t: _mat(xin.T), h_t: _mat(href.T), hdim: 4, xdim: 3}
    _numeric(eq, cl, subs)


_register(
    "rnn_update",
    [Clause(h_t, Tanh(sp.MatAdd(W_h * h_prev, U_x * x_t, b_h, evaluate=False)))],
    _claim_rnn,
    "The Elman RNN update: the whole past is squeezed into one hidden state h_t.",
    "Elman 1990, Finding Structure in Time; torch.nn.RNNCell",
)

adim, sdim, hdim2 = sp.symbols("a S E", integer=True, positive=True)
v_a, W_a, U_a = sp.MatrixSymbol("v_{a}", adim, 1), sp.MatrixSymbol("W_{a}", adim, sdim), sp.MatrixSymbol(
    "U_{a}", adim, hdim2)
s_prev, h_j = sp.MatrixSymbol("s_{i-1}", sdim, 1), sp.MatrixSymbol("h_{j}", hdim2, 1)
e_ij = sp.MatrixSymbol("e_{ij}", 1, 1)


def _claim_bahdanau(eq):
    cl = eq.clauses[0]
    gen = _rng(11)
    va, wa, ua = _randn(gen, 5, 1), _randn(gen, 5, 3), _randn(gen, 5, 4)
    s, h = _randn(gen, 3, 1), _randn(gen, 4, 1)
    ref = torch.nn.functional.linear(torch.tanh(wa @ s + ua @ h).T, va.T)  # (1, 1)
    subs = {v_a: _mat(va), W_a: _mat(wa), U_a: _mat(ua), s_prev: _mat(s), h_j: _mat(h), e_ij: _mat(ref),
            adim: 5, sdim: 3, hdim2: 4}
    _numeric(eq, cl, subs)


_register(
    "bahdanau_score",
    [Clause(e_ij, v_a.T * Tanh(sp.MatAdd(W_a * s_prev, U_a * h_j, evaluate=False)))],
    _claim_bahdanau,
    "Additive attention: an alignment score from a small feed-forward net of decoder and encoder states.",
    "Bahdanau, Cho & Bengio 2014, Neural Machine Translation by Jointly Learning to Align and Translate, "
    "arXiv:1409.0473, eq. (6) and App. A.1.2",
    {"s_{i-1}": "Q", "h_{j}": "K"},
)


# --- Q, K, V are learned projections of the same token embeddings ------------------------------------------
d_model = sp.Symbol("d", integer=True, positive=True)
X_emb = sp.MatrixSymbol("X", n, d_model)
W_q, W_k, W_v = (sp.MatrixSymbol(f"W_{{{r}}}", d_model, d) for r, d in (("Q", d_k), ("K", d_k), ("V", d_v)))


def _claim_qkv_projection(eq):
    """Each clause against a bias-free single-head ``attn_ref.MultiHeadAttention`` (nn.Linear stores Wᵀ)."""
    import attn_ref as ar

    torch.manual_seed(12)
    mha = ar.MultiHeadAttention(4, 1, bias=False).double()
    x = _randn(_rng(12), 3, 4)
    with torch.no_grad():
        weights = {W_q: mha.q_proj.weight.T, W_k: mha.k_proj.weight.T, W_v: mha.v_proj.weight.T}
        outputs = {Q: mha.q_proj(x), K: mha.k_proj(x), V: mha.v_proj(x)}  # the role decides the reference
        for cl in eq.clauses:
            subs = {X_emb: _mat(x), **{w: _mat(t) for w, t in weights.items()}, cl.lhs: _mat(outputs[cl.lhs]),
                    n: 3, d_model: 4, d_k: 4, d_v: 4}
            _numeric(eq, cl, subs)


_register(
    "qkv_projection",
    [Clause(Q, X_emb * W_q), Clause(K, X_emb * W_k), Clause(V, X_emb * W_v)],
    _claim_qkv_projection,
    "Queries, keys and values are three learned linear maps of the same token embeddings (rows of X).",
    "Vaswani et al. 2017, arXiv:1706.03762, §3.2.2 (W^Q, W^K, W^V)",
    QKV_ROLES,
)

# Bahdanau's context vector: the weighted sum of the encoder states (Lecture 1, L01.2)
alpha_idx, hstate_idx, ctx_idx = sp.IndexedBase(r"\alpha"), sp.IndexedBase("h"), sp.IndexedBase("c")
T_x = sp.Symbol("T_{x}", integer=True, positive=True)


def _claim_bahdanau_context(eq):
    import attn_ref as ar

    cl = eq.clauses[0]
    gen = _rng(12)
    h, e = _randn(gen, 5, 4), _randn(gen, 5)
    alpha = ar.softmax(e)
    ref = (alpha[:, None] * h).sum(0)  # c = Σ_j α_j h_j, one coordinate at a time below
    for col in range(4):
        rhs = _expand_vector_sum(cl.rhs, {T_x: 5, i: 1}).xreplace(
            {**{alpha_idx[1, t]: float(alpha[t - 1]) for t in range(1, 6)},
             **{hstate_idx[t]: float(h[t - 1, col]) for t in range(1, 6)}})
        _close(eq.name, float(ref[col]), rhs)


_register(
    "bahdanau_context",
    [Clause(ctx_idx[i], sp.Sum(sp.Mul(alpha_idx[i, j], hstate_idx[j], evaluate=False), (j, 1, T_x)))],
    _claim_bahdanau_context,
    "Additive attention's context vector: the alignment weights α_ij (a softmax of the scores e_ij) mix "
    "the encoder states h_j.",
    "Bahdanau, Cho & Bengio 2014, Neural Machine Translation by Jointly Learning to Align and Translate, "
    "arXiv:1409.0473, eq. (5)",
    {"c_{i}": "OUTPUT", r"\alpha_{ij}": "WEIGHT", "h_{j}": "K"},
)
