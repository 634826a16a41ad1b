"""The dry run (the default): a plan and a quota estimate, and not a single HTTP call."""

from __future__ import annotations

import os
import subprocess
import sys

from publish_helpers import ROOT, Harness, lecture_responses, write_lecture

from scenes.pipeline.publish.errors import ExitCode
from scenes.pipeline.publish.quota import estimate, load_limits


def test_dry_run_is_the_default_and_makes_no_call(media_dir, capsys):
    write_lecture(media_dir, "01")
    write_lecture(media_dir, "02")
    h = Harness(media_dir, [])
    assert h.run("--lecture", "all", yes=False) == ExitCode.OK
    assert h.http.request_sequence == [] and h.credential_requests == 0
    assert not (media_dir / "publish-manifest.json").exists()
    out = capsys.readouterr().out
    assert "upload 01-attention-fundamentals.mp4" in out and "upload 02-scaled-dot-product.mp4" in out
    assert "unit costs as of 2026-06-01" in out
    assert "videos.insert            2 x    1 =      2 calls" in out
    # 2 x (thumbnail 50 + captions 400 + playlist item 50) + playlists.list 1 + playlists.insert 50
    assert "shared bucket: 1,051 of 10,000 units per day" in out
    assert "Add --yes to publish" in out


def test_explicit_dry_run_flag(media_dir, capsys):
    write_lecture(media_dir, "01")
    h = Harness(media_dir, [])
    assert h.run("--lecture", "01", "--dry-run", yes=False) == ExitCode.OK
    assert h.http.request_sequence == []


def test_dry_run_after_publishing_shows_only_what_changed(media_dir, capsys):
    write_lecture(media_dir, "01")
    h = Harness(media_dir, lecture_responses("01", "VID01", create=True))
    assert h.run("--lecture", "01") == ExitCode.OK
    next(media_dir.glob("01-*.srt")).write_text("1\n00:00:00,000 --> 00:00:01,000\nChanged.\n\n")
    capsys.readouterr()
    h.expect([])
    assert h.run("--lecture", "01", yes=False) == ExitCode.OK
    out = capsys.readouterr().out
    assert "captions  replace the English track" in out
    assert "captions.update          1 x  450 =    450 units" in out
    assert "videos.insert" not in out and "playlists.list" not in out
    assert h.http.request_sequence == []


def test_estimate_warns_when_a_day_is_not_enough():
    lines = estimate(["captions.insert"] * 30).lines()
    assert any("MORE THAN ONE DAY" in line for line in lines)
    assert load_limits().cost("thumbnails.set") == ("shared", 50)


def test_script_entry_point_dry_run(media_dir, tmp_path):
    write_lecture(media_dir, "01")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTN_YT")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "publish.py"), "--lecture", "01", "--media-dir", str(media_dir)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Quota estimate" in proc.stdout and "Dry run: nothing was sent" in proc.stdout
    bad = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "publish.py"), "--lecture", "09", "--media-dir", str(media_dir)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )
    assert bad.returncode == ExitCode.MISSING_FILE
