"""scenes/kit/encoder_process.py: segments encoded in the encoder process are byte for byte the files
manim's own encoder writes; errors, aborts and a dead process on either side are reported or cleaned
up; encoding.install() routes manim's file writer to it unless ATTN_ENCODER_PROCESS=0."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from manim.scene import scene_file_writer as sfw
from manim.scene import video_segment_encoder as vse

from scenes.kit import encoder_process as ep
from scenes.kit import encoding
from tests.kit.test_encoding import _frames, _moving_frames, _spec


@pytest.fixture(autouse=True)
def _fresh_process():
    ep.close_shared_process()
    yield
    ep.close_shared_process()


def _in_process(path, spec, frames):
    original = encoding._original or vse.VideoSegmentEncoder.write_frame
    enc = vse.VideoSegmentEncoder(target=path, spec=spec)
    for pixels, repeat in frames:
        original(enc, pixels.copy(), repeat=repeat)
    enc.finish()
    return path.read_bytes()


@pytest.mark.parametrize("options", [{}, {"preset": "veryfast", "thread_type": "frame"}])
def test_same_bytes_as_manims_encoder(tmp_path, options):
    spec = _spec(**options)
    enc = ep.ProcessSegmentEncoder(target=tmp_path / "process.mp4", spec=spec)
    for pixels, repeat in _frames():
        enc.write_frame(pixels.copy(), repeat=repeat)
    enc.finish()
    expected = _in_process(tmp_path / "manim.mp4", spec, _frames())
    assert (tmp_path / "process.mp4").read_bytes() == expected and len(expected) > 1000


def test_segments_open_at_once_stay_apart(tmp_path):
    """Two segments fed alternately (manim keeps several in flight) each get exactly their frames,
    through more frames than there are slots."""
    spec = _spec(width=320, height=180)
    frames_a = _moving_frames(n=2 * ep.FRAME_SLOTS)
    frames_b = [(np.ascontiguousarray(f[::-1]), r) for f, r in frames_a]
    a = ep.ProcessSegmentEncoder(target=tmp_path / "a.mp4", spec=spec)
    b = ep.ProcessSegmentEncoder(target=tmp_path / "b.mp4", spec=spec)
    for (fa, ra), (fb, rb) in zip(frames_a, frames_b):
        a.write_frame(fa.copy(), repeat=ra)
        b.write_frame(fb.copy(), repeat=rb)
    b.finish()
    a.finish()
    assert (tmp_path / "a.mp4").read_bytes() == _in_process(tmp_path / "a0.mp4", spec, frames_a)
    assert (tmp_path / "b.mp4").read_bytes() == _in_process(tmp_path / "b0.mp4", spec, frames_b)


def test_manims_frame_checks_apply(tmp_path):
    enc = ep.ProcessSegmentEncoder(target=tmp_path / "x.mp4", spec=_spec())
    with pytest.raises(ValueError, match="shape"):
        enc.write_frame(np.zeros((10, 10, 4), np.uint8))
    with pytest.raises(ValueError, match="repeat"):
        enc.write_frame(_frames()[0][0], repeat=0)
    enc.abort()


def test_abort_removes_the_file_and_an_encoder_error_fails_finish(tmp_path):
    enc = ep.ProcessSegmentEncoder(target=tmp_path / "aborted.mp4", spec=_spec())
    enc.write_frame(_frames()[0][0].copy(), repeat=3)
    enc.abort()
    assert not (tmp_path / "aborted.mp4").exists()
    enc.finish()  # closed: nothing more to do, as manim's encoder

    bad = ep.ProcessSegmentEncoder(target=tmp_path / "bad.mp4", spec=_spec(preset="no-such-preset"))
    bad.write_frame(_frames()[0][0].copy())
    with pytest.raises(RuntimeError, match=r"Failed to finish video segment .*bad\.mp4"):
        bad.finish()
    assert not (tmp_path / "bad.mp4").exists()
    good = ep.ProcessSegmentEncoder(target=tmp_path / "good.mp4", spec=_spec())  # the process carries on
    good.write_frame(_frames()[0][0].copy())
    good.finish()
    assert (tmp_path / "good.mp4").stat().st_size > 0


def test_a_dead_encoder_process_fails_the_segment_and_the_next_one_starts_afresh(tmp_path):
    enc = ep.ProcessSegmentEncoder(target=tmp_path / "x.mp4", spec=_spec())
    enc.write_frame(_frames()[0][0].copy())
    enc._process._proc.kill()
    with pytest.raises(ep.EncoderProcessError, match="ended"):
        for _ in range(ep.FRAME_SLOTS + 2):
            enc.write_frame(_frames()[0][0].copy())
        enc.finish()
    again = ep.ProcessSegmentEncoder(target=tmp_path / "y.mp4", spec=_spec())
    assert again._process is not enc._process
    again.write_frame(_frames()[0][0].copy())
    again.finish()
    assert (tmp_path / "y.mp4").stat().st_size > 0


def test_when_the_render_process_goes_the_encoder_process_deletes_open_segments_and_exits(tmp_path):
    proc = ep.EncoderProcess(72, 128)
    seg = proc.open(tmp_path / "open.mp4", _spec())
    proc.frame(seg, _frames()[0][0], 2)
    proc._out.close()  # as if the render process had died
    assert proc._proc.wait(30) == 0
    deadline = time.time() + 5
    while (tmp_path / "open.mp4").exists() and time.time() < deadline:
        time.sleep(0.05)
    assert not (tmp_path / "open.mp4").exists()


def test_the_frame_file_is_gone_once_the_process_has_started():
    before = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    proc = ep.EncoderProcess(72, 128)
    after = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    assert not {n for n in after - before if n.startswith("attn-frames-")}
    proc.close()


def test_install_routes_segments_to_the_encoder_process_unless_asked_not_to(monkeypatch):
    assert encoding.source_sha256(encoding._original_create or sfw.SceneFileWriter._create_segment_encoder) \
        == encoding.EXPECTED_CREATE_SHA256, ("manim's SceneFileWriter._create_segment_encoder changed: check "
                                             "scenes/kit/encoding.py against it, then update EXPECTED_CREATE_SHA256")
    monkeypatch.delenv(encoding.DISABLE_ENV, raising=False)
    monkeypatch.delenv(encoding.PROCESS_ENV, raising=False)
    try:
        encoding.uninstall()
        assert encoding.install() is True
        assert sfw.SceneFileWriter._create_segment_encoder is encoding.create_segment_encoder
        monkeypatch.setenv(encoding.PROCESS_ENV, "0")
        assert encoding.install() is True
        assert sfw.SceneFileWriter._create_segment_encoder is not encoding.create_segment_encoder
        assert vse.VideoSegmentEncoder.write_frame is encoding.write_frame  # the one-conversion write stays
        encoding.uninstall()
        monkeypatch.setattr(encoding, "EXPECTED_CREATE_SHA256", "0" * 64)
        monkeypatch.delenv(encoding.PROCESS_ENV)
        with pytest.warns(RuntimeWarning, match="_create_segment_encoder is not the one"):
            assert encoding.install() is True
        assert sfw.SceneFileWriter._create_segment_encoder is not encoding.create_segment_encoder
    finally:
        monkeypatch.undo()
        encoding.uninstall()
        encoding.install()


def test_an_encoder_process_that_cannot_start_is_reported_and_leaves_nothing(monkeypatch):
    before = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    monkeypatch.setattr(ep.sys, "executable", "/bin/false")  # exits at once: no "ready"
    with pytest.raises(ep.EncoderProcessError, match="did not start"):
        ep.EncoderProcess(72, 128)
    after = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    assert not {n for n in after - before if n.startswith("attn-frames-")}


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc")
def test_finished_segments_give_their_memory_back(tmp_path):
    """Each segment opens its own x264 (about 90 MB at 720p with frame threads); a finished one must not
    stay alive. Before the fix, 30 segments at 1080p held 3.1 GB (a render of Lecture 1's History was
    killed for memory); after it, 176 MB."""
    spec = _spec(width=1280, height=720, preset="veryfast", thread_type="frame")
    frame = np.zeros((720, 1280, 4), np.uint8)
    frame[..., 3] = 255
    sizes = []
    for k in range(12):
        frame[100:200, 100 + 10 * k : 300 + 10 * k, 1] = 200
        enc = ep.ProcessSegmentEncoder(target=tmp_path / f"s{k % 2}.mp4", spec=spec)
        enc.write_frame(frame.copy())
        enc.write_frame(frame.copy(), repeat=4)
        enc.finish()
        sizes.append(_rss_mb(enc._process._proc.pid))
    assert sizes[-1] - sizes[2] < 150, sizes
