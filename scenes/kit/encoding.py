"""The kit's one patch of manim's internals: a repeated frame is converted for the encoder once.

manim 0.22 hands a still stretch (a ``wait``, or any play where nothing moves) to its segment encoder
as one RGBA frame with a repeat count (``VideoSegmentEncoder.write_frame(pixels, repeat=n)``), but
the encoder then wraps and converts that frame to yuv420p again for every repeat: about 27 ms of CPU
per 1080p frame (reference/render-profile.md), and 41 of Recap's 62 seconds are waits. Here the
frame is converted once, with the same conversion PyAV's encoder makes (its reformatter, to the
codec context's size, format and thread count), and the converted frame is encoded ``n`` times at
consecutive timestamps. The output is byte-identical (tests/kit/test_encoding.py encodes the same
frames both ways and compares the files).

:func:`install` replaces ``write_frame`` only when manim's source of it is the one this patch was
written against (``EXPECTED_SHA256``); otherwise it leaves manim alone and says so, and
tests/kit/test_encoding.py fails, so an upgrade of manim cannot silently change what the patch
does. ``ATTN_STOCK_MANIM=1`` in the environment leaves manim alone too, and LectureScene then draws
with manim's own camera (scripts/bench_render.py sets it for its stock runs). Determinism: the same
frames give the same bytes.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import warnings
from fractions import Fraction

DISABLE_ENV = "ATTN_STOCK_MANIM"
# sha256 of inspect.getsource(manim.scene.video_segment_encoder.VideoSegmentEncoder.write_frame), manim 0.22.0
EXPECTED_SHA256 = "0e576cf7abbe27f80a399e1831d568e4135388ccba30c5e56e7d9092b0437271"

_original = None


def source_sha256(fn) -> str:
    return hashlib.sha256(inspect.getsource(fn).encode()).hexdigest()


def stock_manim() -> bool:
    """True when ``ATTN_STOCK_MANIM`` asks for manim as it ships (no patch, manim's own camera)."""
    return os.environ.get(DISABLE_ENV, "").strip() not in ("", "0")


def write_frame(self, pixels, *, repeat: int = 1) -> None:
    """``VideoSegmentEncoder.write_frame`` converting a repeated frame once."""
    import av

    self._validate_frame(pixels, repeat)
    time_base = Fraction(self.spec.frame_rate.denominator, self.spec.frame_rate.numerator)
    try:
        frame = av.VideoFrame.from_ndarray(pixels, format="rgba")
        if repeat > 1:
            cc = self._stream.codec_context
            frame = frame.reformat(cc.width, cc.height, cc.format, threads=cc.thread_count)
        for _ in range(repeat):
            frame.pts = self._next_pts
            frame.time_base = time_base
            self._next_pts += 1
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
    except BaseException as error:
        raise self._operation_error("encode", error) from error


def install() -> bool:
    """Patch manim's segment encoder (idempotent). True when the patch is in place."""
    global _original
    from manim.scene.video_segment_encoder import VideoSegmentEncoder

    if VideoSegmentEncoder.write_frame is write_frame:
        return True
    if stock_manim():
        return False
    found = source_sha256(VideoSegmentEncoder.write_frame)
    if found != EXPECTED_SHA256:
        warnings.warn("scenes.kit.encoding: manim's VideoSegmentEncoder.write_frame is not the one this patch was "
                      f"written for (sha256 {found[:12]}); left as it is", RuntimeWarning, stacklevel=2)
        return False
    _original = VideoSegmentEncoder.write_frame
    VideoSegmentEncoder.write_frame = write_frame
    return True


def uninstall() -> None:
    global _original
    from manim.scene.video_segment_encoder import VideoSegmentEncoder

    if _original is not None:
        VideoSegmentEncoder.write_frame = _original
        _original = None
