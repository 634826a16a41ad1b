"""Find and validate the lectures the assembly step wrote (through their metadata files).

Everything that can be checked without the network is checked here, before any remote call:
the metadata keys and types, the files it names, and YouTube's limits on title, description, tags,
thumbnail and caption sizes; and the files' contents: the thumbnail is a decodable PNG or JPEG (by its
bytes, not its name) at least 640 pixels wide, the video decodes to every frame its container declares
and lasts as long as the metadata says, and the captions parse as SRT with at least one cue.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import layout
from .errors import (
    DescriptionError,
    MediaError,
    MetadataError,
    MissingFileError,
    PublishError,
    TitleError,
)
from .quota import Limits, load_limits

CATEGORY_EDUCATION = "27"
LANGUAGE = "en"

_MIME = {
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


def sha256_file(path: Path, bufsize: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(bufsize):
            digest.update(chunk)
    return digest.hexdigest()


_IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
#: YouTube's thumbnail rules (help page "Add video thumbnails"): at least 640 pixels wide, 16:9 advised
THUMBNAIL_MIN_WIDTH = 640
THUMBNAIL_RECOMMENDED = (1280, 720)
#: how far the video's duration may differ from the metadata's (seconds)
DURATION_TOLERANCE_S = 0.1


def sniff_image(path: Path) -> str | None:
    """"image/png" or "image/jpeg" from a file's first bytes; None for anything else or no file."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    return next((mime for magic, mime in _IMAGE_MAGIC if head.startswith(magic)), None)


def thumbnail_problems(path: Path) -> tuple[list[str], tuple[int, int] | None]:
    """(what is wrong with the thumbnail's content, its size in pixels when it decodes)."""
    mime = sniff_image(path)
    if mime is None:
        with open(path, "rb") as fh:
            head = fh.read(8)
        return [f"the thumbnail {path} is not a PNG or JPEG image (it starts with {head!r}); "
                "YouTube accepts only those"], None
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            size = im.size
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError... for damaged files
        return [f"the thumbnail {path} cannot be decoded as {mime.split('/')[1].upper()} "
                f"(truncated or damaged: {exc})"], None
    if size[0] < THUMBNAIL_MIN_WIDTH:
        return [f"the thumbnail {path} is {size[0]}x{size[1]}; YouTube needs at least {THUMBNAIL_MIN_WIDTH} "
                f"pixels wide ({THUMBNAIL_RECOMMENDED[0]}x{THUMBNAIL_RECOMMENDED[1]} recommended)"], size
    return [], size


def video_problems(path: Path, duration: float) -> list[str]:
    """What YouTube would fail to process: not a readable video, frames missing from its end (a
    truncated file), or a duration other than the metadata's (beyond DURATION_TOLERANCE_S)."""
    import av

    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                return [f"the video {path} has no video stream"]
            vs = c.streams.video[0]
            tb, declared = vs.time_base, vs.frames
            n, end, first, corrupt = 0, 0, None, 0
            for pkt in c.demux(vs):
                if not pkt.size:
                    continue
                n += 1
                corrupt += pkt.is_corrupt  # cut short by the end of the file
                if first is None:
                    first = pkt.decode()  # the first frame decodes
                if pkt.pts is not None:
                    end = max(end, pkt.pts + (pkt.duration or 0))
            fps = vs.base_rate or vs.average_rate
            start = vs.start_time or 0
    except Exception as exc:  # PyAV raises many kinds (InvalidDataError, EOFError, OSError...)
        return [f"the video {path} is not a readable video (truncated or damaged?): {exc}"]
    if n == 0:
        return [f"the video {path} holds no video frames"]
    if corrupt:
        return [f"the video {path} is truncated or damaged: {corrupt} of its {n} frames are incomplete"]
    if declared and n < declared:
        return [f"the video {path} is truncated: {n} of the {declared} frames its header declares are there"]
    seconds = float((end - start) * tb) if tb and end else float(n / fps) if fps else 0.0
    if abs(seconds - duration) > DURATION_TOLERANCE_S:
        return [f"the video {path} lasts {seconds:.3f} s but the metadata says {duration:.3f} s "
                "(a different or damaged file? assemble the lecture again)"]
    return []


def caption_problems(path: Path) -> tuple[list[str], list]:
    """(what is wrong with the captions file, its cues when it parses)."""
    import srt

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [f"the captions {path} are not UTF-8 text ({exc})"], []
    try:
        cues = list(srt.parse(text))
    except (srt.SRTParseError, ValueError) as exc:
        return [f"the captions {path} are not valid SRT: {str(exc)[:200]}"], []
    if not cues:
        return [f"the captions {path} hold no cues"], []
    backwards = [c.index for c in cues if c.end <= c.start]
    if backwards:
        return [f"the captions {path} have cue(s) {', '.join(map(str, backwards[:5]))} that end before they start"], []
    return [], cues


def normalise_id(value: Any) -> str:
    """1, "1" and "01" all name lecture "01"; anything else non-numeric is kept as written."""
    text = str(value).strip()
    return f"{int(text):02d}" if text.isdigit() else text


@dataclass(frozen=True)
class Lecture:
    id: str
    slug: str
    title: str
    description: str
    tags: tuple[str, ...]
    video: Path
    captions: Path
    thumbnail: Path
    chapters: list = field(compare=False)
    duration: float = 0.0
    voice: Any = None
    metadata_path: Path | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return f"{self.id}-{self.slug}"

    @property
    def video_mimetype(self) -> str:
        return _MIME.get(self.video.suffix.lower(), "application/octet-stream")

    @property
    def thumbnail_mimetype(self) -> str:
        """The type its bytes show (a JPEG named .png is sent as image/jpeg), else its extension's."""
        return sniff_image(self.thumbnail) or _MIME.get(self.thumbnail.suffix.lower(), "application/octet-stream")

    @property
    def contains_synthetic_media(self) -> bool:
        # Policy (docs/publishing.md): animated diagrams with a synthetic narrator are not the
        # realistic altered content this flag is for; a metadata key can override it.
        return bool(self.extra.get("contains_synthetic_media", False))

    def snippet(self) -> dict:
        return {
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
            "categoryId": str(self.extra.get("category_id", CATEGORY_EDUCATION)),
            "defaultLanguage": self.extra.get("default_language", LANGUAGE),
            "defaultAudioLanguage": self.extra.get("default_language", LANGUAGE),
        }

    def metadata_hash(self) -> str:
        canonical = json.dumps(self.snippet(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def file_hashes(self) -> dict[str, str]:
        return {
            "video": sha256_file(self.video),
            "thumbnail": sha256_file(self.thumbnail),
            "captions": sha256_file(self.captions),
            "metadata": self.metadata_hash(),
        }


# -- discovery ------------------------------------------------------------------------------------


def discover(media_dir: Path) -> dict[str, Path]:
    """Lecture id -> metadata file, for every metadata file under ``media_dir``.

    The id is read from the file name's leading digits, so discovery needs no JSON parsing; the id
    inside the file is checked against it when the lecture is loaded.
    """
    found: dict[str, Path] = {}
    media_dir = Path(media_dir)
    for pattern in layout.METADATA_PATTERNS:
        for path in sorted(media_dir.glob(pattern)):
            stem = path.name if pattern.startswith("*.") else path.parent.name
            match = re.match(r"(\d+)-", stem)
            if not match:
                continue
            lid = normalise_id(match.group(1))
            if lid in found and found[lid] != path:
                raise MetadataError(
                    f"two metadata files for lecture {lid}: {found[lid]} and {path}; remove the stale one"
                )
            found[lid] = path
    return found


def parse_selection(spec: str) -> list[str] | None:
    """"all" -> None; "01", "1", "01,03" -> normalised ids."""
    spec = spec.strip()
    if spec.lower() == "all":
        return None
    ids = [normalise_id(part) for part in spec.split(",") if part.strip()]
    if not ids:
        raise MetadataError(f"--lecture {spec!r}: give a lecture number such as 01, or 'all'")
    return ids


def select(media_dir: Path, spec: str) -> list[Path]:
    media_dir = Path(media_dir)
    if not media_dir.is_dir():
        raise MissingFileError(
            f"media directory {media_dir} does not exist: render and assemble the lectures first "
            "(make video), or pass --media-dir"
        )
    found = discover(media_dir)
    wanted = parse_selection(spec)
    if wanted is None:
        if not found:
            raise MissingFileError(
                f"no lecture metadata in {media_dir} (looked for {', '.join(layout.METADATA_PATTERNS)})"
            )
        return [found[k] for k in sorted(found)]
    missing = [lid for lid in wanted if lid not in found]
    if missing:
        raise MissingFileError(
            f"no metadata file for lecture(s) {', '.join(missing)} in {media_dir} "
            f"(looked for {', '.join(layout.METADATA_PATTERNS)}); assemble them first"
        )
    return [found[lid] for lid in sorted(set(wanted))]


# -- loading --------------------------------------------------------------------------------------


def _type_ok(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # JSON true/false is not a number here
        return bool in types
    return isinstance(value, types)


def load(metadata_path: Path) -> Lecture:
    """Read one metadata file; raise MetadataError naming every missing or mistyped key."""
    metadata_path = Path(metadata_path)
    try:
        data = json.loads(metadata_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MissingFileError(f"metadata file {metadata_path} not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MetadataError(f"{metadata_path}: not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise MetadataError(f"{metadata_path}: expected a JSON object, found {type(data).__name__}")

    missing = [key for key in layout.METADATA_KEYS if key not in data]
    wrong = [
        f"{key} ({type(data[key]).__name__}, expected {'/'.join(t.__name__ for t in types)})"
        for key, types in layout.METADATA_KEYS.items()
        if key in data and not _type_ok(data[key], types)
    ]
    if missing or wrong:
        parts = []
        if missing:
            parts.append("missing key(s): " + ", ".join(missing))
        if wrong:
            parts.append("wrong type: " + ", ".join(wrong))
        raise MetadataError(f"{metadata_path}: " + "; ".join(parts))
    if not all(isinstance(tag, str) for tag in data["tags"]):
        raise MetadataError(f"{metadata_path}: every tag must be a string")
    if not (math.isfinite(data["duration"]) and data["duration"] > 0):
        raise MetadataError(f"{metadata_path}: duration {data['duration']!r} is not a positive number of seconds")

    base = metadata_path.parent
    known = set(layout.METADATA_KEYS)
    return Lecture(
        id=normalise_id(data["id"]),
        slug=data["slug"],
        title=data["title"],
        description=data["description"],
        tags=tuple(data["tags"]),
        video=base / data["video"],
        captions=base / data["captions"],
        thumbnail=base / data["thumbnail"],
        chapters=data["chapters"],
        duration=float(data["duration"]),
        voice=data["voice"],
        metadata_path=metadata_path,
        extra={k: v for k, v in data.items() if k not in known},
    )


# -- validation -----------------------------------------------------------------------------------


def tags_length(tags: tuple[str, ...]) -> int:
    """Characters YouTube counts for tags: a tag with a space is quoted, tags are comma-separated."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


def problems(lecture: Lecture, limits: Limits | None = None) -> list[PublishError]:
    """Every reason this lecture cannot be published, as errors with their exit codes."""
    lim = limits or load_limits()
    forbidden = lim.limit("forbidden_chars")
    where = f"lecture {lecture.id} ({lecture.metadata_path})"
    found: list[PublishError] = []

    if lecture.metadata_path is not None:
        expected = lecture.metadata_path.name.split("-", 1)[0]
        if expected.isdigit() and normalise_id(expected) != lecture.id:
            found.append(MetadataError(f"{where}: id {lecture.id!r} does not match the file name"))

    for key in layout.FILE_KEYS:
        path: Path = getattr(lecture, key)
        if not path.is_file():
            found.append(MissingFileError(f"{where}: {key} file {path} not found"))
        elif path.stat().st_size == 0:
            found.append(MissingFileError(f"{where}: {key} file {path} is empty"))

    title = lecture.title
    max_title = int(lim.limit("title_chars"))
    if not title.strip():
        found.append(TitleError(f"{where}: the title is empty"))
    if len(title) > max_title:
        found.append(TitleError(f"{where}: the title has {len(title)} characters; YouTube allows {max_title}"))
    bad = sorted({c for c in title if c in forbidden})
    if bad:
        found.append(TitleError(f"{where}: the title contains {' and '.join(map(repr, bad))}, which YouTube rejects"))

    description = lecture.description
    max_desc = int(lim.limit("description_bytes"))
    size = len(description.encode("utf-8"))
    if size > max_desc:
        found.append(
            DescriptionError(f"{where}: the description is {size:,} bytes (UTF-8); YouTube allows {max_desc:,}")
        )
    bad = sorted({c for c in description if c in forbidden})
    if bad:
        lines = [n for n, line in enumerate(description.splitlines(), 1) if any(c in line for c in bad)]
        found.append(
            DescriptionError(
                f"{where}: the description contains {' and '.join(map(repr, bad))} (line(s) "
                f"{', '.join(map(str, lines[:5]))}), which YouTube rejects"
            )
        )

    max_tags = int(lim.limit("tags_chars"))
    if tags_length(lecture.tags) > max_tags:
        found.append(
            MetadataError(f"{where}: the tags take {tags_length(lecture.tags)} characters; YouTube allows {max_tags}")
        )
    if any(c in tag for tag in lecture.tags for c in forbidden):
        found.append(MetadataError(f"{where}: a tag contains '<' or '>'"))

    def usable(path: Path) -> bool:
        return path.is_file() and path.stat().st_size > 0

    if usable(lecture.thumbnail):
        max_thumb = int(lim.limit("thumbnail_bytes"))
        if lecture.thumbnail.stat().st_size > max_thumb:
            found.append(MetadataError(f"{where}: the thumbnail is over {max_thumb:,} bytes"))
        else:
            found.extend(MetadataError(f"{where}: {m}") for m in thumbnail_problems(lecture.thumbnail)[0])
    if usable(lecture.video):
        found.extend(MediaError(f"{where}: {m}") for m in video_problems(lecture.video, lecture.duration))
    if usable(lecture.captions):
        if lecture.captions.stat().st_size > int(lim.limit("captions_bytes")):
            found.append(MetadataError(f"{where}: the captions file is over YouTube's size limit"))
        else:
            found.extend(MediaError(f"{where}: {m}") for m in caption_problems(lecture.captions)[0])
    return found


def warnings(lecture: Lecture) -> list[str]:
    """Things worth saying that do not stop publishing."""
    out = []
    if not re.search(r"(?m)^0?0:00\b", lecture.description):
        out.append(
            f"lecture {lecture.id}: the description has no line starting with 0:00, so YouTube will show no chapters"
        )
    if lecture.thumbnail.is_file() and lecture.thumbnail.stat().st_size:
        problems_, size = thumbnail_problems(lecture.thumbnail)
        w, h = THUMBNAIL_RECOMMENDED
        if not problems_ and size and size[0] * h != size[1] * w:
            out.append(f"lecture {lecture.id}: the thumbnail is {size[0]}x{size[1]}, not 16:9; YouTube "
                       f"recommends {w}x{h} and will letterbox it")
    if lecture.captions.is_file() and lecture.captions.stat().st_size:
        problems_, cues = caption_problems(lecture.captions)
        last = max((c.end.total_seconds() for c in cues), default=0.0)
        if not problems_ and last > lecture.duration + DURATION_TOLERANCE_S:
            out.append(f"lecture {lecture.id}: a caption ends at {last:.3f} s, after the video "
                       f"({lecture.duration:.3f} s)")
    return out


def load_selected(media_dir: Path, spec: str) -> tuple[list[Lecture], list[PublishError]]:
    """Load every selected lecture and collect every problem (nothing remote is touched)."""
    lectures: list[Lecture] = []
    errors: list[PublishError] = []
    for path in select(media_dir, spec):
        try:
            lecture = load(path)
        except PublishError as exc:
            errors.append(exc)
            continue
        lectures.append(lecture)
        errors.extend(problems(lecture))
    return lectures, errors
