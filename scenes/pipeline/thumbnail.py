"""The lecture thumbnail: 1280×720 PNG, the lecture's most telling real frame with its title over it.

The lecture names the frame in the manifest (``Lecture.thumbnail = (scene class, seconds into that
scene)``); :func:`grab_frame` takes it from the scene's rendered video with moviepy, and
:func:`compose` scales it to 1280×720, darkens a band along the bottom and sets the lecture number and
title there in large bold type (legible at YouTube's smallest thumbnail sizes). Without a frame
(none named, or the scene's video not rendered) the title stands on the theme's background and the
caller is told why.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from scenes.pipeline import atomic

SIZE = (1280, 720)
MARGIN = 56
TITLE_SIZES = (120, 112, 104, 96, 88, 80, 72)  # px, largest first (at YouTube's 168×94, 96 px is ~13 px)
ONE_LINE_MIN = 72  # px: a title that fits one line at this size or larger keeps to one line
TWO_LINES_MAX = 96  # px: two lines no larger, so the frame keeps over half the height
TAG_SIZE = 44

try:
    from scenes.kit.theme import COLORS, FONTS

    PALETTE = {"bg": COLORS.BACKGROUND, "text": COLORS.TEXT, "muted": COLORS.MUTED, "accent": COLORS.ACCENT,
               "q": COLORS.Q, "k": COLORS.K, "v": COLORS.V}
    FONT_FAMILY = FONTS.BODY
except ImportError:  # mirrors scenes/kit/theme.py
    PALETTE = {"bg": "#0F1117", "text": "#E8EAED", "muted": "#8B93A7", "accent": "#FF922B",
               "q": "#FFD43B", "k": "#3BC9DB", "v": "#FF6B6B"}
    FONT_FAMILY = "DejaVu Sans"

_FALLBACK_FONTS = {
    True: ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"],
    False: ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"],
}


class ThumbnailError(ValueError):
    """The named frame cannot be taken (e.g. its time lies beyond the video)."""


@lru_cache(maxsize=4)
def font_path(bold: bool) -> str | None:
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}", f"{FONT_FAMILY}:{'bold' if bold else 'regular'}"],
                                 capture_output=True, text=True, timeout=10).stdout.strip()
            if out and Path(out).exists():
                return out
        except (OSError, subprocess.SubprocessError):
            pass
    for p in _FALLBACK_FONTS[bold]:
        if Path(p).exists():
            return p
    return None


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    p = font_path(bold)
    return ImageFont.truetype(p, size) if p else ImageFont.load_default(size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, max_width: int) -> list[str]:
    words, lines, cur = text.split(), [], ""
    for w in words:
        trial = f"{cur} {w}".strip()
        if draw.textlength(trial, font=font) <= max_width or not cur:
            cur = trial
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    return lines


def grab_frame(video: str | Path, t: float) -> Image.Image:
    """The frame shown ``t`` seconds into ``video`` (moviepy), as an RGB image."""
    from moviepy import VideoFileClip

    video = Path(video)
    if not video.is_file():
        raise FileNotFoundError(f"{video}: no rendered video to take the thumbnail frame from")
    with VideoFileClip(str(video), audio=False) as clip:
        duration = float(clip.duration)
        if not 0 <= t < duration:
            raise ThumbnailError(f"{video.name}: the thumbnail frame at {t:g} s lies outside the video "
                                 f"(0 to {duration:.2f} s); pick a time inside the scene")
        frame = clip.get_frame(t)
    return Image.fromarray(np.asarray(frame, dtype=np.uint8)).convert("RGB")


def _background(frame: Image.Image) -> tuple[int, int, int]:
    """The median colour of the frame's edge pixels."""
    px = np.asarray(frame.convert("RGB"))
    edge = np.concatenate([px[[0, -1]].reshape(-1, 3), px[:, [0, -1]].reshape(-1, 3)])
    return tuple(int(v) for v in np.median(edge, axis=0))


def _content(frame: Image.Image, pad: int = 12) -> Image.Image:
    """``frame`` cropped to what differs from its background (the median of its edge pixels), plus
    ``pad`` px, so the drawing, not the empty border, fills the thumbnail."""
    rgb = frame.convert("RGB")
    ink = np.abs(np.asarray(rgb, dtype=np.int16) - np.array(_background(rgb))).max(axis=2) > 24
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return rgb
    box = (max(0, cols[0] - pad), max(0, rows[0] - pad), min(rgb.width, cols[-1] + 1 + pad),
           min(rgb.height, rows[-1] + 1 + pad))
    return rgb.crop(box)


def _title_layout(draw: ImageDraw.ImageDraw, title: str, width: int) -> tuple[int, list[str]]:
    """The largest size at which the title fits ``width``: one line if it can be at least
    ``ONE_LINE_MIN`` px, else up to two lines."""
    for size in TITLE_SIZES:
        if size >= ONE_LINE_MIN and draw.textlength(title, font=_font(size, bold=True)) <= width:
            return size, [title]
    for size in (x for x in TITLE_SIZES if x <= TWO_LINES_MAX):
        lines = _wrap(draw, title, _font(size, bold=True), width)
        if len(lines) <= 2 and all(draw.textlength(ln, font=_font(size, bold=True)) <= width for ln in lines):
            return size, lines
    return TITLE_SIZES[-1], _wrap(draw, title, _font(TITLE_SIZES[-1], bold=True), width)[:2]


def compose(frame: Image.Image | None, lecture_id: str, title: str) -> Image.Image:
    """1280×720: "LECTURE n" and the title in large type along the bottom, ``frame`` scaled to fit
    the space above, centred (a manim frame's background is the theme's, so the sides blend in)."""
    w, h = SIZE
    if frame is not None:
        frame = frame.convert("RGB")
        fill = _background(frame)  # the video's own (after yuv420 it is not exactly the theme's)
    else:
        fill = PALETTE["bg"]
    img = Image.new("RGB", SIZE, fill)
    d = ImageDraw.Draw(img)
    size, lines = _title_layout(d, title, w - 2 * MARGIN)
    line_h = round(size * 1.1)
    title_top = h - MARGIN // 2 - line_h * len(lines)
    tag_top = title_top - round(TAG_SIZE * 1.3)
    if frame is not None:
        frame = _content(frame)
        room = tag_top - 16
        scale = min(w / frame.width, room / frame.height)
        shown = frame.convert("RGB").resize((round(frame.width * scale), round(frame.height * scale)), Image.LANCZOS)
        img.paste(shown, ((w - shown.width) // 2, 0))
    tag = f"LECTURE {int(lecture_id) if lecture_id.isdigit() else lecture_id}"
    tag_font = _font(TAG_SIZE, bold=True)
    d.text((MARGIN, tag_top), tag, font=tag_font, fill=PALETTE["accent"])
    x = MARGIN + d.textlength(tag + "  ", font=tag_font)
    for k, c in enumerate(("q", "k", "v")):  # the theme's Q, K, V colours as a signature
        x0 = round(x) + k * 52
        y0 = tag_top + round(TAG_SIZE * 0.45)
        d.rectangle([x0, y0, x0 + 40, y0 + 8], fill=PALETTE[c])
    f = _font(size, bold=True)
    for i, ln in enumerate(lines):
        d.text((MARGIN, title_top + i * line_h), ln, font=f, fill=PALETTE["text"])
    return img


def write(path: str | Path, lecture_id: str, title: str, video: str | Path | None = None,
          t: float | None = None) -> str | None:
    """Write the thumbnail (atomically). Returns None, or why no frame is under the title
    (``video`` or ``t`` not given, or the video not rendered); a time outside the video raises."""
    note = None
    frame = None
    if video is None or t is None:
        note = "the lecture names no thumbnail frame (Lecture.thumbnail in scenes/course.py)"
    elif not Path(video).is_file():
        note = f"{video} is not rendered, so the thumbnail has no frame"
    else:
        frame = grab_frame(video, t)
    img = compose(frame, lecture_id, title)
    with atomic.atomic_path(path) as tmp:
        img.save(tmp, format="PNG", optimize=True)
    return note
