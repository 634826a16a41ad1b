#!/usr/bin/env python3
"""Listening check: does the narration voice say what the lecture's text says?

    scripts/check_narration.py --lecture 01 [--scene NAME ...] [--model base] [--json out.json] [--max-wer 0.05]
    scripts/check_narration.py --rescore out.json     # the same figures again from a saved run

For each scene of the lecture, a dry run (no frames) with the Piper voice synthesises every
narration clip the scene speaks (cached in media/voiceovers, so a rerun only makes what changed),
offline Whisper (faster-whisper, int8 on the CPU; the optional ``asr`` extra) transcribes each
clip, and the transcript is compared with the written text: word error rate raw and after
normalising numbers, case, punctuation, acronyms and spelling variants, and the words that came
back wrong (reference → heard). Transcripts are cached in media/listen/ by clip and model.

Exit 0; with ``--max-wer X``, exit 1 when the lecture's normalised word error rate exceeds X.
Run from the repository root (manim reads ./manim.cfg). See docs/narration.md, "Listening check".
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scenes.course import SceneSpec  # noqa: E402
from scenes.pipeline import cli  # noqa: E402
from scenes.pipeline import listen  # noqa: E402


def collect_clips(spec: SceneSpec, root: Path) -> list[dict]:
    """Dry-run one scene with the Piper voice; the clips it speaks, in order:
    ``{"text": written text, "audio": path}``."""
    os.environ["ATTN_VOICE"] = "piper"
    from manim import config, tempconfig
    from manim_voiceover.helper import remove_bookmarks

    from scenes.kit.lecture_scene import LectureScene
    from scenes.kit.narration import NarrationService

    path = spec.path(root).resolve()
    module_name = ".".join(path.relative_to(root).with_suffix("").parts)
    module = importlib.import_module(module_name)
    scene_cls = getattr(module, spec.scene)
    clips: list[dict] = []
    original = NarrationService._wrap_generate_from_text
    check_frame = LectureScene.check_frame

    def recording(self, text, **kwargs):
        data = original(self, text, **kwargs)
        clips.append({"text": remove_bookmarks(" ".join(text.split())),
                      "audio": str(Path(self.cache_dir) / data["final_audio"])})  # fmt: skip
        return data

    NarrationService._wrap_generate_from_text = recording
    LectureScene.check_frame = lambda self: None  # layout is check_layout's business, not this check's
    try:
        settings = {"dry_run": True, "frame_rate": 1, "quality": "low_quality", "verbosity": "WARNING",
                    "from_animation_number": 10 ** 9,  # draw no frame: each play jumps to its end state
                    "progress_bar": "none", "media_dir": str(root / "media")}  # fmt: skip
        with tempconfig(settings), contextlib.redirect_stdout(sys.stderr):
            config.dry_run = True  # quality presets reset it
            scene_cls().render()
    finally:
        NarrationService._wrap_generate_from_text = original
        LectureScene.check_frame = check_frame
    return clips


class TranscriptCache:
    """Transcripts by (audio file name, size, model), in media/listen/transcripts.json."""

    def __init__(self, path: Path, model_key: str) -> None:
        self.path, self.model_key = path, model_key
        self.data: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}

    def key(self, audio: Path) -> str:
        return f"{self.model_key}|{audio.name}|{audio.stat().st_size}"

    def get(self, audio: Path) -> str | None:
        return self.data.get(self.key(audio))

    def put(self, audio: Path, text: str) -> None:
        from scenes.pipeline.atomic import atomic_path

        self.data[self.key(audio)] = text
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps(self.data, indent=1, ensure_ascii=False))


def check_scene(spec: SceneSpec, root: Path, model, cache: TranscriptCache) -> dict:
    """Synthesise, transcribe and score one scene."""
    t0 = time.perf_counter()
    clips = collect_clips(spec, root)
    for clip in clips:
        audio = Path(clip["audio"])
        heard = cache.get(audio)
        if heard is None:
            heard = listen.transcribe(model, audio)
            cache.put(audio, heard)
        clip["heard"] = heard
        clip["seconds"] = round(_wav_seconds(audio), 2)
    result = score_scene(spec.scene, clips)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    return result


def score_scene(scene: str, clips: list[dict]) -> dict:
    """Figures of one scene from its clips' written text and transcript (``text``, ``heard``)."""
    raw = listen.Comparison()
    norm = listen.Comparison()
    for clip in clips:
        c_raw = listen.compare(listen.raw_words(clip["text"]), listen.raw_words(clip["heard"]))
        c_norm = listen.compare(listen.normalise(clip["text"]), listen.normalise(clip["heard"]))
        clip["wer_raw"], clip["wer"] = round(c_raw.wer, 4), round(c_norm.wer, 4)
        clip["misses"] = [str(m) for m in c_norm.misses]
        raw, norm = raw + c_raw, norm + c_norm
    return {
        "scene": scene,
        "clips": clips,
        "audio_seconds": round(sum(c.get("seconds", 0.0) for c in clips), 1),
        "words": raw.words,
        "errors_raw": raw.errors,
        "wer_raw": raw.wer,
        "words_normalised": norm.words,
        "errors": norm.errors,
        "wer": norm.wer,
        "misses": [str(m) for m in norm.misses],
    }


def _wav_seconds(path: Path) -> float:
    import wave

    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def _line(name: str, words: int, wer_raw: float, wer: float, extra: str = "") -> str:
    return f"{name:<22} {words:>6} words   raw {wer_raw:6.1%}   normalised {wer:6.1%}{extra}"


def print_scene(r: dict) -> None:
    print(_line(r["scene"], r["words"], r["wer_raw"], r["wer"],
                f"   ({len(r['clips'])} clips, {r['audio_seconds']:.0f} s of audio)"), flush=True)  # fmt: skip
    for miss, n in Counter(r["misses"]).most_common():
        print(f"    {miss}" + (f"  ×{n}" if n > 1 else ""))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lecture", help="lecture id, e.g. 01")
    ap.add_argument("--scene", action="append", default=[], help="only this scene class (repeatable)")
    ap.add_argument("--model", default="base", help="'base' (the asr extra's weights) or a CTranslate2 model folder")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads for the recogniser (0: its default)")
    ap.add_argument("--json", type=Path, help="write every clip's text, transcript and figures here")
    ap.add_argument("--max-wer", type=float, help="exit 1 when the lecture's normalised WER exceeds this (0.05 = 5%%)")
    ap.add_argument("--manifest", help="course manifest (module:ATTR or file.py:ATTR); default scenes.course")
    ap.add_argument("--rescore", type=Path, help="score the clips of an earlier --json again (no voice, no model)")
    args = ap.parse_args(argv)
    if not args.lecture and not args.rescore:
        ap.error("--lecture is required (or --rescore FILE)")

    if args.rescore:
        saved = json.loads(args.rescore.read_text())
        print(f"Listening check, lecture {saved['lecture']} (re-scored from {args.rescore}): Whisper {saved['model']}")
        results = []
        for old in saved["scenes"]:
            r = score_scene(old["scene"], old["clips"])
            r["audio_seconds"] = r["audio_seconds"] or old.get("audio_seconds", 0.0)
            results.append(r)
            print_scene(r)
        return report(saved["lecture"], saved["model"], results, args)

    course, lectures = cli.course_and_lectures(ap, args.manifest, args.lecture)
    if len(lectures) != 1:
        ap.error(f"--lecture {args.lecture!r}: name one lecture, e.g. 01")
    lec = lectures[0]
    specs = list(lec.scenes)
    if args.scene:
        unknown = sorted(set(args.scene) - {s.scene for s in specs})
        if unknown:
            ap.error(f"no scene {', '.join(unknown)} in lecture {lec.id} (have {', '.join(s.scene for s in specs)})")
        specs = [s for s in specs if s.scene in args.scene]
    if not specs:
        ap.error(f"lecture {lec.id} has no scenes")

    os.chdir(course.root)
    try:
        model = listen.load_whisper(args.model, threads=args.threads)
    except (ImportError, FileNotFoundError) as exc:
        print(f"check_narration: {exc}", file=sys.stderr)
        return 2
    model_dir = listen.whisper_model_dir(args.model)
    cache = TranscriptCache(course.root / "media" / "listen" / "transcripts.json", model_dir.name)

    print(f"Listening check, lecture {lec.id} ({lec.title}): Piper voice, Whisper {model_dir.name} int8, "
          f"{len(specs)} scene(s)", flush=True)  # fmt: skip
    results = []
    for i, spec in enumerate(specs, 1):
        print(f"[{i}/{len(specs)}] {spec.scene}: synthesising and transcribing ...", file=sys.stderr, flush=True)
        r = check_scene(spec, course.root, model, cache)
        results.append(r)
        print_scene(r)
    return report(lec.id, model_dir.name, results, args)


def report(lecture: str, model: str, results: list[dict], args: argparse.Namespace) -> int:
    """Print the lecture total, write ``--json``, apply ``--max-wer``; the exit code."""
    words = sum(r["words"] for r in results)
    words_n = sum(r["words_normalised"] for r in results)
    wer_raw = sum(r["errors_raw"] for r in results) / max(words, 1)
    wer = sum(r["errors"] for r in results) / max(words_n, 1)
    audio = sum(r["audio_seconds"] for r in results)
    print("-" * 78)
    print(_line(f"Lecture {lecture} total", words, wer_raw, wer, f"   ({audio / 60:.1f} min of audio)"))
    if args.json:
        total = {"words": words, "wer_raw": wer_raw, "words_normalised": words_n, "wer": wer, "audio_seconds": audio}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"lecture": lecture, "model": model, "total": total, "scenes": results},
                                        indent=1, ensure_ascii=False))  # fmt: skip
    if args.max_wer is not None and wer > args.max_wer:
        print(f"FAIL: normalised word error rate {wer:.1%} is above --max-wer {args.max_wer:.1%}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
