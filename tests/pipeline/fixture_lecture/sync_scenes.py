"""Fixture scenes for the pipeline's end-to-end test (tests/pipeline only, never in the course).

Each scene puts a one-frame white flash on screen and starts a short 1 kHz tone at the same
instant (manim's add_sound), a few times; the test finds flashes in the decoded video and tone
onsets in the decoded audio of the assembled lecture and checks they stay together. Sections are
long enough (>= 10 s) to become YouTube chapters.
"""

from __future__ import annotations

import os
import tempfile
import wave
from pathlib import Path

import numpy as np
from manim import Circle, Create, FadeOut, Rectangle, Square, config

from scenes.kit.lecture_scene import LectureScene

BEEP_HZ = 1000
BEEP_SECONDS = 0.15
BEEP_RATE = 48000


def beep_path() -> str:
    """A 0.15 s 1 kHz tone, amplitude 0.5, abrupt onset (written once, atomically)."""
    path = Path(tempfile.gettempdir()) / f"attn_fixture_beep_{BEEP_HZ}_{BEEP_RATE}.wav"
    if not path.exists():
        t = np.arange(int(BEEP_RATE * BEEP_SECONDS)) / BEEP_RATE
        x = (0.5 * np.sin(2 * np.pi * BEEP_HZ * t) * 32767).astype("<i2")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(BEEP_RATE)
            w.writeframes(x.tobytes())
        os.replace(tmp, path)
    return str(path)


class SyncScene(LectureScene):
    voice_mode = "silent"

    flashing = False

    def check_frame(self) -> None:
        if not self.flashing:  # the flash fills the whole frame on purpose
            super().check_frame()

    def flash(self) -> None:
        """White frame + tone onset at the same scene time."""
        white = Rectangle(width=config.frame_width + 1, height=config.frame_height + 1,
                          fill_color="#FFFFFF", fill_opacity=1, stroke_width=0)
        self.add_sound(beep_path())
        self.add(white)
        self.flashing = True
        self.wait(1 / config.frame_rate)
        self.remove(white)
        self.flashing = False

    def beat(self, text: str, before: float, after: float) -> None:
        shape = Circle(radius=0.6) if len(text) % 2 else Square(side_length=1.0)
        with self.narrate(text) as t:
            self.play(Create(shape), run_time=max(0.5, t.duration / 2))
        self.wait(before)
        self.flash()
        self.wait(after)
        self.play(FadeOut(shape), run_time=0.5)


class FixtureAlpha(SyncScene):
    def construct(self) -> None:
        self.topic("L90.1", "Alpha topic")
        self.beat("This fixture scene checks that picture and sound stay together.", 1.0, 4.5)
        self.topic("L90.2", "Beta topic")
        self.beat("A second flash, later in the same scene, with its own tone.", 2.0, 4.0)


class FixtureBeta(SyncScene):
    def construct(self) -> None:
        self.topic("L90.3", "Gamma topic")
        self.beat("The second scene starts after the first one, at an exact frame offset.", 1.5, 4.0)
        self.section("Recap")
        with self.narrate("That is all."):
            self.wait(0.5)
        self.flash()
        self.wait(1.0)
