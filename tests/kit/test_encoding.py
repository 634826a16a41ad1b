"""scenes/kit/encoding.py: manim's segment encoder converts a repeated frame once, byte for byte the
same output; the patch refuses a manim whose write_frame changed."""

from __future__ import annotations

import inspect
from fractions import Fraction

import numpy as np
import pytest
from manim.scene import video_segment_encoder as vse

from scenes.kit import encoding


def _spec(**options):
    from manim._config.video_encoder import VideoEncoderSpec

    return VideoEncoderSpec(container_format="mp4", codec="libx264", pixel_format="yuv420p", width=128, height=72,
                            frame_rate=Fraction(30), options=tuple(sorted({"crf": "23", **options}.items())))


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
