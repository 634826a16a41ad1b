"""Softmax (``attn_ref.core.softmax``): the definition, shift invariance, the stable form, temperature."""
from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
import torch

from scenes.kit.references import BRIDLE, GOODFELLOW, HINTON, MILAKOV

from .checks import close, expand_sum, identity, mat, randn, rng
from .notation import MaxOver, SoftmaxEntry, explicit
from .registry import Clause, register
from .symbols import i, j, n, x, x_vec

T = sp.Symbol("T", positive=True)  # temperature
c = sp.Symbol("c", real=True)  # a constant shift
m_sym = sp.Symbol("m", real=True)  # the row maximum


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


# --- softmax(x)_i = e^{x_i} / Σ_j e^{x_j} -----------------------------------------------------
def _claim_softmax(eq):
    cl = eq.clauses[0]
    vals = randn(rng(2), 5) * 3
    for idx in range(1, 6):
        subs = {n: 5, i: idx}
        rhs = expand_sum(cl.rhs, subs).xreplace({x[t + 1]: float(vals[t]) for t in range(5)})
        close(eq.name, _softmax_lhs(cl.lhs, vals, {i: idx}), rhs)
    # shift invariance, symbolic: adding c to every x_j leaves the right-hand side unchanged (n = 4)
    rhs = expand_sum(cl.rhs, {n: 4, i: 2})
    shifted = rhs.xreplace({x[t]: x[t] + c for t in range(1, 5)})
    identity(eq, shifted, rhs)


register(
    "softmax",
    [Clause(SoftmaxEntry(x_vec, i), _softmax_def(x, i, n))],
    _claim_softmax,
    "Softmax turns scores into positive weights that sum to 1; adding a constant changes nothing.",
    BRIDLE, where="see also Goodfellow et al. 2016, Deep Learning, §6.2.2.3",
)


def _claim_shift(eq):
    cl = eq.clauses[0]
    # symbolic: both sides through the definition (n = 4)
    subs = {n: 4, i: 3}
    lhs_arg, rhs_arg = cl.lhs.args[0], cl.rhs.args[0]
    base = expand_sum(_softmax_def(x, i, n), subs)
    lhs_sym = base.xreplace({x[t]: lhs_arg.xreplace({x_vec: x[t]}) for t in range(1, 5)})
    rhs_sym = base.xreplace({x[t]: rhs_arg.xreplace({x_vec: x[t]}) for t in range(1, 5)})
    identity(eq, lhs_sym, rhs_sym)
    # numeric, through attn_ref.softmax
    vals = randn(rng(3), 4)
    for idx in range(1, 5):
        s = {c: 7.5, i: idx}
        close(eq.name, _softmax_lhs(cl.lhs, vals, s), _softmax_lhs(cl.rhs, vals, s))


register(
    "softmax_shift",
    [Clause(SoftmaxEntry(sp.Add(x_vec, c, evaluate=False), i), SoftmaxEntry(x_vec, i))],
    _claim_shift,
    "Shift invariance: softmax(x + c) = softmax(x) for any constant c.",
    GOODFELLOW, where="§4.1",
)


# --- stable softmax: subtract the max -------------------------------------------------------------
def _claim_stable(eq):
    formula, where = eq.clauses
    # symbolic: for any m the stable form equals the definition (n = 4)
    subs = {n: 4, i: 2}
    identity(eq, expand_sum(formula.rhs, subs), expand_sum(_softmax_def(x, i, n), subs))
    # numeric with m = max_j x_j, on values where e^{x} overflows float64
    vals = torch.tensor([1000.0, 1001.5, 998.0, 1001.0], dtype=torch.float64)
    mval = explicit(where.rhs.xreplace({x_vec: mat(vals[:, None])}))
    for idx in range(1, 5):
        rhs = expand_sum(formula.rhs, {n: 4, i: idx}).xreplace(
            {**{x[t + 1]: float(vals[t]) for t in range(4)}, m_sym: mval})
        close(eq.name, _softmax_lhs(formula.lhs, vals, {i: idx}), rhs)


register(
    "softmax_stable",
    [Clause(SoftmaxEntry(x_vec, i), sp.exp(sp.Add(x[i], -m_sym, evaluate=False))
            / sp.Sum(sp.exp(sp.Add(x[j], -m_sym, evaluate=False)), (j, 1, n))),
     Clause(m_sym, MaxOver(x_vec, j))],
    _claim_stable,
    "Stable softmax: subtracting the row maximum keeps every exponent ≤ 0, so nothing overflows.",
    MILAKOV,
)


# --- temperature -----------------------------------------------------------------------------------
def _claim_temperature(eq):
    cl = eq.clauses[0]
    vals = randn(rng(4), 5) * 2
    for tval in (0.25, 0.5, 1.0, 2.0, 10.0):
        for idx in range(1, 6):
            rhs = expand_sum(cl.rhs, {n: 5, i: idx, T: tval}).xreplace(
                {x[t + 1]: float(vals[t]) for t in range(5)})
            close(eq.name, _softmax_lhs(cl.lhs, vals, {i: idx, T: tval}), rhs)


register(
    "softmax_temperature",
    [Clause(SoftmaxEntry(x_vec / T, i), _softmax_def(x, i, n, 1 / T))],
    _claim_temperature,
    "Temperature T: T < 1 sharpens the distribution, T > 1 flattens it.",
    HINTON,
)
