"""Bad input and faults (issue 20): what YouTube would reject is refused before any call (the
thumbnail by its content, the video decoded and timed against the metadata, the captions parsed),
a malformed publish manifest exits 14, a session without a browser ends with 22 after a bounded
wait instead of hanging, and the documented exit codes match the code."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest
from publish_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    DURATION,
    Harness,
    edit_metadata,
    fake_jpeg,
    fake_mp4,
    fake_png,
    write_lecture,
)

from scenes.pipeline.publish import auth, lecture as lecture_mod
from scenes.pipeline.publish.cli import Deps, build_parser, main
from scenes.pipeline.publish.errors import ExitCode

ROOT = Path(__file__).resolve().parents[2]


def _run(media_dir, *args, yes=True) -> int:
    h = Harness(media_dir, [])  # any HTTP call fails the test
    rc = h.run(*args, yes=yes)
    assert h.http.request_sequence == [] and h.credential_requests == 0
    return rc


def _file(media_dir, pattern) -> Path:
    return next(media_dir.glob(pattern))


# -- the thumbnail, by its content --------------------------------------------------------------------


@pytest.mark.parametrize("yes", [False, True])
def test_random_bytes_named_png_are_refused(media_dir, capsys, yes):
    write_lecture(media_dir, "01")
    thumb = _file(media_dir, "01-*.thumbnail.png")
    thumb.write_bytes(bytes(range(256)) * 8)
    assert _run(media_dir, "--lecture", "01", yes=yes) == ExitCode.BAD_METADATA
    err = capsys.readouterr().err
    assert str(thumb) in err and "not a PNG or JPEG" in err and "nothing was sent" in err


def test_a_truncated_png_is_refused(media_dir, capsys):
    write_lecture(media_dir, "01")
    thumb = _file(media_dir, "01-*.thumbnail.png")
    thumb.write_bytes(fake_png("01")[:200])
    assert _run(media_dir, "--lecture", "01", yes=False) == ExitCode.BAD_METADATA
    err = capsys.readouterr().err
    assert str(thumb) in err and "cannot be decoded" in err


def test_a_thumbnail_below_youtubes_minimum_width_is_refused(media_dir, capsys):
    write_lecture(media_dir, "01")
    _file(media_dir, "01-*.thumbnail.png").write_bytes(fake_png("01", (320, 180)))
    assert _run(media_dir, "--lecture", "01", yes=False) == ExitCode.BAD_METADATA
    assert "320x180" in capsys.readouterr().err


def test_a_jpeg_named_png_is_sent_as_jpeg(media_dir):
    write_lecture(media_dir, "01")
    _file(media_dir, "01-*.thumbnail.png").write_bytes(fake_jpeg())
    lec = lecture_mod.load(_file(media_dir, "01-*.metadata.json"))
    assert lecture_mod.problems(lec) == []
    assert lec.thumbnail_mimetype == "image/jpeg"


def test_a_thumbnail_not_16_by_9_is_a_warning(media_dir, capsys):
    write_lecture(media_dir, "01")
    _file(media_dir, "01-*.thumbnail.png").write_bytes(fake_png("01", (1000, 1000)))
    assert _run(media_dir, "--lecture", "01", yes=False) == ExitCode.OK
    assert "1280x720" in capsys.readouterr().err


# -- the video: decodable, as long as the metadata says -------------------------------------------------


@pytest.mark.parametrize("cut", [300, 1000, 1500])
def test_a_truncated_video_is_refused(media_dir, capsys, cut):
    write_lecture(media_dir, "01")
    video = _file(media_dir, "01-*.mp4")
    video.write_bytes(fake_mp4(b"v")[:cut])
    assert _run(media_dir, "--lecture", "01", yes=False) == ExitCode.MEDIA_INVALID == 15
    err = capsys.readouterr().err
    assert str(video) in err and "video" in err


@pytest.mark.parametrize("cut", [1, 50, 5000])
def test_a_truncated_faststart_video_is_refused(media_dir, tmp_path, capsys, cut):
    """The assembler writes the index first (+faststart): a cut end leaves a file that still opens."""
    import av
    import numpy as np

    path = tmp_path / "fs.mp4"
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", options={"movflags": "faststart"}) as c:
        s = c.add_stream("libx264", rate=15)
        s.width, s.height, s.pix_fmt = 64, 36, "yuv420p"
        for _ in range(15):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (36, 64, 3), np.uint8), format="rgb24")
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    data = path.read_bytes()
    write_lecture(media_dir, "01", video=data, duration=1.0)
    assert _run(media_dir, "--lecture", "01", yes=False) == ExitCode.OK  # whole, it passes
    video = _file(media_dir, "01-*.mp4")
    video.write_bytes(data[:-cut])
    assert _run(media_dir, "--lecture", "01", yes=False) == ExitCode.MEDIA_INVALID
    err = capsys.readouterr().err
    assert str(video) in err and "truncated" in err


def test_a_video_that_is_not_a_video_is_refused(media_dir, capsys):
    write_lecture(media_dir, "01", video=b"\0" * 3000)
    assert _run(media_dir, "--lecture", "01") == ExitCode.MEDIA_INVALID
    assert "not a readable video" in capsys.readouterr().err


def test_a_video_whose_duration_differs_from_the_metadata_is_refused(media_dir, capsys):
    write_lecture(media_dir, "01", duration=60.0)
    assert _run(media_dir, "--lecture", "01", yes=False) == ExitCode.MEDIA_INVALID
    err = capsys.readouterr().err
    assert f"{DURATION:.3f} s" in err and "60.000 s" in err


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-1", "0"])
def test_a_duration_that_is_not_a_positive_number_is_refused(media_dir, capsys, value):
    meta = write_lecture(media_dir, "01")
    meta.write_text(meta.read_text().replace(f'"duration": {DURATION}', f'"duration": {value}'))
    assert _run(media_dir, "--lecture", "01", yes=False) == ExitCode.BAD_METADATA
    assert "duration" in capsys.readouterr().err


# -- the captions: parseable SRT ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, says", [
    ("this is not a subtitle file\n", "not valid SRT"),
    ("\n\n  \n", "no cues"),
    (b"1\n00:00:00,000 --> 00:00:00,300\n\xff\xfe bad bytes\n\n", "not UTF-8"),
    ("1\n00:00:00,300 --> 00:00:00,100\nBackwards.\n\n", "end before they start"),
])
def test_garbage_captions_are_refused(media_dir, capsys, text, says):
    write_lecture(media_dir, "01")
    cap = _file(media_dir, "01-*.srt")
    cap.write_bytes(text if isinstance(text, bytes) else text.encode())
    assert _run(media_dir, "--lecture", "01", yes=False) == ExitCode.MEDIA_INVALID
    err = capsys.readouterr().err
    assert str(cap) in err and says in err


# -- the publish manifest ------------------------------------------------------------------------------------


@pytest.mark.parametrize("data, names", [
    ({"lectures": {"01": "abc"}}, ["'01'", "str"]),
    ({"lectures": {"01": {"video_id": 5}}}, ["'01'", "video_id"]),
    ({"lectures": {"01": {"steps": [1]}}}, ["'01'", "steps"]),
    ({"lectures": {"01": {"replaced": "x"}}}, ["'01'", "replaced"]),
    ({"lectures": {"01": {"upload_session": "x"}}}, ["'01'", "upload_session"]),
    ({"format": "one", "lectures": {}}, ["format"]),
    ({"playlists": ["x"], "lectures": {}}, ["playlists"]),
    ({"playlists": {"Attention": 3}, "lectures": {}}, ["playlists", "Attention"]),
])
def test_a_malformed_manifest_entry_exits_14_and_names_it(media_dir, capsys, data, names):
    write_lecture(media_dir, "01")
    manifest = media_dir / "publish-manifest.json"
    text = json.dumps(data)
    manifest.write_text(text)
    assert _run(media_dir, "--lecture", "01", yes=False) == ExitCode.MANIFEST_INVALID == 14
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(manifest) in err
    for n in names:
        assert n in err, (n, err)
    assert manifest.read_text() == text  # left untouched


# -- no browser: a bounded wait and exit 22, never a hang -------------------------------------------------------


class _SilentBrowser:
    """What webbrowser.get() returns on a server with xdg-open but no display: open() 'succeeds'."""

    def __init__(self):
        self.opened: list[str] = []

    def open(self, url, new=0, autoraise=True):
        self.opened.append(url)
        return True


def _secrets(tmp_path) -> Path:
    path = tmp_path / "client_secret.json"
    path.write_text(json.dumps({"installed": {
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "project_id": "p",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token",
        "redirect_uris": ["http://localhost"]}}))
    return path


def _publish_in_thread(argv, deps) -> tuple[threading.Thread, list]:
    result: list = []
    t = threading.Thread(target=lambda: result.append(main(argv, deps)), daemon=True)
    t.start()
    t.join(timeout=30)
    return t, result


@pytest.mark.parametrize("display", [None, ":0"])
def test_a_session_without_a_browser_ends_with_22_after_a_bounded_wait(media_dir, tmp_path, monkeypatch, capsys,
                                                                          display):
    import webbrowser

    write_lecture(media_dir, "01")
    browser = _SilentBrowser()
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if display is None:  # no display at all: a browser 'opened' there would never be seen
        monkeypatch.delenv("DISPLAY", raising=False)
        monkeypatch.setattr(webbrowser, "get", lambda using=None: browser)
    else:  # a display but no browser registered
        monkeypatch.setenv("DISPLAY", display)

        def no_browser(using=None):
            raise webbrowser.Error("could not locate runnable browser")

        monkeypatch.setattr(webbrowser, "get", no_browser)
    monkeypatch.setenv("ATTN_YT_AUTH_TIMEOUT", "1")
    deps = Deps(build_service=lambda creds: pytest.fail("no service without credentials"))
    argv = ["--media-dir", str(media_dir), "--lecture", "01", "--yes", "--client-secrets", str(_secrets(tmp_path))]
    t, result = _publish_in_thread(argv, deps)
    assert not t.is_alive(), "publish.py waits forever for an authorisation that cannot come"
    assert result == [ExitCode.AUTH_FAILED] == [22]
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert browser.opened == []
    assert "accounts.google.com" in text  # the URL, to open elsewhere
    assert "no browser" in text and "ssh -L" in text and "1 s" in text
    assert CLIENT_SECRET not in text


def test_headless_detection(monkeypatch):
    import webbrowser

    monkeypatch.setattr(webbrowser, "get", lambda using=None: _SilentBrowser())
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert auth.headless_reason(platform="linux")
    assert auth.headless_reason(platform="darwin") is None  # macOS needs no DISPLAY
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert auth.headless_reason(platform="linux") is None


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_a_bad_auth_timeout_is_refused(media_dir, tmp_path, monkeypatch, capsys, value):
    write_lecture(media_dir, "01")
    monkeypatch.setenv("ATTN_YT_AUTH_TIMEOUT", value)
    deps = Deps(build_service=lambda creds: pytest.fail("no service"))
    argv = ["--media-dir", str(media_dir), "--lecture", "01", "--yes", "--client-secrets", str(_secrets(tmp_path))]
    assert main(argv, deps) == ExitCode.AUTH_FAILED
    assert "ATTN_YT_AUTH_TIMEOUT" in capsys.readouterr().err


# -- bad arguments of scripts/publish.py ----------------------------------------------------------------------


@pytest.mark.parametrize("args, code, names", [
    (["--privacy", "secret"], 2, ["--privacy", "secret"]),
    (["--chunk-mib", "0"], 2, ["--chunk-mib"]),
    (["--chunk-mib", "lots"], 2, ["--chunk-mib"]),
    (["--lecture", ","], 11, ["--lecture"]),
    (["--lecture", "07"], 10, ["07"]),
    (["--bogus"], 2, ["--bogus"]),
    (["--playlist", ""], 2, ["--playlist"]),
    (["--playlist", "<b>"], 2, ["--playlist"]),
])
def test_bad_arguments_name_the_argument(media_dir, capsys, args, code, names):
    write_lecture(media_dir, "01")
    try:
        rc = _run(media_dir, *args, yes=False)
    except SystemExit as exc:  # argparse
        rc = exc.code
    assert rc == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for n in names:
        assert n in err, (n, err)


def test_a_media_dir_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert _run(f, "--lecture", "01", yes=False) == ExitCode.MISSING_FILE
    assert str(f) in capsys.readouterr().err


# -- the documented exit codes are the code's --------------------------------------------------------------------


def _table(path: Path, heading: str) -> dict[int, str]:
    text = path.read_text(encoding="utf-8")
    part = text[text.index(heading):]
    part = part[: part.find("\n## ", 1) if "\n## " in part[1:] else len(part)]
    return {int(m[1]): m[2] for m in re.finditer(r"^\| (\d+) \| (.+?) \|$", part, re.M)}


def test_documented_exit_codes_match_the_code():
    codes = {int(c) for c in ExitCode}
    assert set(_table(ROOT / "docs" / "publishing.md", "## Exit codes")) == codes
    assert set(_table(ROOT / "docs" / "exit-codes.md", "## scripts/publish.py")) == codes
    epilog = build_parser().epilog
    assert {int(x) for x in re.findall(r"(\d+) [a-z]", epilog.split("Exit codes:")[1])} == codes


def test_duration_is_unchanged_by_edit_metadata_helper(media_dir):
    write_lecture(media_dir, "01")
    edit_metadata(media_dir, "01", title="Changed")
    lec = lecture_mod.load(_file(media_dir, "01-*.metadata.json"))
    assert lecture_mod.problems(lec) == [] and abs(lec.duration - DURATION) < 1e-9
