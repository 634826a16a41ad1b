"""Command line of the publisher (scripts/publish.py). A dry run unless --yes is given."""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from collections.abc import Callable

from . import auth, layout, lecture as lecture_mod
from .errors import CredentialsError, ExitCode, PublishError
from .manifest import Manifest
from .publisher import DEFAULT_PLAYLIST, PRIVACY_CHOICES, Publisher, describe, make_plan
from .quota import estimate
from .upload import DEFAULT_CHUNKSIZE, Backoff
from ..cli import positive_int

LOG = logging.getLogger("attn.publish")


def default_build_service(creds: Any) -> Any:
    from googleapiclient.discovery import build

    return build("youtube", "v3", credentials=creds, static_discovery=True, cache_discovery=False)


@dataclass
class Deps:
    """What a run needs from the outside world; tests replace these (no network, no sleeping)."""

    get_credentials: Callable[[Path | None, auth.TokenStore], Any] = auth.get_credentials
    build_service: Callable[[Any], Any] = default_build_service
    token_store: Callable[[], auth.TokenStore] = auth.TokenStore
    sleep: Callable[[float], Any] = time.sleep
    rand: Callable[[], float] = random.random
    chunksize: int = DEFAULT_CHUNKSIZE
    max_retries: int = 8
    stdout: TextIO | None = None
    stderr: TextIO | None = None
    extra: dict = field(default_factory=dict)


def _playlist_title(text: str) -> str:
    if not text.strip() or len(text) > 150 or any(c in text for c in "<>"):
        raise argparse.ArgumentTypeError("a playlist title is 1 to 150 characters without '<' or '>'")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/publish.py",
        description="Publish the assembled lectures to YouTube: resumable upload, thumbnail, English "
        "captions, playlist. Without --yes it only prints what it would do and the quota it would spend.",
        epilog="Exit codes: 0 ok, 1 unexpected error, 2 bad command line, 3 done with a skipped step, "
        "10 missing file, 11 bad metadata or thumbnail, 12 bad title, 13 bad description, 14 bad manifest, "
        "15 bad video or captions, 20 client secrets, 21 credentials revoked, 22 authorisation failed or "
        "timed out, 30 quota, 31 upload failed after retries, 32 other API error, 130 interrupted. "
        "See docs/publishing.md.",
    )
    parser.add_argument("--lecture", default="all", help="lecture number (01), a list (01,03) or 'all' (default)")
    parser.add_argument("--privacy", choices=PRIVACY_CHOICES, default=None,
                        help="privacy of new uploads (default private); given explicitly, also applied "
                        "to lectures already up")
    parser.add_argument("--playlist", default=DEFAULT_PLAYLIST, metavar="NAME", type=_playlist_title,
                        help=f"playlist title, found or created (default {DEFAULT_PLAYLIST!r})")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="only print the plan and quota (the default)")
    mode.add_argument("--yes", action="store_true", help="really publish")
    parser.add_argument("--client-secrets", metavar="PATH",
                        help=f"OAuth Desktop-app client JSON (or env {layout.CLIENT_SECRETS_ENV}); needed "
                        "only when no valid token is stored")
    parser.add_argument("--media-dir", type=Path, default=layout.DEFAULT_MEDIA_DIR,
                        help="folder with the lectures' metadata files (default media/lectures)")
    parser.add_argument("--chunk-mib", type=positive_int, default=None,
                        help="upload chunk size in MiB, a whole number \u2265 1 (default 8)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details (never secrets)")
    return parser


def main(argv: list[str] | None = None, deps: Deps | None = None) -> int:
    deps = deps or Deps()
    stdout = deps.stdout or sys.stdout
    stderr = deps.stderr or sys.stderr

    def out(line: str = "") -> None:
        print(auth.redact(line), file=stdout, flush=True)

    def err(line: str) -> None:
        print(auth.redact(line), file=stderr, flush=True)

    args = build_parser().parse_args(argv)
    if args.verbose and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=stderr)
    try:
        return _run(args, deps, out, err)
    except PublishError as exc:
        err(f"error: {exc.message}")
        return int(exc.exit_code)
    except KeyboardInterrupt:
        err("interrupted: every completed step is recorded in the manifest; rerun to finish")
        return int(ExitCode.INTERRUPTED)
    except Exception:  # a bug: show it, but never a secret
        err(auth.redact(traceback.format_exc()))
        return int(ExitCode.FAILURE)


def _run(args: argparse.Namespace, deps: Deps, out, err) -> int:
    media_dir = Path(args.media_dir)
    privacy = args.privacy or "private"
    dry_run = not args.yes

    # 1. Everything local first: nothing remote happens unless all of it is in order.
    lectures, problems = lecture_mod.load_selected(media_dir, args.lecture)
    if problems:
        for problem in problems:
            err(f"error: {problem.message}")
        err(f"{len(problems)} problem(s) found; nothing was sent to YouTube")
        return int(problems[0].exit_code)
    for lec in lectures:
        for warning in lecture_mod.warnings(lec):
            err(f"warning: {warning}")
    manifest = Manifest.load(layout.manifest_path(media_dir))

    plan = make_plan(lectures, manifest, playlist_title=args.playlist, privacy=privacy,
                     privacy_explicit=args.privacy is not None)
    header = "Dry run: nothing will be sent." if dry_run else "Publishing."
    out(f"{header} Playlist '{args.playlist}', privacy of new uploads: {privacy}; manifest {manifest.path}")
    for line in describe(plan):
        out(line)
    methods = plan.methods()
    for line in estimate(methods).lines():
        out(line)
    if not plan.playlist_known and "playlists.insert" in methods:
        out("  (playlists.list and playlists.insert are counted in case the playlist does not exist yet)")
    if privacy != "private" and any(a.step == "video" for lp in plan.lectures for a in lp.actions):
        out("  note: API projects that have not passed Google's audit can only upload private videos")

    if dry_run:
        out("Dry run: nothing was sent. Add --yes to publish.")
        return int(ExitCode.OK)
    if plan.empty:
        out("Everything is already up to date on YouTube.")
        return int(ExitCode.OK)

    # 2. Remote work.
    store = deps.token_store()
    secrets = auth.resolve_secrets_path(args.client_secrets)
    creds = deps.get_credentials(secrets, store)
    auth.register_credentials(creds)
    service = deps.build_service(creds)
    chunksize = args.chunk_mib * 1024 * 1024 if args.chunk_mib else deps.chunksize
    publisher = Publisher(
        service=service, manifest=manifest, playlist_title=args.playlist, privacy=privacy,
        privacy_explicit=args.privacy is not None,
        backoff=Backoff(max_retries=deps.max_retries, sleep=deps.sleep, rand=deps.rand),
        chunksize=chunksize, out=out,
    )
    token_before = getattr(creds, "token", None)
    revoked = False
    try:
        publisher.run(plan)
    except CredentialsError as exc:
        revoked = True
        store.discard()
        raise CredentialsError(auth.revoked_message(store, exc.message)) from None
    except PublishError as exc:
        done = "Completed steps are recorded in the manifest; rerun to finish the rest."
        exc.args = (f"{exc.message}\n{done}",)
        raise
    finally:
        if not revoked and getattr(creds, "token", None) != token_before and getattr(creds, "refresh_token", None):
            store.save(creds)  # the client refreshed the access token during the run: keep the new one
        _report_replaced(publisher, out)

    if publisher.skipped:
        err(f"{len(publisher.skipped)} step(s) skipped; rerun after fixing the cause:")
        for message in publisher.skipped:
            err(f"  {message}")
        return int(ExitCode.PARTIAL)
    out("Done.")
    return int(ExitCode.OK)


def _report_replaced(publisher: Publisher, out) -> None:
    for lecture_id, old, new in publisher.replaced:
        out(
            f"Lecture {lecture_id}: the video file changed, so it was uploaded again as {new}. The old video "
            f"{old} was NOT deleted. When you are sure, delete it in YouTube Studio "
            f"(https://studio.youtube.com/video/{old}/edit > Options > Delete forever) or with the API "
            f"(videos.delete id={old}); links to https://youtu.be/{old} will then stop working."
        )
