#!/usr/bin/env python
"""Contact sheets for review: per scene, one PNG grid of frames from the rendered scene video, at each
section's first and last frame and one every few seconds, each tile labelled with its scene time (mm:ss.s,
tenths floored as a player shows them) and, at a section boundary, the section.

    .venv/bin/python scripts/sheet.py --lecture 01 [--quality h30] [--every 5] [--scene Masking]

Writes media/sheets/<quality dir>/<lecture>/<Scene>.png (e.g. media/sheets/1080p30/01-…/Masking.png).
The scene videos and section indexes come from scripts/render.py (scenes/pipeline/media.py says where);
a scene not rendered yet is an error that names the video and the command that renders it (exit 2).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scenes.pipeline import cli  # noqa: E402
from scenes.kit.layout_check import format_time  # noqa: E402
from scenes.pipeline.av_join import ffmpeg_exe  # noqa: E402
from scenes.pipeline.media import SceneOutputs, probe_video, quality as parse_quality, read_sections  # noqa: E402

LABEL_PX = 30  # height of the strip under each tile that carries its time


@dataclass(frozen=True)
class Tile:
    frame: int  # index of the frame in the scene video
    time: float  # its scene time, seconds (frame / fps)
    note: str = ""  # "start: <section>" / "end: <section>" at section boundaries


def plan_tiles(sections: list[dict], fps: Fraction, total_frames: int, every: float) -> list[Tile]:
    """The frames of a sheet, in order: each section's first and last frame (from the section index's
    frame counts) and one every ``every`` seconds (0: none); one tile per frame."""
    notes: dict[int, list[str]] = {}
    start = 0
    for s in sections:
        n = int(s["nb_frames"])
        if n <= 0:
            continue
        notes.setdefault(start, []).append(f"start: {s['name']}")
        notes.setdefault(min(start + n, total_frames) - 1, []).append(f"end: {s['name']}")
        start += n
    if every > 0:
        k = 0
        while (f := round(k * every * fps)) < total_frames:
            notes.setdefault(f, [])
            k += 1
    return [Tile(f, float(f / fps), "; ".join(notes[f])) for f in sorted(notes) if 0 <= f < total_frames]


def grab(video: Path, frame: int, fps: Fraction, width: int):
    """Frame ``frame`` of ``video``, scaled to ``width`` pixels wide, as a Pillow image (ffmpeg decodes from
    the key frame before it: the first frame at or after half a frame before ``frame``; half, because manim's
    concatenated scene files can start their video timestamps a quarter frame early)."""
    from PIL import Image

    ss = max(0.0, float((frame - Fraction(1, 2)) / fps))
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", "-ss", f"{ss:.6f}", "-i", str(video), "-frames:v", "1",
           "-vf", f"scale={width}:-2", "-f", "image2pipe", "-vcodec", "png", "-"]
    proc = subprocess.run(cmd, capture_output=True, timeout=120)
    if proc.returncode != 0 or not proc.stdout:
        raise RuntimeError(f"ffmpeg could not read frame {frame} of {video}: {proc.stderr.decode()[-500:]}")
    return Image.open(io.BytesIO(proc.stdout)).convert("RGB")


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def make_sheet(video: Path, sections: list[dict], out: Path, every: float = 5.0, columns: int = 4,
               tile_width: int = 480) -> list[Tile]:
    """Write the contact sheet of ``video`` to ``out`` (PNG); returns its tiles, in reading order."""
    from PIL import Image, ImageDraw

    info = probe_video(video, count_frames=True)
    tiles = plan_tiles(sections, info.fps, info.nb_frames, every)
    if not tiles:
        raise ValueError(f"{video} has no frames")
    tile_h = round(tile_width * info.height / info.width / 2) * 2
    rows = -(-len(tiles) // columns)
    sheet = Image.new("RGB", (columns * tile_width, rows * (tile_h + LABEL_PX)), "#000000")
    draw = ImageDraw.Draw(sheet)
    font, small = _font(20), _font(14)
    for i, tile in enumerate(tiles):
        x, y = (i % columns) * tile_width, (i // columns) * (tile_h + LABEL_PX)
        img = grab(video, tile.frame, info.fps, tile_width)
        sheet.paste(img.crop((0, 0, tile_width, tile_h)), (x, y))
        shown = int(tile.frame * 10 // info.fps) / 10  # tenths floored, as a player shows time
        draw.text((x + 6, y + tile_h + 4), format_time(shown), fill="#FFFFFF", font=font)
        if tile.note:
            draw.text((x + 92, y + tile_h + 8), tile.note[:60], fill="#FFD43B", font=small)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.png")
    sheet.save(tmp)
    tmp.replace(out)
    return tiles


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/sheet.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--lecture", default="ready", help="'ready' (default), 'all', or ids: 01 | 1 | 01,03")
    ap.add_argument("--quality", default="h30", help="the quality the scenes were rendered at (default h30)")
    ap.add_argument("--every", type=float, default=5.0, help="seconds between tiles besides the section "
                    "boundaries (default 5; 0: boundaries only)")
    ap.add_argument("--scene", action="append", default=[], help="only this scene class (repeatable)")
    ap.add_argument("--columns", type=int, default=4)
    ap.add_argument("--tile-width", type=int, default=480, help="pixels (default 480)")
    ap.add_argument("--media-dir", type=Path, help="default: <repo>/media")
    ap.add_argument("--manifest", help="course object, 'module:ATTR' or 'file.py:ATTR' (default scenes.course:COURSE)")
    args = ap.parse_args(argv)
    if args.every < 0 or args.columns < 1 or args.tile_width < 16:
        ap.error("--every must be >= 0, --columns >= 1, --tile-width >= 16")
    course, lectures = cli.course_and_lectures(ap, args.manifest, args.lecture)
    try:
        q = parse_quality(args.quality)
    except ValueError as exc:
        ap.error(f"--quality: {exc}")
    media = Path(args.media_dir or course.root / "media").resolve()
    todo = [(lec, sc) for lec in lectures for sc in lec.scenes if not args.scene or sc.scene in args.scene]
    if not todo:
        print(f"sheet: no scene matches (lecture {args.lecture!r}, scene {args.scene or 'any'})", file=sys.stderr)
        return 2
    missing = 0
    for lec, sc in todo:
        outs = SceneOutputs(media, sc.module_name, sc.scene, q)
        if not outs.mp4.exists() or not outs.sections_json.exists():
            missing += 1
            absent = outs.mp4 if not outs.mp4.exists() else outs.sections_json
            print(f"sheet: L{lec.id} {sc.scene}: no {absent}; render it with\n  .venv/bin/python scripts/render.py "
                  f"--lecture {lec.id} --only {sc.scene} --quality {q.key}", file=sys.stderr)
            continue
        out = media / "sheets" / q.dirname / lec.stem / f"{sc.scene}.png"
        tiles = make_sheet(outs.mp4, read_sections(outs.sections_json), out, args.every, args.columns,
                           args.tile_width)
        print(f"L{lec.id} {sc.scene}: {len(tiles)} tiles, {format_time(tiles[-1].time)} -> {out}", flush=True)
    return 2 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
