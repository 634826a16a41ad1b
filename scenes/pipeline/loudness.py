"""Loudness for the assembly, in one pass over the mixed track: measure once, normalise once.

The lecture's track is long (20 minutes of 48 kHz = 57 M samples), so every pass over it counts.
``scenes.kit.audio.normalize_loudness`` measures the whole track with pyloudnorm again for every
gain it tries (K-weighting filter, Python loop over 12,000 gating blocks, about 4 CPU-s each) and
the final check decodes the AAC to a stereo WAV file and measures both channels. Here:

* :func:`k_weighted` filters the track once (BS.1770 K-weighting, pyloudnorm's own coefficients,
  as one second-order-section cascade); :func:`block_powers` gives the mean square of every 400 ms
  gating block with 75 % overlap from one cumulative sum, and :func:`gated_lufs` applies the
  absolute (-70 LUFS) and relative (-10 LU) gates: the same figure as ``pyloudnorm.Meter``
  (checked to 0.001 LU in tests/pipeline/test_loudness.py).
* :func:`normalize` takes the K-weighted track and the 4x-oversampled true-peak envelope, both
  computed once, and searches the gain with the kit's look-ahead limiter
  (``scenes.kit.audio._limiter_gain``): the loudness of a candidate is taken from the block powers
  of ``curve * K(x)`` (the limiter's gain moves over milliseconds, the K filter's response is
  shorter, so this is within a few hundredths of a LU), and the chosen result is then measured
  exactly, once, as 16-bit PCM; only if that misses the tolerance is the gain corrected and
  measured again.
* :func:`decode_audio` decodes an mp4's audio (not its video) straight into memory, and
  :func:`measure` measures it; a stereo track whose channels are identical (our mono narration
  upmixed) is measured on one channel (+3.01 dB, exactly what BS.1770 gives for two equal
  channels).

Nothing here is used by rendering, so changing it does not invalidate rendered scenes (the kit is
hashed into every scene's stamp; this module is not).
"""

from __future__ import annotations

import math
import subprocess
import wave
from pathlib import Path
from typing import Any

import numpy as np

from scenes.pipeline import atomic
from scenes.pipeline.av_join import ffmpeg_exe

BLOCK_S = 0.400
STEP = 0.25  # 75 % overlap
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
OVERSAMPLE = 4
_PEAK_BLOCK = 1 << 18

# Limiter timings (attack, hold, release), gentlest first; as scenes.kit.audio.normalize_loudness.
LADDER = ((0.002, 0.003, 0.05), (0.001, 0.001, 0.01), (0.0005, 0.0005, 0.0))


# --------------------------------------------------------------------------------------------
# measurement


def k_sos(rate: int) -> np.ndarray:
    """BS.1770 K-weighting as second-order sections, from pyloudnorm's own filter definitions."""
    from pyloudnorm.iirfilter import IIRfilter

    stages = [IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, rate, "high_shelf"),
              IIRfilter(0.0, 0.5, 38.0, rate, "high_pass")]
    rows = []
    for f in stages:
        b, a = np.asarray(f.b, float) * f.passband_gain, np.asarray(f.a, float)
        rows.append(np.concatenate([b / a[0], a / a[0]]))
    return np.array(rows)


def k_weighted(x: np.ndarray, rate: int) -> np.ndarray:
    """The K-weighted signal (float64), shape as ``x`` ((n,) or (n, channels))."""
    from scipy.signal import sosfilt

    return sosfilt(k_sos(rate), np.asarray(x, dtype=np.float64), axis=0)


def block_bounds(n: int, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample bounds [l, u) of the gating blocks, as pyloudnorm computes them."""
    if n < math.ceil(BLOCK_S * rate) + 1:
        n_blocks = 1
    else:
        n_blocks = int(np.round((n / rate - BLOCK_S) / (BLOCK_S * STEP))) + 1
    j = np.arange(n_blocks)
    lo = (BLOCK_S * (j * STEP) * rate).astype(np.int64)
    hi = np.minimum((BLOCK_S * (j * STEP + 1) * rate).astype(np.int64), n)
    return lo, hi


def block_powers(kx: np.ndarray, rate: int, weight: np.ndarray | None = None) -> np.ndarray:
    """Mean square of each gating block of the K-weighted signal ``kx`` (summed over channels),
    optionally multiplied sample by sample by ``weight`` (a gain curve, shape (n,)) first."""
    sq = np.square(kx)
    if sq.ndim == 2:
        sq = sq.sum(axis=1)
    if weight is not None:
        sq *= np.square(weight)
    return _powers(sq, rate)


def _powers(sq: np.ndarray, rate: int) -> np.ndarray:
    csum = np.empty(len(sq) + 1, dtype=np.float64)
    csum[0] = 0.0
    np.cumsum(sq, out=csum[1:], dtype=np.float64)
    lo, hi = block_bounds(len(sq), rate)
    return (csum[hi] - csum[lo]) / (BLOCK_S * rate)


def gated_lufs(powers: np.ndarray) -> float:
    """Integrated loudness from the blocks' mean squares (BS.1770-4 gating); -inf for silence."""
    with np.errstate(divide="ignore"):
        lj = -0.691 + 10.0 * np.log10(powers)
    above = powers[lj >= ABSOLUTE_GATE]
    if not above.size:
        return -math.inf
    rel = -0.691 + 10.0 * math.log10(float(above.mean())) + RELATIVE_GATE
    gated = powers[(lj > rel) & (lj > ABSOLUTE_GATE)]
    if not gated.size or float(gated.mean()) <= 0:
        return -math.inf
    return -0.691 + 10.0 * math.log10(float(gated.mean()))


def integrated_lufs(x: np.ndarray, rate: int) -> float:
    """Integrated loudness of float samples in [-1, 1] ((n,) or (n, channels); channel weight 1)."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] < math.ceil(BLOCK_S * rate) + 1:  # pyloudnorm needs one whole block: pad as the kit does
        pad = math.ceil(BLOCK_S * rate) + 1 - x.shape[0]
        x = np.concatenate([x, np.zeros((pad, *x.shape[1:]))])
    return gated_lufs(block_powers(k_weighted(x, rate), rate))


def peak_envelope(x: np.ndarray) -> np.ndarray:
    """Per input sample, the largest absolute value of the 4x-oversampled signal around it (all
    channels), in blocks (as scenes.kit.audio._peak_envelope, here in float32)."""
    from scipy.signal import resample_poly

    frames = x[:, None] if x.ndim == 1 else x
    frames = np.asarray(frames, dtype=np.float32)
    n = frames.shape[0]
    env = np.abs(frames).max(axis=1)
    pad = 64
    for start in range(0, n, _PEAK_BLOCK):
        lo, hi = max(0, start - pad), min(n, start + _PEAK_BLOCK + pad)
        up = resample_poly(frames[lo:hi], OVERSAMPLE, 1, axis=0)
        up = np.abs(up).max(axis=1).reshape(-1, OVERSAMPLE).max(axis=1)
        a, b = start - lo, start - lo + min(_PEAK_BLOCK, n - start)
        np.maximum(env[start : start + (b - a)], up[a:b], out=env[start : start + (b - a)])
    return env


def true_peak_dbtp(x: np.ndarray) -> float:
    """True peak in dBTP (4x oversampled, the same filter and blocks as :func:`peak_envelope`, but
    only the maximum is kept); -inf for silence."""
    from scipy.signal import resample_poly

    if x.size == 0:
        return -math.inf
    frames = np.asarray(x[:, None] if x.ndim == 1 else x, dtype=np.float32)
    n = frames.shape[0]
    peak = float(max(frames.max(), -frames.min()))
    pad = 64
    for start in range(0, n, _PEAK_BLOCK):
        lo, hi = max(0, start - pad), min(n, start + _PEAK_BLOCK + pad)
        up = resample_poly(frames[lo:hi], OVERSAMPLE, 1, axis=0)
        a = (start - lo) * OVERSAMPLE
        b = a + min(_PEAK_BLOCK, n - start) * OVERSAMPLE
        peak = max(peak, float(up[a:b].max()), float(-up[a:b].min()))
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def measure(x: np.ndarray, rate: int) -> dict[str, Any]:
    """``{"integrated_lufs", "true_peak_dbtp", "channels_identical"}`` of float samples. Two
    identical channels are measured once: BS.1770 sums the channels' powers with weight 1, so
    their loudness is one channel's + 10*log10(2), and their true peak is one channel's."""
    x = np.asarray(x)
    same = bool(x.ndim == 2 and x.shape[1] > 1 and all(np.array_equal(x[:, 0], x[:, c]) for c in range(1, x.shape[1])))
    if same:
        one = x[:, 0]
        lufs = integrated_lufs(one, rate)
        lufs = lufs + 10.0 * math.log10(x.shape[1]) if math.isfinite(lufs) else lufs
        return {"integrated_lufs": lufs, "true_peak_dbtp": true_peak_dbtp(one), "channels_identical": True}
    if x.ndim == 1 or x.shape[0] < math.ceil(BLOCK_S * rate) + 1:
        return {"integrated_lufs": integrated_lufs(x, rate), "true_peak_dbtp": true_peak_dbtp(x),
                "channels_identical": False}
    # the true peaks (4x oversampling, the larger cost) in a second thread while this one filters:
    # scipy's filters let go of the GIL, so two cores are used
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        peaks = pool.submit(lambda: max(true_peak_dbtp(np.ascontiguousarray(x[:, c])) for c in range(x.shape[1])))
        sq = sum(np.square(k_weighted(np.ascontiguousarray(x[:, c]), rate)) for c in range(x.shape[1]))
        lufs = gated_lufs(_powers(sq, rate))
        return {"integrated_lufs": lufs, "true_peak_dbtp": peaks.result(), "channels_identical": False}


# --------------------------------------------------------------------------------------------
# files


def read_pcm16(path: Path) -> tuple[int, np.ndarray]:
    """(rate, int16 samples (n,) or (n, channels)) of a 16-bit PCM WAV."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: {8 * w.getsampwidth()}-bit samples, expected 16-bit PCM")
        ch, rate = w.getnchannels(), w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return rate, (data if ch == 1 else data.reshape(-1, ch))


def write_pcm16(path: Path, pcm: np.ndarray, rate: int) -> None:
    with atomic.atomic_path(path) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(1 if pcm.ndim == 1 else pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(np.ascontiguousarray(pcm, dtype="<i2").tobytes())


def decode_audio(path: Path, rate: int = 48000) -> np.ndarray:
    """The first audio stream of a media file, decoded (video is not decoded), as float32
    (n, channels) at ``rate``."""
    probe = subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
                            "-vn", "-ar", str(rate), "-f", "f32le", "-c:a", "pcm_f32le", "-"],
                           capture_output=True)
    if probe.returncode != 0:
        detail = probe.stderr.decode(errors="replace").strip().splitlines()
        raise RuntimeError(f"cannot decode the audio of {path}: {detail[-1][:200] if detail else probe.returncode}")
    channels = _channels(path)
    return np.frombuffer(probe.stdout, dtype="<f4").reshape(-1, channels)


def _channels(path: Path) -> int:
    import av

    with av.open(str(path)) as c:
        return c.streams.audio[0].codec_context.channels


# --------------------------------------------------------------------------------------------
# normalisation


def limiter_gain(env: np.ndarray, g: float, rate: int, ceiling: float, attack_s: float = 0.002,
                 hold_s: float = 0.003, release_s: float = 0.05) -> np.ndarray:
    """``scenes.kit.audio._limiter_gain(env * g, ...)`` in about half the passes over memory: the
    same look-ahead limiter (the gain never above ``ceiling / (g * env)``, reached by a linear
    ramp of ``attack_s``, held ``hold_s``, recovering at most 1 per ``release_s``), with scipy's
    sliding minimum and running mean in place of the padded copies and cumulative sums; equal
    to the kit's to rounding (tests/pipeline/test_loudness.py)."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    req = np.asarray(env, dtype=np.float64) * g
    np.maximum(req, 1e-12, out=req)
    np.divide(ceiling, req, out=req)
    np.minimum(req, 1.0, out=req)
    if req.min() >= 1.0:
        return np.ones_like(req)
    a = max(1, round(attack_s * rate))
    r = max(0, round(hold_s * rate))
    size = a + r
    # held[n] = min(req[n - r .. n + a - 1]) (req[0] and req[-1] repeated beyond the ends)
    held = minimum_filter1d(req, size, origin=r - size // 2, mode="nearest")
    # ramp[n] = mean(held[n - a + 1 .. n]) (held[0] repeated before the start)
    gain = uniform_filter1d(held, a, origin=(a - 1) - a // 2, mode="nearest") if a > 1 else held
    np.minimum(gain, 1.0, out=gain)
    if release_s > 0:
        _release(gain, 1.0 / (release_s * rate))
    return gain


def _release(gain: np.ndarray, step: float) -> None:
    """Slow the rises, in place: gain[n] <= min over k <= n of (gain[k] + (n - k) * step)."""
    k = np.arange(len(gain), dtype=np.float64)
    k *= step
    t = gain - k
    np.minimum.accumulate(t, out=t)
    t += k
    np.minimum(gain, t, out=gain)


def _regions(over: np.ndarray, before: int, after: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """[start, end) of the runs of samples within ``before`` before / ``after`` after a sample of
    ``over`` (sorted), merged where they would come closer than ``before + after``."""
    if not over.size:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cut = np.flatnonzero(np.diff(over) > before + after)
    starts = np.maximum(np.r_[over[0], over[cut + 1]] - before, 0)
    ends = np.minimum(np.r_[over[cut], over[-1]] + after + 1, n)
    return starts.astype(np.int64), ends.astype(np.int64)


class Limited:
    """The limiter's gain for one gain ``g``, computed only around the samples it acts on.

    The gain differs from 1 only from ``attack`` before to ``attack + hold + release`` after a
    sample whose (gained) true peak is over the ceiling. So the regions around those samples, each
    with a margin of untouched samples on both sides, are cut out, put end to end and limited
    together (the margins keep neighbouring regions from reaching each other, and the gain over
    them is 1, so the result equals the limiter's on the whole track, to rounding). The gain is
    kept as regions: ``starts``, ``ends`` (sample indices) and ``gain`` (their samples end to end);
    1 everywhere else."""

    def __init__(self, env: np.ndarray, g: float, rate: int, ceiling: float, timing: tuple[float, float, float]):
        attack_s, hold_s, release_s = timing
        a = max(1, round(attack_s * rate))
        r = max(0, round(hold_s * rate))
        near = a + r + 2  # the ramp (attack + hold) reaches this far either side of a sample over the ceiling
        after = near + math.ceil(release_s * rate)  # and the release this far after it
        self.n = len(env)
        self.g = g
        over = np.flatnonzero(env > ceiling / g)
        self.starts, self.ends = _regions(over, near, after, self.n)
        self.offsets = np.r_[0, np.cumsum(self.ends - self.starts)].astype(np.int64)
        if not over.size:
            self.gain = np.zeros(0)
            return
        # attack and hold on the narrow regions around the samples over the ceiling ...
        starts, ends = _regions(over, near, near, self.n)
        ramp = limiter_gain(np.concatenate([env[s:e] for s, e in zip(starts, ends)]), g, rate, ceiling,
                            attack_s, hold_s, 0.0)
        # ... placed into the wider regions (gain 1 between), where the release is applied
        self.gain = np.ones(self.size)
        at = self.position(starts)
        done = 0
        for p, s, e in zip(at, starts, ends):
            self.gain[p : p + (e - s)] = ramp[done : done + (e - s)]
            done += e - s
        if release_s > 0:
            _release(self.gain, 1.0 / (release_s * rate))

    @property
    def size(self) -> int:
        return int(self.offsets[-1])

    def min(self) -> float:
        return float(self.gain.min()) if self.gain.size else 1.0

    def pieces(self):
        """(start, end, gain over [start, end)) per region."""
        for j, (s, e) in enumerate(zip(self.starts, self.ends)):
            yield int(s), int(e), self.gain[self.offsets[j] : self.offsets[j + 1]]

    def gather(self, x: np.ndarray) -> np.ndarray:
        """``x`` over the regions, end to end (aligned with ``gain``)."""
        if not self.size:
            return x[:0]
        return np.concatenate([x[s:e] for s, e in zip(self.starts, self.ends)])

    def position(self, t: np.ndarray) -> np.ndarray:
        """For sample indices ``t``: how many region samples lie before each."""
        j = np.searchsorted(self.starts, t, side="right") - 1
        inside = np.minimum(t - self.starts[np.maximum(j, 0)], (self.ends - self.starts)[np.maximum(j, 0)])
        return np.where(j >= 0, self.offsets[np.maximum(j, 0)] + inside, 0)

    def apply(self, y: np.ndarray) -> None:
        for s, e, gain in self.pieces():
            y[s:e] *= gain.astype(y.dtype)

    def full(self) -> np.ndarray:
        curve = np.ones(self.n)
        self.apply(curve)
        return curve


def _limited_powers(base: np.ndarray, sq: np.ndarray, lim: Limited, rate: int) -> np.ndarray:
    """Block powers of ``curve * K(x)`` from those of ``K(x)`` (``base``) less what the limiter takes
    away in its regions (``sq`` = K(x) squared)."""
    if not lim.size:
        return base
    taken = lim.gather(sq) * (1.0 - np.square(lim.gain))
    csum = np.r_[0.0, np.cumsum(taken)]
    lo, hi = block_bounds(lim.n, rate)
    return base - (csum[lim.position(hi)] - csum[lim.position(lo)]) / (BLOCK_S * rate)


def _to_pcm16(y: np.ndarray) -> np.ndarray:
    return np.clip(np.round(y * 32767.0), -32768, 32767).astype(np.int16)


def normalize(pcm: np.ndarray, rate: int, target_lufs: float, max_true_peak_dbtp: float,
              tolerance_lu: float = 0.1, headroom_db: float = 0.3) -> tuple[np.ndarray, dict[str, Any]]:
    """Gain to ``target_lufs``, with the kit's look-ahead limiter where the gain would lift the true
    peak above ``max_true_peak_dbtp - headroom_db``. ``pcm``: int16 mono (n,). Returns the int16
    result and a report with the same keys as ``scenes.kit.audio.normalize_loudness`` plus
    ``"passes"`` (how many exact measurements of the output were taken)."""
    from concurrent.futures import ThreadPoolExecutor

    x = pcm.astype(np.float32) / np.float32(32768.0)
    with ThreadPoolExecutor(1) as pool:  # the envelope in a second thread (scipy lets go of the GIL)
        envelope = pool.submit(peak_envelope, x)
        sq = np.square(k_weighted(x, rate)).astype(np.float32)
        base = _powers(sq, rate)
        input_lufs = gated_lufs(base)
        env = envelope.result() if x.size else np.zeros(0, dtype=np.float32)
    input_tp = 20.0 * math.log10(env.max()) if env.size and env.max() > 0 else -math.inf
    report: dict[str, Any] = {"input_lufs": input_lufs, "input_true_peak_dbtp": input_tp}
    if not math.isfinite(input_lufs):
        report.update(output_lufs=input_lufs, output_true_peak_dbtp=input_tp, gain_db=0.0, limited=False,
                      limiter_attack_hold_release_s=None, max_gain_reduction_db=0.0, limited_share=0.0,
                      passes=0)
        return pcm.copy(), report

    ceiling = 10.0 ** ((max_true_peak_dbtp - headroom_db) / 20.0)

    def curve_for(gain_db: float, timing: tuple[float, float, float]) -> Limited:
        return Limited(env, 10.0 ** (gain_db / 20.0), rate, ceiling, timing)

    def estimate(gain_db: float, lim: Limited) -> float:
        """Loudness of x * g * curve, taking K(curve * x) as curve * K(x)."""
        return gated_lufs(_limited_powers(base, sq, lim, rate)) + gain_db

    def search(timing, start_db: float, goal: float) -> tuple[float, float, Limited]:
        tried: list[tuple[float, float]] = []
        gain_db = start_db
        best = None
        for _ in range(10):
            curve = curve_for(gain_db, timing)
            evaluations.append(gain_db)
            loud = estimate(gain_db, curve)
            tried.append((gain_db, loud))
            if best is None or abs(loud - goal) < abs(best[1] - goal):
                best = (gain_db, loud, curve)
            if abs(loud - goal) <= tolerance_lu / 2:
                break
            slope = first_slope
            if len(tried) >= 2:
                (g0, l0), (g1, l1) = tried[-2], tried[-1]
                if g1 != g0:
                    slope = (l1 - l0) / (g1 - g0)
                    if slope < 0.05:
                        break
                    slope = min(1.0, slope)
                    if loud < goal and g1 > g0:
                        # loudness flattens as the limiter works harder (concave in the gain): the
                        # slope ahead is smaller than the last secant's (L01/L02: 0.39, 0.31, 0.27)
                        slope *= 0.8
            gain_db += min(12.0, (goal - loud) / slope)
        assert best is not None
        return best

    # A cheap first guess: the gain at which the track, with every sample over the ceiling simply
    # scaled down to it (no attack, hold or release: less reduction than the limiter makes, so a
    # lower bound on the gain needed), reaches the target; only the samples over the ceiling are
    # touched. Its slope (LU per dB near there) is the first step's slope.
    lo, hi = block_bounds(len(sq), rate)

    def cheap(gain_db: float) -> float:
        g = 10.0 ** (gain_db / 20.0)
        over = np.flatnonzero(env > ceiling / g)
        if not over.size:
            return gated_lufs(base) + gain_db
        taken = sq[over] * (1.0 - np.square(ceiling / (env[over].astype(np.float64) * g)))
        csum = np.r_[0.0, np.cumsum(taken)]
        powers = base - (csum[np.searchsorted(over, hi)] - csum[np.searchsorted(over, lo)]) / (BLOCK_S * rate)
        return gated_lufs(powers) + gain_db

    lo_db, hi_db = target_lufs - input_lufs, target_lufs - input_lufs + 25.6
    while hi_db - lo_db > 0.1:
        mid = (lo_db + hi_db) / 2
        lo_db, hi_db = (mid, hi_db) if cheap(mid) < target_lufs else (lo_db, mid)
    first_guess = lo_db
    first_slope = min(1.0, max(0.05, cheap(first_guess + 1.0) - cheap(first_guess)))

    passes = 0
    evaluations: list[float] = []
    result = None
    for timing in LADDER:
        goal = target_lufs
        gain_db = first_guess
        for _attempt in range(3):
            gain_db, est, curve = search(timing, gain_db, goal)
            if abs(est - goal) > tolerance_lu and timing is not LADDER[-1]:
                break  # this limiter cannot get there (its loudness saturates): try a faster one
            y = x * np.float32(10.0 ** (gain_db / 20.0))
            curve.apply(y)
            out = _to_pcm16(y)
            yq = out.astype(np.float32) / np.float32(32768.0)
            exact = integrated_lufs(yq, rate)
            passes += 1
            cand = (gain_db, exact, out, yq, curve, timing)
            if result is None or abs(exact - target_lufs) < abs(result[1] - target_lufs):
                result = cand
            if abs(exact - target_lufs) <= tolerance_lu or abs(est - goal) > tolerance_lu:
                break
            goal += target_lufs - exact  # the estimate is off by (exact - est): aim past it
        if result is not None and abs(result[1] - target_lufs) <= tolerance_lu:
            break
    assert result is not None
    gain_db, out_lufs, out, yq, curve, timing = result

    tp = true_peak_dbtp(yq)
    if tp > max_true_peak_dbtp:  # rounding or a limiter ramp left a peak: lower everything
        yq = yq * np.float32(10.0 ** ((max_true_peak_dbtp - 0.05 - tp) / 20.0))
        out = _to_pcm16(yq)
        yq = out.astype(np.float32) / np.float32(32768.0)
        tp = true_peak_dbtp(yq)
        out_lufs = integrated_lufs(yq, rate)
        passes += 1
    report.update(
        output_lufs=out_lufs,
        output_true_peak_dbtp=tp,
        gain_db=gain_db,
        limited=bool(curve.min() < 1.0),
        limiter_attack_hold_release_s=list(timing) if curve.min() < 1.0 else None,
        max_gain_reduction_db=max(0.0, -20.0 * math.log10(max(curve.min(), 1e-12))),
        limited_share=round(curve.size / max(1, curve.n), 4),
        passes=passes,
        limiter_runs=len(evaluations),
    )
    return out, report


def normalize_file(in_path: Path, out_path: Path, target_lufs: float, max_true_peak_dbtp: float) -> dict[str, Any]:
    """:func:`normalize` from a 16-bit WAV to a 16-bit WAV (atomic)."""
    rate, pcm = read_pcm16(in_path)
    if pcm.ndim != 1:
        raise ValueError(f"{in_path}: {pcm.shape[1]} channels; the lecture track is mono")
    out, report = normalize(pcm, rate, target_lufs, max_true_peak_dbtp)
    write_pcm16(out_path, out, rate)
    return report
