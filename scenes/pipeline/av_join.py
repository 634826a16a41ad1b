"""Joining rendered files: video streams by stream copy (PyAV), one continuous audio track from the
scenes' WAVs placed at exact frame offsets, and the final mux (ffmpeg: AAC encoded once)."""

from __future__ import annotations

import shutil
import subprocess
import wave
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from scenes.pipeline import atomic

MASTER_RATE = 48000  # Hz, mono, 16-bit: the lecture's audio track before AAC
AAC_BITRATE = "192k"
# ffmpeg's "fast" AAC coder instead of its default "twoloop": 2.3x less CPU for the lecture's
# track (a 2-minute excerpt of Lecture 2: 2.0 against 4.7 CPU-s), and at 192 kb/s the narration
# loses nothing audible. The track is encoded once per assembly.
AAC_OPTIONS = ("-aac_coder", "fast")


def ffmpeg_exe() -> str:
    exe = shutil.which("ffmpeg")
    if exe:
        return exe
    try:  # moviepy's dependency ships a static ffmpeg
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:
        raise RuntimeError("ffmpeg not found (apt-get install ffmpeg)") from exc


def concat_video(inputs: Sequence[Path], frames: Sequence[int], fps: Fraction, out: Path) -> None:
    """Concatenate the video streams of ``inputs`` (same codec parameters) into ``out`` by stream
    copy. Segment i starts exactly at sum(frames[:i]) / fps: timestamps are shifted by exact
    integer offsets in the stream time base, so nothing drifts however many segments there are."""
    import av

    with atomic.atomic_path(out) as tmp:
        with av.open(str(inputs[0])) as first:
            template = first.streams.video[0]
            oc = av.open(str(tmp), mode="w", format="mp4")
            ost = oc.add_stream_from_template(template)
        try:
            offset = Fraction(0)  # seconds
            last_dts: int | None = None
            for path, n in zip(inputs, frames):
                with av.open(str(path)) as ic:
                    ist = ic.streams.video[0]
                    tb = Fraction(ist.time_base)
                    shift = offset / tb
                    if shift.denominator != 1:
                        raise ValueError(f"{path}: offset {offset} s is not a whole number of ticks of {tb}")
                    shift_i = int(shift)
                    count = 0
                    for pkt in ic.demux(ist):
                        if pkt.dts is None or not pkt.size:
                            continue
                        count += 1
                        pkt.pts += shift_i
                        pkt.dts += shift_i
                        if last_dts is not None and pkt.dts <= last_dts:
                            pkt.dts = last_dts + 1
                        last_dts = pkt.dts
                        pkt.stream = ost
                        oc.mux(pkt)
                if count != n:
                    raise ValueError(f"{path}: {count} video packets, expected {n} frames")
                offset += Fraction(n) / fps
        finally:
            oc.close()


def decode_mono(path: Path, rate: int = MASTER_RATE) -> np.ndarray:
    """Any audio file -> mono int16 at ``rate`` (ffmpeg resamples; its resampler is delay-compensated)."""
    out = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1",
         "-ar", str(rate), "-f", "s16le", "-acodec", "pcm_s16le", "-"],
        capture_output=True,
    )
    if out.returncode != 0:
        detail = out.stderr.decode(errors="replace").strip().splitlines()
        raise ValueError(f"cannot decode the audio of {path} (ffmpeg exited with {out.returncode}"
                         f"{': ' + detail[-1][:200] if detail else ''})")
    return np.frombuffer(out.stdout, dtype="<i2")


def sample_at(frame: int, fps: Fraction, rate: int) -> int:
    """The audio sample where video frame ``frame`` starts (exact when rate/fps is whole)."""
    return round(Fraction(frame) * rate / fps)


def build_audio(parts: Sequence[tuple[Path | None, int, int]], fps: Fraction, out: Path,
                rate: int = MASTER_RATE) -> dict:
    """One continuous mono WAV: ``parts`` = (wav or None, first frame, frame count) per segment.
    Each segment's audio starts at its first frame's sample and is padded with silence or cut to
    its video length, so the track lasts exactly as long as the video."""
    total_frames = parts[-1][1] + parts[-1][2] if parts else 0
    report = {"rate": rate, "channels": 1, "samples": sample_at(total_frames, fps, rate), "segments": []}
    with atomic.atomic_path(out) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        written = 0
        for wav, first, count in parts:
            a, b = sample_at(first, fps, rate), sample_at(first + count, fps, rate)
            if a != written:
                raise ValueError(f"segments are not contiguous at frame {first}")
            need = b - a
            x = decode_mono(wav, rate) if wav is not None and Path(wav).exists() else np.zeros(0, "<i2")
            src = len(x)
            if len(x) < need:
                x = np.concatenate([x, np.zeros(need - len(x), dtype="<i2")])
            x = x[:need]
            w.writeframes(x.astype("<i2").tobytes())
            written += need
            report["segments"].append({"wav": str(wav) if wav else None, "first_sample": a,
                                       "samples": need, "source_samples": src,
                                       "trimmed_samples": max(0, src - need)})
    return report


def mux(video: Path, audio: Path, out: Path, title: str | None = None) -> None:
    """Video stream copied, the audio encoded to AAC once (stereo 48 kHz)."""
    cmd = [ffmpeg_exe(), "-nostdin", "-y", "-v", "error", "-i", str(video), "-i", str(audio),
           "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", AAC_BITRATE, *AAC_OPTIONS,
           "-ar", "48000", "-ac", "2", "-movflags", "+faststart"]
    if title:
        cmd += ["-metadata", f"title={title}"]
    with atomic.atomic_path(out) as tmp:
        proc = subprocess.run([*cmd, "-f", "mp4", str(tmp)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"ffmpeg mux failed ({proc.returncode}): {proc.stderr[-2000:]}")
