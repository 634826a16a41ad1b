"""sympy → TeX in lecture notation: the one printer every registry entry is drawn with."""
from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

__all__ = ["LecturePrinter", "render_clauses", "to_tex"]


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


def render_clauses(clauses) -> str:
    """The one TeX rendering of a list of clauses (``lhs rel rhs``, or ``lhs`` alone when ``rhs`` is
    None), joined by ``,\\quad``."""
    parts = []
    for c in clauses:
        parts.append(to_tex(c.lhs) if c.rhs is None else f"{to_tex(c.lhs)} {c.rel} {to_tex(c.rhs)}")
    return r",\quad ".join(parts)
