"""A code panel showing ``attn_ref``'s own source, read with ``inspect`` at render time (it cannot drift).

    CodePanel("attn_ref.core.sdpa", lines=(19, 24))   # lines of the function, 1-based, inclusive
"""
from __future__ import annotations

import ast
import importlib
import inspect
import textwrap

from manim import LEFT, ORIGIN, UP, Code, VGroup
from typing import ClassVar

from pygments.style import Style
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text as TextToken

from ..theme import BUFF, COLORS, FONTS, SAFE, SIZES
from .layout import fit_within
from .text import drop_svg_sources, label

__all__ = ["CodePanel", "CourseCodeStyle", "body_lines", "resolve", "source_of"]


class CourseCodeStyle(Style):
    """Pygments colours from the course palette."""

    background_color = COLORS.PANEL
    line_number_color = COLORS.MUTED
    styles: ClassVar[dict] = {
        TextToken: COLORS.TEXT,
        Keyword: f"bold {COLORS.SCORE}",
        Name: COLORS.TEXT,
        Name.Function: COLORS.K,
        Name.Class: COLORS.K,
        Name.Builtin: COLORS.K,
        String: COLORS.WEIGHT,
        String.Doc: COLORS.MUTED,
        Comment: f"italic {COLORS.MUTED}",
        Number: COLORS.Q,
        Operator: COLORS.ACCENT,
        Punctuation: COLORS.TEXT,
    }


def resolve(qualname: str):
    """``"attn_ref.core.sdpa"`` → the object: import the longest module prefix, then getattr the rest."""
    parts = qualname.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"cannot import any module prefix of {qualname!r}")


def source_of(qualname: str, lines: tuple[int, int] | None = None) -> tuple[str, int]:
    """(source text, line number of its first line in the file); ``lines`` = (first, last) of the object,
    1-based and inclusive."""
    obj = resolve(qualname)
    src = inspect.getsource(obj)
    start = inspect.getsourcelines(obj)[1]
    if lines is None:
        return src, start
    first, last = lines
    all_lines = src.splitlines(keepends=True)
    if not (1 <= first <= last <= len(all_lines)):
        raise ValueError(f"lines {lines} outside 1..{len(all_lines)} of {qualname}")
    return "".join(all_lines[first - 1:last]), start + first - 1


def body_lines(qualname: str) -> tuple[int, int]:
    """(first, last) lines of a function's code after its docstring, for ``CodePanel(..., lines=...)``."""
    obj = resolve(qualname)
    src = inspect.getsource(obj)
    tree = ast.parse(textwrap.dedent(src))
    fn = tree.body[0]
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if not body:
        raise ValueError(f"{qualname} has no code after its docstring")
    return body[0].lineno, len(src.rstrip("\n").splitlines())


class CodePanel(VGroup):
    """Syntax-highlighted source of ``qualname`` with file line numbers and a title, fitted to the frame.

    Parts: ``.code`` (manim Code), ``.title``; ``.source`` is exactly the text shown (``inspect.getsource``
    of the object, or the chosen line range), ``.first_line`` its line number in the file,
    ``.font_scale`` the factor applied to fit (1.0 = ``font_size`` as given) and ``.effective_font_size``
    (keep it ≥ 16 for 1080p: show a line range, e.g. :func:`body_lines`, when a whole function is too long).
    """

    def __init__(self, qualname: str, *, lines: tuple[int, int] | None = None, font_size: float = SIZES.SMALL,
                 max_width: float = SAFE.width, max_height: float = SAFE.height, show_title: bool = True,
                 line_numbers: bool = True):
        super().__init__()
        self.qualname = qualname
        self.source, self.first_line = source_of(qualname, lines)
        code_text = self.source.rstrip("\n")
        self.code = Code(code_string=code_text, language="python", formatter_style=CourseCodeStyle,
                         add_line_numbers=line_numbers, line_numbers_from=self.first_line,
                         background="rectangle",
                         background_config={"fill_color": COLORS.PANEL, "stroke_color": COLORS.GRID,
                                            "stroke_width": 1.5, "buff": 0.25, "corner_radius": 0.1},
                         paragraph_config={"font": FONTS.MONO, "font_size": font_size, "line_spacing": 0.6})
        drop_svg_sources(self.code)
        self.title = VGroup()
        if show_title:
            path = inspect.getsourcefile(resolve(qualname)) or ""
            short = path[path.rfind("attn_ref"):] if "attn_ref" in path else path
            self.title = label(f"{qualname}   ({short}:{self.first_line})", size=SIZES.CAPTION,
                               color=COLORS.MUTED, mono=True)
            self.title.next_to(self.code, UP, buff=BUFF.SMALL).align_to(self.code, LEFT)
        self.add(self.code, self.title)
        before = self.width
        fit_within(self, max_width, max_height)
        self.font_scale = self.width / before
        self.effective_font_size = font_size * self.font_scale
        self.move_to(ORIGIN)
