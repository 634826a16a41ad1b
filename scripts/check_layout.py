#!/usr/bin/env python
"""Layout check by machine: dry-run every scene of a lecture with the layout observer on
(``scenes/kit/layout_check.py``) and print each finding: overlapping text, content outside the safe
area, text too small at 1080p, with the scene, the scene time and the texts involved.

    .venv/bin/python scripts/check_layout.py --lecture 01 [--scene DotProductAttention] [--jobs 2]

Exit status: 0 clean, 1 findings, 2 usage error or a scene that failed to run (its log is printed).
A scene whose dry run exits with an error is run once more, alone, before it counts as failed: parallel
runs can race on a cold LaTeX cache (the first log is kept as ``<scene>.log.attempt1``).
Scene times come from a dry run with the silent voice (speech length estimated from the word count),
so they drift from the final video's by seconds; ``--voice piper`` synthesizes the real voice, so its
times are the final video's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scenes.course import Course  # noqa: E402
from scenes.pipeline import cli  # noqa: E402
from scenes.kit.layout_check import ENV, Finding, read_declared, read_findings  # noqa: E402
from scenes.pipeline.render import child_env  # noqa: E402

#: the final video's rate: voiceover waits shorter than a frame are skipped as in the final render
FRAME_RATE = 30
#: ``-n`` past any scene's last animation: manim then skips drawing every frame (each play jumps to its end
#: state, the clock still advances by its run time). The observer only looks after each step, so it sees
#: the same states; a QuadraticScaling check took 13 CPU-s instead of 53.
SKIP_FRAMES = ["--from_animation_number", "1000000000"]


def dry_run_command(path: Path, scene: str, frame_rate: int = FRAME_RATE,
                    draw_frames: bool = False) -> list[str]:
    """manim's dry run of one scene (no frames written; the scene's construct runs end to end). Unless
    ``draw_frames``, no frame is drawn either: every animation jumps to its end state (``SKIP_FRAMES``)."""
    return [sys.executable, "-m", "manim", "render", "--dry_run", "-ql", "--frame_rate", str(frame_rate),
            *([] if draw_frames else SKIP_FRAMES),
            "--progress_bar", "none", "--silent", "-v", "WARNING", str(path), scene]


@dataclass
class SceneResult:
    scene: str
    file: str
    seconds: float
    findings: list[Finding] = field(default_factory=list)
    error: str = ""  # non-empty: the scene did not run to the end
    log: str = ""
    declared: list[dict] = field(default_factory=list)  # allow_overlap: {"a": texts, "b": texts, "reason"}


def check_scene(course: Course, path: Path, scene: str, out_dir: Path, voice: str = "silent",
                frame_rate: int = FRAME_RATE, timeout: float | None = 900, draw_frames: bool = False) -> SceneResult:
    """Dry-run one scene with the layout check on; its findings, or the error and the log's tail."""
    findings = out_dir / f"{scene}.json"
    findings.unlink(missing_ok=True)
    log = out_dir / f"{scene}.log"
    env = {**child_env(course, None, voice), ENV: str(findings)}
    t0 = time.monotonic()
    with open(log, "w", encoding="utf-8") as fh:
        try:
            proc = subprocess.run(dry_run_command(path, scene, frame_rate, draw_frames), cwd=course.root, env=env,
                                  stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            rc = None
    seconds = time.monotonic() - t0
    tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:])
    if rc != 0 or not findings.exists():
        why = f"timed out after {timeout:.0f} s" if rc is None else f"exit {rc}" if rc else "no findings file"
        return SceneResult(scene, str(path), seconds, error=why, log=f"{log}\n{tail}")
    return SceneResult(scene, str(path), seconds, read_findings(findings), declared=read_declared(findings))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/check_layout.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--lecture", default="ready", help="'ready' (default), 'all', or ids: 01 | 1 | 01,03")
    ap.add_argument("--scene", action="append", default=[], help="only this scene class (repeatable)")
    ap.add_argument("--jobs", type=cli.positive_int, default=1, help="scenes checked at once (default 1)")
    ap.add_argument("--voice", default="silent", choices=("silent", "piper", "espeak", "auto"),
                    help="ATTN_VOICE for the dry runs (default silent)")
    ap.add_argument("--frame-rate", type=cli.positive_int, default=FRAME_RATE,
                    help=f"default {FRAME_RATE}, the final video's")
    ap.add_argument("--draw-frames", action="store_true",
                    help="draw every frame of every animation (4x slower; the check looks only after each step)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per scene (default 900)")
    ap.add_argument("--out-dir", type=Path, help="findings JSON and logs (default: a temporary folder)")
    ap.add_argument("--json", type=Path, help="also write every finding and failure here")
    ap.add_argument("--manifest", help="course object, 'module:ATTR' or 'file.py:ATTR' (default scenes.course:COURSE)")
    args = ap.parse_args(argv)

    course, lectures = cli.course_and_lectures(ap, args.manifest, args.lecture)
    todo = [(lec.id, sc.path(course.root), sc.scene) for lec in lectures for sc in lec.scenes]
    if args.scene:
        unknown = sorted(set(args.scene) - {s for _, _, s in todo})
        if unknown:
            print(f"check_layout: no scene {', '.join(unknown)} in lecture(s) {args.lecture} "
                  f"(have {', '.join(s for _, _, s in todo)})", file=sys.stderr)
            return 2
        todo = [t for t in todo if t[2] in args.scene]
    if not todo:
        print(f"check_layout: lecture(s) {args.lecture!r} have no scenes", file=sys.stderr)
        return 2

    out_dir = args.out_dir or Path(tempfile.mkdtemp(prefix="check_layout-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"check_layout: {len(todo)} scene(s), voice {args.voice}, {args.jobs} at a time; "
          f"findings and logs in {out_dir}", flush=True)
    results: list[SceneResult] = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(check_scene, course, path, scene, out_dir, args.voice, args.frame_rate, args.timeout,
                               args.draw_frames)
                   for _, path, scene in todo]
        for k, fut in enumerate(futures, 1):
            r = fut.result()
            lec, path, scene = todo[k - 1]
            if r.error.startswith("exit"):
                # run once more, alone: parallel dry runs can race on a cold LaTeX cache (as render.py retries),
                # while a real error fails twice; the first attempt's log is kept
                log = out_dir / f"{scene}.log"
                log.replace(log.with_name(log.name + ".attempt1"))
                print(f"[{k}/{len(todo)}] L{lec} {scene}: {r.error}, running it again", flush=True)
                r = check_scene(course, path, scene, out_dir, args.voice, args.frame_rate, args.timeout,
                                args.draw_frames)
            results.append(r)
            state = f"FAILED ({r.error})" if r.error else f"{len(r.findings)} finding(s)"
            print(f"[{k}/{len(todo)}] L{lec} {r.scene}: {state}, {r.seconds:.0f} s", flush=True)

    findings = [f for r in results for f in r.findings]
    failed = [r for r in results if r.error]
    print()
    for r in results:
        for f in r.findings:
            print(f.line())
    for r in results:
        for d in r.declared:
            print(f"{r.scene} declared overlap: {' + '.join(d['a'])} x {' + '.join(d['b'])}: {d['reason']}")
    for r in failed:
        print(f"\nFAILED {r.scene} ({r.file}): {r.error}\nlog: {r.log}")
    print(f"\ncheck_layout: {len(findings)} finding(s) in {sum(bool(r.findings) for r in results)} of "
          f"{len(results)} scene(s); {len(failed)} scene(s) failed to run")
    if args.json:
        args.json.write_text(json.dumps([{**asdict(r), "findings": [asdict(f) for f in r.findings]}
                                         for r in results], indent=1), encoding="utf-8")
    return 2 if failed else 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
