"""Atomic writes and resumable steps: a crash never leaves a truncated file under a final name,
and a rerun picks up where the crash stopped."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pipeline_helpers import REPO_ROOT

from scenes.pipeline import atomic
from scenes.pipeline.assemble import Steps


def test_exception_mid_write_keeps_the_old_file(tmp_path):
    final = tmp_path / "out.json"
    atomic.write_json(final, {"v": 1})
    with pytest.raises(RuntimeError), atomic.atomic_path(final) as tmp:
        tmp.write_text('{"v": 2, "trunc')
        raise RuntimeError("crash while writing")
    assert atomic.read_json(final) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_killed_process_leaves_only_a_partial_file(tmp_path):
    final = tmp_path / "video.mp4"
    final.write_bytes(b"old complete file")
    child = (
        "import os, sys\n"
        "from scenes.pipeline import atomic\n"
        "with atomic.atomic_path(sys.argv[1]) as tmp:\n"
        "    with open(tmp, 'wb') as fh:\n"
        "        fh.write(b'half of a new file'); fh.flush()\n"
        "        os._exit(9)  # killed mid-write: no cleanup runs\n"
    )
    rc = subprocess.run([sys.executable, "-c", child, str(final)], cwd=REPO_ROOT).returncode
    assert rc == 9
    assert final.read_bytes() == b"old complete file"
    partials = [p for p in tmp_path.iterdir() if p.name != "video.mp4"]
    assert len(partials) == 1 and atomic.PARTIAL_TAG in partials[0].name
    assert partials[0].suffix == ".mp4"  # ffmpeg can still guess the format from it
    assert atomic.clean_partials(tmp_path) == 1  # its process is gone
    assert [p.name for p in tmp_path.iterdir()] == ["video.mp4"]


def test_atomic_path_requires_output(tmp_path):
    with pytest.raises(FileNotFoundError), atomic.atomic_path(tmp_path / "x.txt"):
        pass
    assert not (tmp_path / "x.txt").exists()


def test_steps_resume_after_a_crash(tmp_path):
    state = tmp_path / "state.json"
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    calls: list[str] = []

    def make(path, text, name):
        def fn():
            calls.append(name)
            atomic.write_text(path, text)
            return {"wrote": name}
        return fn

    def crash():
        calls.append("b-crash")
        raise RuntimeError("power cut")

    s = Steps(state, force=False, log=lambda m: None)
    s.run("a", ["input-a"], [a], make(a, "A", "a"))
    with pytest.raises(RuntimeError):
        s.run("b", ["input-b"], [b], crash)
    assert not b.exists()

    s = Steps(state, force=False, log=lambda m: None)  # the rerun
    assert s.run("a", ["input-a"], [a], make(a, "A", "a")) == {"wrote": "a"}
    s.run("b", ["input-b"], [b], make(b, "B", "b"))
    assert s.skipped == ["a"] and s.ran == ["b"]
    assert calls == ["a", "b-crash", "b"]

    s = Steps(state, force=False, log=lambda m: None)
    s.run("a", ["input-a changed"], [a], make(a, "A2", "a"))  # changed input -> redone
    b.unlink()
    s.run("b", ["input-b"], [b], make(b, "B", "b"))  # missing output -> redone
    assert s.ran == ["a", "b"]
    s = Steps(state, force=True, log=lambda m: None)
    s.run("a", ["input-a changed"], [a], make(a, "A2", "a"))
    assert s.ran == ["a"]


def test_write_mode_is_set_before_the_data_and_default_follows_the_umask(tmp_path):
    import os
    import stat

    old = os.umask(0o000)  # permissive: a secret must still come out 0600
    try:
        secret = atomic.write_text(tmp_path / "cfg" / "token.json", "secret", mode=0o600)
        plain = atomic.write_text(tmp_path / "plain.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and secret.read_text() == "secret"
    assert stat.S_IMODE(plain.stat().st_mode) == 0o666
    assert sorted(p.name for p in (tmp_path / "cfg").iterdir()) == ["token.json"]
