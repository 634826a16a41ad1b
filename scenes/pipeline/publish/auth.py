"""OAuth for an installed (desktop) app, and the token file kept between runs.

The token lives at $XDG_CONFIG_HOME/attn-lectures/youtube-token.json (or ~/.config/...), created
with mode 0600 inside a 0700 directory and replaced atomically. Token values are never printed or
logged: every secret this module sees is registered with a logging filter that masks it, and the
objects here have reprs that show paths only.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import stat
import sys
import webbrowser
from pathlib import Path
from typing import Any
from collections.abc import Callable

from scenes.pipeline import atomic

from . import layout
from .errors import AuthFailedError, ClientSecretsError, CredentialsError, PublishError, UploadFailedError

LOG = logging.getLogger("attn.publish")

SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",  # videos.insert, thumbnails.set
    "https://www.googleapis.com/auth/youtube.force-ssl",  # captions, videos.update, playlists
)

HOW_TO_CREATE_SECRETS = """\
How to create the OAuth client secrets (once):
  1. Open https://console.cloud.google.com/ and create or choose a project.
  2. APIs & Services > Library: enable "YouTube Data API v3".
  3. Configure the OAuth consent screen: user type External, add your Google account as a test
     user, then publish the app (while it stays in Testing, refresh tokens expire after 7 days).
  4. APIs & Services > Credentials > Create credentials > OAuth client ID,
     application type "Desktop app".
  5. Download the JSON and pass its path with --client-secrets PATH or ATTN_YT_CLIENT_SECRETS=PATH.
     Keep it outside the repository. Details: docs/publishing.md."""


# -- redaction ------------------------------------------------------------------------------------

_SECRETS: set[str] = set()
MASK = "[redacted]"


def register_secret(value: Any) -> None:
    if isinstance(value, str) and len(value) >= 6:
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Masks registered secrets in every record of the publisher's logger (and its children)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


_FILTER = RedactingFilter()
if _FILTER not in LOG.filters:
    LOG.addFilter(_FILTER)


def register_credentials(creds: Any) -> None:
    for attr in ("token", "refresh_token", "client_secret", "id_token"):
        register_secret(getattr(creds, attr, None))


# -- client secrets -------------------------------------------------------------------------------


def resolve_secrets_path(arg: str | None) -> Path | None:
    value = arg or os.environ.get(layout.CLIENT_SECRETS_ENV) or ""
    return Path(value).expanduser() if value.strip() else None


def check_client_secrets(path: Path | None) -> Path:
    """Return the path when it holds a Desktop-app OAuth client; otherwise explain how to make one."""
    if path is None:
        raise ClientSecretsError(
            "This run needs to authorise with Google, but no OAuth client secrets were given "
            f"(--client-secrets PATH or {layout.CLIENT_SECRETS_ENV}).\n" + HOW_TO_CREATE_SECRETS
        )
    path = Path(path)
    if not path.is_file():
        raise ClientSecretsError(f"OAuth client secrets file {path} not found.\n" + HOW_TO_CREATE_SECRETS)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise ClientSecretsError(
            f"OAuth client secrets file {path} is not valid JSON; download it again.\n" + HOW_TO_CREATE_SECRETS
        ) from None
    if not isinstance(data, dict) or "installed" not in data:
        kind = "a Web application client" if isinstance(data, dict) and "web" in data else "not an OAuth client file"
        raise ClientSecretsError(
            f"{path} is {kind}; this tool needs an OAuth client of type 'Desktop app'.\n" + HOW_TO_CREATE_SECRETS
        )
    client = data["installed"]
    missing = [k for k in ("client_id", "client_secret", "auth_uri", "token_uri") if not client.get(k)]
    if missing:
        raise ClientSecretsError(
            f"{path} lacks {', '.join(missing)}; download the Desktop-app client JSON again.\n"
            + HOW_TO_CREATE_SECRETS
        )
    register_secret(client.get("client_secret"))
    return path


# -- token file -----------------------------------------------------------------------------------


class TokenStore:
    """The authorised-user token file. Its repr shows the path, never the contents."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else layout.token_path()

    def __repr__(self) -> str:
        return f"TokenStore(path={str(self.path)!r})"

    def load(self) -> Any | None:
        """Stored credentials, or None when there are none usable (then a new authorisation runs)."""
        from google.oauth2.credentials import Credentials

        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        if stat.S_IMODE(st.st_mode) & 0o077:
            LOG.warning("token file %s was readable by others; tightening it to 0600", self.path)
            os.chmod(self.path, 0o600)
        try:
            info = json.loads(self.path.read_text(encoding="utf-8"))
            creds = Credentials.from_authorized_user_info(info, list(SCOPES))
        except (OSError, ValueError, KeyError, TypeError):
            LOG.warning("token file %s is unreadable; it will be replaced by a new authorisation", self.path)
            self.discard()
            return None
        register_credentials(creds)
        granted = set(info.get("scopes") or ())
        if granted and not set(SCOPES) <= granted:
            LOG.warning("stored token lacks a needed scope; a new authorisation will replace it")
            return None
        return creds

    def save(self, creds: Any) -> None:
        register_credentials(creds)
        text = creds.to_json()
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic.write_text(self.path, text, mode=0o600)  # 0600 from its first byte

    def discard(self) -> bool:
        """Remove the token so the next run authorises again. True when a file was removed."""
        try:
            self.path.unlink()
            return True
        except FileNotFoundError:
            return False


# -- getting credentials --------------------------------------------------------------------------

FlowRunner = Callable[[Any], Any]


AUTH_TIMEOUT_ENV = "ATTN_YT_AUTH_TIMEOUT"
DEFAULT_AUTH_TIMEOUT_S = 300.0


def auth_timeout() -> float:
    """Seconds to wait for the authorisation: $ATTN_YT_AUTH_TIMEOUT, default 300."""
    raw = os.environ.get(AUTH_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_AUTH_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise AuthFailedError(f"{AUTH_TIMEOUT_ENV}={raw!r}: give the seconds to wait for the authorisation, "
                              "a positive number (default 300)")
    return value


def headless_reason(platform: str | None = None) -> str | None:
    """Why no browser can be shown here (None when one can): on Linux and the BSDs no DISPLAY or
    WAYLAND_DISPLAY, anywhere no browser that ``webbrowser`` knows."""
    platform = platform or sys.platform
    if platform.startswith(("linux", "freebsd", "openbsd", "netbsd")) and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no DISPLAY or WAYLAND_DISPLAY is set"
    try:
        webbrowser.get()
    except webbrowser.Error:
        return "no web browser was found"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def run_browser_flow(flow: Any) -> Any:
    """The installed-app flow, waiting at most ``auth_timeout()`` seconds. With a browser here it opens
    it; without one (``headless_reason``) it prints the URL to open elsewhere and how to forward the
    redirect's port. No answer in time is an AuthFailedError (exit 22), never an endless wait."""
    from google_auth_oauthlib.flow import WSGITimeoutError

    timeout = auth_timeout()
    reason = headless_reason()
    if reason is None:
        port, prompt = 0, f"Opening the browser to authorise YouTube uploads (waiting up to {timeout:g} s): {{url}}"
    else:
        port = _free_port()
        prompt = (
            f"No browser on this machine ({reason}). Open this URL in a browser on any machine and allow "
            f"access:\n  {{url}}\nGoogle then sends that browser to http://localhost:{port}/ on THIS machine: "
            f"from another machine, forward the port first (ssh -L {port}:localhost:{port} <this host>).\n"
            f"Waiting up to {timeout:g} s ({AUTH_TIMEOUT_ENV}). Or authorise once on a machine with a browser "
            "and copy its token file here (docs/publishing.md)."
        )
    try:
        return flow.run_local_server(
            port=port,
            open_browser=reason is None,
            authorization_prompt_message=prompt,
            success_message="Authorised. You can close this tab and return to the terminal.",
            timeout_seconds=timeout,
        )
    except WSGITimeoutError:
        where = (f"no browser on this machine ({reason}); open the printed URL elsewhere with the port forwarded, "
                 "or copy a token file from a machine with a browser") if reason else "the browser did not return"
        raise AuthFailedError(f"no authorisation arrived within {timeout:g} s: {where}. Rerun to try again "
                              f"(set {AUTH_TIMEOUT_ENV} to wait longer)") from None


def revoked_message(store: TokenStore, detail: str = "") -> str:
    extra = f" ({redact(detail)})" if detail else ""
    return (
        f"The stored YouTube credentials were rejected{extra}: they were revoked, expired (an OAuth "
        "app left in Testing gets refresh tokens that expire after 7 days) or belong to another client. "
        f"The token file {store.path} was removed; rerun with --client-secrets to authorise again."
    )


def get_credentials(
    secrets_arg: str | Path | None,
    store: TokenStore,
    *,
    flow_runner: FlowRunner = run_browser_flow,
    refresh_request: Any = None,
) -> Any:
    """Valid credentials: the stored ones (refreshed when expired), or a new browser authorisation."""
    from google.auth.exceptions import RefreshError, TransportError

    creds = store.load()
    if creds is not None and creds.valid:
        return creds
    if creds is not None and creds.refresh_token:
        if refresh_request is None:
            from google.auth.transport.requests import Request

            refresh_request = Request()
        try:
            creds.refresh(refresh_request)
        except RefreshError as exc:
            if getattr(exc, "retryable", False):
                raise UploadFailedError(f"Google's token server failed; try again later ({redact(str(exc))})") from None
            store.discard()
            raise CredentialsError(revoked_message(store, str(exc))) from None
        except TransportError as exc:
            raise UploadFailedError(f"could not reach Google to refresh the token: {redact(str(exc))}") from None
        store.save(creds)
        LOG.info("refreshed the stored token")
        return creds

    secrets = check_client_secrets(Path(secrets_arg) if isinstance(secrets_arg, str) else secrets_arg)
    from google_auth_oauthlib.flow import InstalledAppFlow

    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(secrets), scopes=list(SCOPES))
    except ValueError as exc:
        raise ClientSecretsError(f"{secrets}: {exc}\n" + HOW_TO_CREATE_SECRETS) from None
    try:
        creds = flow_runner(flow)
    except (KeyboardInterrupt, PublishError):
        raise
    except Exception as exc:  # the browser flow fails in many library-specific ways
        raise AuthFailedError(f"the authorisation did not complete: {redact(str(exc)) or type(exc).__name__}") from None
    if creds is None or not getattr(creds, "token", None):
        raise AuthFailedError("the authorisation returned no credentials")
    store.save(creds)
    LOG.info("authorised; token stored in %s", store.path)
    return creds
