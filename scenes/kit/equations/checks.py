"""Helpers for claims: seeded random matrices, numeric and symbolic comparison of a clause's sides,
expanding a Σ into its terms, and expectations under unit-variance assumptions."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import sympy as sp
import torch

from .notation import explicit, to_numpy
from .registry import Clause, Equation, EquationError

__all__ = ["close", "expand_sum", "identity", "mat", "numeric", "randn", "rng", "unit_variance_moments"]


def rng(seed: int) -> torch.Generator:
    """A seeded torch generator: every claim draws its numbers from its own seed."""
    return torch.Generator().manual_seed(seed)


def randn(gen, *shape) -> torch.Tensor:
    """Standard normal float64 tensor from ``gen``."""
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


def mat(t: torch.Tensor) -> sp.ImmutableMatrix:
    """A tensor as an explicit sympy matrix."""
    return sp.ImmutableMatrix(t.tolist())


def close(name: str, a, b, tol: float = 1e-9) -> None:
    """Raise EquationError unless ``a`` and ``b`` (sympy or numbers) agree numerically."""
    a, b = to_numpy(a), to_numpy(b)
    if a.shape != b.shape or not np.allclose(a, b, rtol=tol, atol=tol):
        raise EquationError(f"{name}: sides differ numerically:\n{a}\nvs\n{b}")


def numeric(eq: Equation, clause: Clause, subs: Mapping, tol: float = 1e-9) -> None:
    """Replace the clause's symbols by numbers and compare both evaluated sides."""
    subs = {k: sp.sympify(v) for k, v in subs.items()}
    close(eq.name, explicit(clause.lhs.xreplace(subs)), explicit(clause.rhs.xreplace(subs)), tol)


def identity(eq: Equation, lhs, rhs) -> None:
    """Raise EquationError unless ``lhs − rhs`` simplifies to 0."""
    diff = sp.simplify(sp.expand(lhs - rhs))
    if diff != 0:
        raise EquationError(f"{eq.name}: identity fails, lhs − rhs = {diff}")


def expand_sum(expr, subs):
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
