"""Lecture notation: sympy objects that print like the lectures (``softmax``, ``Attention``, ``Var``,
shapes) and evaluate once their symbols are replaced by numbers, some through ``attn_ref`` itself."""
from __future__ import annotations

import numpy as np
import sympy as sp
import torch
from sympy.matrices.expressions import MatrixExpr

__all__ = ["Attention", "Dot", "MaxOver", "Shape", "ShapeProduct", "Softmax", "SoftmaxEntry", "Tanh", "Variance",
           "explicit", "is_explicit", "to_numpy", "to_torch"]


def explicit(expr):
    """Evaluate ``expr`` after its symbols were replaced by numbers: a matrix or a scalar."""
    out = expr.doit()
    if isinstance(out, MatrixExpr) and not isinstance(out, sp.MatrixBase):
        if out.atoms(sp.MatrixSymbol) or not all(sp.sympify(d).is_Integer for d in out.shape):
            return out  # still symbolic
        out = out.as_explicit()
    if isinstance(out, sp.MatrixBase):
        return sp.ImmutableMatrix(out)
    return out


def is_explicit(m) -> bool:
    """True once ``m`` is an explicit (numeric) matrix."""
    return isinstance(m, sp.MatrixBase)


def to_numpy(m) -> np.ndarray:
    """An explicit matrix or scalar as a float numpy array."""
    if isinstance(m, sp.MatrixBase):
        return np.array(m.evalf(), dtype=float)
    return np.array(float(sp.N(m)))


def to_torch(m) -> torch.Tensor:
    """An explicit matrix or scalar as a float64 tensor."""
    return torch.tensor(to_numpy(m), dtype=torch.float64)


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
        s = explicit(self.args[0])
        if not is_explicit(s):
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
        q, k, v = (explicit(a) for a in self.args)
        if not all(is_explicit(a) for a in (q, k, v)):
            return self
        import attn_ref as ar

        out = ar.sdpa(*(to_torch(a)[None, None] for a in (q, k, v)))[0, 0]
        return sp.ImmutableMatrix(out.tolist())


class SoftmaxEntry(sp.Expr):
    """softmax(x)_i for a vector x (1-based i): evaluated by ``attn_ref.softmax`` once x is explicit."""

    def __new__(cls, x, i):
        return sp.Basic.__new__(cls, sp.sympify(x), sp.sympify(i))

    def _latex(self, printer):
        x, i = self.args
        return rf"\operatorname{{softmax}}\left({printer._print(x)}\right)_{{{printer._print(i)}}}"

    def doit(self, **hints):
        x, i = explicit(self.args[0]), self.args[1]
        if not (is_explicit(x) and i.is_Integer):
            return self
        import attn_ref as ar

        p = ar.softmax(to_torch(x).reshape(-1))
        return sp.Float(float(p[int(i) - 1]), 30)


class MaxOver(sp.Expr):
    """max_j x_j over a vector (printed with its index)."""

    def __new__(cls, x, j):
        return sp.Basic.__new__(cls, sp.sympify(x), sp.sympify(j))

    def _latex(self, printer):
        x, j = self.args
        return rf"\max_{{{printer._print(j)}}} {printer._print(x)}_{{{printer._print(j)}}}"

    def doit(self, **hints):
        x = explicit(self.args[0])
        if not is_explicit(x):
            return self
        return sp.Max(*list(x))


class Dot(sp.Expr):
    """Dot product a · b of two column vectors."""

    def __new__(cls, a, b):
        return sp.Basic.__new__(cls, a, b)

    def _latex(self, printer):
        return printer._print(self.args[0]) + r" \cdot " + printer._print(self.args[1])

    def doit(self, **hints):
        a, b = (explicit(x) for x in self.args)
        if not (is_explicit(a) and is_explicit(b)):
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
        a = explicit(self.args[0])
        if not is_explicit(a):
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
