"""Lecture metadata for YouTube: title (≤ 100 characters), description (≤ 5000 bytes UTF-8, with
chapters, references and the narration voice), tags (≤ 500 characters as YouTube counts them),
no '<' or '>' anywhere (YouTube rejects them)."""

from __future__ import annotations

from pathlib import Path

from scenes.course import Course, Lecture
from scenes.kit.notebook import notebook_path

TITLE_MAX_CHARS = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX_CHARS = 500
FORBIDDEN = "<>"


def sanitize(text: str) -> str:
    return text.replace("<", "‹").replace(">", "›")


def video_title(course: Course, lec: Lecture) -> str:
    t = sanitize(f"{lec.title} | {course.title} {lec.id}")
    if len(t) > TITLE_MAX_CHARS:
        t = sanitize(lec.title)[:TITLE_MAX_CHARS - 1].rstrip() + "…"
    return t


def voice_line(voice: dict | None) -> str:
    if not voice:
        return "Narration: synthetic voice (offline text-to-speech)."
    engine = str(voice.get("engine") or voice.get("mode") or "unknown")
    name = voice.get("voice")
    if engine == "silent":
        return "Narration: none (silent preview render)."
    who = f"{engine} ({name})" if name and name != "none" else engine
    return f"Narration: synthetic voice, {who}, offline text-to-speech. Captions are the narration script."


def tags_length(tags: list[str]) -> int:
    """Characters YouTube counts: a tag containing a space counts its quotes, plus the commas."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


def video_tags(lec: Lecture) -> list[str]:
    out: list[str] = []
    for t in (*lec.tags, f"lecture {int(lec.id)}"):
        t = sanitize(t).strip()
        if t and t.lower() not in {x.lower() for x in out} and tags_length([*out, t]) <= TAGS_MAX_CHARS:
            out.append(t)
    return out


def description(course: Course, lec: Lecture, chapter_lines: list[str], voice: dict | None) -> str:
    """The description, shortened to fit 5000 bytes: references are dropped from the end first
    (with a note), then the summary is cut; the chapters are never cut."""
    n = len(course.lectures)
    head = [
        sanitize(f"{course.title}, lecture {lec.id} of {n:02d}: {lec.title}."),
        "",
        sanitize(lec.description),
    ]
    chapters = (["", "Chapters"] + [sanitize(ln) for ln in chapter_lines]) if chapter_lines else []
    refs = [sanitize("- " + r.text()) for r in lec.references]
    notebook = notebook_path(lec)
    tail = [
        "",
        *([f"Recompute every number on screen: the notebook {notebook} in the repository."]
          if (Path(course.root) / notebook).is_file() else []),
        voice_line(voice),
        "Every number, heat-map cell and chart on screen is computed at render time by attn_ref, "
        "the course's tested reference implementations; figures quoted from papers are shown as citations.",
    ]

    def build(refs_kept: list[str], dropped: int, head_lines: list[str]) -> str:
        ref_block = (["", "References", *refs_kept]) if refs_kept or dropped else []
        if dropped:
            ref_block.append(f"(and {dropped} more in the lecture's references card)")
        return "\n".join(head_lines + chapters + ref_block + tail).strip() + "\n"

    kept = list(refs)
    text = build(kept, 0, head)
    while len(text.encode("utf-8")) > DESCRIPTION_MAX_BYTES and kept:
        kept.pop()
        text = build(kept, len(refs) - len(kept), head)
    if len(text.encode("utf-8")) > DESCRIPTION_MAX_BYTES:
        over = len(text.encode("utf-8")) - DESCRIPTION_MAX_BYTES
        summary = head[2].encode("utf-8")[: max(0, len(head[2].encode("utf-8")) - over - 4)]
        head = [*head[:2], summary.decode("utf-8", "ignore").rstrip() + "…"]
        text = build(kept, len(refs) - len(kept), head)
    if len(text.encode("utf-8")) > DESCRIPTION_MAX_BYTES:  # only chapters left: cut hard, keep valid UTF-8
        text = text.encode("utf-8")[:DESCRIPTION_MAX_BYTES].decode("utf-8", "ignore")
    return text


def problems(meta: dict) -> list[str]:
    """Limit violations in a metadata dict (empty list when publishable)."""
    out = []
    if len(meta["title"]) > TITLE_MAX_CHARS:
        out.append(f"title has {len(meta['title'])} characters (> {TITLE_MAX_CHARS})")
    size = len(meta["description"].encode("utf-8"))
    if size > DESCRIPTION_MAX_BYTES:
        out.append(f"description is {size} bytes (> {DESCRIPTION_MAX_BYTES})")
    for key in ("title", "description"):
        if any(c in meta[key] for c in FORBIDDEN):
            out.append(f"{key} contains '<' or '>'")
    if any(c in t for t in meta["tags"] for c in FORBIDDEN):
        out.append("a tag contains '<' or '>'")
    if tags_length(meta["tags"]) > TAGS_MAX_CHARS:
        out.append(f"tags take {tags_length(meta['tags'])} characters (> {TAGS_MAX_CHARS})")
    return out
