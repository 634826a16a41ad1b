"""Loudness measurement and normalisation (YouTube: -14 LUFS, true peak <= -1 dBTP)."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

from scenes.kit import audio
from scenes.kit.audio import measure_loudness, normalize_loudness, read_wav, true_peak_dbtp, write_wav
from scenes.pipeline.av_join import ffmpeg_exe

from support import AUDIO_RATE, pulse_trains, sine, speechlike

RATE = AUDIO_RATE


def test_measure_sine_at_known_level(tmp_path: Path) -> None:
    path = tmp_path / "sine.wav"
    write_wav(path, sine(0.1), RATE)  # -20 dBFS peak, 1 kHz: -23.0 LUFS (BS.1770 K-weighting)
    m = measure_loudness(path)
    assert m["integrated_lufs"] == pytest.approx(-23.0, abs=0.2)
    assert m["true_peak_dbtp"] == pytest.approx(-20.0, abs=0.05)


def test_true_peak_sees_intersample_peaks() -> None:
    # fs/4 sine at 45 degrees: every sample is at 0.707 of the real peak (-3 dB).
    x = sine(0.5, seconds=1.0, freq=RATE / 4, phase=np.pi / 4)
    sample_peak_db = 20 * math.log10(np.abs(x).max())
    assert sample_peak_db == pytest.approx(20 * math.log10(0.5) - 3.01, abs=0.05)
    assert true_peak_dbtp(x) == pytest.approx(20 * math.log10(0.5), abs=0.2)


def test_normalize_sine_to_youtube_target(tmp_path: Path) -> None:
    src, out = tmp_path / "in.wav", tmp_path / "out.wav"
    write_wav(src, sine(0.1), RATE)
    report = normalize_loudness(src, out)
    m = measure_loudness(out)
    assert m["integrated_lufs"] == pytest.approx(-14.0, abs=0.5)
    assert m["true_peak_dbtp"] <= -1.0
    assert report["limited"] is False
    rate, y = read_wav(out)
    assert rate == RATE and y.shape == (3 * RATE,)


def test_normalize_loud_peaky_signal_uses_limiter(tmp_path: Path) -> None:
    src, out = tmp_path / "in.wav", tmp_path / "out.wav"
    write_wav(src, speechlike(), RATE)
    before = measure_loudness(src)
    assert before["true_peak_dbtp"] - before["integrated_lufs"] > 13  # cannot reach -14 by gain alone
    report = normalize_loudness(src, out)
    m = measure_loudness(out)
    assert m["integrated_lufs"] == pytest.approx(-14.0, abs=0.5)
    assert m["true_peak_dbtp"] <= -1.0
    assert report["limited"] is True
    assert report["limiter_attack_hold_release_s"] == [0.002, 0.003, 0.05]  # the gentle limiter
    assert report["output_lufs"] == pytest.approx(m["integrated_lufs"], abs=1e-6)


def test_normalize_extreme_crest_factor(tmp_path: Path) -> None:
    src, out = tmp_path / "in.wav", tmp_path / "out.wav"
    write_wav(src, pulse_trains(), RATE)
    report = normalize_loudness(src, out)
    m = measure_loudness(out)
    assert m["integrated_lufs"] == pytest.approx(-14.0, abs=0.5)
    assert m["true_peak_dbtp"] <= -1.0
    assert report["limiter_attack_hold_release_s"] != [0.002, 0.003, 0.05]  # needed a faster one


def test_normalize_stereo_and_quiet(tmp_path: Path) -> None:
    src, out = tmp_path / "in.wav", tmp_path / "out.wav"
    left = sine(0.01, freq=440)
    write_wav(src, np.stack([left, 0.5 * left], axis=1), RATE)
    normalize_loudness(src, out, target_lufs=-16.0)
    m = measure_loudness(out)
    assert m["integrated_lufs"] == pytest.approx(-16.0, abs=0.5) and m["true_peak_dbtp"] <= -1.0
    assert read_wav(out)[1].shape[1] == 2


def test_silence_is_copied(tmp_path: Path) -> None:
    src, out = tmp_path / "in.wav", tmp_path / "out.wav"
    write_wav(src, np.zeros(RATE), RATE)
    report = normalize_loudness(src, out)
    assert report["output_lufs"] == -math.inf and out.exists()
    assert measure_loudness(out)["integrated_lufs"] == -math.inf


def test_short_clip_is_measured(tmp_path: Path) -> None:
    path = tmp_path / "short.wav"
    write_wav(path, sine(0.1, seconds=0.2), RATE)
    assert math.isfinite(measure_loudness(path)["integrated_lufs"])


def test_write_is_atomic(tmp_path: Path, monkeypatch) -> None:
    src, out = tmp_path / "in.wav", tmp_path / "out.wav"
    write_wav(src, sine(0.1), RATE)

    def broken(fh, pcm, rate):
        fh.write(b"RIFF....WAVE")  # a partial file, then a failure
        raise OSError("disk full")

    monkeypatch.setattr(audio, "_write_pcm16", broken)
    with pytest.raises(OSError, match="disk full"):
        normalize_loudness(src, out)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]  # no temp file left

    # An existing output survives a failed rewrite untouched.
    out.write_bytes(b"previous")
    with pytest.raises(OSError):
        normalize_loudness(src, out)
    assert out.read_bytes() == b"previous"


def test_extract_audio_from_video(tmp_path: Path) -> None:
    """The assembler measures its finished mp4 through this: a 440 Hz AAC track comes back as a
    2 s stereo 48 kHz WAV whose strongest frequency is 440 Hz."""
    video = tmp_path / "v.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=64x64:r=15:d=2",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(video)],
        check=True,
    )  # fmt: skip
    wav = tmp_path / "out" / "a.wav"
    audio.extract_audio(video, wav)
    rate, y = read_wav(wav)
    assert rate == 48000 and y.shape[1] == 2
    assert y.shape[0] / rate == pytest.approx(2.0, abs=0.05)
    spectrum = np.abs(np.fft.rfft(y[:, 0]))
    assert np.fft.rfftfreq(len(y), 1 / rate)[spectrum.argmax()] == pytest.approx(440, abs=1)
    assert sorted(p.name for p in wav.parent.iterdir()) == ["a.wav"]  # no temporary file left


def test_extract_audio_without_audio_is_a_clear_error(tmp_path: Path) -> None:
    video = tmp_path / "silent.mp4"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=64x64:r=15:d=1",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(video)], check=True)  # fmt: skip
    with pytest.raises(RuntimeError, match="failed"):
        audio.extract_audio(video, tmp_path / "a.wav")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["silent.mp4"]
