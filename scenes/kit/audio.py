"""Loudness measurement and normalisation for the lecture audio (YouTube: -14 LUFS integrated,
true peak below -1 dBTP).

* :func:`measure_loudness` - integrated loudness (ITU-R BS.1770 via pyloudnorm) and true peak
  (4x oversampled sample peak, as BS.1770 annex 2 describes).
* :func:`normalize_loudness` - gain to the target, then a look-ahead true-peak limiter where the
  gain would push peaks above the ceiling; repeated until the loudness is on target. Deterministic
  (no dither) and atomic (``scenes.pipeline.atomic``, the project's one atomic-write helper).
* :func:`extract_audio` - the audio track of an mp4 as WAV (ffmpeg), so the assembled lecture's
  AAC can be measured again.

WAV in and out; output is 16-bit PCM with the input's rate and channels.
"""

from __future__ import annotations

import math
import os
import subprocess
import wave
from typing import Any

import numpy as np

from scenes.pipeline.atomic import atomic_path
from scenes.pipeline.av_join import ffmpeg_exe

__all__ = [
    "YOUTUBE_MAX_TRUE_PEAK_DBTP",
    "YOUTUBE_TARGET_LUFS",
    "extract_audio",
    "measure_loudness",
    "normalize_loudness",
    "read_wav",
    "true_peak_dbtp",
    "write_wav",
]

YOUTUBE_TARGET_LUFS = -14.0
YOUTUBE_MAX_TRUE_PEAK_DBTP = -1.0
_OVERSAMPLE = 4
_BLOCK = 1 << 18  # samples per block for the oversampled peak scan
_PathLike = str | os.PathLike[str]


# --------------------------------------------------------------------------------------------
# Files


def read_wav(path: _PathLike) -> tuple[int, np.ndarray]:
    """(rate, float64 samples in [-1, 1], shape (n,) mono or (n, channels))."""
    from scipy.io import wavfile

    rate, data = wavfile.read(str(path))
    if data.dtype == np.int16:
        x = data.astype(np.float64) / 32768.0
    elif data.dtype == np.int32:
        x = data.astype(np.float64) / 2147483648.0
    elif data.dtype == np.uint8:
        x = (data.astype(np.float64) - 128.0) / 128.0
    elif np.issubdtype(data.dtype, np.floating):
        x = data.astype(np.float64)
    else:  # pragma: no cover
        raise ValueError(f"{path}: unsupported WAV sample type {data.dtype}")
    return int(rate), x


def _to_pcm16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def _write_pcm16(fh: Any, pcm: np.ndarray, rate: int) -> None:
    channels = 1 if pcm.ndim == 1 else pcm.shape[1]
    with wave.open(fh, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(np.ascontiguousarray(pcm).tobytes())


def write_wav(path: _PathLike, x: np.ndarray, rate: int) -> None:
    """Float samples -> 16-bit PCM WAV, atomically."""
    pcm = _to_pcm16(np.asarray(x))
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        _write_pcm16(fh, pcm, rate)


# --------------------------------------------------------------------------------------------
# Measurement


def _frames(x: np.ndarray) -> np.ndarray:
    return x[:, None] if x.ndim == 1 else x


def _peak_envelope(x: np.ndarray) -> np.ndarray:
    """Per input sample, the largest absolute value of the 4x oversampled signal around it
    (all channels), computed in blocks to bound memory."""
    from scipy.signal import resample_poly

    frames = _frames(x)
    n = frames.shape[0]
    env = np.abs(frames).max(axis=1).astype(np.float64)
    pad = 64  # > half the polyphase filter length, in input samples
    for start in range(0, n, _BLOCK):
        lo, hi = max(0, start - pad), min(n, start + _BLOCK + pad)
        up = resample_poly(frames[lo:hi], _OVERSAMPLE, 1, axis=0)
        up = np.abs(up).max(axis=1).reshape(-1, _OVERSAMPLE).max(axis=1)
        a, b = start - lo, start - lo + min(_BLOCK, n - start)
        np.maximum(env[start : start + (b - a)], up[a:b], out=env[start : start + (b - a)])
    return env


def true_peak_dbtp(x: np.ndarray) -> float:
    """True peak in dBTP (4x oversampling); -inf for silence."""
    if x.size == 0:
        return -math.inf
    peak = float(_peak_envelope(x).max())
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def _integrated_lufs(x: np.ndarray, rate: int) -> float:
    import pyloudnorm

    frames = _frames(x)
    min_len = math.ceil(0.4 * rate) + 1  # pyloudnorm needs one 400 ms gating block
    if frames.shape[0] < min_len:
        frames = np.concatenate([frames, np.zeros((min_len - frames.shape[0], frames.shape[1]))])
    data = frames[:, 0] if frames.shape[1] == 1 else frames
    with np.errstate(divide="ignore"):
        value = float(pyloudnorm.Meter(rate).integrated_loudness(data))
    return value if math.isfinite(value) else -math.inf


def measure_loudness(path: _PathLike) -> dict[str, float]:
    """``{"integrated_lufs", "true_peak_dbtp"}`` of a WAV file (-inf for silence)."""
    rate, x = read_wav(path)
    return {"integrated_lufs": _integrated_lufs(x, rate), "true_peak_dbtp": true_peak_dbtp(x)}


# --------------------------------------------------------------------------------------------
# Normalisation


def _limiter_gain(
    envelope: np.ndarray,
    rate: int,
    ceiling: float,
    attack_s: float = 0.002,
    hold_s: float = 0.003,
    release_s: float = 0.05,
) -> np.ndarray:
    """Gain curve of a look-ahead peak limiter: never above ``ceiling / envelope`` at any
    sample; reaches it by a linear ramp of ``attack_s`` before the peak, holds ``hold_s`` after,
    then recovers linearly (from 0 to 1 in ``release_s``)."""
    from scipy.ndimage import minimum_filter1d

    required = np.minimum(1.0, ceiling / np.maximum(envelope, 1e-12))
    if required.min() >= 1.0:
        return np.ones_like(required)
    a = max(1, round(attack_s * rate))
    r = max(0, round(hold_s * rate))
    size = a + r
    # held[n] = min(required[n - r .. n + a - 1])
    padded = np.concatenate([np.full(r, required[0]), required])
    held = minimum_filter1d(padded, size, origin=-(size // 2), mode="nearest")[: len(required)]
    # ramp[n] = mean(held[n - a + 1 .. n]) <= required[n]: each held value in that range covers n.
    csum = np.cumsum(np.concatenate([np.full(a, held[0]), held]))
    gain = np.minimum((csum[a:] - csum[:-a]) / a, 1.0)
    if release_s > 0:  # slow the rises: gain[n] <= min_k (gain[k] + (n - k) * step)
        step = 1.0 / (release_s * rate)
        k = np.arange(len(gain), dtype=np.float64)
        gain = np.minimum(gain, step * k + np.minimum.accumulate(gain - step * k))
    return gain


def normalize_loudness(
    in_path: _PathLike,
    out_path: _PathLike,
    target_lufs: float = YOUTUBE_TARGET_LUFS,
    max_true_peak_dbtp: float = YOUTUBE_MAX_TRUE_PEAK_DBTP,
    tolerance_lu: float = 0.1,
    headroom_db: float = 0.3,
) -> dict[str, Any]:
    """Normalise a WAV to ``target_lufs`` with its true peak at or below ``max_true_peak_dbtp``.

    Gain first; where that lifts peaks over the ceiling (``max_true_peak_dbtp - headroom_db``)
    a look-ahead limiter brings them down, and the gain is re-adjusted (secant steps) until the
    loudness is within ``tolerance_lu`` (a faster limiter is used only if the gentle one cannot
    get there): speech from Piper has a peak-to-loudness ratio near
    20 dB, so reaching -14 LUFS under -1 dBTP needs about 6 dB of peak limiting. A last check on
    the 16-bit result lowers the gain if rounding left a peak above the limit. Silence is copied
    unchanged. The output is written atomically.

    Returns ``{"input_lufs", "input_true_peak_dbtp", "output_lufs", "output_true_peak_dbtp",
    "gain_db", "limited", "limiter_attack_hold_release_s", "max_gain_reduction_db"}``.
    """
    rate, x = read_wav(in_path)
    input_lufs = _integrated_lufs(x, rate)
    envelope = _peak_envelope(x) if x.size else np.zeros(0)
    input_tp = 20.0 * math.log10(envelope.max()) if envelope.size and envelope.max() > 0 else -math.inf
    report: dict[str, Any] = {"input_lufs": input_lufs, "input_true_peak_dbtp": input_tp}
    if not math.isfinite(input_lufs):
        write_wav(out_path, x, rate)
        report.update(output_lufs=input_lufs, output_true_peak_dbtp=input_tp, gain_db=0.0, limited=False,
                      limiter_attack_hold_release_s=None, max_gain_reduction_db=0.0)  # fmt: skip
        return report

    ceiling = 10.0 ** ((max_true_peak_dbtp - headroom_db) / 20.0)

    def render(gain_db: float, timing: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
        g = 10.0 ** (gain_db / 20.0)
        curve = _limiter_gain(envelope * g, rate, ceiling, *timing)  # the envelope scales with g
        return x * g * (curve if x.ndim == 1 else curve[:, None]), curve

    # Limiter timings (attack, hold, release), gentlest first. A faster limiter is tried only
    # when the gentler one cannot reach the target (its loudness saturates as gain rises).
    ladder = ((0.002, 0.003, 0.05), (0.001, 0.001, 0.01), (0.0005, 0.0005, 0.0))
    best: tuple[float, float, np.ndarray, np.ndarray, tuple[float, float, float]] | None = None
    for timing in ladder:
        tried: list[tuple[float, float]] = []
        gain_db = target_lufs - input_lufs
        for _ in range(8):
            y, curve = render(gain_db, timing)
            loudness = _integrated_lufs(y, rate)
            tried.append((gain_db, loudness))
            if best is None or abs(loudness - target_lufs) < abs(best[1] - target_lufs):
                best = (gain_db, loudness, y, curve, timing)
            if abs(loudness - target_lufs) <= tolerance_lu:
                break
            slope = 1.0
            if len(tried) >= 2:
                (g0, l0), (g1, l1) = tried[-2], tried[-1]
                if g1 != g0:
                    slope = (l1 - l0) / (g1 - g0)
                    if slope < 0.05:  # saturated: this limiter cannot get louder
                        break
                    slope = min(1.0, slope)
            gain_db += min(12.0, (target_lufs - loudness) / slope)
        assert best is not None
        if abs(best[1] - target_lufs) <= tolerance_lu:
            break
    assert best is not None
    gain_db, _, y, curve, timing = best

    pcm = _to_pcm16(y)
    y = pcm.astype(np.float64) / 32768.0
    tp = true_peak_dbtp(y)
    if tp > max_true_peak_dbtp:  # rounding or a limiter ramp left a peak: lower everything
        y = y * 10.0 ** ((max_true_peak_dbtp - 0.05 - tp) / 20.0)
        pcm = _to_pcm16(y)
        y = pcm.astype(np.float64) / 32768.0
        tp = true_peak_dbtp(y)

    with atomic_path(out_path) as tmp, open(tmp, "wb") as fh:
        _write_pcm16(fh, pcm, rate)
    report.update(
        output_lufs=_integrated_lufs(y, rate),
        output_true_peak_dbtp=tp,
        gain_db=gain_db,
        limited=bool(curve.min() < 1.0),
        limiter_attack_hold_release_s=list(timing) if curve.min() < 1.0 else None,
        max_gain_reduction_db=max(0.0, float(-20.0 * math.log10(max(curve.min(), 1e-12)))),
    )
    return report


# --------------------------------------------------------------------------------------------
# Video files (ffmpeg)


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:1])} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")


def extract_audio(video_path: _PathLike, wav_path: _PathLike, sample_rate: int = 48000, channels: int = 2) -> None:
    """The first audio stream of a video as 16-bit PCM WAV (atomic)."""
    with atomic_path(wav_path) as tmp:
        _run([ffmpeg_exe(), "-nostdin", "-y", "-v", "error", "-i", str(video_path), "-vn", "-map", "0:a:0",
              "-ac", str(channels), "-ar", str(sample_rate), "-c:a", "pcm_s16le", str(tmp)])  # fmt: skip
