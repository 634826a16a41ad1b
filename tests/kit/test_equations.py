"""The equation registry: every claim holds, the drawn TeX is the checked sympy object, LaTeX compiles."""
import dataclasses

import pytest
import sympy as sp

import scenes.kit.equations as E
from scenes.kit.equations import EQUATIONS, Clause, EquationError, equation, render_clauses, verify_all

LECTURE_1 = ["sdpa", "softmax", "softmax_stable", "variance_qk", "variance_scaled", "mask_exp", "causal_mask",
             "rows_sum_to_one", "softmax_temperature", "qk_shape", "score_dot", "rnn_update", "bahdanau_score"]


def test_lecture_1_entries_present():
    missing = [n for n in LECTURE_1 if n not in EQUATIONS]
    assert not missing
    for eq in EQUATIONS.values():
        assert eq.description and eq.source and eq.tex


@pytest.mark.parametrize("name", sorted(EQUATIONS))
def test_claim_holds(name):
    assert EQUATIONS[name].check() is True


def test_verify_all():
    assert set(verify_all()) == set(EQUATIONS)


def test_editing_the_tex_alone_fails():
    eq = EQUATIONS["sdpa"]
    assert r"\sqrt{d_{k}}" in eq.tex
    edited = dataclasses.replace(eq, tex=eq.tex.replace(r"\sqrt{d_{k}}", "d_{k}"))
    with pytest.raises(EquationError, match="drawn TeX differs"):
        edited.check()


@pytest.mark.parametrize("name", sorted(EQUATIONS))
def test_any_tex_edit_fails(name):
    eq = EQUATIONS[name]
    with pytest.raises(EquationError):
        dataclasses.replace(eq, tex=eq.tex + " + 1").check()


def test_a_wrong_formula_fails_its_claim():
    """Edit the sympy side (and so the TeX derived from it): the numerical check catches it."""
    eq = EQUATIONS["sdpa"]
    wrong = Clause(E.Attention(E.Q, E.K, E.V), E.Softmax(E.Q * E.K.T / E.d_k) * E.V)  # d_k, not √d_k
    bad = dataclasses.replace(eq, clauses=(wrong,), tex=render_clauses((wrong,)))
    assert r"\sqrt" not in bad.tex
    with pytest.raises(EquationError, match="differ numerically"):
        bad.check()


@pytest.mark.parametrize("name,wrong_rhs", [
    ("variance_qk", E.d_k ** 2),
    ("variance_scaled", sp.Integer(2)),
    ("rows_sum_to_one", sp.Rational(1, 2)),
    ("qk_shape", E.Shape(E.m, E.n)),
])
def test_wrong_right_hand_sides_fail(name, wrong_rhs):
    eq = EQUATIONS[name]
    clause = dataclasses.replace(eq.clauses[0], rhs=wrong_rhs)
    bad = dataclasses.replace(eq, clauses=(clause, *eq.clauses[1:]), tex=render_clauses((clause, *eq.clauses[1:])))
    with pytest.raises(EquationError):
        bad.check()


def test_softmax_without_max_subtraction_is_not_the_stable_form():
    eq = EQUATIONS["softmax_stable"]
    formula, where = eq.clauses
    wrong = Clause(formula.lhs, sp.exp(E.x[E.i] - E.m_sym) / sp.Sum(sp.exp(E.x[E.j]), (E.j, 1, E.n)))
    bad = dataclasses.replace(eq, clauses=(wrong, where), tex=render_clauses((wrong, where)))
    with pytest.raises(EquationError):
        bad.check()


def test_verify_all_names_failures(monkeypatch):
    eq = EQUATIONS["softmax"]
    monkeypatch.setitem(EQUATIONS, "softmax", dataclasses.replace(eq, tex=eq.tex.replace("e^", "2^")))
    with pytest.raises(EquationError, match="softmax"):
        verify_all()


def test_role_substrings_must_not_sit_inside_commands():
    with pytest.raises(EquationError, match="inside a TeX command"):
        E._check_roles("x", r"\sqrt{d_{k}} q", {"q": "Q"})
    with pytest.raises(EquationError, match="inside a word"):
        E._check_roles("x", r"\operatorname{Attention}(Q) A", {"A": "WEIGHT"})


def test_tex_is_lecture_notation():
    assert EQUATIONS["sdpa"].tex == (r"\operatorname{Attention}(Q, K, V) = "
                                     r"\operatorname{softmax}\left(\frac{Q K^{\top}}{\sqrt{d_{k}}}\right) V")
    assert r"\max_{j}" in EQUATIONS["softmax_stable"].tex
    assert r"-\infty" in EQUATIONS["causal_mask"].tex


def test_unknown_name():
    with pytest.raises(KeyError, match="no equation"):
        equation("does_not_exist")


def test_every_entry_compiles_with_latex():
    """One LaTeX run for all entries (each on its own line), then the role colouring of one entry."""
    from manim import MathTex

    from scenes.kit.theme import COLORS

    all_tex = MathTex(r" \\ ".join(eq.tex for eq in EQUATIONS.values()))
    assert len(all_tex.family_members_with_points()) > 50
    sdpa = equation("sdpa")
    assert sdpa.equation_name == "sdpa"
    for sub, role in (("Q", "Q"), ("K", "K"), ("V", "V")):
        part = sdpa.get_part_by_tex(sub)
        assert part is not None and part.get_color().to_hex().upper() == COLORS[role].upper()
