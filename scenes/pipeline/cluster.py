"""Render scenes on a Dask cluster (``scripts/render.py --scheduler tcp://HOST:PORT``, the ``cluster`` extra).

The submitting machine decides what to render from its stamps, exactly as a local render does, and
submits each scene as one task. A task renders into a temporary media folder on its worker (under
the worker's own scratch space: no shared file system is needed) with the same ``run_job`` as a
local render, and returns the scene's outputs (video, audio, captions, sections index) and its log as
bytes; the client writes them atomically into its media directory and then writes the stamp.

Before rendering, the task recomputes the stamp's inputs on the worker's checkout (the scene file,
its package, its deps, the shared inputs, the voice, manim's version) and compares their hash with
the client's (``code_key``: the stamp's inputs with paths relative to the course root, so two
checkouts in different folders agree). When they differ it refuses, naming what differs: a stale
worker never contributes a scene.

A failed task (a refusal, a manim failure, an exception, a worker lost more often than the
scheduler's ``allowed-failures``) is submitted again up to ``retries`` times, like a local failure;
a worker that dies mid-task is first rescheduled by the scheduler itself. Ctrl-C (or SIGTERM) cancels
the submitted tasks and sets a Dask ``Event`` that makes running tasks end their manim process.

The worker's checkout is the one this module is imported from, or ``ATTN_WORKER_ROOT`` when set.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import shutil
import socket
import tempfile
import threading
import traceback
import uuid
from dataclasses import replace
from pathlib import Path

from scenes.pipeline import atomic
from scenes.pipeline import render as R
from scenes.pipeline.media import SceneOutputs, fingerprint, hash_obj, hash_tree, probe_video, sha256_file

#: files of a scene that travel back to the client (the section clips manim also writes do not:
#: nothing downstream reads them)
OUTPUT_NAMES = ("mp4", "wav", "srt", "sections_json")
CONNECT_TIMEOUT_S = 30
POLL_S = 0.5


class ClusterUnavailable(RuntimeError):
    """The ``cluster`` extra is not installed or the scheduler cannot be reached (the message says which)."""


class StaleWorker(RuntimeError):
    """The worker's checkout or voice differs from the client's (the message names what differs)."""


# ------------------------------------------------------------------------------------------------
# the code key: the stamp's inputs, comparable across checkouts
# ------------------------------------------------------------------------------------------------


def portable_inputs(inputs: dict, root: Path) -> dict:
    """The stamp's inputs with the absolute paths (the deps' keys) made relative to the course root."""
    root = Path(root)

    def rel(p: str) -> str:
        with contextlib.suppress(ValueError):
            return str(Path(p).relative_to(root))
        return p

    return {**inputs, "deps": {rel(k): v for k, v in (inputs.get("deps") or {}).items()}}


def code_key(inputs: dict, root: Path) -> str:
    """The hash both sides compare: ``hash_obj`` of :func:`portable_inputs`."""
    return hash_obj(portable_inputs(inputs, root))


def differences(client: dict, worker: dict) -> list[str]:
    """The parts of two portable inputs that differ, one short phrase each (``shared[scenes/kit]``, ``voice``…)."""
    out = []
    for k in sorted(set(client) | set(worker)):
        a, b = client.get(k), worker.get(k)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict) and k in ("shared", "deps"):
            out += [f"{k}[{s}]" for s in sorted(set(a) | set(b)) if a.get(s) != b.get(s)]
        elif k in ("voice", "manim", "manim_voiceover", "quality"):
            out.append(f"{k} (client {a!r}, worker {b!r})")
        else:
            out.append(k)
    return out


# ------------------------------------------------------------------------------------------------
# the worker side
# ------------------------------------------------------------------------------------------------


def worker_root() -> Path:
    """The checkout a worker renders from: ``ATTN_WORKER_ROOT``, else the one this module lives in."""
    env = os.environ.get("ATTN_WORKER_ROOT")
    return Path(env) if env else Path(__file__).resolve().parents[2]


_voice_cache: dict[tuple[str, str], dict] = {}
_voice_lock = threading.Lock()


def _worker_voice(course, mode: str) -> dict:
    """The voice as the scenes see it on this worker (probed once per checkout and mode)."""
    key = (str(course.root), mode)
    with _voice_lock:
        if key not in _voice_cache:
            _voice_cache[key] = R.probe_voice(course.root, R.child_env(course, None, mode))
        return {"mode": mode, **_voice_cache[key]}


def _scratch() -> Path:
    """A folder for the task's temporary media: the Dask worker's local directory (removed with the
    worker, stale ones purged by Dask), else the system's temporary folder."""
    with contextlib.suppress(Exception):
        from distributed import get_worker

        return Path(get_worker().local_directory)
    return Path(tempfile.gettempdir())


def _worker_name() -> str:
    with contextlib.suppress(Exception):
        from distributed import get_worker

        return f"{get_worker().address} ({socket.gethostname()})"
    return socket.gethostname()


def render_task(spec: dict) -> dict:
    """One scene on a worker (the function the client submits). ``spec``: see :func:`task_spec`.
    Returns {"status": "rendered" | "failed" | "refused", "message", "seconds", "video_seconds",
    "log": bytes, "files": {name: bytes}, "worker"}."""
    root = worker_root()
    who = _worker_name()
    course = replace(spec["course"], root=root)
    job: R.RenderJob = spec["job"]
    scratch = Path(tempfile.mkdtemp(prefix="attn-render-", dir=_scratch()))
    try:
        media = scratch / "media"
        wjob = replace(
            job, file=root / spec["file"], dep_paths=tuple(root / d for d in spec["deps"]),
            outputs=SceneOutputs(media, job.outputs.module_name, job.scene, job.outputs.quality),
            extra_env=({"ATTN_CARD_SPEC": str(media / "cards" / f"{job.scene}.json")} if job.kind != "scene" else {}),
        )
        excluded = tuple(root / e for e in course.shared_exclude)
        shared = {s: hash_tree(root / s, exclude=excluded) for s in course.shared_inputs}
        mine = portable_inputs(R.stamp_inputs(wjob, course, _worker_voice(course, spec["voice_mode"]), shared), root)
        if hash_obj(mine) != spec["code_key"]:
            diff = differences(spec["portable_inputs"], mine)
            msg = (f"refused by stale worker {who}: its checkout {root} differs from the client's in "
                   f"{', '.join(diff) or 'its stamp inputs'}; check out the client's commit (and voice) on "
                   f"that worker and restart it")
            return {"status": "refused", "message": msg, "seconds": 0.0, "video_seconds": None,
                    "log": (msg + "\n").encode(), "files": {}, "worker": who}

        cancel = _cancel_event(spec.get("cancel_event"))
        procs: list = []
        box: dict = {}

        def work() -> None:
            try:
                box["res"] = R.run_job(wjob, course, media, spec["voice_mode"], spec["key"], spec["inputs"],
                                       spec["make_command"], spec["timeout"], started=procs.append)
            except BaseException as exc:
                box["exc"] = exc

        t = threading.Thread(target=work, name=f"render {job.scene}", daemon=True)
        t.start()
        cancelled = False
        while t.is_alive():
            t.join(POLL_S)
            if not cancelled and cancel is not None and _is_set(cancel):
                cancelled = True
                for p in procs:
                    R._kill_group(p, 15)
        if "exc" in box:
            raise box["exc"]
        res: R.JobResult = box["res"]
        out = wjob.outputs
        log = out.log.read_bytes() if out.log.exists() else b""
        if cancelled:
            return {"status": "failed", "message": "cancelled by the client", "seconds": res.seconds,
                    "video_seconds": None, "log": log, "files": {}, "worker": who}
        files = ({n: getattr(out, n).read_bytes() for n in OUTPUT_NAMES if getattr(out, n).exists()}
                 if res.status == "rendered" else {})
        return {"status": res.status, "message": res.message, "seconds": res.seconds,
                "video_seconds": res.video_seconds, "log": log, "files": files, "worker": who}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _cancel_event(name: str | None):
    if not name:
        return None
    with contextlib.suppress(Exception):
        from distributed import Event

        return Event(name)
    return None


def _is_set(event) -> bool:
    try:
        return bool(event.is_set())
    except Exception:
        return False


# ------------------------------------------------------------------------------------------------
# the client side
# ------------------------------------------------------------------------------------------------


def task_spec(job: R.RenderJob, course, key: str, inputs: dict, voice_mode: str, make_command, timeout,
              cancel_event: str) -> dict:
    """What a task needs, with the scene's paths relative to the course root (the worker's differs)."""
    root = Path(course.root)

    def rel(p: Path) -> str:
        try:
            return str(Path(p).resolve().relative_to(root.resolve()))
        except ValueError:
            raise ValueError(f"{p} is outside the course root {root}: a cluster worker cannot find it") from None

    portable = portable_inputs(inputs, root)
    return {"course": course, "job": job, "file": rel(job.file), "deps": [rel(d) for d in job.dep_paths],
            "key": key, "inputs": inputs, "portable_inputs": portable, "code_key": hash_obj(portable),
            "voice_mode": voice_mode, "make_command": make_command, "timeout": timeout,
            "cancel_event": cancel_event}


def connect(address: str):
    """A ``distributed.Client`` for the scheduler at ``address``; ClusterUnavailable with the reason."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise ClusterUnavailable(f"--scheduler needs the cluster extra (pip install -e '.[cluster]'): {exc}") from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def accept(job: R.RenderJob, key: str, inputs: dict, result: dict) -> R.JobResult:
    """Write a task's result into the local media directory: the log always, the outputs and the
    stamp (last) when it rendered; the outputs are checked here as a local render checks them."""
    out = job.outputs
    header = f"# rendered on the cluster by {result.get('worker', '?')}\n".encode()
    atomic.write_bytes(out.log, header + (result.get("log") or b""))
    status, seconds = result.get("status"), float(result.get("seconds") or 0.0)
    if status != "rendered":
        return R.JobResult(job, "failed", seconds, result.get("message") or status or "failed")
    files = result.get("files") or {}
    missing = [n for n in ("mp4", "sections_json") if n not in files]
    if missing:
        return R.JobResult(job, "failed", seconds, "the worker returned no " + ", ".join(missing))
    if job.kind in ("title", "end"):
        atomic.write_json(Path(job.extra_env["ATTN_CARD_SPEC"]), job.extra_inputs["card_spec"])
    for name, data in files.items():
        atomic.write_bytes(getattr(out, name), data)
    problem = R.check_sections(job)
    if problem:
        return R.JobResult(job, "failed", seconds, problem)
    try:
        info = probe_video(out.mp4)
        video_seconds = float(info.video_duration)
    except Exception as exc:
        return R.JobResult(job, "failed", seconds, f"unreadable video {out.mp4}: {exc}")
    atomic.write_json(out.stamp, {
        "key": key, "label": job.label, "inputs": inputs,
        "outputs": {str(p): fingerprint(p) for p in out.all_files() if p.exists()},
        "sha256": {str(p): sha256_file(p) for p in out.all_files() if p.exists()},
        "render_seconds": round(seconds, 3), "video_seconds": video_seconds, "frames": info.nb_frames,
        "rendered_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "worker": result.get("worker"),
    })
    return R.JobResult(job, "rendered", seconds, "", video_seconds)


def run_on_cluster(address: str, todo, course, voice_mode: str, make_command, timeout, retries: int,
                   on_result) -> list[R.JobResult]:
    """Submit every (job, key, inputs) of ``todo`` to the scheduler at ``address`` and collect them;
    ``on_result(JobResult)`` is called as each scene finishes (the progress bar). A failed scene is
    submitted again up to ``retries`` times (each failed attempt's log kept as ``<log>.attemptN``)."""
    from distributed import Event, as_completed

    client = connect(address)
    cancel_name = f"attn-render-cancel-{uuid.uuid4().hex}"
    event = Event(cancel_name, client=client)
    results: list[R.JobResult] = []
    specs, attempts, futures = {}, {}, {}
    try:
        ready = []
        for job, key, inputs in todo:
            # the old stamp and outputs go first, as locally: a crash must not leave them looking current
            for p in [job.outputs.stamp, *job.outputs.all_files()]:
                p.unlink(missing_ok=True)
            try:
                spec = task_spec(job, course, key, inputs, voice_mode, make_command, timeout, cancel_name)
            except ValueError as exc:  # a scene file outside the repository: no worker can have it
                atomic.write_bytes(job.outputs.log, f"{exc}\n".encode())
                res = R.JobResult(job, "failed", 0.0, str(exc))
                results.append(res)
                on_result(res)
                continue
            specs[id(job)] = (job, key, inputs, spec)
            ready.append(job)
        ac = as_completed(loop=client.loop)

        def submit(job) -> None:
            attempts[id(job)] = attempts.get(id(job), 0) + 1
            fut = client.submit(render_task, specs[id(job)][3], key=f"render-{job.scene}-{uuid.uuid4().hex[:8]}",
                                pure=False)
            futures[fut.key] = (job, fut)
            ac.add(fut)

        for job in ready:
            submit(job)
        for fut in ac:
            job, _ = futures.pop(fut.key)
            _, key, inputs, _ = specs[id(job)]
            try:
                res = accept(job, key, inputs, fut.result())
            except Exception as exc:  # the task raised, or its worker was lost too often (KilledWorker)
                msg = f"cluster task failed: {R._describe(exc)}"
                atomic.write_bytes(job.outputs.log, (msg + "\n" + "".join(
                    traceback.format_exception(type(exc), exc, exc.__traceback__))).encode())
                res = R.JobResult(job, "failed", 0.0, msg)
            finally:
                fut.release()
            n = attempts[id(job)]
            if res.status == "failed" and not res.message.startswith("timed out") and n <= retries:
                log = job.outputs.log
                if log.exists():
                    log.replace(log.with_name(f"{log.name}.attempt{n}"))
                submit(job)
                continue
            if n > 1:
                res = replace(res, message=(res.message + f" (attempt {n})").strip())
            results.append(res)
            on_result(res)
        return results
    except BaseException:  # Ctrl-C, SIGTERM: stop the running tasks' manim, cancel the rest
        with contextlib.suppress(Exception):
            event.set()
        with contextlib.suppress(Exception):
            client.cancel([f for _, f in futures.values()], force=True)
        raise
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=10)
