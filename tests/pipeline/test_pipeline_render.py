"""Render orchestration: planning, stamps (skip / force / what invalidates), failure reporting."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
from pipeline_helpers import REPO_ROOT, fake_command, fixture_course

from scenes.pipeline import render as R
from scenes.pipeline.media import QUALITIES, quality

VOICE = {"engine": "silent", "voice": "none", "settings": {}}


def statuses(report):
    return {r.job.scene: r.status for r in report.results}


def copy_fixture_course(tmp_path):
    """The fixture course with its scene package copied into tmp (so the test can edit a scene file)."""
    fx = fixture_course()
    pkg = tmp_path / "fixture_pkg"
    shutil.copytree(REPO_ROOT / "tests/pipeline/fixture_lecture", pkg,
                    ignore=shutil.ignore_patterns("__pycache__"))
    lec = fx.lecture("90")
    scenes = tuple(replace(s, module=str(pkg / "sync_scenes.py")) for s in lec.scenes)
    # shared inputs limited to manim.cfg: other work on the kit must not re-render these fakes
    return replace(fx, lectures=(replace(lec, scenes=scenes),), shared_inputs=("manim.cfg",)), pkg


def test_qualities_and_manim_arguments():
    assert quality("l").dirname == "480p15" and quality("l").manim_args() == ["-q", "l"]
    assert quality("h30").dirname == "1080p30"
    assert quality("h30").manim_args() == ["-r", "1920,1080", "--fps", "30"]
    assert quality("-qh").dirname == "1080p60" and quality("k").dirname == "2160p60"
    assert set(QUALITIES) == {"l", "m", "h", "p", "k", "h30"}
    with pytest.raises(ValueError):
        quality("x")


def test_plan_has_cards_and_scenes_in_manim_layout(tmp_path):
    fx = fixture_course()
    jobs = R.plan_jobs(fx, [fx.lecture("90")], quality("l"), tmp_path)
    assert [(j.kind, j.scene) for j in jobs] == [("title", "TitleCard90"), ("end", "EndCard90"),
                                                 ("scene", "FixtureAlpha"), ("scene", "FixtureBeta")]
    alpha = jobs[2].outputs
    assert alpha.mp4 == tmp_path / "videos/sync_scenes/480p15/FixtureAlpha.mp4"
    assert alpha.sections_json == tmp_path / "videos/sync_scenes/480p15/sections/FixtureAlpha.json"
    assert alpha.wav.name == "FixtureAlpha.wav" and alpha.srt.name == "FixtureAlpha.srt"
    assert alpha.log == tmp_path / "logs/480p15/sync_scenes.FixtureAlpha.log"
    cmd = R.manim_command(jobs[2], fx, tmp_path)
    assert cmd[1:4] == ["-m", "manim", "render"] and "--disable_caching" in cmd and "--save_sections" in cmd
    assert cmd[cmd.index("-c") + 1] == str(REPO_ROOT / "manim.cfg")
    assert cmd[-2:] == [str(REPO_ROOT / "tests/pipeline/fixture_lecture/sync_scenes.py"), "FixtureAlpha"]
    # a lecture whose first scene has its own title card gets only the end card
    no_title = replace(fx.lecture("90"), cards=("end",))
    assert [j.scene for j in R.plan_jobs(fx, [no_title], quality("l"), tmp_path)][:2] == ["EndCard90", "FixtureAlpha"]


def test_stamps_skip_unchanged_and_force_renders(tmp_path, tiny_mp4):
    course, pkg = copy_fixture_course(tmp_path)
    media = tmp_path / "media"
    kw = dict(quality="l", jobs=2, media_dir=media, progress=False, voice_info=VOICE,
              make_command=fake_command(tiny_mp4))

    first = R.render(course, "90", **kw)
    assert first.ok and set(statuses(first).values()) == {"rendered"} and len(first.results) == 4
    stamp = json.loads((media / "stamps/480p15/sync_scenes/FixtureAlpha.json").read_text())
    assert stamp["inputs"]["quality"] == "l" and stamp["frames"] == 5

    again = R.render(course, "90", **kw)
    assert set(statuses(again).values()) == {"skipped"}

    forced = R.render(course, "90", force=True, **kw)
    assert set(statuses(forced).values()) == {"rendered"}

    # editing the scene file re-renders its scenes, not the cards
    (pkg / "sync_scenes.py").write_text((pkg / "sync_scenes.py").read_text() + "\n# edited\n")
    edited = R.render(course, "90", **kw)
    assert statuses(edited) == {"TitleCard90": "skipped", "EndCard90": "skipped",
                                "FixtureAlpha": "rendered", "FixtureBeta": "rendered"}

    # a missing or changed output re-renders that scene only
    (media / "videos/sync_scenes/480p15/FixtureBeta.mp4").unlink()
    assert statuses(R.render(course, "90", **kw))["FixtureBeta"] == "rendered"
    assert set(statuses(R.render(course, "90", **kw)).values()) == {"skipped"}

    # another voice or quality is another render
    other_voice = R.render(course, "90", **{**kw, "voice_info": {"engine": "espeak"}})
    assert set(statuses(other_voice).values()) == {"rendered"}
    other_q = R.render(course, "90", **{**kw, "quality": "m"})
    assert set(statuses(other_q).values()) == {"rendered"}
    assert (media / "videos/sync_scenes/720p30/FixtureAlpha.mp4").exists()


def test_hash_tree_leaves_out_excluded_folders(tmp_path):
    from scenes.pipeline.media import hash_tree

    (tmp_path / "lib" / "lab").mkdir(parents=True)
    (tmp_path / "lib" / "core.py").write_text("x = 1")
    (tmp_path / "lib" / "lab" / "train.py").write_text("y = 1")
    excl = (tmp_path / "lib" / "lab",)
    full, part = hash_tree(tmp_path / "lib"), hash_tree(tmp_path / "lib", exclude=excl)
    (tmp_path / "lib" / "lab" / "train.py").write_text("y = 2")          # a lab edit…
    assert hash_tree(tmp_path / "lib", exclude=excl) == part               # …does not change the shared hash
    assert hash_tree(tmp_path / "lib") != full
    (tmp_path / "lib" / "core.py").write_text("x = 2")                    # a library edit does
    assert hash_tree(tmp_path / "lib", exclude=excl) != part


def test_failure_is_reported_with_its_log_and_the_others_go_on(tmp_path, tiny_mp4):
    fx = fixture_course()
    media = tmp_path / "media"
    report = R.render(fx, "91", quality="l", jobs=2, media_dir=media, progress=False, voice_info=VOICE,
                      make_command=fake_command(tiny_mp4), only=["Tiny", "Broken"])
    st = statuses(report)
    assert st == {"Tiny": "rendered", "Broken": "failed"}
    assert not report.ok
    (failed,) = report.failed
    assert failed.log.exists() and "fails on purpose" in failed.log.read_text()
    assert "exited with 1" in failed.message
    summary = report.summary()
    assert "FAILED L91 broken_scenes.py:Broken" in summary and str(failed.log) in summary
    assert not (media / "stamps/480p15/broken_scenes/Broken.json").exists()
    assert (media / "videos/broken_scenes/480p15/Tiny.mp4").exists()


def test_a_transient_failure_is_rendered_again_and_a_real_one_fails_twice(tmp_path, tiny_mp4, monkeypatch):
    fx = fixture_course()
    media = tmp_path / "media"
    monkeypatch.setenv("FAKE_MANIM_FAIL_ONCE", str(tmp_path / "crashed-once"))
    report = R.render(fx, "91", quality="l", jobs=1, media_dir=media, progress=False, voice_info=VOICE,
                      make_command=fake_command(tiny_mp4), only=["Tiny", "Broken"])
    st = statuses(report)
    assert st == {"Tiny": "rendered", "Broken": "failed"}
    res = {r.job.scene: r for r in report.results}
    first = res["Tiny"].log.with_name(res["Tiny"].log.name + ".attempt1")   # Broken exits before the crash
    assert "a transient race" in first.read_text()                     # the failed attempt's log is kept
    assert res["Tiny"].message == "(attempt 2)"
    assert res["Broken"].message.endswith("(attempt 2)")               # a real error fails both attempts
    assert "fails on purpose" in res["Broken"].log.read_text()
    no_retry = R.render(fx, "91", quality="l", jobs=1, media_dir=tmp_path / "m2", progress=False, voice_info=VOICE,
                        make_command=fake_command(tiny_mp4), only=["Broken"], retries=0)
    assert not no_retry.results[0].message.endswith(")")


def test_section_mismatch_fails_the_render(tmp_path, tiny_mp4):
    course, _ = copy_fixture_course(tmp_path)
    report = R.render(course, "90", quality="l", jobs=1, media_dir=tmp_path / "m", progress=False,
                      voice_info=VOICE, only=["FixtureBeta"],
                      make_command=fake_command(tiny_mp4, {"FixtureBeta": ["L90.3 Gamma topic", "Summary"]}))
    (res,) = report.results
    assert res.status == "failed" and "sections differ from the manifest" in res.message
    assert "Summary" in res.message and "Recap" in res.message


@pytest.mark.slow
def test_real_manim_failure_exit_code_and_log(tmp_path):
    """A scene that raises, rendered by real manim: reported with its log, the other scene is
    rendered, and scripts/render.py exits non-zero."""
    import subprocess
    import sys

    media = tmp_path / "media"
    out = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts/render.py"), "--manifest",
         f"{REPO_ROOT / 'tests/pipeline/fixture_lecture/manifest.py'}:FIXTURE_COURSE", "--lecture", "91",
         "--quality", "l", "--jobs", "2", "--voice", "silent", "--media-dir", str(media), "--no-progress",
         "--only", "Tiny", "--only", "Broken"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr
    log = media / "logs/480p15/broken_scenes.Broken.log"
    assert f"log: {log}" in out.stdout + out.stderr
    assert "fails on purpose" in log.read_text()
    assert (media / "videos/broken_scenes/480p15/Tiny.mp4").exists()
    assert (media / "videos/broken_scenes/480p15/sections/Tiny.json").exists()


def test_encoder_settings_per_quality_are_passed_to_manim_and_stamped(tmp_path):
    """Finals use x264 veryfast with cheaper motion search, previews ultrafast (manim's default is
    medium); segments encode while the scene draws on; the settings are part of every stamp, so changing
    them renders again."""
    fx = fixture_course()
    finals = "subme=1:me=dia"
    for key, preset, params in (("h30", "veryfast", finals), ("h", "veryfast", finals), ("l", "ultrafast", None)):
        job = R.plan_jobs(fx, [fx.lecture("90")], quality(key), tmp_path)[2]
        cmd = R.manim_command(job, fx, tmp_path)
        options = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--encoder-option"]
        assert options == [f"preset={preset}", "thread_type=frame"] + ([f"x264-params={params}"] if params else [])
        assert cmd[cmd.index("--max-inflight-encoders") + 1] == str(R.MAX_INFLIGHT_ENCODERS)
        expected = {"preset": preset, "thread_type": "frame", "max_inflight_encoders": R.MAX_INFLIGHT_ENCODERS}
        if params:
            expected["x264-params"] = params
        assert R.stamp_inputs(job, fx, VOICE, {})["encoder"] == expected
    # the cards get the same settings as the scenes (the assembler joins them by stream copy)
    title = R.plan_jobs(fx, [fx.lecture("90")], quality("h30"), tmp_path)[0]
    assert title.kind == "title"
    assert {"preset=veryfast", "thread_type=frame"} <= set(R.manim_command(title, fx, tmp_path))
