"""Lecture modules never build math themselves: every formula comes from scenes.kit.equations.

An AST scan of scenes/l??_*/**/*.py flags calls to MathTex, SingleStringMathTex and MathTable (any
arguments), and calls to Tex whose text holds math ($…$, \\(…\\), ^, _, \\frac, \\sqrt, …) or is not a
literal the scanner can read. Aliases (``from manim import MathTex as M``, ``import manim as mn``) are
followed. Plain ``Text``/``Paragraph`` are fine; ``equation(name)`` is the way to draw math.
"""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALWAYS_MATH = {"MathTex", "SingleStringMathTex", "MathTable"}
TEX_LIKE = {"Tex"}
MATH_IN_TEXT = re.compile(r"\$|\\\(|\\\[|\\(frac|sqrt|sum|prod|int|mathrm|operatorname|cdot|times|infty|left|right|"
                          r"begin|top|alpha|beta|theta|sigma|lambda)\b|[\^_]")


def lecture_files(root: Path = ROOT) -> list[Path]:
    return sorted(p for d in (root / "scenes").glob("l[0-9][0-9]_*") if d.is_dir() for p in d.rglob("*.py"))


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local names of the forbidden classes (``from manim import MathTex as M`` gives M → MathTex)."""
    aliases = {n: n for n in ALWAYS_MATH | TEX_LIKE}  # star imports and plain use
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "manim":
            for a in node.names:
                if a.name in ALWAYS_MATH | TEX_LIKE:
                    aliases[a.asname or a.name] = a.name
    return aliases


def _called_class(call: ast.Call, aliases: dict[str, str]) -> str | None:
    f = call.func
    if isinstance(f, ast.Name):
        return aliases.get(f.id)
    if isinstance(f, ast.Attribute) and f.attr in ALWAYS_MATH | TEX_LIKE:
        return f.attr  # manim.MathTex, mn.Tex, or any .MathTex attribute
    return None


def _tex_holds_math(call: ast.Call) -> bool:
    texts = list(call.args) + [k.value for k in call.keywords if k.arg in ("tex_strings", "text")]
    for arg in texts:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            if MATH_IN_TEXT.search(arg.value):
                return True
        elif isinstance(arg, ast.JoinedStr) or not isinstance(arg, ast.Constant):
            return True  # built at run time: cannot prove it is not math
    return False


def scan_source(source: str, filename: str = "<lecture>") -> list[str]:
    """Violations in one module's source, as 'file:line: message'."""
    tree = ast.parse(source, filename)
    aliases = _aliases(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        cls = _called_class(node, aliases)
        if cls in ALWAYS_MATH or (cls in TEX_LIKE and _tex_holds_math(node)):
            found.append(f"{filename}:{node.lineno}: {cls}(...) builds math in a lecture; "
                         f"use scenes.kit.equations.equation(name)")
    return found


def scan_file(path: Path) -> list[str]:
    return scan_source(path.read_text(encoding="utf-8"), str(path.relative_to(path.anchor)))


def test_no_lecture_builds_math():
    violations = [v for p in lecture_files() for v in scan_file(p)]
    assert not violations, "\n".join(violations)


BAD = [
    'from manim import *\nclass S(Scene):\n    def construct(self):\n        self.add(MathTex(r"\\frac{a}{b}"))\n',
    'from manim import MathTex as M\nx = M("x^2")\n',
    'import manim as mn\nx = mn.SingleStringMathTex("a")\n',
    'from manim import Tex\nx = Tex(r"softmax $QK^T$")\n',
    'from manim import Tex\ns = "q_i"\nx = Tex(s)\n',
    'import manim\nx = manim.MathTable([["1"]])\n',
]
GOOD = [
    'from manim import *\nfrom scenes.kit.equations import equation\nx = equation("sdpa")\ny = Text("keys")\n',
    'from manim import Tex, Paragraph\nx = Tex("Queries are rows")\np = Paragraph("a", "b")\n',
]


@pytest.mark.parametrize("src", BAD)
def test_scanner_flags_math(src):
    assert scan_source(src), src


@pytest.mark.parametrize("src", GOOD)
def test_scanner_allows_words_and_registry(src):
    assert scan_source(src) == []


def test_scanner_finds_a_planted_lecture_file(tmp_path):
    """The whole scan (glob + parse) on a fake project tree: zero files pass, a planted file fails."""
    (tmp_path / "scenes" / "kit").mkdir(parents=True)
    assert lecture_files(tmp_path) == []
    lecture = tmp_path / "scenes" / "l01_fundamentals"
    lecture.mkdir()
    (lecture / "ok.py").write_text(GOOD[0])
    assert [v for p in lecture_files(tmp_path) for v in scan_file(p)] == []
    (lecture / "sub").mkdir()
    (lecture / "sub" / "bad.py").write_text(BAD[0])
    violations = [v for p in lecture_files(tmp_path) for v in scan_file(p)]
    assert len(violations) == 1 and "bad.py:4" in violations[0]
