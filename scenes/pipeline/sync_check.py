"""Measure audio/video sync in a rendered file that contains white flashes with tones starting at
the same instant (the pipeline's fixture scenes do that): flash onsets from the decoded video,
tone onsets from the decoded audio (as a player sees them: ffmpeg applies the AAC edit list).

    python -m scenes.pipeline.sync_check media/lectures/480p15/90-pipeline-fixture.mp4
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from scenes.pipeline.av_join import ffmpeg_exe
from scenes.pipeline.media import probe_video

AUDIO_RATE = 48000


def frame_brightness(path: Path) -> np.ndarray:
    """Mean luma (0-255) of every video frame, in presentation order."""
    out = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough",
         "-vf", "scale=32:18,format=gray", "-f", "rawvideo", "-"],
        capture_output=True, check=True).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, 32 * 18).mean(axis=1)


def decoded_audio(path: Path, rate: int = AUDIO_RATE) -> np.ndarray:
    out = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(rate),
         "-f", "s16le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(out, "<i2").astype(np.float64) / 32768.0


def flash_onsets(bright: np.ndarray, threshold: float = 200.0) -> list[int]:
    on = bright > threshold
    return [int(i) for i in np.flatnonzero(on & ~np.concatenate([[False], on[:-1]]))]


def tone_onsets(x: np.ndarray, rate: int = AUDIO_RATE, threshold: float = 0.02,
                quiet_s: float = 0.1) -> list[int]:
    """Samples where the signal first exceeds ``threshold`` after at least ``quiet_s`` below it."""
    loud = np.flatnonzero(np.abs(x) > threshold)
    if loud.size == 0:
        return []
    gaps = np.diff(loud) > quiet_s * rate
    starts = np.concatenate([[loud[0]], loud[1:][gaps]])
    return [int(s) for s in starts]


@dataclass
class SyncReport:
    fps: Fraction
    flashes_s: list[float]
    tones_s: list[float]
    errors_s: list[float]  # tone onset - flash onset, per flash

    @property
    def max_abs_error_s(self) -> float:
        return max((abs(e) for e in self.errors_s), default=float("nan"))

    @property
    def frame_s(self) -> float:
        return float(1 / self.fps)


def measure(path: Path) -> SyncReport:
    info = probe_video(Path(path))
    fps = info.fps
    flashes = [float(Fraction(f) / fps) for f in flash_onsets(frame_brightness(path))]
    tones = [t / AUDIO_RATE for t in tone_onsets(decoded_audio(path))]
    errors = []
    for f in flashes:
        if tones:
            nearest = min(tones, key=lambda t: abs(t - f))
            errors.append(nearest - f)
    return SyncReport(fps, flashes, tones, errors)


if __name__ == "__main__":
    for p in sys.argv[1:]:
        r = measure(Path(p))
        print(f"{p}: {len(r.flashes_s)} flashes, {len(r.tones_s)} tone onsets, fps {r.fps}")
        for f, e in zip(r.flashes_s, r.errors_s):
            print(f"  flash at {f:8.3f} s  tone {e * 1000:+7.2f} ms")
        print(f"  max |error| {r.max_abs_error_s * 1000:.2f} ms (one frame = {r.frame_s * 1000:.1f} ms)")
