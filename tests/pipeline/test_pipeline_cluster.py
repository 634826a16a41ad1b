"""Rendering on a Dask cluster (scenes/pipeline/cluster.py): a real LocalCluster on loopback, a scheduler
and worker processes that this module starts and stops. Skipped without the ``cluster`` extra."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from pipeline_helpers import FIXTURE_MANIFEST, REPO_ROOT, fake_command, fixture_course

from scenes.pipeline import cli
from scenes.pipeline import cluster as C
from scenes.pipeline import render as R


def course90():
    # shared inputs narrowed to manim.cfg: other work in the tree must not change the keys mid-test
    return replace(fixture_course(), shared_inputs=("manim.cfg",))


def statuses(report):
    return {r.job.scene: r.status for r in report.results}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is not alive
        return fh.read().split(")")[-1].split()[0] != "Z"


class Cluster:
    """A LocalCluster (processes, one thread each, no dashboard) and the pids of its workers; on exit it is
    closed and the test checks that none of its processes is left."""

    def __init__(self, n_workers: int = 2, **worker_kwargs):
        distributed = pytest.importorskip("distributed")
        self.cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                                host="127.0.0.1", dashboard_address=None, **worker_kwargs)
        self.client = distributed.Client(self.cluster, set_as_default=False)
        self.client.wait_for_workers(n_workers, timeout=120)
        self.address = self.cluster.scheduler_address

    def worker_pids(self) -> dict[str, int]:
        return self.client.run(os.getpid)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pids = list(self.worker_pids().values())
        nannies = [n.process.process.pid for n in self.cluster.workers.values()
                   if getattr(n, "process", None) and n.process.process]
        self.client.close()
        self.cluster.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(alive(p) for p in pids + nannies):
            time.sleep(0.2)
        assert not [p for p in pids + nannies if alive(p)], "the cluster left processes behind"


# ------------------------------------------------------------------------------------------------
# without a cluster
# ------------------------------------------------------------------------------------------------


def test_scheduler_address_type():
    assert cli.scheduler_address("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    for bad in ("10.0.0.5:8786", "tcp://host", "http://h:1", "tcp://h:70000", "tcp://h:1/x", ""):
        with pytest.raises(Exception, match="tcp://HOST:PORT"):
            cli.scheduler_address(bad)


def test_bad_scheduler_in_the_environment_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setenv(R.SCHEDULER_ENV, "nowhere")
    assert R.main(["--lecture", "90", "--manifest", f"{FIXTURE_MANIFEST}:FIXTURE_COURSE"]) == 2
    assert "ATTN_DASK_SCHEDULER" in capsys.readouterr().err


def test_code_key_ignores_the_checkout_folder_and_names_what_differs(tmp_path):
    a = {"scene": "S", "file": "f1", "deps": {"/a/repo/x/data.json": "d1"}, "shared": {"scenes/kit": "k1"},
         "voice": {"engine": "silent"}, "manim": "0.22.0"}
    b = {**a, "deps": {"/elsewhere/checkout/x/data.json": "d1"}}
    assert C.code_key(a, Path("/a/repo")) == C.code_key(b, Path("/elsewhere/checkout"))
    assert C.code_key(a, Path("/a/repo")) != C.code_key(a, Path("/other"))
    pa = C.portable_inputs(a, Path("/a/repo"))
    pb = C.portable_inputs({**b, "file": "f2", "shared": {"scenes/kit": "k2"}, "voice": {"engine": "piper"}},
                           Path("/elsewhere/checkout"))
    assert C.differences(pa, pb) == ["file", "shared[scenes/kit]",
                                     "voice (client {'engine': 'silent'}, worker {'engine': 'piper'})"]
    assert C.differences(pa, pa) == []


def test_task_spec_has_paths_relative_to_the_root_and_refuses_files_outside_it(tmp_path):
    from scenes.pipeline.media import quality

    course = course90()
    jobs = R.plan_jobs(course, [course.lecture("90")], quality("l"), tmp_path)
    spec = C.task_spec(jobs[2], course, "k", {"deps": {}}, "silent", R.manim_command, None, "ev")
    assert spec["file"] == "tests/pipeline/fixture_lecture/sync_scenes.py" and spec["deps"] == []
    outside = replace(jobs[2], file=tmp_path / "elsewhere.py")
    with pytest.raises(ValueError, match=r"outside the course root .*a cluster worker cannot find it"):
        C.task_spec(outside, course, "k", {"deps": {}}, "silent", R.manim_command, None, "ev")


def test_unreachable_scheduler_exits_5(tmp_path, capsys):
    pytest.importorskip("distributed")
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    C.CONNECT_TIMEOUT_S, old = 3, C.CONNECT_TIMEOUT_S
    try:
        rc = R.main(["--lecture", "90", "--manifest", f"{FIXTURE_MANIFEST}:FIXTURE_COURSE",
                     "--quality", "l", "--media-dir", str(tmp_path / "m"), "--no-progress", "--only", "FixtureAlpha",
                     "--scheduler", f"tcp://127.0.0.1:{port}"], voice_info={"engine": "silent"})
    finally:
        C.CONNECT_TIMEOUT_S = old
    assert rc == R.EXIT_CLUSTER
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------
# on a LocalCluster
# ------------------------------------------------------------------------------------------------


def same_render(local, remote):
    """Two renders of the same scenes agree: frames, captions, sections index, stamp key."""
    from scenes.pipeline.media import probe_video

    for a, b in zip(local.results, remote.results):
        oa, ob = a.job.outputs, b.job.outputs
        assert a.job.scene == b.job.scene
        assert probe_video(oa.mp4, count_frames=True).nb_frames == probe_video(ob.mp4, count_frames=True).nb_frames
        assert oa.srt.exists() == ob.srt.exists()
        if oa.srt.exists():
            assert oa.srt.read_text() == ob.srt.read_text()
        sa, sb = json.loads(oa.sections_json.read_text()), json.loads(ob.sections_json.read_text())
        assert [(s["name"], s["nb_frames"]) for s in sa] == [(s["name"], s["nb_frames"]) for s in sb]
        sta, stb = json.loads(oa.stamp.read_text()), json.loads(ob.stamp.read_text())
        assert sta["key"] == stb["key"] and sta["frames"] == stb["frames"]
        assert "worker" in stb and "worker" not in sta


@pytest.mark.slow
def test_cluster_render_equals_the_local_render(tmp_path):
    """Real manim at -ql, voice silent: the fixture lecture rendered locally and on two worker processes;
    the scenes and the assembled lectures agree (frames, captions, chapters), and a rerun is all skipped."""
    from scenes.pipeline import assemble as A

    course = course90()
    kw = dict(quality="l", jobs=2, voice="silent", progress=False)
    local = R.render(course, "90", media_dir=tmp_path / "local", **kw)
    assert local.ok, local.summary()
    with Cluster(2) as cl:
        remote = R.render(course, "90", media_dir=tmp_path / "remote", scheduler=cl.address, **kw)
        assert remote.ok, remote.summary()
        assert [r.status for r in remote.results] == ["rendered"] * 4
        workers = {json.loads(r.job.outputs.stamp.read_text())["worker"].split()[0] for r in remote.results}
        assert workers <= set(cl.worker_pids())
        again = R.render(course, "90", media_dir=tmp_path / "remote", scheduler=cl.address, **kw)
        assert [r.status for r in again.results] == ["skipped"] * 4
    same_render(local, remote)
    for r in remote.results:
        assert "rendered on the cluster by tcp://127.0.0.1:" in r.log.read_text()
    la = A.assemble(course, "90", "l", tmp_path / "local", log=lambda m: None)
    ra = A.assemble(course, "90", "l", tmp_path / "remote", log=lambda m: None)
    lm, rm = la.metadata, ra.metadata
    assert sum(s["frames"] for s in lm["segments"]) == sum(s["frames"] for s in rm["segments"])
    assert lm["chapters"] == rm["chapters"] and lm["sections"] == rm["sections"]
    assert la.paths.srt.read_text() == ra.paths.srt.read_text()
    assert la.paths.chapters.read_text() == ra.paths.chapters.read_text()


def test_a_worker_killed_mid_task_is_retried_on_the_other(tmp_path, tiny_mp4):
    """Fake manim sleeps 4 s; the worker running the scene is SIGKILLed (its manim dies with it); the
    scheduler reruns the task on the other worker and the scene arrives with its stamp."""
    import psutil

    pids_dir = tmp_path / "pids"
    pids_dir.mkdir()
    env = {"FAKE_MANIM_SLEEP": "4", "FAKE_MANIM_PIDDIR": str(pids_dir)}
    killed: dict = {}
    with Cluster(2, env=env) as cl:
        workers = cl.worker_pids()

        def kill_first() -> None:
            pid_file = pids_dir / "FixtureAlpha.pid"
            deadline = time.monotonic() + 120
            while not pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            manim = int(pid_file.read_text())
            worker = psutil.Process(manim).ppid()
            killed.update(manim=manim, worker=worker)
            os.kill(worker, signal.SIGKILL)

        t = threading.Thread(target=kill_first)
        t.start()
        report = R.render(course90(), "90", quality="l", media_dir=tmp_path / "m", progress=False,
                          voice="silent", only=["FixtureAlpha"], make_command=fake_command(tiny_mp4),
                          scheduler=cl.address)
        t.join()
        assert killed["worker"] in workers.values()
        (res,) = report.results
        assert res.status == "rendered", report.summary()
        stamp = json.loads(res.job.outputs.stamp.read_text())
        victim = next(a for a, p in workers.items() if p == killed["worker"])
        assert stamp["worker"].split()[0] != victim
        assert res.job.outputs.mp4.read_bytes() == tiny_mp4.read_bytes()
        assert not alive(killed["worker"]) and not alive(killed["manim"])


def test_a_stale_worker_refuses_with_a_clear_message(tmp_path, tiny_mp4):
    """A worker whose checkout has another manim.cfg (a shared input) refuses every scene, naming what
    differs; the scene fails with that message in its log after its retries, and nothing is written."""
    stale = tmp_path / "stale_checkout"
    stale.mkdir()
    for name in ("scenes", "attn_ref", "tests"):
        (stale / name).symlink_to(REPO_ROOT / name)
    shutil.copyfile(REPO_ROOT / "manim.cfg", stale / "manim.cfg")
    with open(stale / "manim.cfg", "a") as fh:
        fh.write("\n# an older commit\n")
    media = tmp_path / "m"
    with Cluster(1, env={"ATTN_WORKER_ROOT": str(stale)}) as cl:
        report = R.render(course90(), "90", quality="l", media_dir=media, progress=False, voice="silent",
                          only=["FixtureAlpha"], make_command=fake_command(tiny_mp4), scheduler=cl.address,
                          retries=1)
    (res,) = report.results
    assert res.status == "failed"
    assert "refused by stale worker tcp://127.0.0.1:" in res.message and "shared[manim.cfg]" in res.message
    assert f"its checkout {stale} differs" in res.message and res.message.endswith("(attempt 2)")
    assert "shared[manim.cfg]" in res.log.read_text()
    assert res.log.with_name(res.log.name + ".attempt1").exists()
    out = res.job.outputs
    assert not out.stamp.exists() and not out.mp4.exists()
    assert f"FAILED {res.job.label}" in report.summary() and str(res.log) in report.summary()


def test_ctrl_c_cancels_the_tasks_and_ends_their_manim(tmp_path, tiny_mp4):
    """SIGINT to a cluster render while its scene runs (fake manim sleeping 60 s on a worker): the renderer
    exits 130, the running task ends its manim at once, and the scheduler is left with no task."""
    import subprocess
    import sys

    pids_dir = tmp_path / "pids"
    pids_dir.mkdir()
    media = tmp_path / "m"
    with Cluster(2, env={"FAKE_MANIM_SLEEP": "60", "FAKE_MANIM_PIDDIR": str(pids_dir)}) as cl:
        argv = ["--lecture", "90", "--manifest", f"{FIXTURE_MANIFEST}:FIXTURE_COURSE", "--quality", "l",
                "--voice", "silent", "--media-dir", str(media), "--no-progress", "--only", "FixtureAlpha",
                "--scheduler", cl.address]
        code = ("import sys; from pathlib import Path; sys.path.insert(0, 'tests/pipeline')\n"
                "from pipeline_helpers import fake_command\n"
                "from scenes.pipeline import render as R\n"
                f"sys.exit(R.main({argv!r}, make_command=fake_command(Path({str(tiny_mp4)!r}))))\n")
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        pid_file = pids_dir / "FixtureAlpha.pid"
        deadline = time.monotonic() + 120
        while not pid_file.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert pid_file.exists(), proc.communicate()[0]
        manim = int(pid_file.read_text())
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 130, out
        assert "interrupted by SIGINT" in out
        deadline = time.monotonic() + 10
        while alive(manim) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(manim), "the worker's manim outlived the cancelled render"
        deadline = time.monotonic() + 10
        while any(cl.client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(cl.client.processing().values())
    assert not (media / "videos/sync_scenes/480p15/FixtureAlpha.mp4").exists()
    assert not (media / "stamps/480p15/sync_scenes/FixtureAlpha.json").exists()
