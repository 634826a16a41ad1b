"""Video segments encoded in a separate process, so drawing and encoding never share a GIL.

Why: manim 0.22 encodes each segment on a thread of the drawing process. The drawing thread calls
pycairo and numpy, which release the GIL and must take it back hundreds of times per frame; with
encoder threads in the same interpreter, a 1080p60 render of Lecture 1's ``Recap`` left the drawing
thread on a third of a core for 15 s while it waited for the GIL (a 5 s sampler: 0.3 core on the
main thread, 1.9 on the process; ``nice`` on the encoder threads did not change it).

How: one encoder process per render (:class:`EncoderProcess`, started at the first segment, a plain
``python -m scenes.kit.encoder_process`` that imports only PyAV and numpy). Frames travel through a
ring of ``FRAME_SLOTS`` frame-sized slots in a memory-mapped file (one copy per drawn frame; a
still stretch is one frame with a repeat count), commands and replies through two pipes. In the
process, each segment has its own thread that converts a frame to the codec's pixel format once
(freeing its slot), encodes it ``repeat`` times, and closes the file when the render asks.
:class:`ProcessSegmentEncoder` is what manim's file writer gets in place of its
``VideoSegmentEncoder``: same constructor, ``write_frame``, ``finish`` and ``abort``; ``finish``
returns once the segment file is complete, so manim joins and combines segments exactly as before.

The bytes are those of manim's encoder with the kit's one-conversion ``write_frame``
(scenes/kit/encoding.py): the same PyAV calls in the same order on the same pixels
(tests/kit/test_encoder_process.py compares the files). Failures: an error in the process fails
that segment's ``finish`` with the message; a process that dies fails every open segment; a render
process that dies closes the pipe, and the encoder process deletes its unfinished segments and exits.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import mmap
import os
import queue
import subprocess
import sys
import tempfile
import threading
from fractions import Fraction
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

#: frame-sized slots shared with the encoder process (8.3 MB each at 1080p): how far drawing may run
#: ahead of the conversion of its frames
FRAME_SLOTS = 12
#: the encoder process's nice value: drawing keeps its core, encoding takes what is left
ENCODER_NICE = 5
#: seconds the render process waits for the encoder process to start or to exit
START_TIMEOUT = 60.0

_REPO_ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- the render process's side

class EncoderProcessError(RuntimeError):
    """The encoder process failed to start or ended while segments were open."""


class EncoderProcess:
    """The render process's handle on one encoder process for frames of ``height`` x ``width``."""

    def __init__(self, height: int, width: int, slots: int = FRAME_SLOTS, nice: int = ENCODER_NICE) -> None:
        self.shape = (height, width, 4)
        self.frame_bytes = height * width * 4
        fd, path = tempfile.mkstemp(prefix="attn-frames-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        try:
            os.ftruncate(fd, slots * self.frame_bytes)
            self._map = mmap.mmap(fd, slots * self.frame_bytes)
        finally:
            os.close(fd)
        self.slots = [np.ndarray(self.shape, np.uint8, buffer=self._map, offset=i * self.frame_bytes)
                      for i in range(slots)]
        from_parent, to_child = os.pipe()  # (read end, write end)
        from_child, to_parent = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = str(_REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "scenes.kit.encoder_process", path, str(height), str(width), str(slots),
                 str(from_parent), str(to_parent), str(nice)],
                pass_fds=(from_parent, to_parent), env=env, stdin=subprocess.DEVNULL)
        except BaseException:
            for f in (to_child, from_parent, from_child, to_parent):
                os.close(f)
            os.unlink(path)
            raise
        os.close(from_parent)
        os.close(to_parent)
        self._out = Connection(to_child, readable=False)
        self._in = Connection(from_child, writable=False)
        try:
            if not self._in.poll(START_TIMEOUT) or self._in.recv() != ("ready",):
                raise EncoderProcessError("the encoder process did not start")
        except BaseException as error:
            self._proc.kill()
            code = self._proc.wait()
            self._out.close()
            self._in.close()
            if isinstance(error, (EOFError, OSError)):
                raise EncoderProcessError(f"the encoder process did not start (exit code {code})") from error
            raise
        finally:
            os.unlink(path)  # both sides have it mapped: nothing is left behind whatever happens next
        self._send_lock = threading.Lock()
        self._free: queue.Queue[int | None] = queue.Queue()
        for i in range(slots):
            self._free.put(i)
        self._done: dict[int, tuple[threading.Event, list]] = {}
        self._done_lock = threading.Lock()
        self._ids = itertools.count()
        self.dead: str | None = None
        self._reader = threading.Thread(target=self._read_replies, name="encoder-process-replies", daemon=True)
        self._reader.start()

    def _read_replies(self) -> None:
        try:
            while True:
                msg = self._in.recv()
                if msg[0] == "free":
                    self._free.put(msg[1])
                elif msg[0] == "done":
                    self._result(msg[1]).append(msg[2])
                    self._event(msg[1]).set()
        except (EOFError, OSError):
            pass
        code = self._proc.wait()
        if self.dead is None:
            self.dead = f"the encoder process ended (exit code {code})"
        self._free.put(None)  # wakes a writer waiting for a slot; each waiter puts it back
        with self._done_lock:
            for event, _ in self._done.values():
                event.set()

    def _entry(self, seg: int) -> tuple[threading.Event, list]:
        with self._done_lock:
            return self._done.setdefault(seg, (threading.Event(), []))

    def _event(self, seg: int) -> threading.Event:
        return self._entry(seg)[0]

    def _result(self, seg: int) -> list:
        return self._entry(seg)[1]

    def _send(self, msg: tuple) -> None:
        if self.dead:
            raise EncoderProcessError(self.dead)
        try:
            with self._send_lock:
                self._out.send(msg)
        except OSError as error:
            self.dead = self.dead or f"the encoder process ended ({error})"
            raise EncoderProcessError(self.dead) from error

    def open(self, target: Path, spec) -> int:
        seg = next(self._ids)
        self._entry(seg)
        self._send(("open", seg, str(target), _spec_fields(spec)))
        return seg

    def frame(self, seg: int, pixels: np.ndarray, repeat: int) -> None:
        slot = self._free.get()
        if slot is None:
            self._free.put(None)
            raise EncoderProcessError(self.dead or "the encoder process ended")
        np.copyto(self.slots[slot], pixels)
        self._send(("frame", seg, slot, repeat))

    def close_segment(self, seg: int, op: str) -> str | None:
        """``op`` is "finish" or "abort"; returns the segment's error, if any, once the file is closed."""
        self._send((op, seg))
        event, result = self._entry(seg)
        event.wait()
        with self._done_lock:
            self._done.pop(seg, None)
        if not result:
            raise EncoderProcessError(self.dead or "the encoder process ended")
        return result[0]

    def close(self) -> None:
        """Ask the process to exit (after the segments it has) and wait for it."""
        with contextlib.suppress(EncoderProcessError):
            self._send(("quit",))
        try:
            self._proc.wait(START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._out.close()


def _spec_fields(spec) -> dict:
    return {"container_format": spec.container_format, "codec": spec.codec, "pixel_format": spec.pixel_format,
            "width": spec.width, "height": spec.height, "frame_rate": spec.frame_rate, "options": dict(spec.options)}


_process: EncoderProcess | None = None
_process_lock = threading.Lock()


def shared_process(height: int, width: int) -> EncoderProcess:
    """The render's encoder process (started on first use, closed at exit)."""
    global _process
    with _process_lock:
        if _process is not None and (_process.dead or _process.shape != (height, width, 4)):
            _process.close()
            _process = None
        if _process is None:
            _process = EncoderProcess(height, width)
        return _process


@atexit.register
def close_shared_process() -> None:
    global _process
    with _process_lock:
        if _process is not None:
            _process.close()
            _process = None


class ProcessSegmentEncoder:
    """manim's ``VideoSegmentEncoder`` interface, encoding in the encoder process."""

    def __init__(self, *, target: Path, spec) -> None:
        self.target = Path(target)
        self.spec = spec
        self._closed = False
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._process = shared_process(spec.height, spec.width)
        self._seg = self._process.open(self.target, spec)

    def _validate_frame(self, pixels, repeat: int) -> None:
        from manim.scene.video_segment_encoder import VideoSegmentEncoder

        VideoSegmentEncoder._validate_frame(self, pixels, repeat)  # manim's own checks and messages

    def write_frame(self, pixels, *, repeat: int = 1) -> None:
        self._validate_frame(pixels, repeat)
        self._process.frame(self._seg, pixels, repeat)

    def _close(self, op: str) -> None:
        if self._closed:
            return
        self._closed = True
        error = self._process.close_segment(self._seg, op)
        if error:
            raise RuntimeError(f"Failed to {op} video segment {self.target}: {error}")

    def finish(self) -> None:
        self._close("finish")

    def abort(self) -> None:
        try:
            self._close("abort")
        finally:
            self.target.unlink(missing_ok=True)


# ---------------------------------------------------------------- the encoder process's side

def encode_repeated(container, stream, frame, pts: int, repeat: int, frame_rate: Fraction) -> int:
    """Encode one converted ``frame`` ``repeat`` times at timestamps ``pts, pts+1, ...`` (manim's segment
    order and time base) and mux the packets; returns the next timestamp."""
    time_base = Fraction(frame_rate.denominator, frame_rate.numerator)
    for _ in range(repeat):
        frame.pts = pts
        frame.time_base = time_base
        pts += 1
        for packet in stream.encode(frame):
            container.mux(packet)
    return pts


class _Segment(threading.Thread):
    """One segment file: its frames in order, converted once, encoded ``repeat`` times."""

    def __init__(self, seg: int, target: str, spec: dict, slots: list, reply) -> None:
        super().__init__(name=f"segment-{seg}", daemon=True)
        self.seg, self.target, self.spec, self.slots, self.reply = seg, target, spec, slots, reply
        self.inbox: queue.Queue[tuple] = queue.Queue()
        self.error: str | None = None
        self.container = self.stream = None
        self.next_pts = 0
        self.reformatter = None

    def _open(self) -> None:
        import av

        self.container = av.open(self.target, mode="w", format=self.spec["container_format"])
        stream = self.container.add_stream(self.spec["codec"], rate=self.spec["frame_rate"],
                                           options=dict(self.spec["options"]))
        stream.pix_fmt = self.spec["pixel_format"]
        stream.width = self.spec["width"]
        stream.height = self.spec["height"]
        self.stream = stream

    def _encode(self, slot: int, repeat: int) -> None:
        import av

        try:
            if self.error:
                return
            cc = self.stream.codec_context
            source = av.VideoFrame.from_numpy_buffer(self.slots[slot], format="rgba")
            if self.reformatter is None:
                from av.video.reformatter import VideoReformatter

                self.reformatter = VideoReformatter()  # one swscale context per segment, not per frame
            frame = self.reformatter.reformat(source, cc.width, cc.height, cc.format, threads=cc.thread_count)
            if frame is source:  # no conversion needed: keep a copy, the slot is about to be reused
                frame = av.VideoFrame.from_ndarray(self.slots[slot], format="rgba")
        finally:
            self.reply(("free", slot))
        self.next_pts = encode_repeated(self.container, self.stream, frame, self.next_pts, repeat,
                                        self.spec["frame_rate"])

    def _finish(self) -> None:
        try:
            for packet in self.stream.encode():
                self.container.mux(packet)
        finally:
            self.container.close()

    def run(self) -> None:
        try:
            self._open()
        except Exception as error:
            self.error = f"open: {error}"
        while True:
            msg = self.inbox.get()
            op = msg[0]
            if op == "frame":
                try:
                    self._encode(msg[2], msg[3])
                except Exception as error:
                    self.error = self.error or f"encode: {error}"
                continue
            if op == "finish" and not self.error:
                try:
                    self._finish()
                except Exception as error:
                    self.error = f"finish: {error}"
            else:  # abort, or finish after an error: close what is open and delete the file
                if self.container is not None:
                    with contextlib.suppress(Exception):
                        self.container.close()
                with contextlib.suppress(OSError):
                    os.unlink(self.target)
            # drop the encoder now: PyAV frees x264's buffers (about 200 MB at 1080p) only with the
            # objects, and the serving loop keeps this thread object until the end of the render
            self.container = self.stream = self.reformatter = None
            self.reply(("done", self.seg, self.error))
            return


def _no_huge_pages() -> None:
    """Turn off transparent huge pages for this process (Linux ``PR_SET_THP_DISABLE``).

    x264 asks for huge pages for its frame buffers (``madvise(MADV_HUGEPAGE)``), and every segment
    opens a new encoder: here each one cost about 0.5 s of the kernel zeroing fresh 2 MB pages
    (perf: ``clear_page_erms`` under ``do_huge_pmd_anonymous_page``; Recap at 1080p60: 18 s of system
    time against 3 s on manim's threads). With small pages: 1.7 s for 15 segments instead of 6.5-8 s.
    """
    with contextlib.suppress(OSError, AttributeError):  # not Linux: nothing to turn off
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE = 41


def serve(path: str, height: int, width: int, slots: int, fd_in: int, fd_out: int, nice: int) -> None:
    if nice:
        os.nice(nice)
    _no_huge_pages()
    frame_bytes = height * width * 4
    with open(path, "r+b") as f:
        mapped = mmap.mmap(f.fileno(), slots * frame_bytes)
    views = [np.ndarray((height, width, 4), np.uint8, buffer=mapped, offset=i * frame_bytes) for i in range(slots)]
    inbox, outbox = Connection(fd_in, writable=False), Connection(fd_out, readable=False)
    lock = threading.Lock()

    def reply(msg: tuple) -> None:
        with lock, contextlib.suppress(OSError):  # OSError: the render process is gone, nobody waits
            outbox.send(msg)

    reply(("ready",))
    segments: dict[int, _Segment] = {}
    started: list[_Segment] = []
    try:
        while True:
            msg = inbox.recv()
            if msg[0] == "quit":
                break
            if msg[0] == "open":
                seg = segments[msg[1]] = _Segment(msg[1], msg[2], msg[3], views, reply)
                seg.start()
                started.append(seg)
            else:
                segments[msg[1]].inbox.put(msg)
                if msg[0] in ("finish", "abort"):
                    segments.pop(msg[1])
    except EOFError:
        pass
    for seg in segments.values():  # still open at the end: the render process no longer wants them
        seg.inbox.put(("abort", seg.seg))
    for seg in started:
        seg.join()


if __name__ == "__main__":
    a = sys.argv[1:]
    serve(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]), int(a[5]), int(a[6]))
