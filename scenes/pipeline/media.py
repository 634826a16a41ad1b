"""Qualities, manim's media layout, and probing of rendered files (PyAV, no ffprobe needed)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path


@dataclass(frozen=True)
class Quality:
    key: str
    width: int
    height: int
    fps: int

    @property
    def dirname(self) -> str:
        """manim's {quality} folder name: f"{pixel_height}p{frame_rate:g}"."""
        return f"{self.height}p{self.fps:g}"

    def manim_args(self) -> list[str]:
        if self.key in ("l", "m", "h", "p", "k"):
            return ["-q", self.key]
        return ["-r", f"{self.width},{self.height}", "--fps", str(self.fps)]


QUALITIES: dict[str, Quality] = {
    "l": Quality("l", 854, 480, 15),
    "m": Quality("m", 1280, 720, 30),
    "h": Quality("h", 1920, 1080, 60),
    "p": Quality("p", 2560, 1440, 60),
    "k": Quality("k", 3840, 2160, 60),
    "h30": Quality("h30", 1920, 1080, 30),  # the course's final format (manim.cfg's defaults)
}
FINAL_QUALITY = "h30"


def quality(key: str) -> Quality:
    k = key.strip().lower().removeprefix("-q")
    aliases = {"low": "l", "medium": "m", "high": "h", "480p15": "l", "720p30": "m", "1080p60": "h",
               "1440p60": "p", "2160p60": "k", "1080p30": "h30", "final": "h30"}
    k = aliases.get(k, k)
    if k not in QUALITIES:
        raise ValueError(f"unknown quality {key!r}; use one of {', '.join(QUALITIES)}")
    return QUALITIES[k]


@dataclass(frozen=True)
class SceneOutputs:
    """Where manim puts one scene's outputs (0.22 layout, default video_dir/sections_dir)."""

    media_dir: Path
    module_name: str
    scene: str
    quality: Quality

    @property
    def video_dir(self) -> Path:
        return self.media_dir / "videos" / self.module_name / self.quality.dirname

    @property
    def mp4(self) -> Path:
        return self.video_dir / f"{self.scene}.mp4"

    @property
    def wav(self) -> Path:
        return self.video_dir / f"{self.scene}.wav"

    @property
    def srt(self) -> Path:
        return self.video_dir / f"{self.scene}.srt"

    @property
    def sections_json(self) -> Path:
        return self.video_dir / "sections" / f"{self.scene}.json"

    @property
    def stamp(self) -> Path:
        return self.media_dir / "stamps" / self.quality.dirname / self.module_name / f"{self.scene}.json"

    @property
    def log(self) -> Path:
        return self.media_dir / "logs" / self.quality.dirname / f"{self.module_name}.{self.scene}.log"

    def all_files(self) -> list[Path]:
        return [self.mp4, self.wav, self.srt, self.sections_json]


# ------------------------------------------------------------------------------------------------
# hashing
# ------------------------------------------------------------------------------------------------

_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", "media", ".git"}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_tree(path: Path, suffixes: tuple[str, ...] | None = None, exclude: tuple[Path, ...] = ()) -> str:
    """Content hash of a file, or of every file under a folder (names + contents, sorted), leaving out the
    folders in ``exclude``. A missing path hashes to "missing" (so creating it later changes the hash)."""
    if not path.exists():
        return "missing"
    if path.is_file():
        return sha256_file(path)
    h = hashlib.sha256()
    skip = {Path(e).resolve() for e in exclude}
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")
                         and (Path(root) / d).resolve() not in skip)
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")) or name.startswith("."):
                continue
            if suffixes and not name.endswith(suffixes):
                continue
            p = Path(root) / name
            h.update(str(p.relative_to(path)).encode())
            h.update(b"\0")
            h.update(sha256_file(p).encode())
    return h.hexdigest()


def hash_obj(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def fingerprint(path: Path) -> list:
    """Cheap change detector for big files: [name, size, mtime_ns] (None when missing)."""
    try:
        st = path.stat()
    except OSError:
        return [str(path), None, None]
    return [str(path), st.st_size, st.st_mtime_ns]


# ------------------------------------------------------------------------------------------------
# probing
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: Fraction
    nb_frames: int
    codec: str
    pix_fmt: str
    time_base: Fraction
    extradata_sha: str
    has_audio: bool
    duration_s: float  # container duration

    @property
    def video_duration(self) -> Fraction:
        return Fraction(self.nb_frames) / self.fps


def probe_video(path: Path, count_frames: bool = False) -> VideoInfo:
    import av

    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        # the nominal rate (r_frame_rate): the average rate of a long file can come out as an odd
        # fraction like 67107840/4473841 from time-base rounding, though every frame is 1/15 s
        fps = Fraction(vs.base_rate or vs.guessed_rate or vs.average_rate or 0)
        n = vs.frames
        if count_frames or not n:
            n = sum(1 for p in c.demux(vs) if p.size)
        extradata = vs.codec_context.extradata or b""
        return VideoInfo(
            path=Path(path),
            width=vs.codec_context.width,
            height=vs.codec_context.height,
            fps=fps,
            nb_frames=int(n),
            codec=vs.codec_context.name,
            pix_fmt=str(vs.codec_context.pix_fmt),
            time_base=Fraction(vs.time_base),
            extradata_sha=hashlib.sha256(bytes(extradata)).hexdigest(),
            has_audio=bool(c.streams.audio),
            duration_s=(c.duration or 0) / 1_000_000,
        )


def read_sections(path: Path) -> list[dict]:
    """manim's sections index (<Scene>.json): [{name, type, video, nb_frames, duration, ...}, ...]."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for s in data:
        s["nb_frames"] = int(s.get("nb_frames") or 0)
    return data
