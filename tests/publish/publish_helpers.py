"""Offline helpers for the publisher tests: fake lectures on disk, scripted HTTP, fake credentials.

Nothing here touches the network: the YouTube client is built from the discovery document bundled
with google-api-python-client, over googleapiclient.http.HttpMockSequence.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from support import write_tiny_mp4  # noqa: E402
from googleapiclient.http import HttpMockSequence  # noqa: E402

ACCESS_TOKEN = "ya29.TEST-ACCESS-TOKEN-must-never-be-printed-0123456789"
REFRESH_TOKEN = "1//TEST-REFRESH-TOKEN-must-never-be-printed-abcdef"
CLIENT_SECRET = "GOCSPX-TEST-CLIENT-SECRET-never-printed"
CLIENT_ID = "1234567890-test.apps.googleusercontent.com"
TOKEN_URI = "https://oauth2.googleapis.com/token"

CHUNK = 1024  # bytes per upload chunk in tests
VIDEO_SIZE = 3000  # three chunks: 1024 + 1024 + 952
FPS = 15
FRAMES = 5
DURATION = round(FRAMES / FPS, 3)  # what the metadata says of every fake lecture's video


@functools.lru_cache(maxsize=1)
def _tiny_mp4() -> bytes:
    """5 frames of 64x36 h264 at 15 fps: a real, decodable video of a few hundred bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        return write_tiny_mp4(Path(tmp) / "tiny.mp4", FRAMES, FPS, 40).read_bytes()


def fake_mp4(fill: bytes = b"x", size: int = VIDEO_SIZE) -> bytes:
    """A decodable mp4 of exactly ``size`` bytes: the tiny video, then an mp4 'free' box of ``fill``
    bytes (players skip it), so different ``fill`` gives a different file of the same video."""
    base = _tiny_mp4()
    n = size - len(base)
    assert n >= 8, f"fake_mp4 needs at least {len(base) + 8} bytes"
    return base + n.to_bytes(4, "big") + b"free" + (fill * n)[: n - 8]


@functools.lru_cache(maxsize=16)
def fake_png(tag: str = "", size: tuple[int, int] = (1280, 720)) -> bytes:
    """A real PNG thumbnail; its colour depends on ``tag``, so different tags give different files."""
    from PIL import Image

    colour = tuple(sum(map(ord, tag + "rgb"[i])) * (37 + i) % 256 for i in range(3))
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def fake_jpeg(size: tuple[int, int] = (1280, 720)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (20, 40, 60)).save(buf, format="JPEG")
    return buf.getvalue()


class ScriptedHttp(HttpMockSequence):
    """HttpMockSequence that can also raise (an exception instance in place of a response)."""

    def request(self, uri, method="GET", body=None, headers=None, redirections=1, connection_type=None):
        if self._iterable and isinstance(self._iterable[0], BaseException):
            self.request_sequence.append((uri, method, body, headers))
            raise self._iterable.pop(0)
        if not self._iterable:
            raise AssertionError(f"unexpected HTTP call: {method} {uri}")
        return super().request(uri, method, body, headers, redirections, connection_type)

    # What was called, in a form easy to assert on.
    def calls(self) -> list[tuple[str, str]]:
        return [(method, uri) for uri, method, _body, _headers in self.request_sequence]


# -- responses -------------------------------------------------------------------------------------


def ok(body: dict | None = None, **headers):
    return ({"status": "200", **headers}, json.dumps(body or {}))


def api_error(status: int, reason: str, message: str = "error"):
    body = {"error": {"code": status, "message": message, "errors": [{"reason": reason, "domain": "youtube"}]}}
    return ({"status": str(status)}, json.dumps(body))


def session(uri: str):
    return ({"status": "200", "location": uri}, "")


def resume(last_byte: int):
    return ({"status": "308", "range": f"0-{last_byte}"}, "")


def upload_uri(lecture_id: str) -> str:
    return f"https://upload.example.test/session/{lecture_id}"


def upload_ok(lecture_id: str, video_id: str, size: int = VIDEO_SIZE, chunk: int = CHUNK) -> list:
    """Session start, then one response per chunk, the last carrying the video resource."""
    responses = [session(upload_uri(lecture_id))]
    sent = 0
    while sent + chunk < size:
        sent += chunk
        responses.append(resume(sent - 1))
    responses.append(ok({"id": video_id, "status": {"uploadStatus": "uploaded"}}))
    return responses


def lecture_responses(lecture_id: str, video_id: str, *, playlist: str | None = None, create: bool = False) -> list:
    """Everything one fresh lecture needs: upload, thumbnail, captions, (playlist lookup), item."""
    responses = upload_ok(lecture_id, video_id)
    responses.append(ok({"kind": "youtube#thumbnailSetResponse"}))
    responses.append(ok({"id": f"CAP{lecture_id}"}))
    if create:
        responses.append(ok({"items": [{"id": "PLother", "snippet": {"title": "Something else"}}]}))
        responses.append(ok({"id": playlist or "PL1"}))
    responses.append(ok({"id": f"PLI{lecture_id}"}))
    return responses


# -- lectures on disk ------------------------------------------------------------------------------

SLUGS = {"01": "attention-fundamentals", "02": "scaled-dot-product", "03": "masks"}


def description_for(lecture_id: str) -> str:
    return (
        f"Lecture {lecture_id} of Attention Lectures.\n\n"
        "0:00 Introduction\n0:15 Queries and keys\n0:40 Softmax\n\nReferences: Vaswani et al. 2017"
    )


def write_lecture(media_dir: Path, lecture_id: str, *, video: bytes | None = None, **overrides) -> Path:
    """Write <id>-<slug>.{mp4,srt,thumbnail.png,metadata.json}; return the metadata path."""
    slug = SLUGS.get(lecture_id, f"lecture-{lecture_id}")
    stem = f"{lecture_id}-{slug}"
    media_dir.mkdir(parents=True, exist_ok=True)
    body = video if video is not None else fake_mp4(stem.encode())
    (media_dir / f"{stem}.mp4").write_bytes(body)
    (media_dir / f"{stem}.srt").write_text("1\n00:00:00,000 --> 00:00:00,300\nHello.\n\n", encoding="utf-8")
    (media_dir / f"{stem}.thumbnail.png").write_bytes(fake_png(lecture_id))
    meta = {
        "id": lecture_id,
        "slug": slug,
        "title": f"Attention {lecture_id}: {slug.replace('-', ' ').title()}",
        "description": description_for(lecture_id),
        "tags": ["attention", "transformers", "deep learning"],
        "video": f"{stem}.mp4",
        "captions": f"{stem}.srt",
        "thumbnail": f"{stem}.thumbnail.png",
        "chapters": [{"start": 0, "title": "Introduction"}],
        "duration": DURATION,
        "voice": "silent",
    }
    meta.update(overrides)
    path = media_dir / f"{stem}.metadata.json"
    path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return path


def edit_metadata(media_dir: Path, lecture_id: str, **changes) -> None:
    path = next(media_dir.glob(f"{lecture_id}-*.metadata.json"))
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta.update(changes)
    path.write_text(json.dumps(meta, indent=2), encoding="utf-8")


def read_manifest(media_dir: Path) -> dict:
    return json.loads((media_dir / "publish-manifest.json").read_text(encoding="utf-8"))


# -- credentials and the CLI harness ----------------------------------------------------------------


def make_credentials(expired: bool = False):
    from google.oauth2.credentials import Credentials

    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    expiry = now - dt.timedelta(hours=1) if expired else now + dt.timedelta(hours=1)
    return Credentials(
        token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        token_uri=TOKEN_URI,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=[
            "https://www.googleapis.com/auth/youtube.upload",
            "https://www.googleapis.com/auth/youtube.force-ssl",
        ],
        expiry=expiry,
    )


class Harness:
    """Runs cli.main with scripted HTTP and no sleeping; records what was asked of the outside."""

    def __init__(self, media_dir: Path, responses: list | None = None, creds=None, max_retries: int = 3):
        self.media_dir = media_dir
        self.http = ScriptedHttp(list(responses or []))
        self.creds = creds or make_credentials()
        self.sleeps: list[float] = []
        self.credential_requests = 0
        self.max_retries = max_retries

    def deps(self):
        from google_auth_httplib2 import AuthorizedHttp
        from googleapiclient.discovery import build

        from scenes.pipeline.publish.cli import Deps

        def get_credentials(_secrets, _store):
            self.credential_requests += 1
            return self.creds

        def build_service(creds):
            return build("youtube", "v3", http=AuthorizedHttp(creds, http=self.http), static_discovery=True)

        return Deps(
            get_credentials=get_credentials,
            build_service=build_service,
            sleep=self.sleeps.append,
            rand=lambda: 0.5,
            chunksize=CHUNK,
            max_retries=self.max_retries,
        )

    def run(self, *args: str, yes: bool = True) -> int:
        from scenes.pipeline.publish.cli import main

        argv = ["--media-dir", str(self.media_dir), *args]
        if yes:
            argv.append("--yes")
        return main(argv, self.deps())

    def expect(self, responses: list) -> Harness:
        """Queue the responses of the next run and forget the calls seen so far."""
        self.http._iterable = list(responses)
        self.http.request_sequence = []
        return self
