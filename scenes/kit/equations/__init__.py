"""The registry of verified equations: the only way scenes get math on screen.

Each entry is built from sympy objects (its *clauses*, ``lhs rel rhs``). The drawn TeX is derived from
those objects by :class:`LecturePrinter` (lecture notation: ``softmax``, ``K^⊤``, fractions), and the
entry's *claim* checks the same objects: symbolically (an identity that simplifies to 0) or numerically
(free symbols replaced by seeded random matrices, both sides evaluated, the reference side by
``attn_ref`` or torch). :meth:`Equation.check` also re-derives the TeX, so editing the TeX alone fails,
and editing the sympy side changes what the claim evaluates (a wrong formula fails the claim).

    from scenes.kit.equations import equation
    eq = equation("sdpa")            # MathTex, Q/K/V coloured by role from the theme

Layout: the machinery (``MACHINERY``: registry, notation, tex, checks, symbols) imports no entry module.
Every other module of this package is an *entry module*, one per concept like ``attn_ref``'s modules
(``core``, ``softmax``, ``masks``, ``rnn``; later ``rope``, ``cache``, …): it calls :func:`register` at
import and imports only the machinery, never another entry module. Importing this package imports every
entry module (in name order), so a new concept is a new file here and nothing else.
"""
from __future__ import annotations

import importlib
import pkgutil

from .notation import Attention, Dot, MaxOver, Shape, ShapeProduct, Softmax, SoftmaxEntry, Tanh, Variance
from .registry import EQUATIONS, Clause, Equation, EquationError, equation, register, verify_all
# the shared notation stays reachable as before the split (E.Q, E.d_k, E.X_emb, …), outside __all__
from .symbols import (QKV_ROLES, A, A_idx, K, M, Q, V, W_k, W_q, W_v, X_emb, d_k, d_model, d_v,  # noqa: F401
                      i, j, k_idx, k_vec, m, n, o_idx, q_idx, q_vec, v_idx, x, x_vec)
from .tex import LecturePrinter, render_clauses, to_tex

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
    "register",
    "render_clauses",
    "to_tex",
    "verify_all",
]

MACHINERY = frozenset({"checks", "notation", "registry", "symbols", "tex"})
ENTRY_MODULES = tuple(sorted(mod.name for mod in pkgutil.iter_modules(__path__) if mod.name not in MACHINERY))

for _name in ENTRY_MODULES:
    importlib.import_module(f"{__name__}.{_name}")
del _name
