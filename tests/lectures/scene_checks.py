"""Checks shared by the lecture scene tests: dry-run construction and the one-topic-section rule."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from scenes.course import section

ROOT = Path(__file__).resolve().parents[2]


def _dry_run(path: Path, cls: str, frame_rate: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "manim", "render", "--dry_run", "-ql", "--frame_rate", str(frame_rate),
           str(path), cls]
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "ATTN_VOICE": "silent"}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def dry_run_failures(pkg: Path, scenes: dict[str, tuple[str, str]], frame_rate: int = 1) -> list[str]:
    """Run every scene's construct() end to end (silent voice, no video), in parallel; return the
    failures. A scene that fails is run once more on its own: parallel renders can race on a cold
    LaTeX cache, while a real error fails twice."""
    procs = {cls: (file, _dry_run(pkg / file, cls, frame_rate)) for file, (cls, _) in scenes.items()}
    failures = []
    for cls, (file, p) in procs.items():
        out, _ = p.communicate(timeout=600)
        if p.returncode != 0 or f"Rendered {cls}" not in out:
            again = _dry_run(pkg / file, cls, frame_rate)
            out2, _ = again.communicate(timeout=600)
            if again.returncode != 0 or f"Rendered {cls}" not in out2:
                failures.append(f"{cls}: exit {again.returncode}\n{out2[-3000:]}")
    return failures


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
