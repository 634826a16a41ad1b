"""The publish manifest: what is already on YouTube, so a rerun does only what is left.

media/lectures/publish-manifest.json (format 1)::

    {
      "format": 1,
      "playlists": {"Attention in Transformers": "PL..."},      # playlist title -> id
      "lectures": {
        "01": {
          "slug": "attention-fundamentals",
          "video_id": "abc123", "video_sha256": "...",           # the uploaded file
          "metadata_sha256": "...",                             # title/description/tags/... sent
          "privacy": "private",
          "thumbnail_sha256": "...",
          "captions_sha256": "...", "caption_id": "...",
          "playlist_title": "...", "playlist_id": "PL...",
          "playlist_item_id": "...", "playlist_video_id": "abc123",
          "steps": {"video": "<UTC time>", "thumbnail": ..., "captions": ..., "playlist": ...},
          "replaced": [{"video_id": "...", "video_sha256": "...", "replaced_at": "..."}]
        }
      }
    }

A step is done when its hash (or id) matches what is on disk now; ``steps`` records when each was
last completed. The file is rewritten atomically (temporary file + os.replace) after every step.
Unknown keys are kept, so a newer tool's fields survive an older one's rewrite.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from scenes.pipeline import atomic

from .errors import ManifestError

FORMAT = 1
STEPS = ("video", "metadata", "thumbnail", "captions", "playlist")


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


#: the fields of a lecture's record and the JSON types each may have (unknown fields are kept as they are)
RECORD_TYPES: dict[str, tuple[type, ...]] = {
    **{key: (str, type(None)) for key in (
        "slug", "video_id", "video_sha256", "metadata_sha256", "privacy", "thumbnail_sha256", "captions_sha256",
        "caption_id", "playlist_title", "playlist_id", "playlist_item_id", "playlist_video_id")},
    "steps": (dict,),
    "replaced": (list,),
    "upload_session": (dict,),
}


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), f"a {type(value).__name__}")


def structure_problem(data: object) -> str | None:
    """What is malformed in a loaded manifest (naming the entry and field), or None."""
    if not isinstance(data, dict):
        return f"expected a JSON object, found {_kind(data)}"
    fmt = data.get("format", FORMAT)
    if isinstance(fmt, bool) or not isinstance(fmt, int):
        return f"'format' is {_kind(fmt)} ({fmt!r}), expected a whole number"
    playlists = data.get("playlists", {})
    if not isinstance(playlists, dict):
        return f"'playlists' is {_kind(playlists)}, expected an object of title -> playlist id"
    for title, pid in playlists.items():
        if not isinstance(pid, str):
            return f"'playlists' entry {title!r}: its id is {_kind(pid)}, expected a string"
    lectures = data.get("lectures", {})
    if not isinstance(lectures, dict):
        return f"'lectures' is {_kind(lectures)}, expected an object of lecture id -> record"
    for lid, rec in lectures.items():
        if not isinstance(rec, dict):
            return f"lecture {lid!r}: its record is {_kind(rec)}, expected an object"
        for key, types in RECORD_TYPES.items():
            if key in rec and (isinstance(rec[key], bool) or not isinstance(rec[key], types)):
                return f"lecture {lid!r}: {key!r} is {_kind(rec[key])}, expected " + " or ".join(
                    _kind(t()) if t is not type(None) else "null" for t in types)
        for i, old in enumerate(rec.get("replaced", [])):
            if not isinstance(old, dict):
                return f"lecture {lid!r}: 'replaced' entry {i} is {_kind(old)}, expected an object"
    return None


class Manifest:
    def __init__(self, path: Path, data: dict | None = None):
        self.path = Path(path)
        self.data = data if data is not None else {"format": FORMAT, "playlists": {}, "lectures": {}}
        self.data.setdefault("playlists", {})
        self.data.setdefault("lectures", {})

    @classmethod
    def load(cls, path: Path) -> Manifest:
        path = Path(path)
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ManifestError(
                f"publish manifest {path} is not readable JSON ({exc}). It records what is already on "
                "YouTube; repair it, or move it aside to start over (which uploads everything again)"
            ) from None
        problem = structure_problem(data)
        if problem:
            raise ManifestError(
                f"publish manifest {path}: {problem}. It records what is already on YouTube; repair that "
                "entry, or move the file aside to start over (which uploads everything again)"
            )
        if data.get("format", FORMAT) > FORMAT:
            raise ManifestError(
                f"publish manifest {path} has format {data['format']}, newer than this tool ({FORMAT}); update it"
            )
        return cls(path, data)

    # -- access ------------------------------------------------------------------------------------

    def get(self, lecture_id: str) -> dict:
        """The record of a lecture (an empty dict, not stored, when it has none)."""
        return dict(self.data["lectures"].get(lecture_id, {}))

    def record(self, lecture_id: str) -> dict:
        """The stored record of a lecture, created if needed; edit it, then call save()."""
        return self.data["lectures"].setdefault(lecture_id, {})

    def playlist_id(self, title: str) -> str | None:
        return self.data["playlists"].get(title)

    def set_playlist_id(self, title: str, playlist_id: str | None) -> None:
        if playlist_id is None:
            self.data["playlists"].pop(title, None)
        else:
            self.data["playlists"][title] = playlist_id

    def mark(self, lecture_id: str, step: str, **fields) -> None:
        """Record a completed step with its fields, and write the manifest at once."""
        rec = self.record(lecture_id)
        rec.update(fields)
        rec.setdefault("steps", {})[step] = utc_now()
        self.save()

    def save(self) -> None:
        self.data["format"] = FORMAT
        text = json.dumps(self.data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        atomic.write_text(self.path, text)
