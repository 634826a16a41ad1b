"""A scene's section names without rendering video: run its construct() as a manim dry run (no
files written) at a tiny resolution and frame rate, with silent narration, and list the sections
manim recorded.

    python -m scenes.pipeline.probe scenes/l01_fundamentals/history.py History
    -> {"scene": "History", "sections": ["L01.1+L01.2 ...", ...]}

`sections_of(file, scene)` runs that in a child process (manim's config is process-global) and
`check_manifest(course)` compares every scene of a course with its manifest entry.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

MARK = "SECTIONS_JSON="


def _probe_in_process(file: Path, scene_name: str, media_dir: str | None = None) -> list[str]:
    from manim import config, tempconfig
    from manim.scene.scene_file_writer import SceneFileWriter

    # In a dry run manim records no partial movie files, so it drops every section as empty;
    # record the sections here with manim's own rule (a section without animations is dropped).
    recorded: list[list] = []  # [name, number of animations]
    orig_next, orig_add = SceneFileWriter.next_section, SceneFileWriter.add_partial_movie_file

    def next_section(self, name, type_, skip_animations):
        if recorded and recorded[-1][1] == 0:
            recorded.pop()
        recorded.append([name, 0])
        return orig_next(self, name, type_, skip_animations)

    def add_partial_movie_file(self, hash_animation):
        if recorded:
            recorded[-1][1] += 1
        return orig_add(self, hash_animation)

    SceneFileWriter.next_section = next_section
    SceneFileWriter.add_partial_movie_file = add_partial_movie_file

    module_name = file.stem
    spec = importlib.util.spec_from_file_location(module_name, file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    scene_cls = getattr(module, scene_name)
    overrides = {"dry_run": True, "pixel_width": 64, "pixel_height": 36, "frame_rate": 2,
                 "from_animation_number": 10 ** 9,  # draw no frame: each play jumps to its end state
                 "disable_caching": True, "progress_bar": "none", "verbosity": "ERROR"}
    if media_dir:
        overrides["media_dir"] = media_dir
    with tempconfig(overrides):
        config.dry_run = True
        scene_cls().render()
    return [name for name, n in recorded if n > 0]


def sections_of(file: str | os.PathLike[str], scene: str, root: Path | None = None,
                timeout: float = 300) -> list[str]:
    """The section names `scene` in `file` creates, in order (child process, ATTN_VOICE=silent)."""
    from scenes.course import REPO_ROOT

    root = Path(root or REPO_ROOT)
    env = dict(os.environ, ATTN_VOICE="silent", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = str(root) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with tempfile.TemporaryDirectory(prefix="attn-probe-") as media:  # narration cache etc. stay out of media/
        out = subprocess.run([sys.executable, "-m", "scenes.pipeline.probe", str(Path(file).resolve()), scene, media],
                             cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    for line in out.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])["sections"]
    raise RuntimeError(f"probing {file}:{scene} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")


def check_manifest(course, lectures=None) -> list[str]:
    """Mismatches between the manifest's section lists and what the scenes really create."""
    from scenes.pipeline.render import compare_sections

    problems: list[str] = []
    for lec in lectures if lectures is not None else course.lectures:
        for sc in lec.scenes:
            try:
                names = sections_of(sc.path(course.root), sc.scene, course.root)
            except Exception as exc:
                problems.append(f"L{lec.id} {sc.module}:{sc.scene}: {exc}")
                continue
            msg = compare_sections(sc.sections, names)
            if msg:
                problems.append(f"L{lec.id} {sc.module}:{sc.scene}: {msg}")
    return problems


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python -m scenes.pipeline.probe FILE.py SceneName [MEDIA_DIR]")
    names = _probe_in_process(Path(sys.argv[1]).resolve(), sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else None)
    print(MARK + json.dumps({"scene": sys.argv[2], "sections": names}))
