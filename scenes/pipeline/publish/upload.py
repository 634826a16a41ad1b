"""Calling the API robustly: resumable uploads, retries, error mapping.

Retries are google-api-python-client's own (``num_retries``): it retries 5xx, 429 and rate-limit
403 answers, and dropped connections on plain requests and on the start of an upload session,
sleeping rand() * 2**n seconds before retry n. The one case it leaves to its caller is a dropped
connection during an upload chunk: the request is then in its error state, and asking it for the
next chunk again first asks the upload session how much it holds and continues from there, so the
session is never restarted by a retry (:func:`run_resumable`).
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import httplib2
from googleapiclient.errors import HttpError

from .auth import redact
from .errors import ApiError, CredentialsError, PublishError, QuotaExceededError, UploadFailedError

LOG = logging.getLogger("attn.publish")

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})  # what the client retried before giving up
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded"})
DEFAULT_CHUNKSIZE = 8 * 1024 * 1024  # a multiple of 256 KiB, as resumable uploads require


def _transport_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, httplib2.HttpLib2Error]  # OSError covers ConnectionError, timeouts
    try:
        from google.auth.exceptions import TransportError

        errors.append(TransportError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


TRANSPORT_ERRORS = _transport_errors()


@dataclass
class Backoff:
    """The retry policy: at most ``max_retries`` retries, rand() * 2**n seconds before retry n
    (googleapiclient's schedule). ``sleep`` and ``rand`` are replaceable, so tests never sleep."""

    max_retries: int = 8
    sleep: Callable[[float], Any] = time.sleep
    rand: Callable[[], float] = random.random

    def arm(self, request: Any) -> Any:
        """Give ``request`` this policy's sleep and random source: googleapiclient reads them from
        the request (``_sleep``, ``_rand``) when it retries."""
        request._sleep = self.sleep
        request._rand = self.rand
        return request

    def pause(self, attempt: int) -> float:
        delay = self.rand() * 2**attempt
        self.sleep(delay)
        return delay


def error_reasons(err: HttpError) -> tuple[str, ...]:
    """The machine-readable reasons in an API error body (e.g. 'quotaExceeded')."""
    content = err.content
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    try:
        body = json.loads(content or "{}")
    except ValueError:
        return ()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ()
    reasons = [e.get("reason") for e in error.get("errors", []) if isinstance(e, dict)]
    for detail in error.get("details", []) or []:
        if isinstance(detail, dict) and detail.get("reason"):
            reasons.append(detail["reason"])
    return tuple(r for r in reasons if r)


def error_message(err: HttpError) -> str:
    content = err.content
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    try:
        msg = json.loads(content)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        msg = (content or "").strip()[:300]
    return redact(str(msg))


def status_of(err: HttpError) -> int:
    try:
        return int(err.resp.status)
    except (AttributeError, TypeError, ValueError):
        return 0


def classify(err: HttpError, what: str) -> PublishError:
    """Turn an API error that will not be retried into the error the CLI reports."""
    status = status_of(err)
    reasons = error_reasons(err)
    detail = error_message(err)
    if status == 403 and QUOTA_REASONS & set(reasons):
        reason = next(r for r in reasons if r in QUOTA_REASONS)
        extra = (
            "the channel's upload limit was reached"
            if reason == "uploadLimitExceeded"
            else "the project's daily quota is spent (it resets at midnight Pacific time)"
        )
        return QuotaExceededError(f"{what}: quota exhausted ({reason}): {extra}")
    if status == 401:
        return CredentialsError(f"{what}: the credentials were rejected (401 {detail})")
    return ApiError(f"{what}: HTTP {status} {', '.join(reasons)}: {detail}".replace(" : ", ": "),
                    status=status, reasons=reasons)


def _refresh_error() -> type[BaseException]:
    from google.auth.exceptions import RefreshError

    return RefreshError


def resume_session(request: Any, session_uri: str) -> None:
    """Point a new resumable request at the upload session an earlier process started (its URI, which
    the API keeps valid for about a week). The first ``next_chunk()`` then asks the session how many
    bytes it holds (an empty PUT with ``Content-Range: bytes */size``) and sends only the rest."""
    request.resumable_uri = session_uri
    request._in_error_state = True  # googleapiclient's flag for "query the session before sending"


def _given_up(err: HttpError, what: str, backoff: Backoff) -> PublishError:
    if status_of(err) in RETRYABLE_STATUS:
        return UploadFailedError(f"{what}: gave up after {backoff.max_retries} retries ({_describe(err)}); "
                                 "rerun to try again")
    return classify(err, what)


def run_resumable(request: Any, backoff: Backoff, what: str,
                  progress: Callable[[int, int | None], Any] | None = None,
                  on_session: Callable[[str], Any] | None = None) -> dict:
    """Drive a resumable upload to its end; return the API's response body.

    Each chunk goes out with ``num_retries``; a connection dropped mid-chunk (which the client
    does not retry) is met here by asking for the next chunk again, up to ``max_retries`` times in
    a row, and the client then resumes the same session from what it holds. ``on_session(uri)`` is
    called as soon as the upload session's URI is known (and again if the server moves it), so a
    caller can store it and a later process can :func:`resume_session` after a crash."""
    RefreshError = _refresh_error()
    backoff.arm(request)
    drops = 0
    response = None
    known = getattr(request, "resumable_uri", None)
    while response is None:
        try:
            try:
                status, response = request.next_chunk(num_retries=backoff.max_retries)
            finally:
                uri = getattr(request, "resumable_uri", None)
                if on_session is not None and uri and uri != known:
                    known = uri
                    on_session(uri)
        except RefreshError as exc:
            raise CredentialsError(f"{what}: the credentials were rejected ({redact(str(exc))})") from None
        except HttpError as exc:
            raise _given_up(exc, what, backoff) from None
        except TRANSPORT_ERRORS as exc:
            drops += 1
            if drops > backoff.max_retries:
                raise UploadFailedError(f"{what}: gave up after {backoff.max_retries} retries ({_describe(exc)}); "
                                        "rerun to try again") from None
            delay = backoff.pause(drops)
            LOG.warning("%s: %s; retry %d/%d of the same upload session in %.1f s",
                        what, _describe(exc), drops, backoff.max_retries, delay)
            continue
        if status is not None:
            drops = 0  # progress was made: count failures afresh
            if progress is not None:
                progress(status.resumable_progress, status.total_size)
    return response


def execute(request: Any, backoff: Backoff, what: str) -> dict:
    """Run a plain (non-resumable) request, with the client's retries."""
    RefreshError = _refresh_error()
    try:
        return backoff.arm(request).execute(num_retries=backoff.max_retries)
    except RefreshError as exc:
        raise CredentialsError(f"{what}: the credentials were rejected ({redact(str(exc))})") from None
    except HttpError as exc:
        raise _given_up(exc, what, backoff) from None
    except TRANSPORT_ERRORS as exc:
        raise UploadFailedError(f"{what}: {_describe(exc)}; rerun to try again") from None


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, HttpError):
        return f"HTTP {status_of(exc)}"
    return redact(f"{type(exc).__name__}: {exc}") if exc is not None else "unknown error"
