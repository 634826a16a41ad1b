"""``LectureScene``: the base class of every lecture scene (narrated, sectioned by topic).

    class DotProduct(LectureScene):
        def construct(self):
            self.topic("L01.5", "Dot-product attention mathematics")
            with self.narrate("Each query is compared with every key.") as t:
                self.play(Create(grid), run_time=t.duration)

* The voice comes from :func:`scenes.kit.narration.speech_service` (``ATTN_VOICE``), set in
  ``setup()``; a subclass may pin it with the class attribute ``voice_mode``.
* ``topic(ids, title)`` starts a section named ``"L01.5 Title"`` or ``"L01.1+L01.2 Title"``;
  sections become YouTube chapters and the course manifest maps topic ids to them
  (:func:`parse_section_name` reads a name back). ``section(title)`` starts one without ids
  (title card, recap, references).
* A section must contain at least one animation or wait (manim silently drops empty sections):
  starting the next section, or ending the scene, after an empty one raises ``ValueError``.
* ``narrate(text)`` wraps manim-voiceover's ``voiceover(text=...)``: captions (``<Scene>.srt``)
  carry the written text, the engine speaks ``lexicon.speakable(text)``.
* Every scene gets, without asking: the safe-area check after every animation and wait (a mobject
  drawn outside ``SAFE`` raises ``ValueError`` naming it and the scene time), and the closing
  clean-up (whatever is still on screen fades out over ``closing_fade`` seconds when ``construct``
  returns). ``step_observers`` are called as ``observer(scene, kind)`` after every animation
  (``kind="play"``) and at the start and end of every wait (``"wait"``); the layout check hooks in
  there: with ``ATTN_LAYOUT_CHECK`` set (:mod:`scenes.kit.layout_check`) the scene records overlapping
  text, small text and safe-area violations instead of raising, and writes them at the end. A
  deliberate overlap is declared with ``allow_overlap(a, b, reason=...)``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from manim import Camera, FadeOut, Group
from manim.utils.exceptions import EndSceneEarlyException
from manim_voiceover import VoiceoverScene
from manim_voiceover.tracker import VoiceoverTracker

from scenes.kit import encoding
from scenes.kit.camera import PathCacheCamera
from scenes.kit.narration import speech_service, voice_info

# still frames (waits) are converted for the encoder once, not once per frame: byte-identical output
# (scenes/kit/encoding.py, the kit's one patch of manim; ATTN_STOCK_MANIM=1 leaves manim as it is)
encoding.install()

__all__ = ["TOPIC_ID", "LectureScene", "parse_section_name", "section_name"]

TOPIC_ID = re.compile(r"L\d{2}\.\d+")
_SECTION = re.compile(r"^(L\d{2}\.\d+(?:\+L\d{2}\.\d+)*)(?:\s+(.*))?$")


def _ids_list(ids: str | Iterable[str] | None) -> list[str]:
    if ids is None:
        return []
    if isinstance(ids, str):
        ids = [ids]
    out = [str(i).strip() for i in ids]
    for i in out:
        if not TOPIC_ID.fullmatch(i):
            raise ValueError(f"topic id {i!r} is not of the form 'L01.5'")
    if len(set(out)) != len(out):
        raise ValueError(f"repeated topic id in {out}")
    return out


def section_name(ids: str | Iterable[str] | None, title: str) -> str:
    """``"L01.5 Dot-product attention mathematics"``, ``"L01.1+L01.2 Title"``, or the bare
    title when there are no ids."""
    title = " ".join(str(title).split())
    if not title:
        raise ValueError("a section needs a title")
    id_list = _ids_list(ids)
    if not id_list:
        if _SECTION.match(title):
            raise ValueError(f"title {title!r} looks like a topic section; pass its ids to topic()")
        return title
    return "+".join(id_list) + " " + title


def parse_section_name(name: str) -> tuple[tuple[str, ...], str]:
    """Inverse of :func:`section_name`: ``"L01.1+L01.2 Title"`` -> ``(("L01.1", "L01.2"),
    "Title")``; a name without ids -> ``((), name)``. Same convention as
    ``scenes.course.parse_section_name``."""
    name = name.strip()
    m = _SECTION.match(name)
    if not m:
        return (), name
    return tuple(m[1].split("+")), (m[2] or "").strip()


class LectureScene(VoiceoverScene):
    """A narrated, topic-sectioned lecture scene (see the module docstring)."""

    #: None: ATTN_VOICE or auto. Set to "silent", "espeak" or "piper" to pin a scene's voice.
    voice_mode: str | None = None
    #: Seconds of the closing fade-out of whatever is on screen when ``construct`` returns (0: none).
    closing_fade: float = 0.8
    #: Called as ``observer(scene, kind)`` after each animation ("play") and around each wait ("wait").
    step_observers: ClassVar[list] = []

    def __init__(self, *args: Any, camera_class: type | None = None, **kwargs: Any) -> None:
        # each distinct outline is built for Cairo once (scenes/kit/camera.py): identical frames
        if camera_class is None:
            camera_class = Camera if encoding.stock_manim() else PathCacheCamera
        super().__init__(*args, camera_class=camera_class, **kwargs)

    def setup(self) -> None:
        super().setup()
        self.set_speech_service(speech_service(self.voice_mode))
        self._open_section: str | None = None
        self._section_start_plays = 0
        from scenes.kit.layout_check import LayoutCheck, findings_path

        path = findings_path(type(self).__name__)
        #: the layout observer (None unless ATTN_LAYOUT_CHECK is set); declared overlaps it skips
        self.layout_check = LayoutCheck(type(self).__name__, path) if path else None
        self.allowed_overlaps: list[tuple[Any, Any, str]] = []

    # -- every step: safe area, observers ---------------------------------------------------------
    @property
    def scene_time(self) -> float:
        """Seconds since the scene started (the renderer's clock)."""
        return float(getattr(self.renderer, "time", 0.0))

    def check_frame(self) -> None:
        """Raise ``ValueError`` naming every mobject on screen outside the safe area, with the time."""
        from scenes.kit.mobjects.layout import safe_area_violations

        out = safe_area_violations(self.mobjects)
        if out:
            raise ValueError(f"{type(self).__name__} at {self.scene_time:.2f} s: outside the safe area: {out}")

    def allow_overlap(self, a: Any, b: Any, reason: str) -> None:
        """Declare that the text in ``a`` and the text in ``b`` overlap on purpose (the layout check
        then skips that pair); ``reason`` says why."""
        if not str(reason).strip():
            raise ValueError("allow_overlap needs a reason")
        self.allowed_overlaps.append((a, b, str(reason)))

    def _observers(self) -> list:
        check = getattr(self, "layout_check", None)
        return [*self.step_observers, *([check] if check is not None else [])]

    def _after_step(self, kind: str) -> None:
        if getattr(self, "layout_check", None) is None:
            self.check_frame()  # with the layout check on, it records safe-area findings instead
        for observer in self._observers():
            observer(self, kind)

    def play(self, *args: Any, **kwargs: Any) -> None:
        super().play(*args, **kwargs)
        self._after_step("play")

    def wait(self, *args: Any, **kwargs: Any) -> None:
        for observer in self._observers():
            observer(self, "wait")
        super().wait(*args, **kwargs)
        self._after_step("wait")

    # -- sections -------------------------------------------------------------------------------
    def _plays(self) -> int:
        return int(getattr(self.renderer, "num_plays", 0))

    def _check_open_section(self) -> None:
        if self._open_section is not None and self._plays() == self._section_start_plays:
            raise ValueError(
                f"section {self._open_section!r} has no animation or wait; manim would drop it "
                "(and its chapter). Narrate it or add self.wait()."
            )

    def _start_section(self, name: str, **kwargs: Any) -> str:
        self._check_open_section()
        self.next_section(name, **kwargs)
        self._open_section = name
        self._section_start_plays = self._plays()
        return name

    def topic(self, ids: str | Iterable[str], title: str, **kwargs: Any) -> str:
        """Start the section of one or more outline topics; returns its name. ``kwargs`` go to
        ``next_section`` (``section_type``, ``skip_animations``)."""
        if not _ids_list(ids):
            raise ValueError("topic() needs at least one topic id; use section() for other parts")
        return self._start_section(section_name(ids, title), **kwargs)

    def section(self, title: str, **kwargs: Any) -> str:
        """Start a section that covers no outline topic (title card, recap, references)."""
        return self._start_section(section_name(None, title), **kwargs)

    def tear_down(self) -> None:
        shown = [m for m in self.mobjects if any(sm.has_points() for sm in m.get_family())]
        if self.closing_fade > 0 and shown:
            with contextlib.suppress(EndSceneEarlyException):  # `manim -n A,B` stopped the scene before its end
                self.play(FadeOut(Group(*shown)), run_time=self.closing_fade)
        self._check_open_section()
        super().tear_down()
        if getattr(self, "layout_check", None) is not None:
            self.layout_check.write()

    # -- narration ------------------------------------------------------------------------------
    @contextmanager
    def narrate(self, text: str, **kwargs: Any) -> Iterator[VoiceoverTracker]:
        """``with self.narrate("...") as t: self.play(..., run_time=t.duration)``. On exit the
        scene waits for the voice to finish. ``kwargs`` go to ``voiceover`` (``subcaption=`` to
        caption differently, ``max_subcaption_len=``)."""
        with self.voiceover(text=text, **kwargs) as tracker:
            yield tracker

    def say(self, text: str, **kwargs: Any) -> VoiceoverTracker:
        """Narrate over a still frame (waits for the whole narration)."""
        with self.narrate(text, **kwargs) as tracker:
            pass
        return tracker

    def wait_for(self, tracker: VoiceoverTracker | None = None, buff: float = 0.0) -> None:
        """Wait until ``tracker`` (default: the current narration) has finished, plus ``buff``."""
        tracker = tracker if tracker is not None else self.current_tracker
        if tracker is None:
            return
        self.safe_wait(tracker.get_remaining_duration(buff=buff))

    def remaining(self, tracker: VoiceoverTracker | None = None) -> float:
        """Seconds left in ``tracker`` (default: the current narration), at least 0."""
        tracker = tracker if tracker is not None else self.current_tracker
        return 0.0 if tracker is None else max(0.0, tracker.get_remaining_duration())

    @property
    def narration_info(self) -> dict[str, Any]:
        """``voice_info`` of this scene's speech service (for the lecture metadata)."""
        return voice_info(self.speech_service)
