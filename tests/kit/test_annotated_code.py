"""AnnotatedCode, built from Lecture 6's forward_code and backward builders (attn_ref's own loops)."""
from __future__ import annotations

import itertools

import pytest

from scenes.kit.equations import EQUATIONS, render_clauses
from scenes.kit.mobjects import AnnotatedCode, CodePanel
from scenes.kit.mobjects.annotated_code import clause_tex, equation_clauses
from scenes.kit.mobjects.code_panel import source_of
from scenes.kit.theme import COLORS, SAFE
from scenes.l06_flash import data

FORWARD = "attn_ref.flash_attention"
BACKWARD = "attn_ref.flash._flash_backward"


def _rel(qualname, first, last):
    start = source_of(qualname)[1]
    return first - start + 1, last - start + 1


def _forward():
    fc = data.forward_code()
    inner = next(x.number for x in fc.lines if "for j, (c0, c1)" in x.code)
    end = next(x.number for x in fc.lines if x.code.strip() == "m_i = m_new")
    by = {x.number: x for x in fc.lines if inner <= x.number <= end}
    m = next(n for n, x in by.items() if "m_new = torch.maximum" in x.code)
    p = next(n for n, x in by.items() if "p_tilde = torch.exp" in x.code)
    ell = next(n for n, x in by.items() if "l_i = alpha" in x.code)
    ac = AnnotatedCode(FORWARD, lines=_rel(FORWARD, inner, end), strip_comments=True, formula_width=4.6,
                       annotations={m: ("online_softmax_update", 0), p: by[p].formula,
                                    ell: ("online_softmax_update", 1)})
    return by, (m, p, ell), ac


def test_the_code_is_the_builders_lines_without_comments():
    by, _, ac = _forward()
    assert ac.first_line == min(by) and ac.last_line == max(by)
    for n, x in by.items():
        assert ac.text_of(n).strip().startswith(x.code.strip())
        assert len(ac.line(n).submobjects) == len("".join(x.code.split()))   # comment glyphs dropped


def test_formulas_from_the_registry_beside_their_lines_in_order():
    by, (m, p, ell), ac = _forward()
    assert ac.numbers == (m, p, ell)
    assert ac.formula(m).tex_string == render_clauses((EQUATIONS["online_softmax_update"].clauses[0],))
    assert ac.formula(ell).tex_string == clause_tex("online_softmax_update", 1)
    assert ac.formula(p).original_text == by[p].formula                     # the line's own comment, as text
    code_right = ac.panel.get_right()[0]
    tops = []
    for n in ac.numbers:
        f = ac.formula(n)
        assert f.get_left()[0] > code_right
        assert abs(f.get_center()[1] - ac.line(n).get_center()[1]) < 1.0     # near its line
        tops.append((f.get_top()[1], f.get_bottom()[1]))
    for upper, lower in itertools.pairwise(tops):
        assert upper[1] > lower[0]                                                       # top to bottom, no overlap
    for c, n in zip(ac.connectors, ac.numbers):
        assert c.get_start()[1] == pytest.approx(ac.line(n).get_center()[1])
        assert c.get_end()[1] == pytest.approx(ac.formula(n).get_center()[1])
    assert ac.width <= SAFE.width + 1e-6 and ac.height <= SAFE.height + 1e-6
    assert ac.effective_font_size >= 12


def test_stripping_comments_makes_the_code_larger():
    by, _, ac = _forward()
    plain = CodePanel(FORWARD, lines=_rel(FORWARD, min(by), max(by)), max_width=SAFE.width - 4.6 - 0.6)
    assert ac.effective_font_size > plain.effective_font_size


def test_highlight_moves_one_cursor_and_dims_the_other_formulas():
    _, (m, _p, ell), ac = _forward()
    anims = ac.highlight(m)
    box = ac.cursor
    assert box in ac.submobjects and len(anims) == 1 + 2 * len(ac.numbers)
    assert box.get_top()[1] >= ac.line(m).get_top()[1] and box.get_bottom()[1] <= ac.line(m).get_bottom()[1]
    assert box.get_stroke_color().to_hex().upper() == COLORS.ACCENT.upper()
    ac.highlight(ell)
    assert ac.cursor is box                                                  # moved, not a second frame


def test_backward_lines_with_e6_6_clauses():
    b = data.backward()
    first = next(x.number for x in b.code if "p = torch.exp" in x.code)
    last = b.code[-1].number
    ann = {x.number: ("flash_backward", k) for x, k in zip(b.code[-5:], (0, 1, 4, 5, 6))}
    ac = AnnotatedCode(BACKWARD, lines=_rel(BACKWARD, first, last), annotations=ann, strip_comments=True)
    assert ac.numbers == tuple(x.number for x in b.code[-5:])
    assert ac.formula(last).tex_string == clause_tex("flash_backward", 6)
    assert "dS" in ac.formula(ac.numbers[2]).tex_string


def test_bad_arguments():
    with pytest.raises(ValueError):
        AnnotatedCode(FORWARD, lines=(1, 3), annotations={1: "x"})          # line 1 of the file is not shown
    with pytest.raises(ValueError):
        clause_tex("flash_backward", 9)
    with pytest.raises(KeyError):
        equation_clauses("no_such_equation", 0)


def test_equation_rows_sets_each_registry_clause_on_its_own_row():
    from scenes.kit.equations import EQUATIONS
    from scenes.kit.mobjects import equation_rows
    from scenes.kit.mobjects.annotated_code import clause_tex

    rows = equation_rows("online_softmax_update")
    n = len(EQUATIONS["online_softmax_update"].clauses)
    assert len(rows) == n == 4
    assert [r.tex_string for r in rows] == [clause_tex("online_softmax_update", k) for k in range(n)]
    tops = [r.get_top()[1] for r in rows]
    assert tops == sorted(tops, reverse=True) and len({round(r.get_left()[0], 6) for r in rows}) == 1
    with pytest.raises(KeyError):
        equation_rows("no_such_equation")


def test_the_base_2_lse_clause_prints_ln_2_and_still_evaluates_to_log_2():
    """E6.3's third clause says LSE / ln 2 as its label does (sympy alone would print \\log{\\left(2 \\right)})."""
    import math

    import sympy as sp

    from scenes.kit.equations.flash import LSE, Ln

    tex = clause_tex("log_sum_exp", 2)
    assert r"\ln 2" in tex and r"\log" not in tex
    assert float(Ln(2)) == pytest.approx(math.log(2), abs=1e-15)
    rhs = EQUATIONS["log_sum_exp"].clauses[2].rhs
    assert float(rhs.xreplace({LSE: sp.Float(3.0)})) == pytest.approx(3.0 / math.log(2), abs=1e-12)
