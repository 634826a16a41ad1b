#!/usr/bin/env python
"""Render benchmark: real scenes through the project's render path and through stock `manim render`,
in the same run, at 1080p60 and 1080p30, with the silent voice.

  python scripts/bench_render.py                      # Recap, SoftmaxScaling, WorkedExample of Lecture 1
  python scripts/bench_render.py --scene 01:Recap --quality h30 --repeats 2

For each scene and quality, the two paths run one after the other (interleaved when --repeats > 1,
project first, then stock), each in its own manim process, into throw-away media folders:

* project: the command scripts/render.py runs (scenes/pipeline/render.py ``manim_command``: the
  repository's manim.cfg, sections, no partial-movie cache, no progress bar) with its environment;
* stock:   ``python -m manim render -c manim.cfg <quality> <file> <Scene>``, manim's defaults for
  everything the repository's manim.cfg does not set (the cfg is passed so both draw the same
  picture: background, size), and ``ATTN_STOCK_MANIM=1`` so the kit leaves manim's encoder
  unpatched and draws with manim's own camera (scenes/kit/encoding.py, scenes/kit/camera.py).

Printed and written per scene and quality: wall and CPU seconds (the manim process and its
children), x real time (wall / video seconds), the ratio stock / project (above 1: the project is
faster), file sizes, and the project's picture against stock's: SSIM and PSNR over one frame per
second (ffmpeg's ssim and psnr filters). Timings on a shared machine vary: the 1-minute load average
is recorded before every render; compare only figures from the same run.

The result file (default benchmarks/results/render/<machine>.json; not in benchmarks/results/ itself,
whose files are attn_ref benchmarks) records date, command, commit, machine, versions and load.
Exit codes: 0 done; 1 a render or a comparison failed (the others are still run and written);
2 bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_SCENES = ("01:Recap", "01:SoftmaxScaling", "01:WorkedExample")
DEFAULT_QUALITIES = ("h", "h30")  # 1080p60, 1080p30
RESULTS_DIR = ROOT / "benchmarks" / "results" / "render"
SCHEMA = "render_bench/1"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5)
        if out.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def provenance(command: str) -> dict:
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "manim": _version("manim"),
        "av": _version("av"),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
        "commit": _git_commit(),
    }


def machine_slug(cpu_model: str) -> str:
    slug = "".join(c.lower() if c.isalnum() else "-" for c in cpu_model)
    while "--" in slug:
        slug = slug.replace("--", "-")
    return "cpu-" + slug.strip("-")[:40]


# ------------------------------------------------------------------------------------------------
# what to render, and how
# ------------------------------------------------------------------------------------------------


def find_job(course, spec: str, q, media_dir: Path):
    """The RenderJob of ``spec`` ('01:Recap', or 'Recap' in Lecture 1) at quality ``q``."""
    from scenes.pipeline import render as R

    lecture_id, _, scene = spec.rpartition(":")
    lec = course.lecture(lecture_id or "01")
    for job in R.plan_jobs(course, [lec], q, media_dir):
        if job.kind == "scene" and job.scene == scene:
            return job
    raise KeyError(f"lecture {lec.id} has no scene {scene!r} (its scenes: {', '.join(s.scene for s in lec.scenes)})")


def project_command(job, course, media_dir: Path) -> tuple[list[str], dict[str, str]]:
    from scenes.pipeline import render as R

    return R.manim_command(job, course, media_dir), R.child_env(course, job, "silent")


def stock_command(job, course, media_dir: Path) -> tuple[list[str], dict[str, str]]:
    from scenes.pipeline import render as R

    cmd = [sys.executable, "-m", "manim", "render", "-c", str(course.root / "manim.cfg"),
           *job.outputs.quality.manim_args(), "--media_dir", str(media_dir), str(job.file), job.scene]
    env = R.child_env(course, None, "silent")
    env["ATTN_STOCK_MANIM"] = "1"  # the kit leaves manim as it ships (scenes/kit/encoding.py, camera.py)
    return cmd, env


def timed_run(cmd: list[str], env: dict[str, str], cwd: Path, log: Path, timeout: float) -> dict:
    """Run ``cmd``; wall seconds and CPU seconds of it and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = round(os.getloadavg()[0], 2)
    t0 = time.monotonic()
    with open(log, "w") as fh:
        try:
            rc = subprocess.run(cmd, env=env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"rc": rc, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load_1m_before": load, "log": str(log)}


# ------------------------------------------------------------------------------------------------
# picture comparison (ffmpeg)
# ------------------------------------------------------------------------------------------------

_SSIM = re.compile(r"SSIM .*All:([0-9.]+)")
_PSNR = re.compile(r"PSNR .*average:([0-9.]+|inf)")


def parse_ssim(stderr: str) -> float | None:
    m = _SSIM.findall(stderr)
    return float(m[-1]) if m else None


def parse_psnr(stderr: str) -> float | None:
    m = _PSNR.findall(stderr)
    return float(m[-1]) if m else None


def compare(a: Path, b: Path, every: int) -> dict:
    """SSIM and PSNR of ``a`` against ``b`` over every ``every``-th frame (frames paired by index)."""
    from scenes.pipeline.av_join import ffmpeg_exe

    pick = f"select='not(mod(n\\,{every}))',setpts=N/TB"
    out = {}
    for name, parse in (("ssim", parse_ssim), ("psnr", parse_psnr)):
        proc = subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(a), "-i", str(b),
                               "-filter_complex", f"[0:v]{pick}[a];[1:v]{pick}[b];[a][b]{name}",
                               "-an", "-f", "null", "-"], capture_output=True, text=True)
        out[name] = parse(proc.stderr) if proc.returncode == 0 else None
        if proc.returncode != 0:
            out[f"{name}_error"] = proc.stderr.strip().splitlines()[-1:] or [str(proc.returncode)]
    out["sampled_every_frames"] = every
    return out


# ------------------------------------------------------------------------------------------------


def run(course, scenes, qualities, repeats: int, work: Path, timeout: float,
        log=print) -> tuple[list[dict], list[dict]]:
    from scenes.pipeline.media import probe_video, quality as parse_quality

    records, comparisons = [], []
    for spec in scenes:
        for qkey in qualities:
            q = parse_quality(qkey)
            outs = {}
            for rep in range(repeats):
                for path, make in (("project", project_command), ("stock", stock_command)):
                    media = work / f"{path}-{rep}"
                    job = find_job(course, spec, q, media)
                    cmd, env = make(job, course, media)
                    (media / "logs").mkdir(parents=True, exist_ok=True)
                    log(f"{spec} {q.dirname} {path} (run {rep + 1}/{repeats}) ...")
                    res = timed_run(cmd, env, course.root, media / "logs" / f"{job.scene}.log", timeout)
                    rec = {"scene": spec, "quality": q.key, "dirname": q.dirname, "path": path, "run": rep + 1,
                           **res, "command": " ".join(cmd[1:])}
                    mp4 = job.outputs.mp4
                    if res["rc"] == 0 and mp4.exists():
                        info = probe_video(mp4)
                        video_s = float(info.video_duration)
                        rec.update(video_s=round(video_s, 3), frames=info.nb_frames, size_bytes=mp4.stat().st_size,
                                   x_realtime=round(res["wall_s"] / video_s, 3) if video_s else None,
                                   cpu_per_video_s=round(res["cpu_s"] / video_s, 3) if video_s else None)
                        outs[path] = mp4
                    xrt = rec.get("x_realtime")
                    how = f", {xrt:.2f}x real time" if xrt else f", FAILED rc={res['rc']}"
                    log(f"    wall {res['wall_s']:.1f} s, cpu {res['cpu_s']:.1f} s, load {res['load_1m_before']}{how}")
                    records.append(rec)
            mine = [r for r in records if r["scene"] == spec and r["quality"] == q.key]
            pw = min((r["wall_s"] for r in mine if r["path"] == "project" and r.get("video_s")), default=None)
            sw = min((r["wall_s"] for r in mine if r["path"] == "stock" and r.get("video_s")), default=None)
            comp = {"scene": spec, "quality": q.key, "dirname": q.dirname, "project_wall_s": pw, "stock_wall_s": sw,
                    "ratio_stock_over_project": round(sw / pw, 3) if pw and sw else None}
            if "project" in outs and "stock" in outs:
                fps = probe_video(outs["project"]).fps
                comp.update(compare(outs["project"], outs["stock"], max(1, round(float(fps)))))
            comparisons.append(comp)
    return records, comparisons


def table(records: list[dict], comparisons: list[dict]) -> str:
    lines = ["| scene | quality | path | wall s | CPU s | video s | x real time | size MB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in records:
        lines.append(f"| {r['scene']} | {r['dirname']} | {r['path']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
                     f"{r.get('video_s', '-')} | {r.get('x_realtime', '-')} | "
                     f"{round(r['size_bytes'] / 1e6, 2) if r.get('size_bytes') else '-'} |")
    lines += ["", "| scene | quality | stock / project (wall) | SSIM | PSNR dB |", "|---|---|---|---|---|"]
    for c in comparisons:
        lines.append(f"| {c['scene']} | {c['dirname']} | {c.get('ratio_stock_over_project')} | {c.get('ssim')} | "
                     f"{c.get('psnr')} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/bench_render.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scene", action="append",
                    help="LL:Scene (repeatable; default: " + ", ".join(DEFAULT_SCENES) + ")")
    ap.add_argument("--quality", action="append",
                    help="h (1080p60) | h30 (1080p30) | l | m ... (repeatable; default h, h30)")
    ap.add_argument("--repeats", type=int, default=1, help="runs of each path, interleaved (default 1)")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per render (default 3600)")
    ap.add_argument("--out", type=Path, help="result file (default benchmarks/results/render/<machine>.json)")
    ap.add_argument("--work-dir", type=Path, help="where the renders go (default: a temporary folder, removed)")
    ap.add_argument("--manifest", help="course object, 'module:ATTR' or 'file.py:ATTR' (default scenes.course:COURSE)")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats: at least 1")
    from scenes.pipeline.media import quality as parse_quality

    qualities = args.quality or list(DEFAULT_QUALITIES)
    for qk in qualities:
        try:
            parse_quality(qk)
        except ValueError as exc:
            ap.error(f"--quality {qk}: {exc}")
    scenes = args.scene or list(DEFAULT_SCENES)
    from scenes.course import load_course

    try:
        course = load_course(args.manifest)
    except Exception as exc:  # ManifestError, ImportError, ...
        ap.error(f"--manifest {args.manifest}: cannot load the course: {exc}")
    for spec in scenes:
        try:
            find_job(course, spec, parse_quality(qualities[0]), Path("/nonexistent"))
        except KeyError as exc:
            ap.error(f"--scene {spec}: {exc.args[0]}")
    command = " ".join(["python scripts/bench_render.py", *(argv if argv is not None else sys.argv[1:])])
    prov = provenance(command)
    t0 = time.monotonic()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench_render-"))
    try:
        records, comparisons = run(course, scenes, qualities, args.repeats, work, args.timeout)
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    prov["wall_s"] = round(time.monotonic() - t0, 1)
    prov["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    result = {"schema": SCHEMA, "provenance": prov, "voice": "silent", "records": records, "comparisons": comparisons}
    out = args.out or RESULTS_DIR / f"{machine_slug(prov['cpu_model'])}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    from scenes.pipeline import atomic

    atomic.write_json(out, result)
    print(table(records, comparisons))
    print(f"\nwritten {out}")
    failed = [r for r in records if r["rc"] != 0 or not r.get("video_s")]
    failed += [c for c in comparisons if c.get("ssim") is None]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
