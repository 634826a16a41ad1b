"""The lecture thumbnail: 1280×720 PNG, lecture number and title in the theme's colours (Pillow)."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from scenes.pipeline import atomic

SIZE = (1280, 720)

try:
    from scenes.kit.theme import COLORS, FONTS

    PALETTE = {"bg": COLORS.BACKGROUND, "text": COLORS.TEXT, "muted": COLORS.MUTED, "accent": COLORS.ACCENT,
               "panel": COLORS.PANEL, "grid": COLORS.GRID, "q": COLORS.Q, "k": COLORS.K, "v": COLORS.V}
    FONT_FAMILY = FONTS.BODY
except ImportError:  # mirrors scenes/kit/theme.py
    PALETTE = {"bg": "#0F1117", "text": "#E8EAED", "muted": "#8B93A7", "accent": "#FF922B", "panel": "#1A1E29",
               "grid": "#3A4152", "q": "#FFD43B", "k": "#3BC9DB", "v": "#FF6B6B"}
    FONT_FAMILY = "DejaVu Sans"

_FALLBACK_FONTS = {
    True: ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"],
    False: ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"],
}


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
    if p:
        return ImageFont.truetype(p, size)
    return ImageFont.load_default(size)


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


def render(lecture_id: str, title: str, course_title: str) -> Image.Image:
    w, h = SIZE
    img = Image.new("RGB", SIZE, PALETTE["bg"])
    d = ImageDraw.Draw(img)
    margin = 80

    # motif on the right: a causal mask (query rows, key columns; lower triangle may attend)
    n, cell, gap = 6, 44, 6
    gx, gy = w - margin - n * (cell + gap), 70
    for i in range(n):
        for j in range(n):
            x0, y0 = gx + j * (cell + gap), gy + i * (cell + gap)
            color = PALETTE["k"] if j < i else (PALETTE["q"] if j == i else PALETTE["panel"])
            d.rounded_rectangle([x0, y0, x0 + cell, y0 + cell], radius=6, fill=color)

    d.text((margin, 70), course_title.upper(), font=_font(34), fill=PALETTE["muted"])
    d.text((margin, 120), "LECTURE", font=_font(40, bold=True), fill=PALETTE["accent"])
    d.text((margin - 6, 160), lecture_id, font=_font(190, bold=True), fill=PALETTE["accent"])

    text_w = w - 2 * margin
    for size in (96, 88, 80, 72, 64, 56):
        f = _font(size, bold=True)
        lines = _wrap(d, title, f, text_w)
        if len(lines) <= 2 and all(d.textlength(ln, font=f) <= text_w for ln in lines):
            break
    y = 420 if len(lines) <= 2 else 390
    for ln in lines[:3]:
        d.text((margin, y), ln, font=f, fill=PALETTE["text"])
        y += int(size * 1.12)

    bar_y = h - 48
    for k, c in enumerate(("q", "k", "v")):
        d.rectangle([margin + k * 150, bar_y, margin + k * 150 + 130, bar_y + 10], fill=PALETTE[c])
    return img


def write(path: Path, lecture_id: str, title: str, course_title: str) -> Path:
    img = render(lecture_id, title, course_title)
    with atomic.atomic_path(path) as tmp:
        img.save(tmp, format="PNG", optimize=True)
    return Path(path)
