"""Helpers the test folders share (import with ``from support import ...``: tests/ is on sys.path)."""
from __future__ import annotations

import numpy as np


def load_script(path, name: str):
    """A script under scripts/ imported as module ``name`` (its ``main(argv)`` callable in-process)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, path)
    mod = sys.modules[name] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def run_main(mod, capsys, *argv):
    """(exit code, stderr) of ``mod.main(argv)``; argparse errors exit through SystemExit."""
    try:
        code = mod.main(list(argv))
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err


def write_tiny_mp4(path, frames: int, fps: int, grey_step: int):
    """A real, decodable h264 video of 64x36 frames, frame i a flat grey of level i * grey_step."""
    import av
    import numpy as np

    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 64, 36, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((36, 64, 3), i * grey_step, np.uint8), format="rgb24")
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


# Test signals for the loudness tests (tests/kit/test_audio.py, tests/pipeline/test_loudness.py), at 48 kHz.
AUDIO_RATE = 48000


def sine(amplitude: float, seconds: float = 3.0, freq: float = 1000.0, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(seconds * AUDIO_RATE)) / AUDIO_RATE
    return amplitude * np.sin(2 * np.pi * freq * t + phase)


def speechlike(seconds: float = 6.0) -> np.ndarray:
    """Seeded "syllables": harmonic tones (f0 90-160 Hz, 20 harmonics) under Hann envelopes of
    random loudness, with pauses and a few clicks - a crest factor like Piper's speech."""
    rng = np.random.default_rng(0)
    n = int(seconds * AUDIO_RATE)
    x = np.zeros(n)
    pos = 0
    while pos < n:
        length = min(int(rng.uniform(0.12, 0.4) * AUDIO_RATE), n - pos)
        t = np.arange(length) / AUDIO_RATE
        f0 = rng.uniform(90, 160)
        tone = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 21))
        x[pos : pos + length] = tone * np.hanning(length) * rng.uniform(0.15, 1.0)
        if rng.random() < 0.3:
            x[pos] += 3.0  # a plosive click
        pos += length + int(rng.uniform(0.03, 0.25) * AUDIO_RATE)
    return 0.9 * x / np.abs(x).max()


def pulse_trains(seconds: float = 4.0) -> np.ndarray:
    """An extreme case: sharp decaying pulses at a pitch rate (most of each period is silent)."""
    rng = np.random.default_rng(1)
    n = int(seconds * AUDIO_RATE)
    x = np.zeros(n)
    kernel = np.exp(-np.arange(400) / 60.0) * np.sin(np.arange(400) * 2 * np.pi * 700 / AUDIO_RATE)
    pos = 0
    while pos < n:
        length = int(rng.uniform(0.15, 0.5) * AUDIO_RATE)
        burst = np.zeros(length)
        burst[:: int(AUDIO_RATE / rng.uniform(90, 160))] = 1.0
        burst = np.convolve(burst, kernel)[:length] * rng.uniform(0.2, 1.0)
        x[pos : pos + length] = burst[: n - pos]
        pos += length + int(rng.uniform(0.05, 0.3) * AUDIO_RATE)
    return 0.9 * x / np.abs(x).max()
