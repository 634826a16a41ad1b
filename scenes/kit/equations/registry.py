"""The registry: :class:`Equation` entries by name, :func:`register` for entry modules,
:func:`equation` for scenes (the MathTex) and :func:`verify_all` for the tests.

Entry modules (``core``, ``softmax``, …) call :func:`register` at import; this module imports none of them.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from scenes.kit.references import Reference

from .tex import render_clauses, to_tex

__all__ = ["EQUATIONS", "Clause", "Equation", "EquationError", "equation", "register", "verify_all"]


class EquationError(AssertionError):
    """An equation's drawn TeX or its claim does not hold."""


@dataclass(frozen=True)
class Clause:
    """``lhs rel rhs`` (``rhs`` None: an expression on its own, e.g. notation)."""

    lhs: object
    rhs: object = None
    rel: str = "="


@dataclass(frozen=True)
class Equation:
    """A verified equation. ``tex`` is what is drawn; ``check()`` returns True or raises EquationError.

    ``source`` is the paper or book the equation is taken from and ``where`` the place in it
    (``"eq. (1)"``, ``"§3.2.1"``, or a short note). An equation that is the course's own notation or
    derivation has ``source=None``, and then ``where`` must say so (``"course notation: …"``): every
    entry names its origin, and ``cite`` gives both in one line.
    """

    name: str
    tex: str
    clauses: tuple
    claim: Callable[[Equation], None] = field(repr=False)
    description: str
    source: Reference | None
    roles: Mapping[str, str] = field(default_factory=dict)  # TeX substring → theme role (colour)
    where: str = ""

    def __post_init__(self) -> None:
        if self.source is not None and not isinstance(self.source, Reference):
            raise TypeError(f"equation {self.name!r}: source must be a scenes.kit.references.Reference or None, "
                            f"got {type(self.source).__name__} {self.source!r}")
        if self.source is None and not self.where.strip():
            raise ValueError(f"equation {self.name!r}: without a source, `where` must say where it comes from "
                             f"(e.g. 'course notation' or 'derivation: …')")

    @property
    def cite(self) -> str:
        """``Vaswani et al. 2017, eq. (1)``: the source's citation and the place in it."""
        if self.source is None:
            return self.where
        return f"{self.source.cite}, {self.where}" if self.where else self.source.cite

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


def register(name: str, clauses, claim: Callable[[Equation], None], description: str,
             source: Reference | None, roles: Mapping | None = None, *, where: str = "") -> Equation:
    """Add an entry; its TeX is rendered from ``clauses``. Role keys may be sympy objects (printed to
    TeX) or TeX substrings. A name registered twice raises ValueError naming both modules."""
    if name in EQUATIONS:
        first = EQUATIONS[name].claim.__module__
        raise ValueError(f"equation {name!r} registered twice: first by {first}, again by {claim.__module__}")
    clauses = tuple(clauses)
    roles = {to_tex(k) if not isinstance(k, str) else k: v for k, v in (roles or {}).items()}
    eq = Equation(name, render_clauses(clauses), clauses, claim, description, source, roles, where)
    EQUATIONS[name] = eq
    return eq


def equation(name: str, *, color_roles: bool = True, font_size: float | None = None, color=None,
             isolate=(), **kwargs):
    """The MathTex of registry entry ``name``, role substrings (Q, K, V, …) isolated and coloured.

    ``isolate`` adds TeX substrings to isolate (for ``TransformMatchingTex``/``get_part_by_tex``);
    other keyword arguments go to ``MathTex``.
    """
    from manim import MathTex

    from scenes.kit.theme import COLORS, SIZES, role_color

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
    from scenes.kit.mobjects.text import drop_svg_sources

    return drop_svg_sources(mob)


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
