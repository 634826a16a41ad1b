"""Everything checked before any remote call: metadata, files, YouTube's limits, the manifest."""

from __future__ import annotations

import json

import pytest
from publish_helpers import Harness, description_for, edit_metadata, write_lecture

from scenes.pipeline.publish import lecture as lecture_mod
from scenes.pipeline.publish.errors import ExitCode, MetadataError


def _run_expecting_no_call(media_dir, *args) -> tuple[int, Harness]:
    h = Harness(media_dir, [])  # any HTTP call would fail the test
    rc = h.run(*args)
    assert h.http.request_sequence == []
    assert h.credential_requests == 0
    return rc, h


def test_title_over_100_characters(media_dir, capsys):
    write_lecture(media_dir, "01", title="A" * 101)
    rc, _ = _run_expecting_no_call(media_dir, "--lecture", "01")
    assert rc == ExitCode.TITLE_INVALID == 12
    assert "101 characters; YouTube allows 100" in capsys.readouterr().err


def test_title_of_exactly_100_characters_is_fine(media_dir):
    write_lecture(media_dir, "01", title="A" * 100)
    lectures, problems = lecture_mod.load_selected(media_dir, "01")
    assert problems == [] and len(lectures) == 1


def test_angle_bracket_in_description(media_dir, capsys):
    write_lecture(media_dir, "01", description=description_for("01") + "\nwhere <i> is the query index")
    rc, _ = _run_expecting_no_call(media_dir, "--lecture", "01")
    assert rc == ExitCode.DESCRIPTION_INVALID == 13
    err = capsys.readouterr().err
    assert "'<'" in err and "line(s) 8" in err and "nothing was sent" in err


def test_description_limit_counts_utf8_bytes(media_dir, capsys):
    # 2,600 characters but 5,200 bytes: over YouTube's 5,000-byte limit.
    write_lecture(media_dir, "01", description="0:00 Intro\n" + "é" * 2600)
    rc, _ = _run_expecting_no_call(media_dir, "--lecture", "01")
    assert rc == ExitCode.DESCRIPTION_INVALID
    assert "5,211 bytes" in capsys.readouterr().err


def test_missing_file(media_dir, capsys):
    write_lecture(media_dir, "01")
    next(media_dir.glob("01-*.srt")).unlink()
    rc, _ = _run_expecting_no_call(media_dir, "--lecture", "01")
    assert rc == ExitCode.MISSING_FILE == 10
    assert "captions file" in capsys.readouterr().err


def test_missing_lecture_and_missing_media_dir(media_dir, tmp_path, capsys):
    write_lecture(media_dir, "01")
    rc, _ = _run_expecting_no_call(media_dir, "--lecture", "05")
    assert rc == ExitCode.MISSING_FILE
    assert "lecture(s) 05" in capsys.readouterr().err
    rc, _ = _run_expecting_no_call(tmp_path / "nowhere", "--lecture", "all")
    assert rc == ExitCode.MISSING_FILE


def test_dry_run_also_refuses_invalid_input(media_dir):
    write_lecture(media_dir, "01", title="x" * 120)
    h = Harness(media_dir, [])
    assert h.run("--lecture", "01", yes=False) == ExitCode.TITLE_INVALID


def test_one_bad_lecture_stops_all_before_any_call(media_dir, capsys):
    write_lecture(media_dir, "01")
    write_lecture(media_dir, "02", title="<b>bold</b>")
    rc, _ = _run_expecting_no_call(media_dir, "--lecture", "all")
    assert rc == ExitCode.TITLE_INVALID
    assert not (media_dir / "publish-manifest.json").exists()


def test_every_problem_is_reported(media_dir, capsys):
    write_lecture(media_dir, "01", title="T" * 101, description="has > in it")
    next(media_dir.glob("01-*.png")).unlink()
    rc, _ = _run_expecting_no_call(media_dir, "--lecture", "01")
    err = capsys.readouterr().err
    assert rc == ExitCode.MISSING_FILE  # the first problem found decides the code
    assert "thumbnail file" in err and "101 characters" in err and "'>'" in err
    assert "3 problem(s)" in err


def test_metadata_with_missing_keys_names_them(media_dir, capsys):
    media_dir.mkdir(parents=True)
    (media_dir / "01-x.metadata.json").write_text(json.dumps({"id": "01", "slug": "x", "title": "T"}))
    rc, _ = _run_expecting_no_call(media_dir, "--lecture", "01")
    assert rc == ExitCode.BAD_METADATA == 11
    err = capsys.readouterr().err
    for key in ("description", "tags", "video", "captions", "thumbnail", "chapters", "duration", "voice"):
        assert key in err


def test_metadata_not_json_and_wrong_types(media_dir):
    media_dir.mkdir(parents=True)
    path = media_dir / "01-x.metadata.json"
    path.write_text("{not json")
    with pytest.raises(MetadataError, match="not readable JSON"):
        lecture_mod.load(path)
    write_lecture(media_dir, "02", tags="attention", duration=True)
    with pytest.raises(MetadataError, match=r"tags \(str.*duration \(bool"):
        lecture_mod.load(next(media_dir.glob("02-*.metadata.json")))


def test_tags_too_long(media_dir):
    write_lecture(media_dir, "01", tags=[f"tag number {i}" for i in range(60)])
    rc, _ = _run_expecting_no_call(media_dir, "--lecture", "01")
    assert rc == ExitCode.BAD_METADATA


def test_id_must_match_the_file_name(media_dir):
    write_lecture(media_dir, "01")
    edit_metadata(media_dir, "01", id="07")
    rc, _ = _run_expecting_no_call(media_dir, "--lecture", "01")
    assert rc == ExitCode.BAD_METADATA


def test_corrupt_manifest_is_reported_and_left_alone(media_dir, capsys):
    write_lecture(media_dir, "01")
    manifest = media_dir / "publish-manifest.json"
    manifest.write_text('{"lectures": {"01": ')
    rc, _ = _run_expecting_no_call(media_dir, "--lecture", "01")
    assert rc == ExitCode.MANIFEST_INVALID == 14
    assert manifest.read_text() == '{"lectures": {"01": '


def test_folder_layout_and_ids(media_dir):
    folder = media_dir / "03-masks"
    write_lecture(folder, "03")
    (folder / "03-masks.metadata.json").rename(folder / "metadata.json")
    found = lecture_mod.discover(media_dir)
    assert list(found) == ["03"]
    lec = lecture_mod.load(found["03"])
    assert lec.video == folder / "03-masks.mp4" and lec.name == "03-masks"
    assert lecture_mod.parse_selection("all") is None
    assert lecture_mod.parse_selection("1,03") == ["01", "03"]
    assert lecture_mod.normalise_id(3) == "03"


def test_warns_when_description_has_no_chapters(media_dir, capsys):
    write_lecture(media_dir, "01", description="No chapters here.")
    h = Harness(media_dir, [])
    assert h.run("--lecture", "01", yes=False) == ExitCode.OK
    assert "no line starting with 0:00" in capsys.readouterr().err
