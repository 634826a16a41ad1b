"""``AnnotatedCode``: a :class:`CodePanel` of ``attn_ref``'s own source with a column of formulas on its right,
each aligned to the source line it computes (joined to it by a thin connector), and ``highlight(line)`` to light a
line together with its formula.

    ac = AnnotatedCode("attn_ref.flash_attention", lines=(a, b),
                       annotations={162: ("online_softmax_update", 0),     # clause 0 of a registry entry
                                    165: ("online_softmax_update", 1),
                                    163: "P̃ = exp(S − m_new)"},            # plain text (e.g. the line's comment)
                       strip_comments=True)
    self.play(*ac.highlight(165))

Annotation keys are line numbers in the file (as ``inspect`` and the data builders count them). A value is a
registry name (the whole equation), ``(name, k)`` or ``(name, (k, …))`` (clauses of a registry entry, rendered by
the registry's own printer from its verified sympy clauses), any Mobject (e.g. a MathTex of given TeX), or another
string, drawn as a label. Formulas keep the order of their lines; where two would collide they are pushed apart
and the connector bends to its line. ``strip_comments`` hides the trailing ``  # …`` comments of the shown lines
(the column replaces them) and refits the panel.
"""
from __future__ import annotations

from collections.abc import Mapping

from manim import DOWN, LEFT, ORIGIN, RIGHT, UP, Line, Mobject, SurroundingRectangle, VGroup, VMobject

from ..theme import BUFF, COLORS, SAFE, SIZES
from .code_panel import CodePanel
from .layout import fit_within
from .text import drop_svg_sources, label

__all__ = ["AnnotatedCode", "clause_tex", "equation_clauses", "equation_rows"]

FORMULA_SIZE = 30            # MathTex font size of the column (LaTeX caps are smaller than Text's)


def clause_tex(name: str, clauses: int | tuple[int, ...]) -> str:
    """The TeX of clauses ``k`` of registry entry ``name``, rendered by the registry's printer (so it is the same
    string ``equation(name)`` draws for them)."""
    from ..equations import EQUATIONS, render_clauses

    if name not in EQUATIONS:
        raise KeyError(f"no equation {name!r} in the registry")
    ks = (clauses,) if isinstance(clauses, int) else tuple(clauses)
    eq = EQUATIONS[name]
    if not ks or any(not 0 <= k < len(eq.clauses) for k in ks):
        raise ValueError(f"{name} has clauses 0..{len(eq.clauses) - 1}, asked for {ks}")
    return render_clauses(tuple(eq.clauses[k] for k in ks))


def equation_clauses(name: str, clauses: int | tuple[int, ...], *, font_size: float = FORMULA_SIZE,
                     color_roles: bool = True):
    """A MathTex of some clauses of a registry entry, its role substrings coloured as ``equation(name)`` does."""
    from manim import MathTex

    from ..equations import EQUATIONS
    from ..theme import role_color

    tex = clause_tex(name, clauses)
    roles = {s: r for s, r in EQUATIONS[name].roles.items() if s in tex}
    mob = MathTex(tex, substrings_to_isolate=list(roles) or None, font_size=font_size, color=COLORS.TEXT)
    if color_roles:
        for sub, role in roles.items():
            mob.set_color_by_tex(sub, role_color(role))
    mob.equation_name = name
    return drop_svg_sources(mob)


def equation_rows(name: str, *, font_size: float = FORMULA_SIZE, buff: float = BUFF.MEDIUM) -> VGroup:
    """A registry equation of several clauses set one clause per row, left-aligned: for an entry too wide
    for one line. Each row is ``equation_clauses(name, k)``."""
    from ..equations import EQUATIONS

    if name not in EQUATIONS:
        raise KeyError(f"no equation {name!r} in the registry")
    rows = VGroup(*(equation_clauses(name, k, font_size=font_size) for k in range(len(EQUATIONS[name].clauses))))
    return rows.arrange(DOWN, aligned_edge=LEFT, buff=buff)


def _formula(spec, font_size: float, text_size: float) -> Mobject:
    from ..equations import EQUATIONS, equation

    if isinstance(spec, Mobject):
        return spec
    if isinstance(spec, tuple):
        name, ks = spec
        return equation_clauses(name, ks, font_size=font_size)
    if isinstance(spec, str) and spec in EQUATIONS:
        return equation(spec, font_size=font_size)
    if isinstance(spec, str):
        return label(spec, size=text_size, color=COLORS.MUTED)
    raise TypeError(f"an annotation is a registry name, (name, clause), a Mobject or a string; got {spec!r}")


class AnnotatedCode(VGroup):
    """A code panel (left) and a column of formulas (right), each formula level with its source line.

    ``qualname`` / ``lines`` as for :class:`CodePanel` (lines of the object, 1-based, inclusive);
    ``annotations``: file line number → formula spec (see the module docstring); ``formula_width``: the column's
    width (formulas wider than it are scaled down); ``max_width`` / ``max_height``: the whole; ``font_size``: the
    code's size before fitting (the panel is never scaled above it).

    Parts: ``.panel`` (the CodePanel), ``.formulas`` (VGroup, in line order), ``.connectors``, ``.numbers`` (the
    annotated file line numbers, in order); ``line(n)`` the code glyphs of file line ``n``, ``formula(n)`` its
    formula, ``highlight(n)`` the animations lighting both, ``line_box(n)`` a frame around a line.
    """

    def __init__(self, qualname: str, *, lines: tuple[int, int] | None = None,
                 annotations: Mapping[int, object] = (), strip_comments: bool = False,
                 formula_width: float = 5.0, formula_size: float = FORMULA_SIZE, text_size: float = SIZES.LABEL,
                 font_size: float = SIZES.LABEL, gap: float = BUFF.LARGE, max_width: float = SAFE.width,
                 max_height: float = SAFE.height, formula_buff: float = BUFF.SMALL):
        super().__init__()
        self.panel = CodePanel(qualname, lines=lines, font_size=font_size, max_width=max_width - formula_width - gap,
                               max_height=max_height)
        self.source, self.first_line = self.panel.source, self.panel.first_line
        self.source_lines = self.panel.source.rstrip("\n").splitlines()
        self.last_line = self.first_line + len(self.source_lines) - 1
        annotations = dict(annotations or {})
        for n in annotations:
            if not self.first_line <= n <= self.last_line:
                raise ValueError(f"line {n} is not shown (lines {self.first_line}..{self.last_line})")
        if strip_comments:
            self._strip_comments()
        scale = min(font_size / self.panel.effective_font_size,
                    (max_width - formula_width - gap) / self.panel.width, max_height / self.panel.height)
        self.panel.scale(scale)
        self.panel.font_scale *= scale
        self.panel.effective_font_size *= scale
        self.effective_font_size = self.panel.effective_font_size
        if len(self.panel.title):           # the title line stays at caption size, whatever the code's scale
            t = self.panel.title
            t.scale(SIZES.CAPTION / t.font_size)
            t.next_to(self.panel.code, UP, buff=BUFF.SMALL).align_to(self.panel.code, LEFT)

        self.numbers = tuple(sorted(annotations))
        self.formulas = VGroup(*(_formula(annotations[n], formula_size, text_size) for n in self.numbers))
        for f in self.formulas:
            fit_within(f, formula_width, None)
        x0 = self.panel.get_right()[0] + gap
        ys = self._spread([self.line(n).get_center()[1] for n in self.numbers],
                          [f.height for f in self.formulas], formula_buff)
        for f, y in zip(self.formulas, ys):
            f.move_to([x0 + f.width / 2, y, 0])
        edge = self.panel.code.background.get_right()[0]
        self.connectors = VGroup(*(
            Line([edge + BUFF.TIGHT, self.line(n).get_center()[1], 0],
                 [f.get_left()[0] - BUFF.TIGHT, f.get_center()[1], 0], stroke_width=1.5, color=COLORS.GRID)
            for n, f in zip(self.numbers, self.formulas)))
        self.cursor = None
        self.add(self.panel, self.connectors, self.formulas)
        self.move_to(ORIGIN)

    # -- layout -----------------------------------------------------------------------------------------------
    def _strip_comments(self) -> None:
        """Drop the glyphs of each line's trailing ``  # …`` comment (glyphs are the non-blank characters, in
        order) and shrink the panel's background to what is left."""
        code = self.panel.code
        for text, glyphs in zip(self.source_lines, code.code_lines):
            kept, sep, _ = text.partition("  # ")
            if not sep and text.lstrip().startswith("# "):
                kept = ""
            n = len("".join(kept.split()))
            if n != len(glyphs.submobjects):
                glyphs.submobjects = glyphs.submobjects[:n]
        old = code.background
        parts = VGroup(code.code_lines, *( [code.line_numbers] if hasattr(code, "line_numbers") else []))
        new = SurroundingRectangle(parts, buff=0.25 * self.panel.font_scale,
                                   corner_radius=0.1 * self.panel.font_scale)
        new.set_fill(old.get_fill_color(), opacity=old.get_fill_opacity())
        new.set_stroke(old.get_stroke_color(), width=old.get_stroke_width())
        code.remove(old)
        code.add_to_back(new)
        code.background = new
        if len(self.panel.title):
            self.panel.title.align_to(new, LEFT)

    @staticmethod
    def _spread(targets: list[float], heights: list[float], buff: float) -> list[float]:
        """Centres as close as possible to ``targets`` (top to bottom) with no two boxes closer than ``buff``:
        push down from the top, then back up where the last ones went too low, keeping the order."""
        ys = list(targets)
        for k in range(1, len(ys)):
            lowest = ys[k - 1] - heights[k - 1] / 2 - buff - heights[k] / 2
            ys[k] = min(ys[k], lowest)
        # centre the shift: move the whole run up by half its mean displacement (stays ordered, gaps kept)
        if ys:
            shift = sum(t - y for t, y in zip(targets, ys)) / len(ys)
            ys = [y + shift / 2 for y in ys]
        return ys

    # -- access -------------------------------------------------------------------------------------------------
    def index(self, number: int) -> int:
        """Position of file line ``number`` among the shown lines."""
        if not self.first_line <= number <= self.last_line:
            raise ValueError(f"line {number} is not shown (lines {self.first_line}..{self.last_line})")
        return number - self.first_line

    def line(self, number: int) -> VMobject:
        return self.panel.code.code_lines[self.index(number)]

    def text_of(self, number: int) -> str:
        return self.source_lines[self.index(number)]

    def formula(self, number: int) -> Mobject:
        if number not in self.numbers:
            raise KeyError(f"line {number} has no formula; annotated: {self.numbers}")
        return self.formulas[self.numbers.index(number)]

    def line_box(self, number: int, until: int | None = None, color: str = COLORS.ACCENT) -> SurroundingRectangle:
        """A frame around file line ``number`` (through ``until``), as wide as the panel's code."""
        last = number if until is None else until
        glyphs = VGroup(*(self.line(n) for n in range(number, last + 1)))
        box = SurroundingRectangle(glyphs, color=color, buff=0.05, stroke_width=3)
        left = self.panel.code.code_lines.get_left()[0] - 0.05
        right = max(self.panel.code.code_lines.get_right()[0], glyphs.get_right()[0]) + 0.05
        box.stretch_to_fit_width(right - left).move_to([(left + right) / 2, box.get_center()[1], 0])
        return box

    def highlight(self, number: int, color: str = COLORS.ACCENT, dim: float = 0.3) -> list:
        """Animations lighting file line ``number``: a frame around it (``.cursor``, created on the first call and
        moved after), its formula and connector at full opacity in ``color``, the other formulas dimmed to
        ``dim``. The cursor is part of the group (fading the group fades it)."""
        from manim import Create, Transform

        box = self.line_box(number, color=color)
        if self.cursor is None:
            self.cursor = box
            self.add(box)
            anims = [Create(box)]
        else:
            anims = [Transform(self.cursor, box)]
        for n, f, c in zip(self.numbers, self.formulas, self.connectors):
            on = n == number
            anims.append(f.animate.set_opacity(1.0 if on else dim))
            anims.append(c.animate.set_stroke(color if on else COLORS.GRID, width=3 if on else 1.5))
        return anims

    def undim(self) -> list:
        """Animations: every formula back to full opacity, connectors to their resting colour."""
        return [*(f.animate.set_opacity(1.0) for f in self.formulas),
                *(c.animate.set_stroke(COLORS.GRID, width=1.5) for c in self.connectors)]

    def formula_frame(self, number: int, color: str = COLORS.ACCENT) -> SurroundingRectangle:
        return SurroundingRectangle(self.formula(number), color=color, buff=BUFF.TIGHT, stroke_width=2.5)

    def shift_formulas_to(self, x: float) -> AnnotatedCode:
        """Move the column so that its left edge is at ``x`` (connectors follow)."""
        dx = x - self.formulas.get_left()[0]
        self.formulas.shift(RIGHT * dx)
        for c, f in zip(self.connectors, self.formulas):
            c.put_start_and_end_on(c.get_start(), [f.get_left()[0] - BUFF.TIGHT, f.get_center()[1], 0])
        return self
