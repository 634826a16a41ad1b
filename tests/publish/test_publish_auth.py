"""OAuth and the token file: mode 0600, refresh, revocation, secrets never shown."""

from __future__ import annotations

import json
import logging
import os
import stat
from urllib.parse import parse_qs

import pytest
from google_auth_httplib2 import Request as HttplibRequest
from publish_helpers import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    Harness,
    ScriptedHttp,
    api_error,
    make_credentials,
    ok,
    write_lecture,
)

from scenes.pipeline.publish import auth, layout
from scenes.pipeline.publish.cli import Deps, main
from scenes.pipeline.publish.errors import (
    AuthFailedError,
    ClientSecretsError,
    CredentialsError,
    ExitCode,
)

NEW_TOKEN = "ya29.REFRESHED-TOKEN-also-secret-9876543210"


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _secrets_file(tmp_path, kind="installed"):
    path = tmp_path / "client_secret.json"
    path.write_text(json.dumps({kind: {
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "project_id": "p",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token",
        "redirect_uris": ["http://localhost"],
    }}))
    return path


def test_token_path_follows_xdg(isolated_config, monkeypatch, tmp_path):
    assert layout.token_path() == isolated_config / "attn-lectures" / "youtube-token.json"
    monkeypatch.setenv("XDG_CONFIG_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert layout.token_path() == tmp_path / "home" / ".config" / "attn-lectures" / "youtube-token.json"


def test_saved_token_is_0600_atomic_and_not_in_repr(isolated_config):
    store = auth.TokenStore()
    old_umask = os.umask(0o000)  # even with a permissive umask
    try:
        store.save(make_credentials())
    finally:
        os.umask(old_umask)
    assert _mode(store.path) == 0o600
    assert _mode(store.path.parent) == 0o700
    assert os.listdir(store.path.parent) == ["youtube-token.json"]  # no temporary file left
    assert ACCESS_TOKEN not in repr(store) and str(store.path) in repr(store)
    loaded = store.load()
    assert loaded.refresh_token == REFRESH_TOKEN and loaded.valid
    assert ACCESS_TOKEN not in repr(loaded)


def test_loose_permissions_are_tightened(isolated_config):
    store = auth.TokenStore()
    store.save(make_credentials())
    os.chmod(store.path, 0o644)
    assert store.load() is not None
    assert _mode(store.path) == 0o600


def test_first_run_authorises_and_stores_token(isolated_config, tmp_path):
    secrets = _secrets_file(tmp_path)
    seen = []

    def fake_flow(flow):
        seen.append(flow.client_config["client_id"])
        return make_credentials()

    store = auth.TokenStore()
    creds = auth.get_credentials(secrets, store, flow_runner=fake_flow)
    assert creds.token == ACCESS_TOKEN and seen == [CLIENT_ID]
    assert _mode(store.path) == 0o600
    # The next run uses the stored token: no flow.
    again = auth.get_credentials(None, store, flow_runner=lambda flow: pytest.fail("flow ran again"))
    assert again.token == ACCESS_TOKEN


def test_browser_flow_failure_has_its_code(isolated_config, tmp_path):
    def failing(flow):
        raise RuntimeError("access_denied")

    with pytest.raises(AuthFailedError, match="access_denied"):
        auth.get_credentials(_secrets_file(tmp_path), auth.TokenStore(), flow_runner=failing)


@pytest.mark.parametrize("content, match", [
    (None, "not found"),
    ("{oops", "not valid JSON"),
    ("web", "Web application client"),
    ('{"installed": {"client_id": "x"}}', "lacks client_secret"),
])
def test_bad_client_secrets(tmp_path, content, match):
    if content == "web":
        path = _secrets_file(tmp_path, kind="web")
    else:
        path = tmp_path / "secrets.json"
        if content is not None:
            path.write_text(content)
    with pytest.raises(ClientSecretsError, match=match) as info:
        auth.check_client_secrets(path)
    assert "Desktop app" in str(info.value) and "YouTube Data API v3" in str(info.value)


def test_cli_without_secrets_or_token_exits_20_before_any_call(media_dir, capsys, isolated_config):
    write_lecture(media_dir, "01")
    http = ScriptedHttp([])
    deps = Deps(build_service=lambda creds: pytest.fail("no service without credentials"))
    assert main(["--media-dir", str(media_dir), "--lecture", "01", "--yes"], deps) == ExitCode.CLIENT_SECRETS
    err = capsys.readouterr().err
    assert "console.cloud.google.com" in err and "Desktop app" in err and "ATTN_YT_CLIENT_SECRETS" in err
    assert http.request_sequence == []


def test_expired_token_is_refreshed_and_resaved(isolated_config, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    store = auth.TokenStore()
    store.save(make_credentials(expired=True))
    http = ScriptedHttp([ok({"access_token": NEW_TOKEN, "expires_in": 3600, "token_type": "Bearer"})])
    creds = auth.get_credentials(None, store, refresh_request=HttplibRequest(http))
    assert creds.token == NEW_TOKEN and creds.valid
    assert json.loads(store.path.read_text())["token"] == NEW_TOKEN
    assert _mode(store.path) == 0o600
    sent = parse_qs(http.request_sequence[0][2].decode())
    assert sent["refresh_token"] == [REFRESH_TOKEN]  # sent to the token endpoint, nowhere else
    captured = capsys.readouterr()
    for secret in (ACCESS_TOKEN, NEW_TOKEN, REFRESH_TOKEN, CLIENT_SECRET):
        assert secret not in caplog.text
        assert secret not in captured.out + captured.err


def test_revoked_refresh_token_removes_the_token_file(isolated_config, capsys):
    store = auth.TokenStore()
    store.save(make_credentials(expired=True))
    http = ScriptedHttp([({"status": "400"}, json.dumps(
        {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}))])
    with pytest.raises(CredentialsError, match="removed") as info:
        auth.get_credentials(None, store, refresh_request=HttplibRequest(http))
    assert info.value.exit_code == ExitCode.CREDENTIALS == 21
    assert not store.path.exists()


def test_401_during_publish_exits_21_and_forces_reauthorisation(media_dir, isolated_config, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    write_lecture(media_dir, "01")
    store = auth.TokenStore()
    store.save(make_credentials())
    responses = [
        api_error(401, "authError", "Invalid Credentials"),  # the session start is refused
        ({"status": "400"}, json.dumps({"error": "invalid_grant"})),  # and the refresh too
    ]
    h = Harness(media_dir, responses)
    deps = h.deps()
    deps.get_credentials = auth.get_credentials  # the real loader, from the stored file
    rc = main(["--media-dir", str(media_dir), "--lecture", "01", "--yes"], deps)
    assert rc == ExitCode.CREDENTIALS
    assert not store.path.exists()
    captured = capsys.readouterr()
    assert "rerun with --client-secrets" in captured.err
    for secret in (ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET):
        assert secret not in caplog.text and secret not in captured.out + captured.err
    assert not (media_dir / "publish-manifest.json").exists() or \
        json.loads((media_dir / "publish-manifest.json").read_text())["lectures"] == {}


def test_no_secret_in_logs_or_output_of_a_full_publish(media_dir, caplog, capsys):
    from publish_helpers import lecture_responses

    caplog.set_level(logging.DEBUG)
    write_lecture(media_dir, "01")
    responses = lecture_responses("01", "VID01", create=True)
    responses.insert(2, ({"status": "503"}, ""))  # a retry logs a warning
    responses.insert(3, ({"status": "308", "range": "0-1023"}, ""))
    h = Harness(media_dir, responses)
    assert main(["--media-dir", str(media_dir), "--lecture", "01", "--yes", "-v"], h.deps()) == ExitCode.OK
    assert "Retry #1 for media upload" in caplog.text  # googleapiclient's own retry, logged
    assert h.http.request_sequence[0][3]["authorization"] == f"Bearer {ACCESS_TOKEN}"
    captured = capsys.readouterr()
    for secret in (ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET):
        assert secret not in caplog.text
        assert secret not in captured.out + captured.err


def test_redacting_filter_masks_registered_secrets(caplog):
    caplog.set_level(logging.INFO)
    auth.register_credentials(make_credentials())
    logging.getLogger("attn.publish").warning("oops %s", ACCESS_TOKEN)
    logging.getLogger("attn.publish").info(f"inline {REFRESH_TOKEN}")
    assert ACCESS_TOKEN not in caplog.text and REFRESH_TOKEN not in caplog.text
    assert caplog.text.count(auth.MASK) == 2
    assert auth.redact(f"x {CLIENT_SECRET} y") == f"x {auth.MASK} y"


def test_token_refreshed_during_the_run_is_saved(media_dir, isolated_config, caplog, capsys):
    from publish_helpers import lecture_responses

    caplog.set_level(logging.DEBUG)
    write_lecture(media_dir, "01")
    store = auth.TokenStore()
    store.save(make_credentials())
    responses = [
        api_error(401, "authError", "Invalid Credentials"),  # the access token expired early
        ok({"access_token": NEW_TOKEN, "expires_in": 3600, "token_type": "Bearer"}),  # refresh works
        *lecture_responses("01", "VID01", create=True),
    ]
    h = Harness(media_dir, responses)
    deps = h.deps()
    deps.get_credentials = auth.get_credentials
    assert main(["--media-dir", str(media_dir), "--lecture", "01", "--yes"], deps) == ExitCode.OK
    assert json.loads(store.path.read_text())["token"] == NEW_TOKEN
    assert _mode(store.path) == 0o600
    assert h.http.request_sequence[2][3]["authorization"] == f"Bearer {NEW_TOKEN}"
    captured = capsys.readouterr()
    for secret in (ACCESS_TOKEN, NEW_TOKEN, REFRESH_TOKEN, CLIENT_SECRET):
        assert secret not in caplog.text and secret not in captured.out + captured.err
