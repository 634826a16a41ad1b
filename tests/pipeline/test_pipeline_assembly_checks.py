"""Assembly refuses segments that differ from what the render recorded (issue 20, items 1-2): a
scene's WAV, captions, video or sections index missing, truncated or replaced, a missing render
stamp; the refusal names the scene and the render command that mends it (with --manifest and
--media-dir when they were given). Bad arguments of scripts/assemble.py exit 2 and name the argument.

The lecture is the pipeline fixture's lecture 90, "rendered" once per session through
scenes.pipeline.render with a stand-in for manim (real render stamps, tiny files), then copied and
corrupted per test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest
from support import write_tiny_mp4
from pipeline_helpers import FIXTURE_MANIFEST, REPO_ROOT

from scenes.course import load_course
from scenes.pipeline import render as R
from scenes.pipeline.media import SceneOutputs, quality

Q = quality("l")
FRAMES = 30  # per segment, at 15 fps: 2 s

# A stand-in for `manim render`: the tiny mp4, a sections index whose frames add up to the video's, and
# for a narrated scene (not a card) a 2 s WAV tone and a one-cue SRT, all where manim puts them.
FAKE = r'''
import json, shutil, sys, wave
from pathlib import Path
import numpy as np
src, video_dir, scene, names = sys.argv[1], Path(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
(video_dir / "sections").mkdir(parents=True, exist_ok=True)
shutil.copyfile(src, video_dir / f"{scene}.mp4")
n = len(names)
split = [30 // n + (1 if i < 30 % n else 0) for i in range(n)]
(video_dir / "sections" / f"{scene}.json").write_text(json.dumps(
    [{"name": x, "type": "default.normal", "video": f"{scene}_{i:04}.mp4", "nb_frames": str(k)}
     for i, (x, k) in enumerate(zip(names, split))]))
if not scene.startswith(("TitleCard", "EndCard")):
    t = np.arange(96000) / 48000
    with wave.open(str(video_dir / f"{scene}.wav"), "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(48000)
        w.writeframes((0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2").tobytes())
    (video_dir / f"{scene}.srt").write_text(f"1\n00:00:00,100 --> 00:00:01,500\nNarration of {scene}.\n\n2\n"
                                            f"00:00:01,500 --> 00:00:01,900\nIts second cue.\n\n")
'''

MANIFEST = f'''
from dataclasses import replace
from scenes.course import load_course
_c = load_course({str(FIXTURE_MANIFEST) + ":FIXTURE_COURSE"!r})
# the stand-in videos last 2 s: no thumbnail frame (FixtureBeta's is at 2.5 s)
COURSE = replace(_c, lectures=tuple(replace(x, thumbnail=None) for x in _c.lectures),
                 shared_inputs=("manim.cfg",))
'''


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> tuple[Path, str]:
    """(media folder with lecture 90 rendered at quality l, the --manifest spec of its course)."""
    root = tmp_path_factory.mktemp("rendered")
    mp4 = write_tiny_mp4(root / "src.mp4", FRAMES, 15, 8)
    fake = root / "fake_manim.py"
    fake.write_text(FAKE)
    manifest = root / "manifest.py"
    manifest.write_text(MANIFEST)
    spec = f"{manifest}:COURSE"
    course = load_course(spec)

    def make(job, course, media_dir):
        return [sys.executable, str(fake), str(mp4), str(job.outputs.video_dir), job.scene,
                json.dumps(list(job.expected_sections or ()))]

    media = root / "media"
    report = R.render(course, "90", quality="l", jobs=1, voice="silent", media_dir=media, progress=False,
                      make_command=make, voice_info={"engine": "silent"})
    assert report.ok, report.summary()
    return media, spec


@pytest.fixture
def media(rendered, tmp_path) -> Path:
    dst = tmp_path / "media"
    shutil.copytree(rendered[0], dst)  # copy2: sizes and mtimes kept
    return dst


def outputs(media: Path, scene: str = "FixtureAlpha") -> SceneOutputs:
    course = load_course(f"{FIXTURE_MANIFEST}:FIXTURE_COURSE")
    sc = next(s for s in course.lecture("90").scenes if s.scene == scene)
    return SceneOutputs(media, sc.module_name, scene, Q)


def run_assemble(media: Path, spec: str, *extra: str) -> tuple[int, str]:
    """scripts/assemble.py as a user runs it: (exit code, stdout + stderr)."""
    cmd = [sys.executable, str(REPO_ROOT / "scripts" / "assemble.py"), "--lecture", "90", "--quality", "l",
           "--manifest", spec, "--media-dir", str(media), *extra]
    p = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


def assert_refused(rc: int, text: str, media: Path, spec: str, scene: str, *names: str) -> None:
    assert rc == 1, text
    assert "Traceback" not in text, text
    assert scene in text, text
    for n in names:
        assert n in text, (n, text)
    hint = next((ln for ln in text.splitlines() if "run: scripts/render.py" in ln), "")
    assert "--lecture 90" in hint and "--quality l" in hint, text
    assert f"--only {scene}" in hint, text
    assert f"--manifest {spec}" in hint and f"--media-dir {media}" in hint, text
    # nothing was assembled, nor any folder made for it
    assert not (media / "lectures").exists()


# -- the good path -----------------------------------------------------------------------------------


def test_an_untouched_render_assembles(media, rendered):
    rc, text = run_assemble(media, rendered[1])
    assert rc == 0, text
    meta = json.loads(next((media / "lectures" / "480p15").glob("*.metadata.json")).read_text())
    assert meta["frames"] == 4 * FRAMES
    srt_text = next((media / "lectures" / "480p15").glob("*.srt")).read_text()
    assert "Narration of FixtureAlpha" in srt_text and "Narration of FixtureBeta" in srt_text


def test_a_copy_that_changed_mtimes_only_still_assembles(rendered, tmp_path):
    """Copied without timestamps (cp without -p): the contents still match the render's hashes."""
    dst = tmp_path / "media"
    shutil.copytree(rendered[0], dst, copy_function=shutil.copyfile)
    rc, text = run_assemble(dst, rendered[1])
    assert rc == 0, text


# -- refusals (issue 20, items 1 and 2) ----------------------------------------------------------------


def test_a_missing_wav_is_refused_with_the_scene_and_the_render_command(media, rendered):
    o = outputs(media)
    o.wav.unlink()
    rc, text = run_assemble(media, rendered[1])
    assert_refused(rc, text, media, rendered[1], "FixtureAlpha", str(o.wav), "missing")


def test_a_truncated_wav_is_refused(media, rendered):
    o = outputs(media)
    data = o.wav.read_bytes()
    o.wav.write_bytes(data[: len(data) // 3])
    rc, text = run_assemble(media, rendered[1])
    assert_refused(rc, text, media, rendered[1], "FixtureAlpha", str(o.wav))


def test_a_wav_replaced_by_one_of_the_same_size_is_refused(media, rendered):
    o = outputs(media, "FixtureBeta")
    with wave.open(str(o.wav)) as w:
        n = w.getnframes()
    with wave.open(str(o.wav), "wb") as w:  # silence, same length and format
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(b"\0\0" * n)
    rc, text = run_assemble(media, rendered[1])
    assert_refused(rc, text, media, rendered[1], "FixtureBeta", str(o.wav))


def test_a_missing_srt_is_refused(media, rendered):
    o = outputs(media, "FixtureBeta")
    o.srt.unlink()
    rc, text = run_assemble(media, rendered[1])
    assert_refused(rc, text, media, rendered[1], "FixtureBeta", str(o.srt), "missing")


def test_a_garbage_srt_is_refused(media, rendered):
    o = outputs(media)
    o.srt.write_text("this is not a subtitle file\n")
    rc, text = run_assemble(media, rendered[1])
    assert_refused(rc, text, media, rendered[1], "FixtureAlpha", str(o.srt))


def test_a_truncated_video_is_refused(media, rendered):
    o = outputs(media, "FixtureBeta")
    data = o.mp4.read_bytes()
    o.mp4.write_bytes(data[: len(data) - 200])
    rc, text = run_assemble(media, rendered[1])
    assert_refused(rc, text, media, rendered[1], "FixtureBeta", str(o.mp4))


def test_edited_section_timings_are_refused(media, rendered):
    o = outputs(media)
    secs = json.loads(o.sections_json.read_text())
    secs[0]["nb_frames"], secs[1]["nb_frames"] = "5", str(FRAMES - 5)
    o.sections_json.write_text(json.dumps(secs))
    rc, text = run_assemble(media, rendered[1])
    assert_refused(rc, text, media, rendered[1], "FixtureAlpha", str(o.sections_json))


def test_a_missing_render_stamp_is_refused(media, rendered):
    o = outputs(media)
    o.stamp.unlink()
    rc, text = run_assemble(media, rendered[1])
    assert_refused(rc, text, media, rendered[1], "FixtureAlpha", "stamp")


def test_an_unrendered_scene_names_the_render_command_with_manifest_and_media_dir(media, rendered):
    o = outputs(media, "FixtureBeta")
    o.mp4.unlink()
    rc, text = run_assemble(media, rendered[1])
    assert_refused(rc, text, media, rendered[1], "FixtureBeta", str(o.mp4))


def test_a_damaged_card_names_the_card_in_the_render_command(media, rendered):
    card = SceneOutputs(media, "cards", "EndCard90", Q)
    card.sections_json.write_text("[]")
    shutil.copy(outputs(media).wav, card.wav)  # and a WAV its render never wrote
    rc, text = run_assemble(media, rendered[1])
    assert rc == 1 and "Traceback" not in text, text
    assert str(card.sections_json) in text and str(card.wav) in text and "not written by its render" in text
    hint = next(ln for ln in text.splitlines() if "run: scripts/render.py" in ln)
    assert "--only end" in hint and "--only EndCard90" not in hint


# -- bad arguments ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, names", [
    (["--quality", "zz"], ["--quality", "zz"]),
    (["--lecture", "99"], ["99"]),
    (["--manifest", "/nonexistent/manifest.py:COURSE"], ["--manifest", "/nonexistent/manifest.py"]),
    (["--manifest", "no_such_module_xyz:COURSE"], ["--manifest", "no_such_module_xyz"]),
    (["--manifest", "scenes.course:NO_SUCH"], ["--manifest", "NO_SUCH"]),
    (["--manifest", "scenes.course:REPO_ROOT"], ["--manifest", "not a Course"]),
    (["--lecture", ""], ["--lecture"]),
    (["--media-dir", "{tmp}/missing/media"], ["--media-dir", "{tmp}/missing/media"]),
])
def test_bad_arguments_exit_2_and_name_the_argument(args, names, tmp_path):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    names = [n.replace("{tmp}", str(tmp_path)) for n in names]
    cmd = [sys.executable, str(REPO_ROOT / "scripts" / "assemble.py"), "--media-dir", str(tmp_path), *args]
    p = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    text = p.stdout + p.stderr
    assert p.returncode == 2, text
    assert "Traceback" not in text, text
    for n in names:
        assert n in text, (n, text)
    assert not (tmp_path / "missing").exists()  # nothing created


def test_the_documented_exit_codes_are_the_ones_used():
    """docs/exit-codes.md lists 0, 1 and 2 for scripts/assemble.py: the codes the tests above see."""
    import re

    text = (REPO_ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    part = text[text.index("## scripts/assemble.py"):]
    part = part[: part.index("\n## ", 1)]
    assert {int(m) for m in re.findall(r"^\| (\d+) \|", part, re.M)} == {0, 1, 2}


def test_an_undecodable_wav_is_a_clear_error_naming_it(tmp_path):
    """The last line of defence (a WAV that passed no stamp check): a ValueError with the path."""
    from fractions import Fraction

    from scenes.pipeline import av_join

    bad = tmp_path / "Scene.wav"
    bad.write_bytes(b"RIFF" + bytes(range(200)))
    with pytest.raises(ValueError, match=r"cannot decode the audio of .*Scene\.wav"):
        av_join.build_audio([(bad, 0, 15)], Fraction(15), tmp_path / "out.wav")
