"""End-to-end publishing against scripted HTTP: full run, reruns, retries, quota, manifest."""

from __future__ import annotations

import json

import pytest
from publish_helpers import (
    ACCESS_TOKEN,
    CHUNK,
    VIDEO_SIZE,
    Harness,
    api_error,
    edit_metadata,
    fake_mp4,
    fake_png,
    lecture_responses,
    ok,
    read_manifest,
    resume,
    session,
    upload_ok,
    upload_uri,
    write_lecture,
)

from scenes.pipeline.publish.errors import ExitCode


def _published(media_dir, ids=("01", "02")) -> Harness:
    """Two lectures published successfully; returns the harness for reruns."""
    for lid in ids:
        write_lecture(media_dir, lid)
    responses = []
    for i, lid in enumerate(ids):
        responses += lecture_responses(lid, f"VID{lid}", create=(i == 0), playlist="PL1")
    h = Harness(media_dir, responses)
    assert h.run("--lecture", "all") == ExitCode.OK
    assert h.http._iterable == []
    return h


def test_full_publish_of_two_lectures(media_dir, capsys):
    h = _published(media_dir)
    calls = h.http.calls()
    methods_paths = [(m, u.split("?")[0].replace("https://youtube.googleapis.com", "")) for m, u in calls]
    expected_one = [
        ("POST", "/upload/youtube/v3/videos"),
        ("PUT", upload_uri("01")), ("PUT", upload_uri("01")), ("PUT", upload_uri("01")),
        ("POST", "/upload/youtube/v3/thumbnails/set"),
        ("POST", "/upload/youtube/v3/captions"),
        ("GET", "/youtube/v3/playlists"),
        ("POST", "/youtube/v3/playlists"),
        ("POST", "/youtube/v3/playlistItems"),
    ]
    expected_two = [
        ("POST", "/upload/youtube/v3/videos"),
        ("PUT", upload_uri("02")), ("PUT", upload_uri("02")), ("PUT", upload_uri("02")),
        ("POST", "/upload/youtube/v3/thumbnails/set"),
        ("POST", "/upload/youtube/v3/captions"),
        ("POST", "/youtube/v3/playlistItems"),
    ]
    assert methods_paths == expected_one + expected_two
    assert "uploadType=resumable" in calls[0][1]

    seq = h.http.request_sequence
    insert_body = json.loads(seq[0][2])
    assert insert_body["snippet"]["title"].startswith("Attention 01")
    assert insert_body["snippet"]["categoryId"] == "27"
    assert insert_body["status"]["privacyStatus"] == "private"
    assert insert_body["status"]["selfDeclaredMadeForKids"] is False
    assert seq[1][3]["Content-Range"] == f"bytes 0-{CHUNK - 1}/{VIDEO_SIZE}"
    assert seq[3][3]["Content-Range"] == f"bytes {2 * CHUNK}-{VIDEO_SIZE - 1}/{VIDEO_SIZE}"
    captions_body = seq[5][2].decode() if isinstance(seq[5][2], bytes) else seq[5][2]
    assert '"language": "en"' in captions_body and '"name": "English"' in captions_body
    assert "00:00:00,000 --> 00:00:00,300" in captions_body  # the SRT travelled with it
    assert "mine=true" in calls[6][1]
    items = [json.loads(s[2]) for s in seq if "playlistItems" in s[0]]
    assert [i["snippet"]["position"] for i in items] == [0, 1]
    assert [i["snippet"]["resourceId"]["videoId"] for i in items] == ["VID01", "VID02"]
    assert all(i["snippet"]["playlistId"] == "PL1" for i in items)
    # The token was really used on the wire ...
    assert seq[0][3]["authorization"] == f"Bearer {ACCESS_TOKEN}"

    m = read_manifest(media_dir)
    assert m["playlists"] == {"Attention in Transformers": "PL1"}
    for lid in ("01", "02"):
        rec = m["lectures"][lid]
        assert rec["video_id"] == f"VID{lid}"
        assert rec["caption_id"] == f"CAP{lid}"
        assert rec["playlist_item_id"] == f"PLI{lid}"
        assert rec["playlist_video_id"] == f"VID{lid}"
        assert set(rec["steps"]) == {"video", "thumbnail", "captions", "playlist"}
        assert len(rec["video_sha256"]) == len(rec["thumbnail_sha256"]) == len(rec["captions_sha256"]) == 64
    captured = capsys.readouterr()
    assert "uploaded as VID01" in captured.out and "Done." in captured.out
    # ... and never shown.
    assert ACCESS_TOKEN not in captured.out + captured.err


def test_rerun_with_nothing_changed_makes_no_call(media_dir, capsys):
    h = _published(media_dir)
    before = (media_dir / "publish-manifest.json").read_text()
    h.expect([])
    h.credential_requests = 0
    assert h.run("--lecture", "all") == ExitCode.OK
    assert h.http.request_sequence == []
    assert h.credential_requests == 0  # not even an authorisation
    assert (media_dir / "publish-manifest.json").read_text() == before
    assert "up to date" in capsys.readouterr().out


def test_metadata_only_change_makes_only_an_update(media_dir):
    h = _published(media_dir)
    edit_metadata(media_dir, "02", title="Attention 02: a better title", tags=["attention", "softmax"])
    h.expect([ok({"id": "VID02"})])
    assert h.run("--lecture", "all") == ExitCode.OK
    (uri, method, body, _), = h.http.request_sequence
    assert method == "PUT" and "/youtube/v3/videos?" in uri and "part=snippet" in uri and "status" not in uri
    sent = json.loads(body)
    assert sent["id"] == "VID02"
    assert sent["snippet"]["title"] == "Attention 02: a better title"
    assert sent["snippet"]["tags"] == ["attention", "softmax"]
    rec = read_manifest(media_dir)["lectures"]["02"]
    assert rec["video_id"] == "VID02" and "metadata" in rec["steps"]
    h.expect([])
    assert h.run() == ExitCode.OK and h.http.request_sequence == []


def test_thumbnail_only_change_sets_only_the_thumbnail(media_dir):
    h = _published(media_dir)
    (next(media_dir.glob("01-*.thumbnail.png"))).write_bytes(fake_png("NEW"))
    h.expect([ok({})])
    assert h.run("--lecture", "01") == ExitCode.OK
    (uri, method, _body, _), = h.http.request_sequence
    assert method == "POST" and "thumbnails/set" in uri and "videoId=VID01" in uri


def test_explicit_privacy_change_updates_status(media_dir):
    h = _published(media_dir, ids=("01",))
    h.expect([ok({"id": "VID01"})])
    assert h.run("--lecture", "01", "--privacy", "unlisted") == ExitCode.OK
    (uri, method, body, _), = h.http.request_sequence
    assert method == "PUT" and "part=status" in uri
    assert json.loads(body)["status"]["privacyStatus"] == "unlisted"
    assert read_manifest(media_dir)["lectures"]["01"]["privacy"] == "unlisted"
    # A later metadata change without --privacy leaves the privacy alone.
    edit_metadata(media_dir, "01", title="Attention 01: renamed")
    h.expect([ok({"id": "VID01"})])
    assert h.run("--lecture", "01") == ExitCode.OK
    (uri, method, body, _), = h.http.request_sequence
    assert "part=snippet" in uri and "status" not in uri and "status" not in json.loads(body)
    assert read_manifest(media_dir)["lectures"]["01"]["privacy"] == "unlisted"


def test_changed_video_is_uploaded_again_and_old_id_named(media_dir, capsys):
    h = _published(media_dir)
    (next(media_dir.glob("01-*.mp4"))).write_bytes(fake_mp4(b"new render ", 2200))
    responses = [session(upload_uri("01b")), resume(CHUNK - 1), resume(2 * CHUNK - 1), ok({"id": "VID01b"})]
    responses += [ok({}), ok({"id": "CAP01b"}), ok({}), ok({"id": "PLI01b"})]
    h.expect(responses)
    capsys.readouterr()
    assert h.run("--lecture", "all") == ExitCode.OK
    calls = h.http.calls()
    assert calls[0][0] == "POST" and "upload/youtube/v3/videos" in calls[0][1]
    assert calls[-2][0] == "DELETE" and "id=PLI01" in calls[-2][1]  # the old entry leaves the playlist
    assert not any(m == "DELETE" and "/videos" in u for m, u in calls)  # the old video is kept
    item = json.loads(h.http.request_sequence[-1][2])
    assert item["snippet"]["resourceId"]["videoId"] == "VID01b" and item["snippet"]["position"] == 0
    rec = read_manifest(media_dir)["lectures"]["01"]
    assert rec["video_id"] == "VID01b" and rec["caption_id"] == "CAP01b"
    assert rec["replaced"][0]["video_id"] == "VID01"
    out = capsys.readouterr().out
    assert "AGAIN" in out and "VID01 was NOT deleted" in out and "studio.youtube.com/video/VID01" in out


def test_503_mid_upload_resends_the_chunk_into_the_same_session(media_dir):
    """googleapiclient's own retry (num_retries): the failed chunk is sent again, to the same session."""
    write_lecture(media_dir, "01")
    responses = [
        session(upload_uri("01")),
        resume(CHUNK - 1),  # first chunk stored
        ({"status": "503"}, "backend error"),  # second chunk fails
        resume(2 * CHUNK - 1),  # second chunk again, stored
        ok({"id": "VID01"}),  # last chunk
        ok({}), ok({"id": "CAP01"}), ok({"items": []}), ok({"id": "PL1"}), ok({"id": "PLI01"}),
    ]
    h = Harness(media_dir, responses)
    assert h.run("--lecture", "01") == ExitCode.OK
    seq = h.http.request_sequence
    upload_calls = seq[:5]
    assert [c[1] for c in upload_calls] == ["POST", "PUT", "PUT", "PUT", "PUT"]
    assert sum(1 for c in seq if "upload/youtube/v3/videos" in c[0]) == 1  # one insert, never a second
    assert all(c[0] == upload_uri("01") for c in upload_calls[1:])  # the same session continued
    second = f"bytes {CHUNK}-{2 * CHUNK - 1}/{VIDEO_SIZE}"
    assert upload_calls[2][3]["Content-Range"] == upload_calls[3][3]["Content-Range"] == second
    assert upload_calls[4][3]["Content-Range"] == f"bytes {2 * CHUNK}-{VIDEO_SIZE - 1}/{VIDEO_SIZE}"
    assert h.sleeps == [0.5 * 2]  # one backoff: rand() * 2**1, injected, no real sleep
    assert read_manifest(media_dir)["lectures"]["01"]["video_id"] == "VID01"


def test_connection_error_mid_upload_resumes_the_same_session(media_dir):
    write_lecture(media_dir, "01")
    responses = [
        session(upload_uri("01")),
        ConnectionResetError("connection reset by peer"),
        ({"status": "308"}, ""),  # status query: no range header, nothing stored yet
        resume(CHUNK - 1), resume(2 * CHUNK - 1), ok({"id": "VID01"}),
        ok({}), ok({"id": "CAP01"}), ok({"items": []}), ok({"id": "PL1"}), ok({"id": "PLI01"}),
    ]
    h = Harness(media_dir, responses)
    assert h.run("--lecture", "01") == ExitCode.OK
    seq = h.http.request_sequence
    assert sum(1 for c in seq if "upload/youtube/v3/videos" in c[0]) == 1
    assert seq[2][3]["Content-Range"] == f"bytes */{VIDEO_SIZE}"
    assert seq[3][3]["Content-Range"] == f"bytes 0-{CHUNK - 1}/{VIDEO_SIZE}"
    assert len(h.sleeps) == 1


def test_retries_exhausted_fails_with_its_code_and_records_only_the_session(media_dir, capsys):
    write_lecture(media_dir, "01")
    responses = [session(upload_uri("01")), ({"status": "503"}, "")]
    for _ in range(3):
        responses += [({"status": "502"}, "")]  # each resend of the chunk fails too
    h = Harness(media_dir, responses, max_retries=3)
    assert h.run("--lecture", "01") == ExitCode.UPLOAD_FAILED
    assert len(h.sleeps) == 3 and h.sleeps == sorted(h.sleeps)  # exponential
    assert "gave up after 3 retries" in capsys.readouterr().err
    rec = read_manifest(media_dir)["lectures"]["01"]
    assert "steps" not in rec and "video_id" not in rec             # nothing published is recorded…
    assert rec["upload_session"]["uri"] == upload_uri("01")         # …only the session, to resume from


def _interrupted_upload(media_dir) -> Harness:
    """Lecture 01's upload: session started, first chunk stored, then the process gives up."""
    write_lecture(media_dir, "01")
    h = Harness(media_dir, [session(upload_uri("01")), resume(CHUNK - 1), ({"status": "503"}, ""),
                            ({"status": "502"}, "")], max_retries=1)
    assert h.run("--lecture", "01") == ExitCode.UPLOAD_FAILED
    return h


def test_a_new_process_resumes_the_saved_upload_session(media_dir, capsys):
    h = _interrupted_upload(media_dir)
    h.expect([
        resume(CHUNK - 1),                   # status query on the saved session: it holds the first chunk
        resume(2 * CHUNK - 1), ok({"id": "VID01"}),
        ok({}), ok({"id": "CAP01"}), ok({"items": []}), ok({"id": "PL1"}), ok({"id": "PLI01"}),
    ])
    assert h.run("--lecture", "01") == ExitCode.OK
    seq = h.http.request_sequence
    assert not any("upload/youtube/v3/videos" in c[0] for c in seq)         # no second insert
    assert seq[0][0] == upload_uri("01") and seq[0][3]["Content-Range"] == f"bytes */{VIDEO_SIZE}"
    assert seq[1][3]["Content-Range"] == f"bytes {CHUNK}-{2 * CHUNK - 1}/{VIDEO_SIZE}"  # only the rest
    rec = read_manifest(media_dir)["lectures"]["01"]
    assert rec["video_id"] == "VID01" and "upload_session" not in rec
    assert "resuming the upload session" in capsys.readouterr().out


def test_an_expired_upload_session_is_replaced_by_a_new_one(media_dir, capsys):
    h = _interrupted_upload(media_dir)
    h.expect([
        api_error(404, "notFound", "upload session not found"),    # the saved session is gone
        *upload_ok("01", "VID01"),
        ok({}), ok({"id": "CAP01"}), ok({"items": []}), ok({"id": "PL1"}), ok({"id": "PLI01"}),
    ])
    assert h.run("--lecture", "01") == ExitCode.OK
    seq = h.http.request_sequence
    assert seq[0][3]["Content-Range"] == f"bytes */{VIDEO_SIZE}"
    assert sum(1 for c in seq if "upload/youtube/v3/videos" in c[0]) == 1   # one fresh insert
    assert seq[2][3]["Content-Range"] == f"bytes 0-{CHUNK - 1}/{VIDEO_SIZE}"  # from the start
    assert read_manifest(media_dir)["lectures"]["01"]["video_id"] == "VID01"
    assert "expired" in capsys.readouterr().out


def test_a_saved_session_of_another_video_file_is_not_resumed(media_dir):
    h = _interrupted_upload(media_dir)
    video = next(media_dir.glob("**/01-*.mp4"))
    video.write_bytes(fake_mp4(b"\x01"))                                     # the lecture was re-rendered
    h.expect([*upload_ok("01", "VID01"), ok({}), ok({"id": "CAP01"}), ok({"items": []}), ok({"id": "PL1"}),
              ok({"id": "PLI01"})])
    assert h.run("--lecture", "01") == ExitCode.OK
    seq = h.http.request_sequence
    assert "upload/youtube/v3/videos" in seq[0][0]                            # a new session, not the old one


def test_quota_exhausted_midway_keeps_manifest_and_rerun_completes(media_dir, capsys):
    write_lecture(media_dir, "01")
    write_lecture(media_dir, "02")
    responses = lecture_responses("01", "VID01", create=True, playlist="PL1")
    responses.append(api_error(403, "quotaExceeded", "The request cannot be completed: you have exceeded your quota."))
    h = Harness(media_dir, responses)
    assert h.run("--lecture", "all") == ExitCode.QUOTA
    err = capsys.readouterr().err
    assert "quota exhausted (quotaExceeded)" in err and "rerun" in err
    m = read_manifest(media_dir)
    assert set(m["lectures"]) == {"01"}
    assert set(m["lectures"]["01"]["steps"]) == {"video", "thumbnail", "captions", "playlist"}

    # Next day: only lecture 02 is done, with the recorded playlist (no lookup).
    h.expect([*upload_ok("02", "VID02"), ok({}), ok({"id": "CAP02"}), ok({"id": "PLI02"})])
    assert h.run("--lecture", "all") == ExitCode.OK
    calls = h.http.calls()
    assert not any("/youtube/v3/playlists" in u for _, u in calls)
    assert sum(1 for _, u in calls if "upload/youtube/v3/videos" in u) == 1
    assert all(u == upload_uri("02") for m, u in calls if m == "PUT")
    m = read_manifest(media_dir)
    assert m["lectures"]["02"]["playlist_item_id"] == "PLI02"
    assert json.loads(h.http.request_sequence[-1][2])["snippet"]["position"] == 1


def test_quota_between_steps_resumes_at_the_missing_step(media_dir):
    write_lecture(media_dir, "01")
    responses = [*upload_ok("01", "VID01"), ok({}), api_error(403, "dailyLimitExceeded")]
    h = Harness(media_dir, responses)
    assert h.run("--lecture", "01") == ExitCode.QUOTA
    rec = read_manifest(media_dir)["lectures"]["01"]
    assert set(rec["steps"]) == {"video", "thumbnail"} and rec["video_id"] == "VID01"
    h.expect([ok({"id": "CAP01"}), ok({"items": [{"id": "PLx", "snippet": {"title": "Attention in Transformers"}}]}),
              ok({"id": "PLI01"})])
    assert h.run("--lecture", "01") == ExitCode.OK
    calls = h.http.calls()
    assert "captions" in calls[0][1] and "videos" not in calls[0][1]
    assert read_manifest(media_dir)["playlists"]["Attention in Transformers"] == "PLx"


def test_upload_limit_exceeded_is_a_quota_error(media_dir):
    write_lecture(media_dir, "01")
    h = Harness(media_dir, [api_error(403, "uploadLimitExceeded")])
    assert h.run("--lecture", "01") == ExitCode.QUOTA


def test_thumbnail_refused_is_skipped_with_a_warning(media_dir, capsys):
    write_lecture(media_dir, "01")
    responses = [*upload_ok("01", "VID01"), api_error(403, "forbidden", "verify your channel")]
    responses += [ok({"id": "CAP01"}), ok({"items": []}), ok({"id": "PL1"}), ok({"id": "PLI01"})]
    h = Harness(media_dir, responses)
    assert h.run("--lecture", "01") == ExitCode.PARTIAL
    rec = read_manifest(media_dir)["lectures"]["01"]
    assert set(rec["steps"]) == {"video", "captions", "playlist"}
    assert "youtube.com/verify" in capsys.readouterr().err


def test_other_api_error_has_its_code(media_dir):
    write_lecture(media_dir, "01")
    h = Harness(media_dir, [*upload_ok("01", "VID01"), ok({}), api_error(400, "invalidMetadata")])
    assert h.run("--lecture", "01") == ExitCode.API_ERROR
    assert set(read_manifest(media_dir)["lectures"]["01"]["steps"]) == {"video", "thumbnail"}


def test_captions_change_updates_the_existing_track(media_dir):
    h = _published(media_dir, ids=("01",))
    next(media_dir.glob("01-*.srt")).write_text("1\n00:00:00,000 --> 00:00:03,000\nHi.\n\n")
    h.expect([ok({"id": "CAP01"})])
    assert h.run("--lecture", "01") == ExitCode.OK
    (uri, method, _body, _), = h.http.request_sequence
    assert method == "PUT" and "upload/youtube/v3/captions" in uri


def test_503_on_session_start_is_retried_with_the_same_request(media_dir):
    write_lecture(media_dir, "01")
    responses = [({"status": "503"}, ""), *lecture_responses("01", "VID01", create=True)]
    h = Harness(media_dir, responses)
    assert h.run("--lecture", "01") == ExitCode.OK
    posts = [u for m, u in h.http.calls() if m == "POST" and "upload/youtube/v3/videos" in u]
    assert len(posts) == 2 and posts[0] == posts[1]  # the session start was simply retried
    assert len(h.sleeps) == 1


def test_transient_error_on_a_plain_call_is_retried(media_dir):
    write_lecture(media_dir, "01")
    responses = [*upload_ok("01", "VID01"), ({"status": "500"}, ""), ok({})]
    responses += [ok({"id": "CAP01"}), ok({"items": []}), ok({"id": "PL1"}), ok({"id": "PLI01"})]
    h = Harness(media_dir, responses)
    assert h.run("--lecture", "01") == ExitCode.OK
    thumbs = [u for _, u in h.http.calls() if "thumbnails/set" in u]
    assert len(thumbs) == 2 and len(h.sleeps) == 1


def test_crash_between_steps_leaves_a_consistent_manifest(media_dir, capsys):
    write_lecture(media_dir, "01")
    responses = [*upload_ok("01", "VID01"), ok({}), RuntimeError("simulated crash")]
    h = Harness(media_dir, responses)
    assert h.run("--lecture", "01") == ExitCode.FAILURE
    assert "simulated crash" in capsys.readouterr().err
    rec = read_manifest(media_dir)["lectures"]["01"]
    assert set(rec["steps"]) == {"video", "thumbnail"}
    assert list(media_dir.glob(".publish-manifest*")) == []  # no temporary file left behind
    h.expect([ok({"id": "CAP01"}), ok({"items": []}), ok({"id": "PL1"}), ok({"id": "PLI01"})])
    assert h.run("--lecture", "01") == ExitCode.OK
    assert set(read_manifest(media_dir)["lectures"]["01"]["steps"]) == {"video", "thumbnail", "captions", "playlist"}


def test_ctrl_c_exits_130_with_the_manifest_kept(media_dir, capsys):
    write_lecture(media_dir, "01")
    h = Harness(media_dir, [*upload_ok("01", "VID01"), KeyboardInterrupt()])
    assert h.run("--lecture", "01") == ExitCode.INTERRUPTED
    assert read_manifest(media_dir)["lectures"]["01"]["video_id"] == "VID01"


def test_deleted_playlist_is_found_or_created_again(media_dir):
    h = _published(media_dir, ids=("01",))
    write_lecture(media_dir, "02")
    responses = [*upload_ok("02", "VID02"), ok({}), ok({"id": "CAP02"})]
    responses += [api_error(404, "playlistNotFound"), ok({"items": []}), ok({"id": "PL2"}), ok({"id": "PLI02"})]
    responses += [ok({"id": "PLI01b"})]  # lecture 01 follows into the new playlist
    h.expect(responses)
    assert h.run("--lecture", "all") == ExitCode.OK
    m = read_manifest(media_dir)
    assert m["playlists"]["Attention in Transformers"] == "PL2"
    assert m["lectures"]["02"]["playlist_id"] == "PL2"
    assert m["lectures"]["01"]["playlist_id"] == "PL2" and m["lectures"]["01"]["playlist_item_id"] == "PLI01b"
    items = [json.loads(s[2])["snippet"] for s in h.http.request_sequence if "playlistItems" in s[0]]
    assert [(i["resourceId"]["videoId"], i["position"]) for i in items] == [("VID02", 1), ("VID02", 0), ("VID01", 0)]

    # Only lecture 02 selected: lecture 01 is left for a rerun, which the exit code says.
    h2 = _published(media_dir.parent / "other", ids=("01",))
    write_lecture(h2.media_dir, "02")
    h2.expect([*upload_ok("02", "VID02"), ok({}), ok({"id": "CAP02"}), api_error(404, "playlistNotFound"),
               ok({"items": []}), ok({"id": "PL2"}), ok({"id": "PLI02"})])
    assert h2.run("--lecture", "02") == ExitCode.PARTIAL


def test_manifest_write_is_atomic(media_dir, monkeypatch):
    import os

    from scenes.pipeline.publish.manifest import Manifest

    path = media_dir / "publish-manifest.json"
    m = Manifest(path)
    m.mark("01", "video", video_id="A")
    before = path.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    m.record("01")["video_id"] = "B"
    with pytest.raises(OSError, match="disk full"):
        m.save()
    assert path.read_text() == before
    assert sorted(p.name for p in media_dir.iterdir()) == ["publish-manifest.json"]


def test_default_service_builds_offline():
    from publish_helpers import make_credentials

    from scenes.pipeline.publish.cli import default_build_service

    service = default_build_service(make_credentials())
    assert hasattr(service, "videos") and hasattr(service, "captions")
