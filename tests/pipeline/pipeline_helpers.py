"""Helpers shared by the pipeline tests (imported as `pipeline_helpers`; tests/pipeline is on sys.path)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_DIR = Path(__file__).resolve().parent / "fixture_lecture"
FIXTURE_MANIFEST = FIXTURE_DIR / "manifest.py"
FAKE_MANIM = FIXTURE_DIR / "fake_manim.py"


def fixture_course(attr: str = "FIXTURE_COURSE"):
    from scenes.course import load_course

    return load_course(f"{FIXTURE_MANIFEST}:{attr}")


def fake_command(src: Path, sections_override: dict[str, list[str]] | None = None):
    """A make_command for scenes.pipeline.render.render that runs fake_manim.py instead of manim."""

    def make(job, course, media_dir):
        names = (sections_override or {}).get(job.scene, list(job.expected_sections or ()))
        return [sys.executable, str(FAKE_MANIM), str(src), str(job.outputs.video_dir), job.scene, json.dumps(names)]

    return make
