"""scenes/kit/encoding.py: manim's segment encoder converts a repeated frame once, byte for byte the
same output; the patch refuses a manim whose write_frame changed."""

from __future__ import annotations

import inspect
from fractions import Fraction

import numpy as np
import pytest
from manim.scene import video_segment_encoder as vse

from scenes.kit import encoding


def _spec(width=128, height=72, **options):
    from manim._config.video_encoder import VideoEncoderSpec

    return VideoEncoderSpec(container_format="mp4", codec="libx264", pixel_format="yuv420p", width=width,
                            height=height, frame_rate=Fraction(30),
                            options=tuple(sorted({"crf": "23", **options}.items())))


def _frames():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, size=(72, 128, 4), dtype=np.uint8)
    base[..., 3] = 255
    out = []
    for i in range(4):
        f = base.copy()
        f[10 + 5 * i : 30 + 5 * i, 20:60, :3] = (40 * i, 200, 90)
        out.append((f, [1, 7, 1, 12][i]))  # stills of 7 and 12 frames between moving ones
    return out


def _encode(path, write, **options):
    enc = vse.VideoSegmentEncoder(target=path, spec=_spec(**options))
    for pixels, repeat in _frames():
        write(enc, pixels.copy(), repeat=repeat)
    enc.finish()
    return path.read_bytes()


def test_manim_write_frame_is_the_one_the_patch_was_written_for():
    original = encoding._original or vse.VideoSegmentEncoder.write_frame
    assert encoding.source_sha256(original) == encoding.EXPECTED_SHA256, (
        "manim's VideoSegmentEncoder.write_frame changed: check scenes/kit/encoding.py against it, then update "
        "EXPECTED_SHA256")
    # the patch mirrors the original apart from converting once
    src = inspect.getsource(original)
    assert "av.VideoFrame.from_ndarray(pixels, format=\"rgba\")" in src and "for _ in range(repeat)" in src


@pytest.mark.parametrize("options", [{}, {"preset": "veryfast"}])
def test_patched_output_is_byte_identical(tmp_path, options):
    original = encoding._original or vse.VideoSegmentEncoder.write_frame
    a = _encode(tmp_path / "stock.mp4", original, **options)
    b = _encode(tmp_path / "patched.mp4", encoding.write_frame, **options)
    assert a == b and len(a) > 1000
    import av

    with av.open(str(tmp_path / "patched.mp4")) as c:
        assert c.streams.video[0].frames == 21


def test_install_is_idempotent_and_can_be_refused(monkeypatch):
    encoding.uninstall()
    monkeypatch.setenv(encoding.DISABLE_ENV, "1")
    assert encoding.install() is False and vse.VideoSegmentEncoder.write_frame is not encoding.write_frame
    monkeypatch.delenv(encoding.DISABLE_ENV)
    assert encoding.install() is True and encoding.install() is True
    assert vse.VideoSegmentEncoder.write_frame is encoding.write_frame
    encoding.uninstall()
    monkeypatch.setattr(encoding, "EXPECTED_SHA256", "0" * 64)
    with pytest.warns(RuntimeWarning, match="not the one this patch was written for"):
        assert encoding.install() is False
    assert vse.VideoSegmentEncoder.write_frame is not encoding.write_frame


def _moving_frames(n=24, w=320, h=180):
    """Frames of a moving, anti-aliased-looking picture (big enough for x264 to use several threads)."""
    yy, xx = np.mgrid[0:h, 0:w]
    out = []
    for i in range(n):
        f = np.zeros((h, w, 4), dtype=np.uint8)
        f[..., 3] = 255
        f[..., 0] = (np.sin((xx + 3 * i) / 7.0) * 120 + 128).astype(np.uint8)
        f[..., 1] = ((yy * 255) // h).astype(np.uint8)
        f[40 + i : 90 + i, 60 + 2 * i : 160 + 2 * i, 2] = 230
        out.append((f, 1))
    return out


def test_the_render_encoder_options_are_deterministic_and_reach_x264(tmp_path):
    """scripts/render.py's codec options reach x264 as frame threads and give the same bytes every time.
    PyAV's default, slice threads, gave 7 different files from 20 encodes of 45 real frames of Lecture 1
    (measured); these synthetic frames do not show that, so the guard here is the thread type itself."""
    from scenes.pipeline.render import encoder_options
    from scenes.pipeline.media import quality

    options = encoder_options(quality("h"))
    assert options["thread_type"] == "frame"
    frames = _moving_frames()
    spec = _spec(width=320, height=180, **options)
    outputs = []
    for k in range(4):
        enc = vse.VideoSegmentEncoder(target=tmp_path / f"run{k}.mp4", spec=spec)
        for pixels, repeat in frames:
            encoding.write_frame(enc, pixels.copy(), repeat=repeat)
        assert str(enc._stream.codec_context.thread_type).endswith("FRAME")
        enc.finish()
        outputs.append((tmp_path / f"run{k}.mp4").read_bytes())
    assert len(set(outputs)) == 1 and len(outputs[0]) > 1000
    # x264 writes the settings it used into the stream: the extra parameters reached it
    assert b" subme=1 " in outputs[0] and b" me=dia " in outputs[0] and b" weightp=" in outputs[0]
