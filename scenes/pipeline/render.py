"""Render the scenes of one or more lectures: one `python -m manim render` process per scene, N in
parallel, each logged to media/logs/<quality>/<module>.<Scene>.log.

A scene is skipped when its outputs exist and its render stamp matches: the stamp hashes the
scene file, the other files of its lecture package, the scene kit, attn_ref, manim.cfg (the
course's ``shared_inputs`` less its ``shared_exclude``), the scene's own ``deps``, the voice and
the quality. ``--force`` renders anyway. A scene that fails is rendered once more (``--retries``;
parallel manim processes can race on the shared caches), and one that still fails is reported with
its log path; the others go on; the exit code is
non-zero when anything failed. After a scene renders, its section names are checked against the
manifest (a mismatch is a failure: chapters and topic coverage come from these names).

One render at a time per media directory: a lock file (``media/.render.lock``, holding the pid, the
command and the start time) refuses a second one; the lock of a render that died is taken over.
Each manim process runs in its own process group and dies with the renderer: SIGINT, SIGTERM and
SIGHUP end the groups and remove the partial outputs, and on Linux a SIGKILLed renderer takes its
children with it (``PR_SET_PDEATHSIG``). Exit codes: docs/exit-codes.md.

With ``--scheduler tcp://HOST:PORT`` (or ``ATTN_DASK_SCHEDULER``) the scenes that need rendering are
tasks on a Dask cluster instead of local processes (scenes/pipeline/cluster.py); the stamps, the lock,
the retries and the report are the same.

Each lecture also gets a title card and an end card, rendered by the same mechanism from
scenes/pipeline/cards.py so they share the scenes' codec settings (needed for stream copy).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

from scenes.course import IMPLICIT_SECTION_NAMES, Course, Lecture
from scenes.pipeline import atomic, cli
from scenes.pipeline.media import (
    Quality,
    SceneOutputs,
    fingerprint,
    hash_obj,
    hash_tree,
    probe_video,
    quality as parse_quality,
    read_sections,
    sha256_file,
)

CARDS_FILE = Path(__file__).resolve().parent / "cards.py"
VOICE_MODES = ("piper", "espeak", "silent", "auto")
#: files of a scene's lecture package whose change re-renders the scene
PACKAGE_SUFFIXES = (".py", ".json", ".csv", ".txt", ".npz", ".npy", ".yaml", ".toml", ".tex", ".svg", ".png", ".wav")
TITLE_CARD_SECONDS = 4.0
END_CARD_SECONDS = 5.0
LOCK_NAME = ".render.lock"
EXIT_FAILED, EXIT_USAGE, EXIT_MEDIA_DIR, EXIT_LOCKED, EXIT_CLUSTER = 1, 2, 3, 4, 5
SCHEDULER_ENV = "ATTN_DASK_SCHEDULER"


class UnknownSceneError(ValueError):
    """``only`` names a scene that the selected lectures do not have."""


class MediaDirError(OSError):
    """The media directory cannot be created or written (the message names it)."""


class MediaDirLocked(RuntimeError):
    """Another render holds the media directory's lock (the message names its pid and start)."""


class Interrupted(BaseException):
    """SIGTERM or SIGHUP arrived (raised in the main thread, handled like Ctrl-C)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class RenderJob:
    lecture_id: str
    kind: str  # "scene" | "title" | "end"
    file: Path
    scene: str
    outputs: SceneOutputs
    expected_sections: tuple[str, ...] | None
    dep_paths: tuple[Path, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    extra_inputs: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"L{self.lecture_id} {self.file.name}:{self.scene}"


@dataclass
class JobResult:
    job: RenderJob
    status: str  # "rendered" | "skipped" | "failed"
    seconds: float = 0.0
    message: str = ""
    video_seconds: float | None = None

    @property
    def log(self) -> Path:
        return self.job.outputs.log


@dataclass
class RenderReport:
    results: list[JobResult]
    quality: Quality
    media_dir: Path
    voice: dict

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        n = {s: sum(r.status == s for r in self.results) for s in ("rendered", "skipped", "failed")}
        lines = [f"render: {n['rendered']} rendered, {n['skipped']} up to date, {n['failed']} failed "
                 f"({self.quality.key} = {self.quality.width}x{self.quality.height}@{self.quality.fps}, "
                 f"voice {self.voice.get('engine', '?')})"]
        for r in self.results:
            if r.status == "rendered" and r.video_seconds:
                lines.append(f"  {r.job.label}: {r.seconds:.1f} s for {r.video_seconds:.1f} s of video "
                             f"({r.seconds / r.video_seconds:.2f} s per video-second)")
        for r in self.failed:
            lines.append(f"  FAILED {r.job.label}: {r.message}\n         log: {r.log}")
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# planning
# ------------------------------------------------------------------------------------------------


def card_spec(course: Course, lec: Lecture, kind: str) -> dict:
    nxt = course.next_lecture(lec)
    return {
        "scene_name": f"{'TitleCard' if kind == 'title' else 'EndCard'}{lec.id}",
        "kind": kind,
        "section": "Title card" if kind == "title" else "End card",
        "course": course.title,
        "lecture_id": lec.id,
        "lecture_title": lec.title,
        "lecture_count": len(course.lectures),
        "next": (f"Lecture {nxt.id} · {nxt.title}" if nxt else ""),
        "duration": TITLE_CARD_SECONDS if kind == "title" else END_CARD_SECONDS,
    }


def plan_jobs(course: Course, lectures: Sequence[Lecture], q: Quality, media_dir: Path) -> list[RenderJob]:
    jobs: list[RenderJob] = []
    for lec in lectures:
        if not lec.scenes:
            continue
        for kind in [k for k in ("title", "end") if k in lec.cards]:
            spec = card_spec(course, lec, kind)
            spec_path = media_dir / "cards" / q.dirname / f"{spec['scene_name']}.json"
            jobs.append(RenderJob(
                lecture_id=lec.id, kind=kind, file=CARDS_FILE, scene=spec["scene_name"],
                outputs=SceneOutputs(media_dir, CARDS_FILE.stem, spec["scene_name"], q),
                expected_sections=(spec["section"],),
                extra_env={"ATTN_CARD_SPEC": str(spec_path)},
                extra_inputs={"card_spec": spec},
            ))
        for sc in lec.scenes:
            path = sc.path(course.root)
            jobs.append(RenderJob(
                lecture_id=lec.id, kind="scene", file=path, scene=sc.scene,
                outputs=SceneOutputs(media_dir, sc.module_name, sc.scene, q),
                expected_sections=tuple(sc.sections) if sc.sections else None,
                dep_paths=tuple(course.root / d for d in sc.deps),
            ))
    return jobs


# ------------------------------------------------------------------------------------------------
# stamps
# ------------------------------------------------------------------------------------------------


def voice_mode() -> str:
    return os.environ.get("ATTN_VOICE", "auto").strip().lower() or "auto"


def probe_voice(root: Path, env: dict[str, str], timeout: float = 120) -> dict:
    """voice_info(speech_service()) as the scenes will see it, from a child process (it imports
    manim-voiceover and possibly a TTS engine); falls back to the requested mode."""
    code = (
        "import json\n"
        "from scenes.kit.narration import speech_service, voice_info\n"
        "print('VOICE_INFO=' + json.dumps(voice_info(speech_service()), default=str))\n"
    )
    try:
        out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True,
                             text=True, timeout=timeout)
        for line in out.stdout.splitlines():
            if line.startswith("VOICE_INFO="):
                info = json.loads(line.split("=", 1)[1])
                if isinstance(info, dict):
                    return info
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    return {"engine": env.get("ATTN_VOICE", "auto"), "voice": None, "settings": {},
            "note": "scenes.kit.narration.voice_info unavailable"}


def stamp_inputs(job: RenderJob, course: Course, voice: dict, shared_hashes: dict[str, str]) -> dict:
    pkg = job.file.parent
    return {
        "scene": job.scene,
        "file": hash_tree(job.file),
        # a scene's lecture package (data modules, narration, committed results); a card has none
        "package": None if job.kind != "scene" else hash_tree(pkg, suffixes=PACKAGE_SUFFIXES),
        "deps": {str(p): hash_tree(p) for p in job.dep_paths},
        "shared": shared_hashes,
        "voice": voice,
        "quality": job.outputs.quality.key,
        "encoder": encoder_settings(job.outputs.quality),
        "extra": job.extra_inputs,
        "manim": _dist_version("manim"),
        "manim_voiceover": _dist_version("manim-voiceover"),
    }


def _dist_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def stamp_matches(job: RenderJob, key: str) -> bool:
    """True when the stamp has this key and every output it recorded is still there, unchanged."""
    st = atomic.read_json(job.outputs.stamp)
    if not isinstance(st, dict) or st.get("key") != key:
        return False
    recorded = st.get("outputs") or {}
    if str(job.outputs.mp4) not in recorded or str(job.outputs.sections_json) not in recorded:
        return False
    return all(fingerprint(Path(path)) == fp for path, fp in recorded.items())


# ------------------------------------------------------------------------------------------------
# running
# ------------------------------------------------------------------------------------------------


#: x264 preset per quality (manim's default is x264's "medium"): finals the fastest preset whose
#: picture stays within SSIM 0.99 of medium's at no larger size (measured with scripts/bench_render.py,
#: benchmarks/results/render/), previews the fastest of all. Every segment of a lecture is rendered at
#: one quality, so they share their h264 parameters (needed by the assembler's stream copy).
ENCODER_PRESETS = {"l": "ultrafast", "m": "ultrafast", "h30": "veryfast", "h": "veryfast", "p": "veryfast",
                   "k": "veryfast"}
#: x264 settings on top of the preset for final qualities: subpixel refinement 1 (veryfast: 2) and diamond
#: motion search (veryfast: hexagon), measured on 600 real 1080p frames of WorkedExample: 1-2 ms less
#: CPU per frame, files 1 % larger. Weighted prediction stays on: turning it off as well saved no CPU
#: and made Recap, full of fades, 40 % larger (3.51 MB against 2.5; stock manim's medium: 3.12 MB);
#: with these two Recap at 1080p60 is 2.73 MB. Previews (ultrafast) keep their preset as is.
X264_PARAMS = {"l": "", "m": "", "h30": "subme=1:me=dia", "h": "subme=1:me=dia",
               "p": "subme=1:me=dia", "k": "subme=1:me=dia"}
#: segments encoded while the scene draws on (manim's --max-inflight-encoders; its default is 1)
MAX_INFLIGHT_ENCODERS = 2
#: x264 threads over frames, not slices. PyAV's default (slice threads) is not deterministic: the same
#: 45 frames encoded 20 times gave 7 different files, differing by up to 38 of 255 levels. Frame
#: threads give the same bytes every time, and encode a still stretch (a wait) about 1.8x faster in
#: wall time (tests/kit/test_encoding.py; docs/pipeline.md).
X264_THREAD_TYPE = "frame"


def encoder_settings(q: Quality) -> dict:
    """The encoder settings scripts/render.py passes to manim (part of every render stamp)."""
    settings = {"preset": ENCODER_PRESETS.get(q.key, "veryfast"), "thread_type": X264_THREAD_TYPE,
                "max_inflight_encoders": MAX_INFLIGHT_ENCODERS}
    params = X264_PARAMS.get(q.key, X264_PARAMS["h"])
    if params:
        settings["x264-params"] = params
    return settings


def encoder_options(q: Quality) -> dict[str, str]:
    """The codec options of :func:`encoder_settings`, as manim's ``--encoder-option K=V`` takes them."""
    enc = encoder_settings(q)
    return {k: enc[k] for k in ("preset", "thread_type", "x264-params") if k in enc}


def manim_command(job: RenderJob, course: Course, media_dir: Path) -> list[str]:
    enc = encoder_settings(job.outputs.quality)
    options = [arg for k, v in encoder_options(job.outputs.quality).items() for arg in ("--encoder-option", f"{k}={v}")]
    return [
        sys.executable, "-m", "manim", "render",
        "-c", str(course.root / "manim.cfg"),
        *job.outputs.quality.manim_args(),
        *options,
        "--max-inflight-encoders", str(enc["max_inflight_encoders"]),
        "--media_dir", str(media_dir),
        "--save_sections",
        # manim's partial-movie cache is unsafe with sound: after a play served from the cache,
        # add_sound() is dropped until the next play, and scene time advances by exact durations
        # instead of whole frames, so audio drifts from the video (measured on 0.22). Whole-scene
        # reuse comes from our own render stamp instead.
        "--disable_caching",
        "--progress_bar", "none",
        "--silent",  # no outdated-version check over the network after each render
        "-v", "INFO",
        str(job.file), job.scene,
    ]


def child_env(course: Course, job: RenderJob | None, voice: str | None) -> dict[str, str]:
    env = dict(os.environ)
    root = str(course.root)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    if voice:
        env["ATTN_VOICE"] = voice
    if job is not None:
        env.update(job.extra_env)
    return env


def check_sections(job: RenderJob) -> str | None:
    """None when the rendered sections match the manifest, else a message."""
    if job.expected_sections is None:
        return None
    try:
        names = [s["name"] for s in read_sections(job.outputs.sections_json)]
    except (OSError, ValueError, KeyError) as exc:
        return f"cannot read sections index {job.outputs.sections_json}: {exc}"
    return compare_sections(job.expected_sections, names)


def compare_sections(expected: Sequence[str], actual: Sequence[str]) -> str | None:
    actual = list(actual)
    while actual and actual[0] in IMPLICIT_SECTION_NAMES:
        actual.pop(0)
    if list(expected) == actual:
        return None
    return f"sections differ from the manifest: manifest {list(expected)!r}, scene {actual!r}"


_procs_lock = threading.Lock()
_procs: set[subprocess.Popen] = set()
_stopping = threading.Event()  # set when the render is interrupted: start nothing, retry nothing


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that makes the child get SIGKILL when the renderer dies, even by SIGKILL (Linux
    ``prctl(PR_SET_PDEATHSIG)``; the signal follows the child across exec). None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG = 1
        if os.getppid() != parent:  # the renderer died before the prctl
            os._exit(1)

    return preexec


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)  # the child leads its own process group (start_new_session)


def end_children(grace: float = 5.0) -> int:
    """Stop starting scenes and end every running child's process group (SIGTERM, then SIGKILL after
    ``grace`` seconds). Returns how many children were running."""
    with _procs_lock:
        _stopping.set()
        procs = list(_procs)
    for p in procs:
        _kill_group(p, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(p, signal.SIGKILL)
            p.wait()
    return len(procs)


def _describe(exc: BaseException) -> str:
    """An exception in one line, with the path for an OSError."""
    if isinstance(exc, OSError) and exc.strerror:
        paths = [str(f) for f in (exc.filename, exc.filename2) if f is not None]
        return f"{exc.strerror}" + (f": {' -> '.join(paths)}" if paths else "")
    return f"{type(exc).__name__}: {exc}"


def run_job(job: RenderJob, course: Course, media_dir: Path, voice_env: str | None, key: str,
            inputs: dict, make_command: Callable[[RenderJob, Course, Path], list[str]],
            timeout: float | None, started: Callable[[subprocess.Popen], None] | None = None) -> JobResult:
    """Render one scene in a child process; ``started(proc)`` is called once it runs (the cluster task
    uses it to end its own child when the client cancels)."""
    out = job.outputs
    if _stopping.is_set():
        return JobResult(job, "failed", 0.0, "interrupted before it started")
    # the old stamp and outputs go first: a crash below must not leave them looking current
    for p in [out.stamp, *out.all_files()]:
        p.unlink(missing_ok=True)
    if job.kind in ("title", "end"):
        atomic.write_json(Path(job.extra_env["ATTN_CARD_SPEC"]), job.extra_inputs["card_spec"])
    out.log.parent.mkdir(parents=True, exist_ok=True)
    cmd = make_command(job, course, media_dir)
    t0 = time.monotonic()
    with open(out.log, "w", encoding="utf-8") as log:
        log.write(f"# {job.label}\n# cwd: {course.root}\n# command: {' '.join(cmd)}\n"
                  f"# ATTN_VOICE={voice_env or os.environ.get('ATTN_VOICE', '')}\n\n")
        log.flush()
        with _procs_lock:  # checked under the lock end_children takes: no child starts after it
            if _stopping.is_set():
                return JobResult(job, "failed", 0.0, "interrupted before it started")
            try:
                proc = subprocess.Popen(cmd, cwd=course.root, env=child_env(course, job, voice_env),
                                        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True, preexec_fn=_die_with_parent())
            except OSError as exc:
                return JobResult(job, "failed", 0.0, f"could not start: {_describe(exc)}")
            _procs.add(proc)
        if started is not None:
            started(proc)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc, signal.SIGKILL)
            proc.wait()
            return JobResult(job, "failed", time.monotonic() - t0, f"timed out after {timeout:g} s")
        finally:
            with _procs_lock:
                _procs.discard(proc)
    seconds = time.monotonic() - t0
    if _stopping.is_set():  # ended by end_children: what it wrote is partial
        for p in out.all_files():
            p.unlink(missing_ok=True)
        return JobResult(job, "failed", seconds, "interrupted")
    if rc != 0:
        return JobResult(job, "failed", seconds, f"manim exited with {rc}{_last_error(out.log)}")
    missing = [p for p in (out.mp4, out.sections_json) if not p.exists()]
    if missing:
        return JobResult(job, "failed", seconds, "manim wrote no " + ", ".join(p.name for p in missing))
    problem = check_sections(job)
    if problem:
        return JobResult(job, "failed", seconds, problem)
    try:
        info = probe_video(out.mp4)
        video_seconds = float(info.video_duration)
    except Exception as exc:
        return JobResult(job, "failed", seconds, f"unreadable video {out.mp4}: {exc}")
    outputs = {str(p): fingerprint(p) for p in out.all_files() if p.exists()}
    # content hashes: assembly checks each file against them (scenes/pipeline/assemble.py, render_problems)
    hashes = {str(p): sha256_file(p) for p in out.all_files() if p.exists()}
    atomic.write_json(out.stamp, {
        "key": key, "label": job.label, "inputs": inputs, "outputs": outputs, "sha256": hashes,
        "render_seconds": round(seconds, 3), "video_seconds": video_seconds, "frames": info.nb_frames,
        "rendered_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    })
    return JobResult(job, "rendered", seconds, "", video_seconds)


def run_job_with_retries(job: RenderJob, course: Course, media_dir: Path, voice_env: str | None, key: str,
                         inputs: dict, make_command: Callable[[RenderJob, Course, Path], list[str]],
                         timeout: float | None, retries: int = 1) -> JobResult:
    """``run_job``, run again up to ``retries`` times after a failure that is not a timeout: two manim
    processes can race on the shared LaTeX/text caches and crash once, while a real error fails every
    time. Each failed attempt's log is kept beside the log as ``<log>.attempt<N>``."""
    for attempt in range(1, retries + 2):
        res = run_job(job, course, media_dir, voice_env, key, inputs, make_command, timeout)
        if (res.status != "failed" or res.message.startswith("timed out") or attempt > retries
                or _stopping.is_set()):
            if attempt > 1:
                res = replace(res, message=(res.message + f" (attempt {attempt})").strip())
            return res
        log = job.outputs.log
        if log.exists():
            log.replace(log.with_name(f"{log.name}.attempt{attempt}"))
    raise AssertionError("unreachable")


def _last_error(log: Path) -> str:
    try:
        lines = [ln.strip() for ln in log.read_text(encoding="utf-8", errors="replace").splitlines()
                 if ln.strip()]
    except OSError:
        return ""
    for ln in reversed(lines):
        if "Error" in ln or "Exception" in ln:
            return f": {ln[:200]}"
    return f": {lines[-1][:200]}" if lines else ""


def _lock_holder(fd: int) -> dict:
    with contextlib.suppress(OSError, ValueError):
        os.lseek(fd, 0, os.SEEK_SET)
        data = json.loads(os.read(fd, 1 << 16).decode("utf-8", "replace") or "{}")
        if isinstance(data, dict):
            return data
    return {}


@contextlib.contextmanager
def media_lock(media_dir: Path):
    """Hold ``media_dir/.render.lock`` (``flock``, exclusive) for one render, with this process's pid,
    command and start time in it. Raises MediaDirLocked naming the holder when another process has it,
    MediaDirError naming the directory when it cannot be written. A lock left by a render that died is
    not held by anyone (the kernel drops it): it is taken over, with a note naming the dead pid."""
    import fcntl

    path = Path(media_dir) / LOCK_NAME
    if Path(media_dir).exists() and not Path(media_dir).is_dir():
        raise MediaDirError(f"the media directory {media_dir} is a file, not a directory")
    try:
        Path(media_dir).mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise MediaDirError(f"cannot write to the media directory {media_dir}: {_describe(exc)}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            h = _lock_holder(fd)
            raise MediaDirLocked(
                f"the media directory {media_dir} is in use by another render: pid {h.get('pid', '?')} "
                f"since {h.get('since', '?')} ({h.get('command', '?')}); wait for it to finish or end it "
                f"(the lock is {path})") from None
        old = _lock_holder(fd)
        if old.get("pid") not in (None, os.getpid()):
            print(f"render: taking over the stale lock of pid {old['pid']} (since {old.get('since', '?')}; "
                  f"that render is no longer running): {path}", file=sys.stderr)
        me = {"pid": os.getpid(), "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
              "since": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(me).encode(), 0)
        except OSError as exc:
            raise MediaDirError(f"cannot write to the media directory {media_dir}: {_describe(exc)}") from exc
        try:
            yield path
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # a finished render leaves no holder behind
    finally:
        os.close(fd)  # releases the flock


def render(course: Course, selector: str = "ready", quality: str = "h30", jobs: int = 2,
           voice: str | None = None, force: bool = False, media_dir: Path | None = None,
           progress: bool = True, timeout: float | None = None, only: Sequence[str] = (),
           make_command: Callable[[RenderJob, Course, Path], list[str]] = manim_command,
           voice_info: dict | None = None, retries: int = 1, scheduler: str | None = None) -> RenderReport:
    """Render the selected scenes that their stamps say are out of date; with ``scheduler`` (a Dask
    scheduler's address) each one is a task on that cluster (scenes/pipeline/cluster.py)."""
    q = parse_quality(quality)
    if not (isinstance(jobs, int) and jobs >= 1):
        raise ValueError(f"jobs must be a whole number ≥ 1, not {jobs!r}")
    if not (isinstance(retries, int) and retries >= 0):
        raise ValueError(f"retries must be a whole number ≥ 0, not {retries!r}")
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a number of seconds > 0, not {timeout!r}")
    media_dir = Path(media_dir or course.root / "media").resolve()
    if voice:
        voice = voice.lower()
        if voice not in VOICE_MODES:
            raise ValueError(f"--voice must be one of {', '.join(VOICE_MODES)}")
    lectures = course.select(selector)
    all_jobs = plan_jobs(course, lectures, q, media_dir)
    if only:
        scenes = [j.scene for j in all_jobs if j.kind == "scene"]
        unknown = [n for n in only if n not in scenes and n not in ("title", "end")]
        if unknown:
            raise UnknownSceneError(
                f"no scene {', '.join(map(repr, unknown))} in lecture {', '.join(x.id for x in lectures) or '-'} "
                f"(its scenes: {', '.join(scenes) or 'none'}; 'title' and 'end' select the cards)")
        all_jobs = [j for j in all_jobs if j.scene in only or j.kind in only]
    with media_lock(media_dir):
        return _render_locked(course, all_jobs, q, media_dir, voice, force, progress, timeout, make_command,
                              voice_info, retries, jobs, scheduler)


# ------------------------------------------------------------------------------------------------
# progress: video seconds, not scenes
# ------------------------------------------------------------------------------------------------

#: words per minute of the silent voice (scenes/kit/narration.py SilentService): a scene never
#: rendered is expected to last as long as its narration read at this pace
SILENT_WPM = 165.0
#: a scene with no narration text found and no earlier render
DEFAULT_SCENE_SECONDS = 60.0


def narration_estimate(file: Path) -> float | None:
    """Seconds of the narration in a scene file, read at the silent voice's pace: the words of its
    string literals that are not docstrings. None when it has none (or does not parse)."""
    import ast

    try:
        tree = ast.parse(Path(file).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    words = sum(len(n.value.split()) for n in ast.walk(tree)
                if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
                and len(n.value.split()) >= 3)  # sentences, not labels or keys
    return words * 60.0 / SILENT_WPM if words else None


def expected_seconds(job: RenderJob) -> float:
    """How long ``job``'s video is expected to be: what its last render recorded (at this quality,
    else at any other), else the card's length, else its narration at the silent voice's pace."""
    out = job.outputs
    stamps = [out.stamp, *sorted((out.media_dir / "stamps").glob(f"*/{out.module_name}/{out.scene}.json"))]
    for path in stamps:
        st = atomic.read_json(path, None) if path.exists() else None
        if isinstance(st, dict) and isinstance(st.get("video_seconds"), (int, float)) and st["video_seconds"] > 0:
            return float(st["video_seconds"])
    if job.kind == "title":
        return TITLE_CARD_SECONDS
    if job.kind == "end":
        return END_CARD_SECONDS
    return narration_estimate(job.file) or DEFAULT_SCENE_SECONDS


class VideoProgress:
    """A tqdm bar over seconds of video: each scene weighs what it is expected to last
    (``expected_seconds``), so the ETA is not that of a count of scenes, where a 4-second card and
    a 5-minute scene weigh the same. When a scene finishes, its real length replaces the
    expectation in the total."""

    def __init__(self, jobs: Sequence[RenderJob], skipped: Sequence[RenderJob], desc: str, disable: bool):
        from tqdm import tqdm

        self.expected = {id(j): expected_seconds(j) for j in jobs}
        self.scenes = len(jobs)
        self.finished = len(skipped)
        self.failed = 0
        self.total = sum(self.expected.values())  # seconds of video in all, as now expected
        self.seconds = sum(self.expected[id(j)] for j in skipped)  # seconds of video done
        self.bar = tqdm(total=round(self.total, 1), initial=round(self.seconds, 1), desc=desc,
                        unit="s", unit_scale=False, disable=disable, dynamic_ncols=True,
                        bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s of video [{elapsed}<{remaining}{postfix}]")
        self._postfix()

    def _postfix(self) -> None:
        failed = f", {self.failed} failed" if self.failed else ""
        self.bar.set_postfix_str(f"{self.finished}/{self.scenes} scenes{failed}")

    def done(self, res: JobResult) -> None:
        exp = self.expected[id(res.job)]
        got = res.video_seconds if res.status == "rendered" and res.video_seconds else exp
        self.finished += 1
        self.failed += res.status == "failed"
        self.total += got - exp
        self.seconds += got
        self.bar.total = round(self.total, 1)
        self.bar.update(round(self.seconds, 1) - self.bar.n)
        self._postfix()

    def write(self, text: str) -> None:
        self.bar.write(text)

    def close(self) -> None:
        self.bar.close()


def _render_locked(course: Course, all_jobs: list[RenderJob], q: Quality, media_dir: Path, voice: str | None,
                   force: bool, progress: bool, timeout: float | None,
                   make_command: Callable[[RenderJob, Course, Path], list[str]], voice_info: dict | None,
                   retries: int, jobs: int, scheduler: str | None = None) -> RenderReport:
    env = child_env(course, None, voice)
    info = voice_info if voice_info is not None else (probe_voice(course.root, env) if all_jobs else {})
    info = {"mode": voice or voice_mode(), **info}
    excluded = tuple(course.root / e for e in course.shared_exclude)
    shared = {s: hash_tree(course.root / s, exclude=excluded) for s in course.shared_inputs}

    results: list[JobResult] = []
    todo: list[tuple[RenderJob, str, dict]] = []
    for job in all_jobs:
        inputs = stamp_inputs(job, course, info, shared)
        key = hash_obj(inputs)
        if not force and stamp_matches(job, key):
            results.append(JobResult(job, "skipped"))
        else:
            todo.append((job, key, inputs))

    bar = VideoProgress(all_jobs, [r.job for r in results], f"render {q.dirname}", disable=not progress)
    if scheduler and todo:
        from scenes.pipeline import cluster

        def done(res: JobResult) -> None:
            results.append(res)
            if res.status == "failed":
                bar.write(f"FAILED {res.job.label}: {res.message}\n       log: {res.log}")
            bar.done(res)

        try:
            cluster.run_on_cluster(scheduler, todo, course, info["mode"], make_command, timeout, retries, done)
        finally:
            bar.close()
        order = {id(j): i for i, j in enumerate(all_jobs)}
        results.sort(key=lambda r: order[id(r.job)])
        return RenderReport(results, q, media_dir, info)
    _stopping.clear()
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = {pool.submit(run_job_with_retries, job, course, media_dir, voice, key, inputs, make_command,
                               timeout, retries): job for job, key, inputs in todo}
        for fut in as_completed(futures):
            try:
                res = fut.result()
            except Exception as exc:
                res = JobResult(futures[fut], "failed", 0.0, f"pipeline error: {_describe(exc)}")
            results.append(res)
            if res.status == "failed":
                bar.write(f"FAILED {res.job.label}: {res.message}\n       log: {res.log}")
            bar.done(res)
    except BaseException:  # Ctrl-C, Interrupted (SIGTERM/SIGHUP), or a bug: end the children first
        pool.shutdown(wait=False, cancel_futures=True)
        end_children()
        pool.shutdown(wait=True)  # the workers remove their scenes' partial outputs
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        bar.close()
    order = {id(j): i for i, j in enumerate(all_jobs)}
    results.sort(key=lambda r: order[id(r.job)])
    return RenderReport(results, q, media_dir, info)


@contextlib.contextmanager
def _termination_signals():
    """SIGTERM and SIGHUP raise Interrupted in the main thread (as SIGINT raises KeyboardInterrupt),
    so render() ends its children and removes their partial outputs before the process exits."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Interrupted(signum)

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def main(argv: Sequence[str] | None = None, **render_overrides) -> int:
    """The command line; ``render_overrides`` (tests: ``make_command``, ``voice_info``) go to render()."""
    from scenes.pipeline.cluster import ClusterUnavailable  # standard library only until --scheduler is used

    ap = argparse.ArgumentParser(prog="scripts/render.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--lecture", default="ready", help="'ready' (default), 'all', or ids: 01 | 1 | 01,03")
    ap.add_argument("--quality", default="h30", help="l | m | h | p | k (manim's) or h30 = 1920x1080@30 (default)")
    ap.add_argument("--jobs", type=cli.positive_int, default=os.cpu_count() or 1,
                    help="scenes rendered at once (≥ 1; default: the CPU count)")
    ap.add_argument("--voice", choices=VOICE_MODES, help="sets ATTN_VOICE for the scenes")
    ap.add_argument("--force", action="store_true", help="render even when the stamp says up to date")
    ap.add_argument("--media-dir", type=Path, help="default: <repo>/media")
    ap.add_argument("--manifest", help="course object, 'module:ATTR' or 'file.py:ATTR' (default scenes.course:COURSE)")
    ap.add_argument("--only", action="append", default=[], help="only this scene class (repeatable); "
                    "'title'/'end' for the cards")
    ap.add_argument("--timeout", type=cli.positive_seconds, help="seconds per scene (> 0) before it is killed")
    ap.add_argument("--retries", type=cli.non_negative_int, default=1,
                    help="reruns of a scene that failed (not timed out); ≥ 0, default 1")
    ap.add_argument("--scheduler", type=cli.scheduler_address, default=None,
                    help=f"a Dask scheduler's address (tcp://HOST:PORT): each scene to render is a task on that "
                         f"cluster (needs the cluster extra; default ${SCHEDULER_ENV}, else local processes)")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    if args.scheduler is None and os.environ.get(SCHEDULER_ENV, "").strip():
        try:
            args.scheduler = cli.scheduler_address(os.environ[SCHEDULER_ENV])
        except argparse.ArgumentTypeError as exc:
            print(f"render: ${SCHEDULER_ENV}: {exc}", file=sys.stderr)
            return EXIT_USAGE

    try:
        course = cli.load_manifest(args.manifest)
        lectures = cli.select_lectures(course, args.lecture)
        try:
            parse_quality(args.quality)
        except ValueError as exc:
            raise cli.UsageError(f"--quality: {exc}") from None
    except cli.UsageError as exc:
        print(f"render: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not lectures:
        print(f"render: no lecture matches {args.lecture!r} "
              f"(ready: {', '.join(x.id for x in course.lectures if x.ready) or 'none yet'})")
        return 0
    empty = [x.id for x in lectures if not x.scenes]
    if empty:
        print(f"render: lecture(s) {', '.join(empty)} have no scenes in the manifest yet; skipped")
    if len(empty) == len(lectures):
        return 0
    try:
        with _termination_signals():
            report = render(course, args.lecture, args.quality, args.jobs, args.voice, args.force,
                            args.media_dir, progress=not args.no_progress, timeout=args.timeout, only=args.only,
                            retries=args.retries, scheduler=args.scheduler, **render_overrides)
    except UnknownSceneError as exc:
        print(f"render: --only: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (MediaDirError, MediaDirLocked, ClusterUnavailable) as exc:
        print(f"render: {exc}", file=sys.stderr)
        codes = ((MediaDirError, EXIT_MEDIA_DIR), (MediaDirLocked, EXIT_LOCKED), (ClusterUnavailable, EXIT_CLUSTER))
        return next(code for cls, code in codes if isinstance(exc, cls))
    except (KeyboardInterrupt, Interrupted) as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        print(f"render: interrupted by {signal.Signals(signum).name}; the running scenes were ended and their "
              f"partial outputs removed (rerun to continue: finished scenes are kept)", file=sys.stderr)
        return 128 + int(signum)
    print(report.summary())
    return EXIT_FAILED if report.failed else 0
