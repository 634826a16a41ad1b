"""LectureScene: section names, captions from the narration text, audio in the scene video.

The render tests run ``manim -ql`` in a subprocess, as creators do (config is process-global)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scenes.kit.lecture_scene import parse_section_name, section_name
from scenes.kit.narration import piper_available

ROOT = Path(__file__).resolve().parents[2]

# -- names -----------------------------------------------------------------------------------


def test_section_name_format() -> None:
    assert section_name("L01.5", "Dot-product attention mathematics") == "L01.5 Dot-product attention mathematics"
    assert section_name(["L01.1", "L01.2"], "Title") == "L01.1+L01.2 Title"
    assert section_name(None, "  Recap \n of  L01 ") == "Recap of L01"
    assert section_name("L12.10", "X") == "L12.10 X"


@pytest.mark.parametrize(
    ("ids", "title"),
    [("L1.5", "Bad id"), ("l01.5", "Lower case"), (["L01.1", "L01.1"], "Twice"), ("L01.1", "  "),
     (None, "L01.3 Pretends to be a topic")],
)  # fmt: skip
def test_section_name_rejects(ids, title) -> None:
    with pytest.raises(ValueError):
        section_name(ids, title)


@pytest.mark.parametrize(
    ("name", "parsed"),
    [("L01.5 Dot-product attention mathematics", (("L01.5",), "Dot-product attention mathematics")),
     ("L01.1+L01.2 Title", (("L01.1", "L01.2"), "Title")),
     ("Title card", ((), "Title card")),
     ("L01.5", (("L01.5",), "")),
     ("L1.5 Not an id", ((), "L1.5 Not an id")),
     ("unnamed", ((), "unnamed"))],
)  # fmt: skip
def test_parse_section_name(name, parsed) -> None:
    assert parse_section_name(name) == parsed


def test_round_trip() -> None:
    for ids, title in [(("L03.2",), "RoPE mathematics"), (("L04.5", "L04.6"), "From 2K to 100K+ tokens")]:
        assert parse_section_name(section_name(ids, title)) == (ids, title)


# -- renders ---------------------------------------------------------------------------------

NARRATION_1 = "Each query meets every key: softmax(QKᵀ/√d_k) is taken row by row, in 2017 as today."
NARRATION_2 = "GQA shares one KV head among several queries."

SCENE = f"""
from manim import DOWN, Circle, Create, FadeIn, FadeOut, Text
from scenes.kit.lecture_scene import LectureScene


class Tiny(LectureScene):
    def construct(self):
        self.topic("L01.5", "Dot-product attention mathematics")
        c = Circle()
        with self.narrate({NARRATION_1!r}) as t:
            self.play(Create(c), run_time=t.duration)
        self.topic(["L01.1", "L01.2"], "History and evolution")
        with self.narrate({NARRATION_2.replace("KV head", "KV head <bookmark mark='A'/>")!r}):
            self.wait_until_bookmark("A")
            self.play(FadeOut(c), run_time=0.3)


class Empty(LectureScene):
    def construct(self):
        self.topic("L01.1", "Nothing here")
        self.topic("L01.2", "Something")
        self.wait(0.2)


class OffFrame(LectureScene):
    def construct(self):
        self.topic("L01.1", "Off the frame")
        self.wait(0.5)
        self.play(FadeIn(Text("too far down").shift(4 * DOWN)), run_time=0.5)


class Left(LectureScene):
    closing_fade = 0.6

    def construct(self):
        self.topic("L01.1", "Something left on screen")
        self.play(FadeIn(Circle()), run_time=0.4)
        self.observed = []
        self.step_observers = [lambda scene, kind: scene.observed.append((kind, len(scene.mobjects)))]

    def tear_down(self):
        super().tear_down()
        with open("observed.txt", "w") as f:
            f.write(str(self.observed) + " " + format(self.renderer.time, ".3f"))
"""

PIPER_SCENE = """
from manim import Dot, FadeIn
from scenes.kit.lecture_scene import LectureScene


class Voice(LectureScene):
    voice_mode = "piper"

    def construct(self):
        self.topic("L01.4", "Query/Key/Value framework")
        with self.narrate("Queries ask, keys answer, values carry the content.") as t:
            self.play(FadeIn(Dot()), run_time=t.duration)
"""


def _manim(tmp_path: Path, source: str, scene: str, voice: str, *extra: str,
           cwd: Path | None = None) -> subprocess.CompletedProcess:
    script = tmp_path / "lecture_tiny.py"
    script.write_text(source)
    env = dict(os.environ, ATTN_VOICE=voice, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "manim", "-ql", "--disable_caching", "--save_sections",
           "--media_dir", str(tmp_path / "media"), *extra, str(script), scene]  # fmt: skip
    return subprocess.run(cmd, cwd=cwd or ROOT, env=env, capture_output=True, text=True, timeout=240)


def _outputs(tmp_path: Path, scene: str) -> Path:
    return tmp_path / "media" / "videos" / "lecture_tiny" / "480p15"


def _srt_text(path: Path) -> list[str]:
    """Caption blocks' text, one string per block."""
    blocks = path.read_text(encoding="utf-8").strip().split("\n\n")
    return [" ".join(b.splitlines()[2:]) for b in blocks]


def _durations(mp4: Path) -> dict[str, float]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,duration", "-of", "json", str(mp4)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return {s["codec_type"]: float(s["duration"]) for s in json.loads(out)["streams"]}


@pytest.mark.slow
def test_render_two_sections_silent(tmp_path: Path) -> None:
    proc = _manim(tmp_path, SCENE, "Tiny", "silent")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "narration: silent none" in proc.stderr
    out = _outputs(tmp_path, "Tiny")

    sections = json.loads((out / "sections" / "Tiny.json").read_text())
    assert [s["name"] for s in sections] == [
        "L01.5 Dot-product attention mathematics",
        "L01.1+L01.2 History and evolution",
    ]
    assert [parse_section_name(s["name"])[0] for s in sections] == [("L01.5",), ("L01.1", "L01.2")]

    # Captions: the written narration (not the lexicon's spoken form), bookmarks removed.
    captions = " ".join(_srt_text(out / "Tiny.srt"))
    assert captions == f"{NARRATION_1} {NARRATION_2}"
    assert "soft max" not in captions and "bookmark" not in captions

    d = _durations(out / "Tiny.mp4")
    assert set(d) == {"video", "audio"}
    assert d["audio"] == pytest.approx(d["video"], abs=0.15)
    section_total = sum(float(s["duration"]) for s in sections)
    assert section_total == pytest.approx(d["video"], abs=0.15)


@pytest.mark.slow
def test_empty_section_is_an_error(tmp_path: Path) -> None:
    proc = _manim(tmp_path, SCENE, "Empty", "silent", "--dry_run")
    assert proc.returncode != 0
    message = " ".join(proc.stderr.replace("│", " ").split())
    assert "section 'L01.1 Nothing here' has no animation or wait" in message, proc.stderr[-3000:]


@pytest.mark.slow
def test_leaving_the_safe_area_is_an_error_with_the_scene_time(tmp_path: Path) -> None:
    proc = _manim(tmp_path, SCENE, "OffFrame", "silent", "--dry_run")
    assert proc.returncode != 0
    message = " ".join(proc.stderr.replace("│", " ").split())
    assert "OffFrame at 1.00 s: outside the safe area" in message, proc.stderr[-3000:]
    assert "too far down" in message


@pytest.mark.slow
def test_a_partial_render_stops_before_the_closing_fade(tmp_path: Path) -> None:
    proc = _manim(tmp_path, SCENE, "Tiny", "silent", "--dry_run", "-n", "0,1")
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.slow
def test_what_is_left_on_screen_fades_out_at_the_end(tmp_path: Path) -> None:
    proc = _manim(tmp_path, SCENE, "Left", "silent", "--dry_run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # observed from the step after construct() on: one play, the closing fade, after which nothing
    # is on screen; the scene is 0.4 s of play plus the 0.6 s closing fade
    assert (tmp_path / "observed.txt").read_text() == "[('play', 0)] 1.000"


@pytest.mark.slow
@pytest.mark.skipif(not piper_available(), reason="piper-tts or its voice is not installed")
def test_render_with_piper_voice(tmp_path: Path) -> None:
    from scenes.kit.audio import measure_loudness, normalize_loudness

    proc = _manim(tmp_path, PIPER_SCENE, "Voice", "silent")  # voice_mode pins piper over ATTN_VOICE
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "narration: piper en_US-joe-medium" in proc.stderr
    out = _outputs(tmp_path, "Voice")
    assert _srt_text(out / "Voice.srt") == ["Queries ask, keys answer, values carry the content."]
    d = _durations(out / "Voice.mp4")
    assert 2.0 < d["audio"] < 6.0
    # the closing fade (0.8 s, the Dot left on screen) comes after the narration, in silence
    assert d["audio"] == pytest.approx(d["video"] - 0.8, abs=0.15)
    speech = measure_loudness(out / "Voice.wav")  # manim's mix of the narration
    assert -30 < speech["integrated_lufs"] < -12
    # The assembler's loudness step, on this narration track.
    report = normalize_loudness(out / "Voice.wav", tmp_path / "Voice.norm.wav")
    assert report["output_lufs"] == pytest.approx(-14.0, abs=0.5)
    assert report["output_true_peak_dbtp"] <= -1.0
