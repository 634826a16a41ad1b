"""The kit's patches of manim's segment encoding: a repeated frame is converted once, no frame is
copied while holding the GIL, and segments are encoded in a separate process.

1. ``write_frame``. manim 0.22 hands a still stretch (a ``wait``, or any play where nothing moves) to
   its segment encoder as one RGBA frame with a repeat count (``VideoSegmentEncoder.write_frame(pixels,
   repeat=n)``), but the encoder then wraps and converts that frame to yuv420p again for every repeat:
   about 27 ms of CPU per 1080p frame (reference/render-profile.md), and 41 of Recap's 62 seconds are
   waits. Here the frame is converted once, with the conversion PyAV's encoder makes (its reformatter,
   to the codec context's size, format and thread count), and encoded ``n`` times at consecutive
   timestamps. The frame is wrapped with ``VideoFrame.from_numpy_buffer`` (no copy) instead of
   ``from_ndarray``, which copies 8 MB per 1080p frame row by row while holding the GIL (6-7 ms, during
   which the drawing thread cannot run). The output is byte-identical (tests/kit/test_encoding.py).
2. ``create_segment_encoder`` (``SceneFileWriter._create_segment_encoder``) hands each segment to the
   encoder process of scenes/kit/encoder_process.py, same bytes again; ``ATTN_ENCODER_PROCESS=0``
   keeps manim's encoder threads (with patch 1).

:func:`install` replaces each method only when manim's source of it is the one the patch was written
against (``EXPECTED_SHA256``, ``EXPECTED_CREATE_SHA256``); otherwise it leaves manim alone and says
so, and the tests fail, so an upgrade of manim cannot silently change what a patch does.
``ATTN_STOCK_MANIM=1`` in the environment leaves manim alone too, and LectureScene then draws with
manim's own camera (scripts/bench_render.py sets it for its stock runs). Determinism: the same frames
give the same bytes.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import warnings

DISABLE_ENV = "ATTN_STOCK_MANIM"
#: ``ATTN_ENCODER_PROCESS=0`` encodes on manim's threads in the drawing process (the one-conversion
#: write_frame only) instead of in the encoder process (scenes/kit/encoder_process.py)
PROCESS_ENV = "ATTN_ENCODER_PROCESS"
# sha256 of inspect.getsource(manim.scene.video_segment_encoder.VideoSegmentEncoder.write_frame), manim 0.22.0
EXPECTED_SHA256 = "0e576cf7abbe27f80a399e1831d568e4135388ccba30c5e56e7d9092b0437271"
# sha256 of inspect.getsource(manim.scene.scene_file_writer.SceneFileWriter._create_segment_encoder), manim 0.22.0
EXPECTED_CREATE_SHA256 = "02e02b1de2175d5a45d4b8b19836112d6df8680a61c529bbaf421e11b9833878"

_original = None
_original_create = None


def source_sha256(fn) -> str:
    return hashlib.sha256(inspect.getsource(fn).encode()).hexdigest()


def stock_manim() -> bool:
    """True when ``ATTN_STOCK_MANIM`` asks for manim as it ships (no patch, manim's own camera)."""
    return os.environ.get(DISABLE_ENV, "").strip() not in ("", "0")


def encoder_process_wanted() -> bool:
    """False when ``ATTN_ENCODER_PROCESS=0`` asks for manim's encoder threads."""
    return os.environ.get(PROCESS_ENV, "").strip() not in ("0", "false", "no")


def create_segment_encoder(self, target):
    """``SceneFileWriter._create_segment_encoder`` handing the segment to the encoder process."""
    from scenes.kit.encoder_process import ProcessSegmentEncoder

    encoder = self.video_encoder
    if encoder is None:
        raise RuntimeError("Video segment encoding requires resolved settings.")
    return ProcessSegmentEncoder(target=target, spec=encoder)


def write_frame(self, pixels, *, repeat: int = 1) -> None:
    """``VideoSegmentEncoder.write_frame`` converting a repeated frame once, without copying it."""
    import av

    from scenes.kit.encoder_process import encode_repeated

    self._validate_frame(pixels, repeat)
    try:
        cc = self._stream.codec_context
        frame = av.VideoFrame.from_numpy_buffer(pixels, format="rgba")
        frame = frame.reformat(cc.width, cc.height, cc.format, threads=cc.thread_count)
        self._next_pts = encode_repeated(self._container, self._stream, frame, self._next_pts, repeat,
                                         self.spec.frame_rate)
    except BaseException as error:
        raise self._operation_error("encode", error) from error


def _source_is(fn, expected: str, name: str) -> bool:
    found = source_sha256(fn)
    if found != expected:
        warnings.warn(f"scenes.kit.encoding: manim's {name} is not the one this patch was written for "
                      f"(sha256 {found[:12]}); left as it is", RuntimeWarning, stacklevel=3)
    return found == expected


def install() -> bool:
    """Patch manim's segment encoding (idempotent). True when the one-conversion ``write_frame`` is in
    place; the encoder process is also used unless ``ATTN_ENCODER_PROCESS=0``."""
    global _original, _original_create
    from manim.scene.scene_file_writer import SceneFileWriter
    from manim.scene.video_segment_encoder import VideoSegmentEncoder

    if stock_manim():
        return False
    if VideoSegmentEncoder.write_frame is not write_frame:
        if not _source_is(VideoSegmentEncoder.write_frame, EXPECTED_SHA256, "VideoSegmentEncoder.write_frame"):
            return False
        _original = VideoSegmentEncoder.write_frame
        VideoSegmentEncoder.write_frame = write_frame
    wanted = encoder_process_wanted()
    if wanted and SceneFileWriter._create_segment_encoder is not create_segment_encoder:
        if _source_is(SceneFileWriter._create_segment_encoder, EXPECTED_CREATE_SHA256,
                      "SceneFileWriter._create_segment_encoder"):
            _original_create = SceneFileWriter._create_segment_encoder
            SceneFileWriter._create_segment_encoder = create_segment_encoder
    elif not wanted and _original_create is not None:
        SceneFileWriter._create_segment_encoder = _original_create
        _original_create = None
    return True


def uninstall() -> None:
    global _original, _original_create
    from manim.scene.scene_file_writer import SceneFileWriter
    from manim.scene.video_segment_encoder import VideoSegmentEncoder

    if _original is not None:
        VideoSegmentEncoder.write_frame = _original
        _original = None
    if _original_create is not None:
        SceneFileWriter._create_segment_encoder = _original_create
        _original_create = None
