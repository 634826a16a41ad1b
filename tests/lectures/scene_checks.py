"""Checks shared by the lecture scene tests: dry-run construction (optionally with the layout check), the
one-topic-section rule, a wrong-formula registry entry and a float log-sum-exp oracle."""
from __future__ import annotations

import ast
import dataclasses
import functools
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from scenes.course import section
from scenes.kit.equations import EQUATIONS, render_clauses
from scenes.kit.layout_check import ENV as LAYOUT_ENV, read_findings

ROOT = Path(__file__).resolve().parents[2]


def with_clauses(name: str, *clauses):
    """Registry entry ``name`` with its clauses replaced (and its TeX re-derived): a wrong formula."""
    eq = EQUATIONS[name]
    return dataclasses.replace(eq, clauses=tuple(clauses), tex=render_clauses(clauses))


def logsumexp(xs) -> float:
    """log Σ e^x in plain floats, shifted by the max."""
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


def _dry_run(path: Path, cls: str, frame_rate: int, findings: Path | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "manim", "render", "--dry_run", "-ql", "--frame_rate", str(frame_rate),
           *_check_layout_module().SKIP_FRAMES, str(path), cls]
    env = {**os.environ, "ATTN_VOICE": "silent", LAYOUT_ENV: str(findings or "")}
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def dry_run_failures(pkg: Path, scenes: dict[str, tuple[str, str]], frame_rate: int = 1, layout: bool = False,
                     jobs: int | None = None) -> list[str]:
    """Run every scene's construct() end to end (silent voice, no video), ``jobs`` at a time (default: all
    at once); return the failures. A scene that fails is run once more on its own: parallel renders can race
    on a cold LaTeX cache, while a real error fails twice. With ``layout``, the layout check
    (scenes/kit/layout_check.py) runs too, at the final frame rate, and each scene's findings are a failure."""
    if layout:
        frame_rate = 30  # voiceover waits shorter than a frame are skipped as in the final video
    tmp = Path(tempfile.mkdtemp(prefix="dry_run-")) if layout else None
    out_of = {cls: (tmp / f"{cls}.json" if tmp else None) for cls, _ in scenes.values()}
    todo = [(file, cls) for file, (cls, _) in scenes.items()]
    failures = []
    while todo:
        batch, todo = (todo[:jobs], todo[jobs:]) if jobs else (todo, [])
        procs = {cls: (file, _dry_run(pkg / file, cls, frame_rate, out_of[cls])) for file, cls in batch}
        for cls, (file, p) in procs.items():
            out, _ = p.communicate(timeout=900)
            if p.returncode != 0 or f"Rendered {cls}" not in out:
                again = _dry_run(pkg / file, cls, frame_rate, out_of[cls])
                out, _ = again.communicate(timeout=900)
                if again.returncode != 0 or f"Rendered {cls}" not in out:
                    failures.append(f"{cls}: exit {again.returncode}\n{out[-3000:]}")
                    continue
            if layout:
                found = read_findings(out_of[cls])
                if found:
                    failures.append(f"{cls}: {len(found)} layout finding(s)\n" + "\n".join(f.line() for f in found))
    return failures


def _check_layout_module():
    spec = importlib.util.spec_from_file_location("check_layout", ROOT / "scripts" / "check_layout.py")
    module = sys.modules.setdefault("check_layout", importlib.util.module_from_spec(spec))
    if not hasattr(module, "main"):
        spec.loader.exec_module(module)
    return module


@functools.cache
def lecture_check(lecture: str) -> dict[str, str]:
    """Every scene of ``lecture`` dry-run ONCE per test session, two at a time, with the layout check on
    (``scripts/check_layout.py``): scene class -> "" when it ran to the end with no finding, else the
    error and its log tail, or the findings one per line. The topic tests and the ready-lecture test
    share it, so each scene is constructed once per session."""
    check_layout = _check_layout_module()
    out_dir = Path(tempfile.mkdtemp(prefix=f"lecture_check-{lecture}-"))
    out = out_dir / "result.json"
    check_layout.main(["--lecture", lecture, "--jobs", "2", "--out-dir", str(out_dir), "--json", str(out)])
    problems = {}
    for r in json.loads(out.read_text()):
        lines = [f"{r['scene']}: {r['error']}\n{r['log']}"] if r["error"] else []
        lines += [check_layout.Finding(**f).line() for f in r["findings"]]
        problems[r["scene"]] = "\n".join(lines)
    return problems


def topic_section_problem(path: Path, topic: str) -> str | None:
    """None when the scene file opens exactly one section, named as the manifest names ``topic``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr in ("topic", "section")]
    if len(calls) != 1:
        return f"{path.name}: expected one topic() call, found {len(calls)}"
    ids, title = (ast.literal_eval(a) for a in calls[0].args)
    if f"{ids} {title}" != section(topic):
        return f"{path.name}: section {ids} {title!r} is not {section(topic)!r}"
    return None


def assert_scene_constructs(lecture: str, cls: str) -> None:
    """Scene ``cls`` of ``lecture`` runs its construct() end to end (silent voice, no video) with no layout
    finding (one dry run per scene and test session, shared with the ready-lecture layout test)."""
    problems = lecture_check(lecture)
    assert cls in problems, f"{cls} is not a scene of Lecture {lecture} in the manifest"
    assert not problems[cls], problems[cls]


def assert_one_topic_section(lecture: str, file: str, topic: str) -> None:
    """The scene file ``file`` of ``lecture``'s package opens exactly one section, named as the course
    manifest names ``topic``."""
    from scenes.course import COURSE
    problem = topic_section_problem(ROOT / COURSE.lecture(lecture).package / file, topic)
    assert problem is None, problem
