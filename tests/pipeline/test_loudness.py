"""The assembly's one-pass loudness (scenes/pipeline/loudness.py) against pyloudnorm and the kit."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from scenes.kit import audio as kit
from scenes.pipeline import loudness
from scenes.pipeline.av_join import AAC_OPTIONS, ffmpeg_exe

from support import AUDIO_RATE, pulse_trains, sine, speechlike

RATE = AUDIO_RATE


def _pyln(x: np.ndarray) -> float:
    return float(pyloudnorm.Meter(RATE).integrated_loudness(x))


@pytest.mark.parametrize("make", [
    lambda: sine(0.1, seconds=3.3),
    lambda: speechlike(7.0),
    lambda: np.concatenate([np.zeros(RATE), speechlike(3.0), np.zeros(2 * RATE), 0.01 * speechlike(2.0)]),
])
def test_integrated_lufs_equals_pyloudnorm_mono(make) -> None:
    x = make()
    assert loudness.integrated_lufs(x, RATE) == pytest.approx(_pyln(x), abs=1e-3)


def test_integrated_lufs_equals_pyloudnorm_stereo_and_identical_channels() -> None:
    left = speechlike(5.0)
    both = np.stack([left, 0.5 * left], axis=1)
    assert loudness.integrated_lufs(both, RATE) == pytest.approx(_pyln(both), abs=1e-3)
    same = np.stack([left, left], axis=1)
    m = loudness.measure(same.astype(np.float32), RATE)
    assert m["channels_identical"] is True
    assert m["integrated_lufs"] == pytest.approx(_pyln(same.astype(np.float32).astype(np.float64)), abs=1e-3)
    assert m["true_peak_dbtp"] == pytest.approx(kit.true_peak_dbtp(same), abs=1e-3)
    assert loudness.measure(both, RATE)["channels_identical"] is False


def test_silence_and_short_clips() -> None:
    assert loudness.integrated_lufs(np.zeros(RATE), RATE) == -math.inf
    short = sine(0.1, seconds=0.2)
    assert loudness.integrated_lufs(short, RATE) == pytest.approx(kit._integrated_lufs(short, RATE), abs=1e-3)


def test_true_peak_matches_the_kit() -> None:
    x = speechlike(4.0)
    assert loudness.true_peak_dbtp(x) == pytest.approx(kit.true_peak_dbtp(x), abs=0.01)
    t = np.arange(RATE) / RATE
    inter = 0.5 * np.sin(2 * np.pi * (RATE / 4) * t + np.pi / 4)  # samples at 0.354, true peak 0.5
    assert loudness.true_peak_dbtp(inter) == pytest.approx(20 * math.log10(0.5), abs=0.2)


@pytest.mark.parametrize("make,gentle", [(lambda: speechlike(8.0), True), (lambda: pulse_trains(4.0), False)])
def test_normalize_reaches_target_under_the_ceiling(make, gentle: bool) -> None:
    pcm = kit._to_pcm16(make())
    out, report = loudness.normalize(pcm, RATE, -14.0, -2.0)
    y = out.astype(np.float64) / 32768.0
    assert _pyln(y) == pytest.approx(-14.0, abs=0.1)  # measured independently
    assert kit.true_peak_dbtp(y) <= -2.0 + 1e-6
    assert report["output_lufs"] == pytest.approx(_pyln(y), abs=1e-3)
    assert report["limited"] is True
    assert (report["limiter_attack_hold_release_s"] == [0.002, 0.003, 0.05]) is gentle
    assert 1 <= report["passes"] <= (2 if gentle else 6)  # exact measurements of the output
    out2, _ = loudness.normalize(pcm, RATE, -14.0, -2.0)
    assert np.array_equal(out, out2)  # deterministic


def test_normalize_matches_the_kit_result(tmp_path: Path) -> None:
    """Same target, same limiter: the one-pass search lands where the kit's repeated measurement does."""
    pcm = kit._to_pcm16(speechlike(8.0))
    src, ref = tmp_path / "in.wav", tmp_path / "ref.wav"
    loudness.write_pcm16(src, pcm, RATE)
    kit_report = kit.normalize_loudness(src, ref, target_lufs=-14.0, max_true_peak_dbtp=-2.0)
    report = loudness.normalize_file(src, tmp_path / "out.wav", -14.0, -2.0)
    assert report["input_lufs"] == pytest.approx(kit_report["input_lufs"], abs=1e-3)
    assert report["input_true_peak_dbtp"] == pytest.approx(kit_report["input_true_peak_dbtp"], abs=0.01)
    assert report["limiter_attack_hold_release_s"] == kit_report["limiter_attack_hold_release_s"]
    assert report["output_lufs"] == pytest.approx(kit_report["output_lufs"], abs=0.2)
    assert report["output_lufs"] == pytest.approx(-14.0, abs=0.1)
    assert report["output_true_peak_dbtp"] <= -2.0


def test_quiet_signal_without_limiting_and_silence() -> None:
    pcm = kit._to_pcm16(sine(0.01, seconds=3.0, freq=440))
    out, report = loudness.normalize(pcm, RATE, -16.0, -1.0)
    assert report["limited"] is False and report["output_lufs"] == pytest.approx(-16.0, abs=0.1)
    silent = np.zeros(RATE, dtype=np.int16)
    out, report = loudness.normalize(silent, RATE, -14.0, -1.0)
    assert report["output_lufs"] == -math.inf and np.array_equal(out, silent)


def test_decode_audio_reads_only_the_audio(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=64x64:r=15:d=2",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", *AAC_OPTIONS, "-ac", "2", "-shortest", str(video)],
        check=True,
    )  # fmt: skip
    y = loudness.decode_audio(video)
    assert y.dtype == np.float32 and y.shape[1] == 2
    assert y.shape[0] / RATE == pytest.approx(2.0, abs=0.05)
    m = loudness.measure(y, RATE)
    assert m["integrated_lufs"] == pytest.approx(_pyln(y.astype(np.float64)), abs=1e-3)
    assert m["true_peak_dbtp"] == pytest.approx(kit.true_peak_dbtp(y.astype(np.float64)), abs=0.01)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]  # nothing written


@pytest.mark.parametrize("timing", loudness.LADDER)
def test_sparse_limiter_equals_the_kits_limiter(timing) -> None:
    """Limited computes the kit's limiter gain only around the samples over the ceiling: the same
    curve, to rounding, as scenes.kit.audio._limiter_gain over the whole track."""
    x = np.concatenate([np.zeros(RATE // 3), speechlike(6.0), np.zeros(RATE), pulse_trains(2.0)])
    env = loudness.peak_envelope(x)
    ceiling, g = 10 ** (-2.3 / 20), 10 ** (6 / 20)
    lim = loudness.Limited(env, g, RATE, ceiling, timing)
    assert 0 < lim.size < len(x) and len(lim.starts) > 1  # sparse: regions, not the whole track
    ref = kit._limiter_gain(env.astype(np.float64) * g, RATE, ceiling, *timing)
    np.testing.assert_allclose(loudness.limiter_gain(env, g, RATE, ceiling, *timing), ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(lim.full(), ref, rtol=0, atol=1e-9)
    # block powers of curve * K(x), from the regions only
    sq = np.square(loudness.k_weighted(x, RATE))
    np.testing.assert_allclose(loudness._limited_powers(loudness._powers(sq, RATE), sq, lim, RATE),
                               loudness.block_powers(loudness.k_weighted(x, RATE), RATE, ref), rtol=1e-9, atol=1e-15)
    none = loudness.Limited(env, 1e-3, RATE, ceiling, timing)
    assert none.min() == 1.0 and np.array_equal(none.full(), np.ones(len(x)))
