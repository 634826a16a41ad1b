"""render.py's progress bar counts seconds of video (each scene weighs its expected length), not scenes."""

from __future__ import annotations

import json

import pytest

from pipeline_helpers import REPO_ROOT, fake_command, fixture_course

from scenes.pipeline import render as R
from scenes.pipeline.media import quality

VOICE = {"engine": "silent", "voice": "none", "settings": {}}


def _jobs(tmp_path):
    fx = fixture_course()
    return R.plan_jobs(fx, [fx.lecture("90")], quality("l"), tmp_path)


def _stamp(path, seconds):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"video_seconds": seconds}))


def test_expected_seconds_prefers_the_last_render_then_cards_then_narration(tmp_path):
    title, end, alpha, _beta = _jobs(tmp_path)
    assert R.expected_seconds(title) == R.TITLE_CARD_SECONDS and R.expected_seconds(end) == R.END_CARD_SECONDS
    # never rendered: its narration's words at the silent voice's pace
    est = R.narration_estimate(REPO_ROOT / "tests/pipeline/fixture_lecture/sync_scenes.py")
    assert est is not None and 1 < est < 120 and R.expected_seconds(alpha) == est
    # rendered at another quality: that length
    _stamp(tmp_path / "stamps/1080p30/sync_scenes/FixtureAlpha.json", 20.6)
    assert R.expected_seconds(alpha) == 20.6
    # rendered at this quality: that length first
    _stamp(alpha.outputs.stamp, 20.5)
    assert R.expected_seconds(alpha) == 20.5
    _stamp(title.outputs.stamp, 4.2)
    assert R.expected_seconds(title) == 4.2


def test_narration_estimate_skips_docstrings_and_labels(tmp_path):
    f = tmp_path / "s.py"
    f.write_text('"""A module docstring of many words that are not spoken at all."""\n'
                 'class S:\n    """Nor these words here, a docstring."""\n'
                 '    def construct(self):\n        say("one two three four five six seven eight nine ten eleven")\n'
                 '        label("QK")\n')
    assert R.narration_estimate(f) == 11 * 60 / R.SILENT_WPM
    (tmp_path / "empty.py").write_text("x = 1\n")
    assert R.narration_estimate(tmp_path / "empty.py") is None
    assert R.narration_estimate(tmp_path / "missing.py") is None


def test_the_bar_weighs_scenes_by_video_seconds(tmp_path):
    title, end, alpha, beta = _jobs(tmp_path)
    _stamp(alpha.outputs.stamp, 300.0)
    _stamp(beta.outputs.stamp, 100.0)
    bar = R.VideoProgress([title, end, alpha, beta], [title], "render", disable=True)
    assert bar.total == 409.0 and bar.seconds == 4.0  # the skipped title card counts as done
    bar.done(R.JobResult(alpha, "rendered", 10.0, "", 300.0))
    assert bar.seconds == 304.0 and bar.finished == 2
    # a scene that came out longer than expected: its real length replaces the expectation
    bar.done(R.JobResult(beta, "rendered", 10.0, "", 120.0))
    assert bar.total == 429.0 and bar.seconds == 424.0
    # a failed scene is finished work for the bar, counted at its expected length
    bar.done(R.JobResult(end, "failed", 1.0, "boom"))
    assert bar.seconds == bar.total == 429.0 and bar.failed == 1 and bar.finished == 4
    bar.close()


def test_render_drives_the_bar_to_the_video_rendered(tmp_path, tiny_mp4, monkeypatch):
    seen = []
    orig = R.VideoProgress.done

    def spy(self, res):
        orig(self, res)
        seen.append((res.job.scene, self.seconds, self.total))

    monkeypatch.setattr(R.VideoProgress, "done", spy)
    report = R.render(fixture_course(), "90", quality="l", jobs=2, media_dir=tmp_path / "media", progress=False,
                      voice_info=VOICE, make_command=fake_command(tiny_mp4))
    assert report.ok and len(seen) == 4
    total = sum(r.video_seconds for r in report.results)
    assert seen[-1][1] == pytest.approx(total) and seen[-1][2] == pytest.approx(total)
    assert [n for _, n, _ in seen] == sorted(n for _, n, _ in seen)
