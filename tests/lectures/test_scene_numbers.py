"""Contract 1, by machine, for every lecture with scenes: a scene file types none of its lecture's data numbers.

Every number a builder returns (walked through its dataclasses, tuples and dicts) that is distinctive enough
to be recognised must not appear in a scene file: as a string, its screen form with two decimals (like "2.31")
or an integer of 100 or more (like "1,048,576"); as a number literal, a float with three significant decimals
(0.134; two-decimal literals are layout: shifts, buffers, run times) or such an integer: the scene has to take it
from the builder (``shown``/``spoken``), so a changed seed or formula changes the screen too.
"""
from __future__ import annotations

import ast
import dataclasses
import importlib
import math
from pathlib import Path

import pytest

from scenes.course import COURSE
from scenes.kit import data_builders
from scenes.kit.format import shown

ROOT = Path(__file__).resolve().parents[2]
LECTURES = [lec for lec in COURSE.lectures if lec.scenes]

# layout constants and small counts that scenes legitimately type (cell sizes, run times, head indices)
ALLOWED_INTS = set(range(100)) | {128, 256, 512, 1024}


def _numbers(value, out: set) -> set:
    if isinstance(value, bool) or value is None:
        return out
    if isinstance(value, (int, float)):
        if math.isfinite(value):
            out.add(value)
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            _numbers(getattr(value, f.name), out)
    elif isinstance(value, dict):
        for v in value.values():
            _numbers(v, out)
    elif isinstance(value, (tuple, list)):
        for v in value:
            _numbers(v, out)
    return out


def distinctive(values) -> tuple[set, set]:
    """(number literals, screen strings) a scene must not type: floats with two significant decimals, large ints."""
    literals, texts = set(), set()
    for v in values:
        if isinstance(v, int) or float(v).is_integer():
            if abs(v) >= 100 and int(v) not in ALLOWED_INTS:
                literals.add(int(v))
                texts |= {shown(int(v), 0), str(int(v)), shown(int(v), 0, group=True)}
        elif abs(v) >= 0.01 and round(abs(v) * 100) % 10 and round(abs(v), 2) not in (0.25, 0.75):
            if round(abs(v) * 1000) % 10:  # three significant decimals: no layout constant looks like 0.134
                literals.add(round(v, 3))
            texts |= {shown(v, 2), shown(v, 2).replace("\u2212", "-")}
    return literals, texts


def typed_numbers(path: Path, literals: set, texts: set) -> list:
    leaked = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if id(node) in docstrings:  # documentation, never drawn or spoken
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            v = node.value
            if (isinstance(v, int) and v in literals) or (isinstance(v, float) and round(v, 3) in literals):
                leaked.append(v)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            leaked += [t for t in texts if _stands_alone(t, node.value)]
    return leaked


def _stands_alone(t: str, s: str) -> bool:
    """``t`` occurs in ``s`` as a whole number (not inside a longer one: '0.13' is not in '10.134'), nor inside
    a name or a unit-suffixed count ('100' is not in 'H100' or '100K')."""
    start = s.find(t)
    while start >= 0:
        before = s[start - 1] if start else " "
        after = s[start + len(t)] if start + len(t) < len(s) else " "
        if not (before.isalnum() or before in ".,") and not (after.isalnum() or (after in ".," and
                                                                                s[start + len(t) + 1:][:1].isdigit())):
            return True
        start = s.find(t, start + 1)
    return False


@pytest.mark.parametrize("lec", LECTURES, ids=lambda lec: lec.id)
def test_scene_files_type_none_of_their_lectures_data_numbers(lec):
    importlib.import_module(lec.package.replace("/", ".") + ".data")
    values: set = set()
    for fns in data_builders.builders(lec.id).values():
        for fn in fns:
            _numbers(fn(), values)
    literals, texts = distinctive(values)
    assert literals and texts
    problems = {}
    for sc in lec.scenes:
        leaked = typed_numbers(ROOT / sc.module, literals, texts)
        if leaked:
            problems[sc.module] = sorted(set(map(str, leaked)))
    assert not problems, f"numbers typed into scenes instead of read from the data builders: {problems}"


def test_the_check_catches_a_typed_number(tmp_path):
    scene = tmp_path / "scene.py"
    scene.write_text('"""Docstring: 0.13 of questions."""\nx = 0.134\nlabel("one head answers 0.13 of them")\n'
                     'n = 1048576\nok = 0.5\nshift = 0.15\n', encoding="utf-8")
    literals, texts = distinctive({0.134, 0.5, 1048576, 64})
    assert set(map(str, typed_numbers(scene, literals, texts))) == {"0.134", "0.13", "1048576"}
