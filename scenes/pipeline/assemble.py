"""Assemble one lecture: title card + the scenes in manifest order + end card -> one mp4 with one
continuous audio track, plus captions (.srt), chapters, thumbnail and metadata.json.

How sync is kept within one frame from start to end: every segment's exact video frame count is
known (its mp4); segment i starts at frame F_i = sum of the frames before it. The video streams
are joined by stream copy with timestamps shifted by exactly F_i / fps; the audio track is built
as one WAV where each scene's own WAV (written by manim beside its mp4) starts at sample
F_i * rate / fps and is padded or cut to its video length; the track is loudness-normalised
(-14 LUFS, true peak <= -1 dBTP) and encoded to AAC once. No per-file AAC priming or padding
accumulates at the joins.

Outputs (quality h30, the final one; other qualities go to media/lectures/<quality>/):

    media/lectures/<id>-<slug>.mp4
    media/lectures/<id>-<slug>.srt
    media/lectures/<id>-<slug>.chapters.txt
    media/lectures/<id>-<slug>.thumbnail.png
    media/lectures/<id>-<slug>.metadata.json

Every write is atomic, and each step records the fingerprints of its inputs and outputs in
media/lectures/.work/<id>-<slug>-<quality>/state.json: a rerun skips the steps whose outputs are
there and whose inputs did not change, so an interrupted assembly picks up where it stopped.
"""

from __future__ import annotations

import argparse
import math
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import srt

from scenes.course import Course, Lecture, load_course, parse_section_name
from scenes.pipeline import atomic, av_join, captions, chapters, metadata, thumbnail
from scenes.pipeline.media import (
    FINAL_QUALITY,
    Quality,
    SceneOutputs,
    VideoInfo,
    fingerprint,
    hash_obj,
    hash_tree,
    probe_video,
    quality as parse_quality,
    read_sections,
    sha256_file,
)
from scenes.pipeline.render import CARDS_FILE, card_spec

TARGET_LUFS = -14.0
MAX_TRUE_PEAK_DBTP = -1.0
# AAC encoding raises the true peak a little: the limiter aims this far below the ceiling, and the
# decoded AAC of the final mp4 is measured again (metadata "loudness": final_lufs, final_true_peak_dbtp).
CODEC_MARGIN_DB = 1.0
PIPELINE_DIR = Path(__file__).resolve().parent


class AssemblyError(RuntimeError):
    pass


@dataclass
class Segment:
    kind: str  # "title" | "scene" | "end"
    label: str
    outputs: SceneOutputs
    info: VideoInfo
    sections: list[dict]
    first_frame: int = 0

    @property
    def frames(self) -> int:
        return self.info.nb_frames


@dataclass
class LecturePaths:
    out_dir: Path
    stem: str
    work: Path

    @property
    def mp4(self) -> Path:
        return self.out_dir / f"{self.stem}.mp4"

    @property
    def srt(self) -> Path:
        return self.out_dir / f"{self.stem}.srt"

    @property
    def chapters(self) -> Path:
        return self.out_dir / f"{self.stem}.chapters.txt"

    @property
    def thumbnail(self) -> Path:
        return self.out_dir / f"{self.stem}.thumbnail.png"

    @property
    def metadata(self) -> Path:
        return self.out_dir / f"{self.stem}.metadata.json"

    def finals(self) -> list[Path]:
        return [self.mp4, self.srt, self.chapters, self.thumbnail, self.metadata]


@dataclass
class AssemblyResult:
    lecture: Lecture
    paths: LecturePaths
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    metadata: dict = field(default_factory=dict)


def lecture_paths(lec: Lecture, q: Quality, media_dir: Path, out_dir: Path | None = None) -> LecturePaths:
    base = media_dir / "lectures"
    out = Path(out_dir) if out_dir else (base if q.key == FINAL_QUALITY else base / q.dirname)
    return LecturePaths(out, lec.stem, base / ".work" / f"{lec.stem}-{q.dirname}")


# ------------------------------------------------------------------------------------------------
# steps with resumable state
# ------------------------------------------------------------------------------------------------


class Steps:
    """Each step: a key (what its inputs were) and its outputs' fingerprints, in state.json."""

    def __init__(self, state_path: Path, force: bool, log: Callable[[str], None]):
        self.path = state_path
        self.force = force
        self.log = log
        self.state: dict = atomic.read_json(state_path, {}) or {}
        self.ran: list[str] = []
        self.skipped: list[str] = []

    def run(self, name: str, inputs: object, outputs: Sequence[Path], fn: Callable[[], object]) -> object:
        key = hash_obj(inputs)
        rec = self.state.get(name) or {}
        current = {str(p): fingerprint(p) for p in outputs}
        if (not self.force and rec.get("key") == key and rec.get("outputs") == current
                and all(p.exists() for p in outputs)):
            self.skipped.append(name)
            return rec.get("result")
        t0 = time.monotonic()
        result = fn()
        self.state[name] = {"key": key, "outputs": {str(p): fingerprint(p) for p in outputs},
                            "result": result, "seconds": round(time.monotonic() - t0, 3)}
        atomic.write_json(self.path, self.state)
        self.ran.append(name)
        self.log(f"  {name}: {time.monotonic() - t0:.1f} s")
        return result


# ------------------------------------------------------------------------------------------------
# gathering
# ------------------------------------------------------------------------------------------------


def render_command(lec: Lecture, q: Quality, scenes: Sequence[str], manifest: str | None = None,
                   media_dir: Path | None = None) -> str:
    """The scripts/render.py command that renders ``scenes`` of ``lec`` again ('title'/'end' for cards),
    with the --manifest and --media-dir this run was given."""
    cmd = ["scripts/render.py", "--lecture", lec.id, "--quality", q.key]
    for name in scenes:
        cmd += ["--only", name]
    if manifest:
        cmd += ["--manifest", manifest]
    if media_dir is not None:
        cmd += ["--media-dir", str(media_dir)]
    return shlex.join(cmd)


_WHAT = {"mp4": "video", "wav": "audio", "srt": "captions", "sections_json": "sections index"}


def _layout_key(path: str | Path) -> str:
    """A rendered file's place under its media folder's video dir (<quality>/<Scene>.wav or
    sections/<Scene>.json): stamps hold absolute paths, and a media folder may have moved since."""
    return "/".join(Path(path).parts[-2:])


def render_problems(o: SceneOutputs) -> list[str]:
    """How a segment's files differ from what its render recorded in its stamp: each file the render
    wrote must be there with the same size and content (SHA-256; skipped when size and mtime are
    unchanged), no other file may have appeared, and the captions must parse. Empty when all match."""
    missing = [f"its {_WHAT[a]} {getattr(o, a)} is missing" for a in ("mp4", "sections_json")
               if not getattr(o, a).exists()]
    if missing:
        return [f"not rendered at {o.quality.key} ({o.quality.dirname}): " + "; ".join(missing)]
    st = atomic.read_json(o.stamp, None)
    if not isinstance(st, dict) or not isinstance(st.get("outputs"), dict):
        return [f"its render stamp {o.stamp} is missing or unreadable, so its files cannot be checked "
                "(the render did not finish, or they were not written by scripts/render.py)"]
    recorded = {_layout_key(k): v for k, v in st["outputs"].items() if isinstance(v, list) and len(v) == 3}
    hashes = {_layout_key(k): v for k, v in (st.get("sha256") or {}).items()}
    problems = []
    for attr, what in _WHAT.items():
        path: Path = getattr(o, attr)
        rec = recorded.get(_layout_key(path))
        now = fingerprint(path)
        if rec is None:
            if now[1] is not None:
                problems.append(f"its {what} {path} was not written by its render (the stamp does not list it)")
            continue
        if now[1] is None:
            problems.append(f"its {what} {path} is missing (the render wrote {rec[1]:,} bytes)")
        elif now[1] != rec[1]:
            problems.append(f"its {what} {path} has {now[1]:,} bytes where the render wrote {rec[1]:,} "
                            "(truncated or replaced)")
        elif now[2] != rec[2] and _layout_key(path) in hashes and sha256_file(path) != hashes[_layout_key(path)]:
            problems.append(f"its {what} {path} is not the file the render wrote (same size, other content)")
    if not problems and o.srt.exists():
        try:
            captions.read_srt(o.srt)
        except (srt.SRTParseError, UnicodeDecodeError, ValueError) as exc:
            problems.append(f"its captions {o.srt} do not parse as SRT: {str(exc)[:160]}")
    if not problems and isinstance(st.get("frames"), int):
        try:
            n = probe_video(o.mp4).nb_frames
        except Exception as exc:  # PyAV raises many kinds for a damaged file
            problems.append(f"its video {o.mp4} cannot be read: {exc}")
        else:
            if n != st["frames"]:
                problems.append(f"its video {o.mp4} has {n} frames where the render recorded {st['frames']}")
    return problems


def gather(course: Course, lec: Lecture, q: Quality, media_dir: Path, manifest: str | None = None,
           media_dir_arg: Path | None = None) -> list[Segment]:
    """The lecture's segments in order, each checked against its render stamp (``render_problems``);
    any mismatch is an AssemblyError naming the scenes and the render command that mends them."""
    wanted: list[tuple[str, str, SceneOutputs]] = []
    cards = {k: card_spec(course, lec, k)["scene_name"] for k in ("title", "end") if k in lec.cards}
    if "title" in cards:
        wanted.append(("title", f"{CARDS_FILE.name}:{cards['title']}",
                       SceneOutputs(media_dir, CARDS_FILE.stem, cards["title"], q)))
    for sc in lec.scenes:
        wanted.append(("scene", f"{sc.module}:{sc.scene}", SceneOutputs(media_dir, sc.module_name, sc.scene, q)))
    if "end" in cards:
        wanted.append(("end", f"{CARDS_FILE.name}:{cards['end']}",
                       SceneOutputs(media_dir, CARDS_FILE.stem, cards["end"], q)))

    bad = [(kind, label, o, found) for kind, label, o in wanted if (found := render_problems(o))]
    if bad:
        lines = [f"{len(bad)} segment(s) of lecture {lec.id} differ from what their render recorded; "
                 "nothing was assembled:"]
        for _kind, label, o, found in bad:
            lines += [f"  {o.scene} ({label}): {x}" for x in found]
        names = [o.scene if kind == "scene" else kind for kind, _, o, _ in bad]
        lines.append("  run: " + render_command(lec, q, names, manifest, media_dir_arg))
        raise AssemblyError("\n".join(lines))
    segs: list[Segment] = []
    frame = 0
    for kind, label, o in wanted:
        info = probe_video(o.mp4)
        seg = Segment(kind, label, o, info, read_sections(o.sections_json), frame)
        frame += seg.frames
        segs.append(seg)
    ref = segs[0].info
    for s in segs:
        if (s.info.width, s.info.height, s.info.fps, s.info.codec, s.info.pix_fmt) != \
                (ref.width, ref.height, ref.fps, ref.codec, ref.pix_fmt):
            raise AssemblyError(
                f"{s.label}: {s.info.width}x{s.info.height}@{s.info.fps} {s.info.codec}/{s.info.pix_fmt} "
                f"differs from {segs[0].label}: {ref.width}x{ref.height}@{ref.fps} {ref.codec}/{ref.pix_fmt}")
        if s.info.extradata_sha != ref.extradata_sha:
            raise AssemblyError(
                f"{s.label}: its h264 parameter sets differ from {segs[0].label}'s, so the streams cannot be "
                "joined by stream copy; render every scene with the same manim settings")
    return segs


def thumbnail_source(lec: Lecture, segs: list[Segment]) -> tuple[Path | None, float | None]:
    """The rendered video and time of the frame ``lec.thumbnail`` names; (None, None) when it names none."""
    if lec.thumbnail is None:
        return None, None
    scene, t = lec.thumbnail
    for s in segs:
        if s.kind == "scene" and s.outputs.scene == scene:
            return s.outputs.mp4, float(t)
    raise AssemblyError(f"lecture {lec.id}: its thumbnail names scene {scene!r}, which is not one of its scenes "
                        f"({', '.join(sc.scene for sc in lec.scenes)})")


def timed_sections(segs: list[Segment]) -> list[chapters.TimedSection]:
    out = []
    for s in segs:
        fps = s.info.fps
        frame = s.first_frame
        secs = s.sections
        total = sum(x["nb_frames"] for x in secs)
        for x in secs:
            n = x["nb_frames"]
            out.append(chapters.TimedSection(x["name"], Fraction(frame) / fps, Fraction(n) / fps,
                                             "scene" if s.kind == "scene" else "card", s.label))
            frame += n
        if total != s.frames:  # sections index and movie disagree: trust the movie for the next offset
            out[-1].duration += Fraction(s.frames - total) / fps
    return out


def voice_of(segs: list[Segment]) -> dict | None:
    voices = []
    for s in segs:
        if s.kind != "scene":
            continue
        st = atomic.read_json(s.outputs.stamp, {}) or {}
        v = (st.get("inputs") or {}).get("voice")
        if v and v not in voices:
            voices.append(v)
    if not voices:
        return None
    if len(voices) > 1:
        return {**voices[0], "note": "scenes were rendered with different voices", "all": voices}
    return voices[0]


LOUDNESS_TOLERANCE_LU = 0.5  # the finished mp4's decoded AAC must be within this of TARGET_LUFS


def _final_loudness(mp4: Path, loud: dict | None = None) -> dict:
    """Loudness and true peak of the finished mp4's decoded AAC track (what YouTube measures): only
    the audio stream is decoded, into memory. A normalised track that misses -14 LUFS +- 0.5 or
    goes over -1 dBTP after encoding is an AssemblyError."""
    try:
        from scenes.pipeline import loudness
    except ImportError as exc:
        return {"final_measured": False, "reason": str(exc)}
    y = loudness.decode_audio(mp4, av_join.MASTER_RATE)
    m = loudness.measure(y, av_join.MASTER_RATE)
    out = {"final_lufs": m["integrated_lufs"], "final_true_peak_dbtp": m["true_peak_dbtp"],
           "final_channels_identical": m["channels_identical"]}
    if (loud or {}).get("normalized") and math.isfinite(loud.get("output_lufs") or -math.inf):
        bad = []
        if not abs(m["integrated_lufs"] - TARGET_LUFS) <= LOUDNESS_TOLERANCE_LU:
            bad.append(f"{m['integrated_lufs']:.2f} LUFS (target {TARGET_LUFS} +- {LOUDNESS_TOLERANCE_LU})")
        if not m["true_peak_dbtp"] <= MAX_TRUE_PEAK_DBTP:
            bad.append(f"true peak {m['true_peak_dbtp']:.2f} dBTP (limit {MAX_TRUE_PEAK_DBTP})")
        if bad:
            raise AssemblyError(f"{mp4}: its AAC track measures {' and '.join(bad)}")
    return out


def _loudness(raw: Path, out: Path) -> dict:
    """Measure the mixed track once and normalise it once (scenes/pipeline/loudness.py)."""
    try:
        from scenes.pipeline import loudness
    except ImportError as exc:
        # HOOK: scenes/pipeline/loudness.normalize_file is the loudness stage; without it the track
        # goes out as built (reported in metadata.json under "loudness").
        atomic.write_bytes(out, raw.read_bytes())
        return {"normalized": False, "reason": f"scenes.pipeline.loudness unavailable: {exc}"}
    report = loudness.normalize_file(raw, out, TARGET_LUFS, MAX_TRUE_PEAK_DBTP - CODEC_MARGIN_DB)
    report = {k: (v if not isinstance(v, float) or (v == v and abs(v) != float("inf")) else None)
              for k, v in dict(report or {}).items()}
    return {"normalized": report.get("output_lufs") is not None, "target_lufs": TARGET_LUFS,
            "max_true_peak_dbtp": MAX_TRUE_PEAK_DBTP, **report}


# ------------------------------------------------------------------------------------------------
# assembly
# ------------------------------------------------------------------------------------------------


def assemble(course: Course, lecture: str | Lecture, quality: str = "h30", media_dir: Path | None = None,
             out_dir: Path | None = None, force: bool = False,
             log: Callable[[str], None] = print, manifest: str | None = None) -> AssemblyResult:
    """Assemble ``lecture`` from its rendered segments (see the module docstring). ``manifest`` is only
    named in the render command a refusal prints, with ``media_dir`` when it is not the default."""
    t_start = time.monotonic()
    lec = lecture if isinstance(lecture, Lecture) else course.lecture(lecture)
    q = parse_quality(quality)
    default_media = (course.root / "media").resolve()
    media_dir = Path(media_dir or default_media).resolve()
    paths = lecture_paths(lec, q, media_dir, out_dir)
    if not lec.scenes:
        raise AssemblyError(f"lecture {lec.id} has no scenes in the manifest")

    segs = gather(course, lec, q, media_dir, manifest, None if media_dir == default_media else media_dir)
    paths.work.mkdir(parents=True, exist_ok=True)  # only once every segment checked out
    paths.out_dir.mkdir(parents=True, exist_ok=True)
    atomic.clean_partials(paths.work)
    atomic.clean_partials(paths.out_dir)
    fps = segs[0].info.fps
    total_frames = segs[-1].first_frame + segs[-1].frames
    total = Fraction(total_frames) / fps
    steps = Steps(paths.work / "state.json", force, log)
    log(f"assemble L{lec.id} {q.dirname}: {len(segs)} segments, {total_frames} frames, {float(total):.2f} s")

    # 1. video: stream copy
    video = paths.work / "video.mp4"
    steps.run("video", [fingerprint(s.outputs.mp4) for s in segs], [video],
              lambda: av_join.concat_video([s.outputs.mp4 for s in segs], [s.frames for s in segs], fps, video)
              or {"frames": total_frames})

    # 2. one continuous audio track at exact frame offsets
    raw = paths.work / "audio_raw.wav"
    parts = [(s.outputs.wav if s.outputs.wav.exists() else None, s.first_frame, s.frames) for s in segs]
    steps.run("audio", [[fingerprint(p) if p else None, a, n] for p, a, n in parts] + [str(fps), av_join.MASTER_RATE],
              [raw], lambda: av_join.build_audio(parts, fps, raw))

    # 3. loudness
    norm = paths.work / "audio_norm.wav"
    loud = steps.run("loudness", [fingerprint(raw), hash_tree(course.root / "scenes/kit/audio.py"),
                                  hash_tree(PIPELINE_DIR / "loudness.py"), TARGET_LUFS, MAX_TRUE_PEAK_DBTP],
                     [norm], lambda: _loudness(raw, norm))

    # 4. mux: video copied, AAC encoded once
    title = metadata.video_title(course, lec)
    steps.run("mux", [fingerprint(video), fingerprint(norm), av_join.AAC_BITRATE, av_join.AAC_OPTIONS, title],
              [paths.mp4], lambda: av_join.mux(video, norm, paths.mp4, title) or verify(paths.mp4, total_frames, fps))

    final_loud = steps.run("final_loudness", [fingerprint(paths.mp4), hash_tree(PIPELINE_DIR / "loudness.py"),
                                              TARGET_LUFS, LOUDNESS_TOLERANCE_LU, MAX_TRUE_PEAK_DBTP],
                           [paths.mp4], lambda: _final_loudness(paths.mp4, loud))
    loud = {**(loud or {}), **(final_loud or {})}

    # 5. captions
    cap_parts = [(s.outputs.srt if s.outputs.srt.exists() else None, Fraction(s.first_frame) / fps,
                  Fraction(s.frames) / fps) for s in segs]

    def write_captions() -> dict:
        subs = captions.merge(cap_parts)
        atomic.write_text(paths.srt, captions.compose(subs))
        return {"cues": len(subs)}

    steps.run("captions", [captions.CUT, *([fingerprint(p) if p else None, str(o), str(d)] for p, o, d in cap_parts)],
              [paths.srt], write_captions)

    # 6. thumbnail: the frame the lecture names, under its title
    frame_video, frame_t = thumbnail_source(lec, segs)

    def write_thumbnail() -> dict:
        note = thumbnail.write(paths.thumbnail, lec.id, lec.title, frame_video, frame_t)
        if note:
            log(f"  note: thumbnail without a frame: {note}")
        return {"frame": [str(frame_video), frame_t] if frame_video else None, "note": note}

    steps.run("thumbnail", [lec.id, lec.title, lec.thumbnail, fingerprint(frame_video) if frame_video else None,
                            hash_tree(PIPELINE_DIR / "thumbnail.py"), hash_tree(course.root / "scenes/kit/theme.py")],
              [paths.thumbnail], write_thumbnail)

    # 7. chapters + metadata
    tsecs = timed_sections(segs)
    chs = chapters.build(tsecs, total)
    lines = chapters.format_lines(chs, total)
    voice = voice_of(segs)
    final_info = probe_video(paths.mp4)

    def write_meta() -> None:
        atomic.write_text(paths.chapters, "\n".join(lines) + ("\n" if lines else ""))
        atomic.write_json(paths.metadata, build_metadata(course, lec, q, segs, tsecs, chs, lines, total,
                                                         total_frames, voice, loud, paths, final_info))

    steps.run("metadata", [[[str(x.start), str(x.duration), x.name, x.kind] for x in tsecs], lines, voice, loud,
                           repr(lec), course.title, len(course.lectures), fingerprint(paths.mp4),
                           fingerprint(paths.srt), fingerprint(paths.thumbnail),
                           hash_tree(PIPELINE_DIR / "metadata.py")],
              [paths.chapters, paths.metadata], write_meta)

    meta = atomic.read_json(paths.metadata, {})
    problems = metadata.problems(meta) + (chapters.check_lines(lines, float(total)) if lines else [])
    if problems:
        raise AssemblyError(f"lecture {lec.id}: metadata over YouTube's limits: {'; '.join(problems)}")
    res = AssemblyResult(lec, paths, steps.ran, steps.skipped, time.monotonic() - t_start, meta)
    log(f"  -> {paths.mp4} ({float(total):.1f} s; ran {', '.join(steps.ran) or 'nothing'}"
        f"{'; up to date: ' + ', '.join(steps.skipped) if steps.skipped else ''}) in {res.seconds:.1f} s")
    if not chs:
        log(f"  note: lecture {lec.id} has no chapters (needs >= 3 sections of >= 10 s)")
    return res


def verify(mp4: Path, frames: int, fps: Fraction) -> dict:
    """Check the muxed file: all frames there, audio as long as the video within one frame."""
    import av

    info = probe_video(mp4)
    if info.nb_frames != frames:
        raise AssemblyError(f"{mp4}: {info.nb_frames} video frames, expected {frames}")
    with av.open(str(mp4)) as c:
        a = c.streams.audio[0]
        v = c.streams.video[0]
        adur = float(a.duration * a.time_base) if a.duration else None
        vdur = float(v.duration * v.time_base) if v.duration else float(frames / fps)
    if adur is not None and abs(adur - vdur) > float(1 / fps):
        raise AssemblyError(f"{mp4}: audio lasts {adur:.3f} s, video {vdur:.3f} s (more than a frame apart)")
    return {"frames": frames, "video_s": vdur, "audio_s": adur}


def build_metadata(course: Course, lec: Lecture, q: Quality, segs: list[Segment],
                   tsecs: list[chapters.TimedSection], chs: list[chapters.Chapter], lines: list[str],
                   total: Fraction, total_frames: int, voice: dict | None, loud: dict | None,
                   paths: LecturePaths, final_info: VideoInfo) -> dict:
    from importlib import metadata as im

    def ver(name: str) -> str | None:
        try:
            return im.version(name)
        except im.PackageNotFoundError:
            return None

    sections = []
    for s in tsecs:
        ids, _title = parse_section_name(s.name)
        sections.append({"name": s.name, "topic_ids": list(ids), "title": chapters.display_title(s.name),
                         "segment": s.scene, "kind": s.kind, "start": round(float(s.start), 3),
                         "duration": round(float(s.duration), 3),
                         "start_frame": round(s.start * segs[0].info.fps),
                         "frames": round(s.duration * segs[0].info.fps)})
    return {
        "schema": 1,
        "id": lec.id,
        "slug": lec.slug,
        "lecture_title": lec.title,
        "course": course.title,
        "title": metadata.video_title(course, lec),
        "description": metadata.description(course, lec, lines, voice),
        "tags": metadata.video_tags(lec),
        "category_id": "27",  # Education
        "default_language": "en",
        "video": paths.mp4.name,
        "captions": paths.srt.name,
        "chapters_file": paths.chapters.name,
        "thumbnail": paths.thumbnail.name,
        "duration": round(float(total), 3),
        "frames": total_frames,
        "fps": str(segs[0].info.fps),
        "width": final_info.width,
        "height": final_info.height,
        "quality": q.key,
        "voice": voice,
        "voice_engine": (voice or {}).get("engine"),
        "loudness": loud,
        "chapters": [{"start": c.timestamp_s, "timestamp": ln.split(" ", 1)[0], "title": c.title,
                      "sections": [name for name, _ in c.parts]} for c, ln in zip(chs, lines)],
        "sections": sections,
        "segments": [{"kind": s.kind, "source": s.label, "start": round(float(Fraction(s.first_frame) / s.info.fps), 3),
                      "duration": round(float(s.info.video_duration), 3), "start_frame": s.first_frame,
                      "frames": s.frames} for s in segs],
        "references": [{"cite": r.cite, "title": r.title, "arxiv": r.arxiv, "url": r.url} for r in lec.references],
        "topics": {t: course.topics.get(t, "") for t in lec.topic_ids},
        "tools": {"manim": ver("manim"), "manim-voiceover": ver("manim-voiceover"), "av": ver("av")},
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/assemble.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--lecture", default="ready", help="'ready' (default), 'all', or ids: 01 | 1 | 01,03")
    ap.add_argument("--quality", default="h30", help="the quality the scenes were rendered at (l|m|h|p|k|h30)")
    ap.add_argument("--media-dir", type=Path, help="default: <repo>/media")
    ap.add_argument("--out-dir", type=Path, help="default: media/lectures (h30) or media/lectures/<quality>")
    ap.add_argument("--manifest", help="course object, 'module:ATTR' or 'file.py:ATTR'")
    ap.add_argument("--force", action="store_true", help="redo every step")
    args = ap.parse_args(argv)
    if not args.lecture.strip():
        ap.error("--lecture: give 'ready', 'all' or lecture ids such as 01 or 01,03")
    if args.media_dir is not None and not args.media_dir.is_dir():
        ap.error(f"--media-dir {args.media_dir}: no such directory (render the lectures into it first)")
    try:
        parse_quality(args.quality)
    except ValueError as exc:
        ap.error(f"--quality: {exc}")  # exits 2
    try:
        course = load_course(args.manifest)
    except (OSError, ImportError, AttributeError, TypeError, ValueError, SyntaxError) as exc:
        ap.error(f"--manifest {args.manifest}: cannot load the course: {type(exc).__name__}: {exc}")
    try:
        lectures = course.select(args.lecture)
    except KeyError as exc:
        print(f"assemble: {exc.args[0]}", file=sys.stderr)
        return 2
    lectures = [x for x in lectures if x.scenes]
    if not lectures:
        print(f"assemble: no lecture with scenes matches {args.lecture!r}; nothing to do")
        return 0
    failed = 0
    for lec in lectures:
        try:
            assemble(course, lec, args.quality, args.media_dir, args.out_dir, args.force, manifest=args.manifest)
        except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as exc:
            failed += 1
            print(f"assemble: FAILED lecture {lec.id}: {exc}", file=sys.stderr)
    return 1 if failed else 0
