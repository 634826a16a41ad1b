"""The equation registry: every claim holds, the drawn TeX is the checked sympy object, LaTeX compiles;
the machinery stands apart from the entry modules, and every entry names its source."""
import ast
import dataclasses
import importlib.util
import pathlib

import pytest
import sympy as sp

import scenes.kit.equations as E
from scenes.kit.equations import EQUATIONS, Clause, EquationError, equation, render_clauses, verify_all
from scenes.kit.equations import softmax as softmax_entries
from scenes.kit.equations.registry import _check_roles
from scenes.kit.references import VASWANI, Reference

PACKAGE = pathlib.Path(E.__file__).parent

LECTURE_1 = ["sdpa", "softmax", "softmax_stable", "variance_qk", "variance_scaled", "mask_exp", "causal_mask",
             "rows_sum_to_one", "softmax_temperature", "qk_shape", "score_dot", "rnn_update", "bahdanau_score"]


def test_lecture_1_entries_present():
    missing = [n for n in LECTURE_1 if n not in EQUATIONS]
    assert not missing
    for eq in EQUATIONS.values():
        assert eq.description and eq.tex
        assert isinstance(eq.source, Reference) or (eq.source is None and eq.where), eq.name


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
    wrong = Clause(formula.lhs, sp.exp(E.x[E.i] - softmax_entries.m_sym) / sp.Sum(sp.exp(E.x[E.j]), (E.j, 1, E.n)))
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
        _check_roles("x", r"\sqrt{d_{k}} q", {"q": "Q"})
    with pytest.raises(EquationError, match="inside a word"):
        _check_roles("x", r"\operatorname{Attention}(Q) A", {"A": "WEIGHT"})


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


# --- sources ------------------------------------------------------------------------------------------
def test_sources_are_references_with_the_place_in_them():
    sdpa = EQUATIONS["sdpa"]
    assert sdpa.source is VASWANI and sdpa.where == "eq. (1)"
    assert sdpa.cite == "Vaswani et al. 2017, eq. (1)"
    assert EQUATIONS["rnn_update"].cite == "Elman 1990"


def test_a_source_must_be_a_reference_or_none_with_a_note():
    eq = EQUATIONS["qk_shape"]
    with pytest.raises(TypeError, match=r"must be a scenes\.kit\.references\.Reference"):
        dataclasses.replace(eq, source="Vaswani et al. 2017")
    with pytest.raises(ValueError, match="without a source"):
        dataclasses.replace(eq, source=None, where="")
    own = dataclasses.replace(eq, source=None, where="course notation: shapes of a matrix product")
    assert own.cite == "course notation: shapes of a matrix product" and own.check()


# --- package shape: machinery apart from the entries ---------------------------------------------------------
def _package_imports(path: pathlib.Path) -> set[str]:
    """Names of this package's modules that ``path`` imports (relative or absolute imports)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                out |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
            elif node.level == 0 and (node.module or "").startswith("scenes.kit.equations"):
                rest = node.module.removeprefix("scenes.kit.equations").lstrip(".")
                out |= {rest.split(".")[0]} if rest else {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name.removeprefix("scenes.kit.equations.").split(".")[0]
                    for a in node.names if a.name.startswith("scenes.kit.equations.")}
    return out


def test_machinery_imports_no_entry_module_and_entries_import_no_other_entry():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules >= E.MACHINERY
    assert set(E.ENTRY_MODULES) == modules - E.MACHINERY
    assert {"core", "softmax", "masks", "rnn"} <= set(E.ENTRY_MODULES)
    for name in sorted(modules):
        imported = _package_imports(PACKAGE / f"{name}.py")
        assert imported <= E.MACHINERY, f"{name}.py imports {sorted(imported - E.MACHINERY)}"


def test_the_import_check_sees_imports(tmp_path):
    """The check above can fail: it finds entry modules imported relatively and absolutely."""
    probe = tmp_path / "probe.py"
    probe.write_text("import numpy\nfrom . import core\nfrom .registry import register\n"
                     "import scenes.kit.equations.masks as m\nfrom scenes.kit.equations import rnn\n")
    assert _package_imports(probe) == {"core", "registry", "masks", "rnn"}


def test_every_entry_module_registers_and_each_entry_knows_its_module():
    by_module = {eq.claim.__module__.rsplit(".", 1)[-1] for eq in EQUATIONS.values()}
    assert by_module == set(E.ENTRY_MODULES)
    assert EQUATIONS["sdpa"].claim.__module__ == "scenes.kit.equations.core"
    assert EQUATIONS["softmax_stable"].claim.__module__ == "scenes.kit.equations.softmax"


def test_an_entry_module_registering_a_taken_name_fails_loudly(tmp_path):
    path = tmp_path / "l99_duplicate.py"
    path.write_text(
        "import sympy as sp\n"
        "from scenes.kit.equations.registry import Clause, register\n"
        "register('sdpa', [Clause(sp.Symbol('y'), sp.S.One)], lambda eq: None, 'a second sdpa', None,\n"
        "         where='course notation')\n")
    spec = importlib.util.spec_from_file_location("l99_duplicate", path)
    before = EQUATIONS["sdpa"]
    with pytest.raises(ValueError, match=r"'sdpa' registered twice: first by scenes\.kit\.equations\.core, "
                                         r"again by l99_duplicate"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert EQUATIONS["sdpa"] is before and len([n for n in EQUATIONS if n == "sdpa"]) == 1
