"""Bad input and faults in scripts/render.py and scripts/coverage.py (issue 20): every bad argument is
refused with exit 2 and a message naming it; an unwritable media directory, a second render of the
same media directory, SIGTERM and a SIGKILLed parent each end cleanly, with no orphaned child."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pipeline_helpers import FIXTURE_MANIFEST, REPO_ROOT, fake_command

from scenes.course import load_course
from scenes.pipeline import render as R

VOICE = {"engine": "silent", "voice": "none", "settings": {}}
MANIFEST = f"{FIXTURE_MANIFEST}:FIXTURE_COURSE"


def script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / name), *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)


# -- arguments --------------------------------------------------------------------------------


@pytest.mark.parametrize("argv, named", [
    (["--timeout", "0"], "--timeout"),
    (["--timeout", "-5"], "--timeout"),
    (["--timeout", "nan"], "--timeout"),
    (["--timeout", "inf"], "--timeout"),
    (["--jobs", "0"], "--jobs"),
    (["--jobs", "-1"], "--jobs"),
    (["--jobs", "two"], "--jobs"),
    (["--retries", "-3"], "--retries"),
    (["--retries", "1.5"], "--retries"),
    (["--quality", "ultra"], "quality"),
    (["--voice", "festival"], "--voice"),
    (["--lecture", "99"], "--lecture"),
    (["--lecture", ""], "--lecture"),
    (["--lecture", ","], "--lecture"),
    (["--lecture", "90", "--only", "Histroy"], "--only"),
    (["--manifest", "/nonexistent/manifest.py:COURSE"], "--manifest"),
    (["--manifest", "no_such_module_xyz:COURSE"], "--manifest"),
    (["--manifest", f"{FIXTURE_MANIFEST}:NO_SUCH_ATTR"], "--manifest"),
    (["--manifest", f"{FIXTURE_MANIFEST}:TOPICS"], "--manifest"),
    (["--manifest", ":"], "--manifest"),
    (["--manifest", str(FIXTURE_MANIFEST.parent)], "--manifest"),
])
def test_render_script_refuses_bad_arguments(argv, named, tmp_path):
    args = ["--manifest", MANIFEST, *argv] if "--manifest" not in argv else argv
    out = script("render.py", *args, "--media-dir", str(tmp_path / "media"), "--no-progress")
    assert out.returncode == 2, out.stdout + out.stderr
    assert named in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert not (tmp_path / "media").exists()  # nothing was rendered or created


@pytest.mark.parametrize("argv, named, lists", [
    (["--lecture", "99"], "--lecture", "90, 91"),
    (["--lecture", "90,x"], "--lecture", "90, 91"),
    (["--manifest", "/nonexistent/manifest.py"], "--manifest", "/nonexistent/manifest.py"),
    (["--manifest", "no_such_module_xyz"], "--manifest", "no_such_module_xyz"),
])
def test_coverage_script_refuses_bad_arguments(argv, named, lists):
    args = ["--manifest", MANIFEST, *argv] if "--manifest" not in argv else argv
    out = script("coverage.py", *args)
    assert out.returncode == 2, out.stdout + out.stderr
    assert named in out.stderr and lists in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_unknown_scene_lists_the_lectures_scenes(tmp_path, capsys):
    rc = R.main(["--manifest", MANIFEST, "--lecture", "90", "--only", "FixtureAlpha", "--only", "Histroy",
                 "--media-dir", str(tmp_path), "--no-progress"], voice_info=VOICE)
    err = capsys.readouterr().err
    assert rc == 2
    assert "'Histroy'" in err and "FixtureAlpha, FixtureBeta" in err and "title" in err
    assert "'FixtureAlpha'" not in err  # only the unknown name is reported
    with pytest.raises(ValueError, match="Histroy"):   # the API refuses it too
        R.render(load_course(MANIFEST), "90", media_dir=tmp_path, only=["Histroy"], voice_info=VOICE,
                 progress=False)


@pytest.mark.parametrize("kw", [{"jobs": 0}, {"jobs": -1}, {"retries": -3}, {"timeout": 0}, {"timeout": -5.0},
                                {"timeout": float("nan")}])
def test_render_api_refuses_bad_numbers(kw, tmp_path):
    name = next(iter(kw))
    with pytest.raises(ValueError, match=name):
        R.render(load_course(MANIFEST), "90", media_dir=tmp_path / "media", voice_info=VOICE, progress=False, **kw)
    assert not (tmp_path / "media").exists()


# -- media directory ----------------------------------------------------------------------------


def test_read_only_media_dir_is_named(tmp_path, tiny_mp4, monkeypatch, capsys):
    media = tmp_path / "media"
    if os.geteuid() == 0:  # root writes through mode bits: make the file system refuse instead
        real_mkdir, real_open = os.mkdir, os.open

        def refuse(path):
            if str(path).startswith(str(media)):
                raise OSError(errno.EROFS, "Read-only file system")

        monkeypatch.setattr(os, "mkdir", lambda p, *a, **k: refuse(p) or real_mkdir(p, *a, **k))
        monkeypatch.setattr(os, "open", lambda p, *a, **k: refuse(p) or real_open(p, *a, **k))
    else:
        media.mkdir()
        media.chmod(0o555)
    rc = R.main(["--manifest", MANIFEST, "--lecture", "90", "--quality", "l", "--media-dir", str(media),
                 "--no-progress"], make_command=fake_command(tiny_mp4), voice_info=VOICE)
    err = capsys.readouterr().err
    assert rc == 3
    assert str(media) in err and "Read-only file system" in err


def test_media_dir_that_is_a_file_is_named(tmp_path, tiny_mp4, capsys):
    media = tmp_path / "media"
    media.write_text("not a folder")
    rc = R.main(["--manifest", MANIFEST, "--lecture", "90", "--quality", "l", "--media-dir", str(media),
                 "--no-progress"], make_command=fake_command(tiny_mp4), voice_info=VOICE)
    assert rc == 3 and f"{media} is a file" in capsys.readouterr().err


def test_timeout_kills_the_child_and_is_not_retried(tmp_path, tiny_mp4, monkeypatch):
    pids = tmp_path / "pids"
    pids.mkdir()
    monkeypatch.setenv("FAKE_MANIM_SLEEP", "30")
    monkeypatch.setenv("FAKE_MANIM_PIDDIR", str(pids))
    t0 = time.monotonic()
    report = R.render(load_course(MANIFEST), "90", quality="l", jobs=1, media_dir=tmp_path / "media",
                      progress=False, voice_info=VOICE, make_command=fake_command(tiny_mp4),
                      only=["FixtureAlpha"], timeout=0.5, retries=2)
    assert time.monotonic() - t0 < 15
    (res,) = report.results
    assert res.status == "failed" and res.message == "timed out after 0.5 s"
    assert not alive(int((pids / "FixtureAlpha.pid").read_text()))


# -- termination and the lock (a fake manim that sleeps, driven in a child process) -------------------

DRIVER = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from pipeline_helpers import fake_command
from scenes.course import load_course
from scenes.pipeline import render as R
sys.exit(R.main(sys.argv[2:], make_command=fake_command(Path(sys.argv[1])),
                voice_info={{"engine": "silent", "voice": "none", "settings": {{}}}}))
"""


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_until(cond, seconds: float = 30.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@pytest.fixture
def sleeping_render(tmp_path, tiny_mp4):
    """Start a render of FixtureAlpha whose fake manim sleeps 60 s; yields (parent, child pid, media)."""
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(tests=str(Path(__file__).resolve().parent)))
    media, pids = tmp_path / "media", tmp_path / "pids"
    pids.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "FAKE_MANIM_SLEEP": "60", "FAKE_MANIM_PIDDIR": str(pids)}
    parent = subprocess.Popen(
        [sys.executable, str(driver), str(tiny_mp4), "--manifest", MANIFEST, "--lecture", "90", "--quality", "l",
         "--jobs", "1", "--media-dir", str(media), "--no-progress", "--only", "FixtureAlpha"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid_file = pids / "FixtureAlpha.pid"
    child = None
    try:
        assert wait_until(pid_file.exists), parent.communicate(timeout=5)
        child = int(pid_file.read_text())
        yield parent, child, media
    finally:
        for pid in (parent.pid, child):
            if pid and alive(pid):
                os.kill(pid, signal.SIGKILL)
        parent.wait(timeout=10)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_ends_the_child_and_removes_partial_outputs(sleeping_render, sig):
    parent, child, media = sleeping_render
    partial = media / "videos/sync_scenes/480p15/FixtureAlpha.mp4"
    assert partial.read_bytes() == b"partial"
    parent.send_signal(sig)
    _, err = parent.communicate(timeout=20)
    assert parent.returncode == 128 + sig, err
    assert sig.name in err and "Traceback" not in err
    assert wait_until(lambda: not alive(child), 10), "the manim child outlived SIGTERM of the renderer"
    assert not partial.exists()
    assert not (media / "stamps/480p15/sync_scenes/FixtureAlpha.json").exists()


def test_sigkill_of_the_parent_ends_the_child_and_its_lock_is_taken_over(sleeping_render, tiny_mp4, capsys):
    parent, child, media = sleeping_render
    parent.kill()
    parent.wait(timeout=10)
    assert wait_until(lambda: not alive(child), 10), "the manim child outlived its SIGKILLed parent"
    # the dead parent's lock file is still there, naming it; the next render takes it over
    held = json.loads((media / R.LOCK_NAME).read_text())
    assert held["pid"] == parent.pid
    rc = R.main(["--manifest", MANIFEST, "--lecture", "90", "--quality", "l", "--media-dir", str(media),
                 "--no-progress", "--only", "FixtureAlpha"], make_command=fake_command(tiny_mp4), voice_info=VOICE)
    out = capsys.readouterr()
    assert rc == 0, out
    assert f"stale lock of pid {parent.pid}" in out.err
    assert (media / "videos/sync_scenes/480p15/FixtureAlpha.mp4").read_bytes() == tiny_mp4.read_bytes()


def test_a_second_render_of_the_same_media_dir_is_refused(sleeping_render, tiny_mp4, capsys, tmp_path):
    parent, _child, media = sleeping_render
    argv = ["--manifest", MANIFEST, "--lecture", "90", "--quality", "l", "--no-progress", "--only", "FixtureBeta"]
    rc = R.main([*argv, "--media-dir", str(media)], make_command=fake_command(tiny_mp4), voice_info=VOICE)
    err = capsys.readouterr().err
    assert rc == 4
    assert f"pid {parent.pid}" in err and "since" in err and "render" in err and str(media) in err
    assert not (media / "videos/sync_scenes/480p15/FixtureBeta.mp4").exists()
    # another media directory is not locked
    rc = R.main([*argv, "--media-dir", str(tmp_path / "other")], make_command=fake_command(tiny_mp4),
                voice_info=VOICE)
    assert rc == 0
