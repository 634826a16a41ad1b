"""Exit codes and the exceptions that carry them.

Every failure the publisher can foresee is a :class:`PublishError` whose ``exit_code`` is one of
:class:`ExitCode`; the CLI prints its message and exits with that code. The codes are documented in
docs/publishing.md and must stay stable (scripts may depend on them).
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILURE = 1  # unexpected error (a bug): traceback printed
    USAGE = 2  # bad command line (argparse's own code)
    PARTIAL = 3  # finished, but a step was skipped with a warning (e.g. thumbnail refused)
    MISSING_FILE = 10  # metadata, video, captions or thumbnail file not found
    BAD_METADATA = 11  # metadata.json unreadable, keys missing or wrong type, tags too long, ...
    TITLE_INVALID = 12  # title empty, over 100 characters, or containing '<' or '>'
    DESCRIPTION_INVALID = 13  # description over 5,000 bytes (UTF-8) or containing '<' or '>'
    MANIFEST_INVALID = 14  # publish-manifest.json unreadable or malformed: fix or move it, never overwritten
    MEDIA_INVALID = 15  # video not decodable or not as long as the metadata says; captions not valid SRT
    CLIENT_SECRETS = 20  # OAuth client secrets missing or not a Desktop-app client
    CREDENTIALS = 21  # stored credentials revoked/invalid (token removed: rerun to re-authorise)
    AUTH_FAILED = 22  # the browser authorisation did not complete
    QUOTA = 30  # quotaExceeded / dailyLimitExceeded / uploadLimitExceeded
    UPLOAD_FAILED = 31  # transient errors (5xx, connection) persisted after every retry
    API_ERROR = 32  # any other error answered by the API
    INTERRUPTED = 130  # Ctrl-C; every completed step is in the manifest


class PublishError(Exception):
    """A foreseen failure: a message for the user and the exit code to leave with."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, *, exit_code: ExitCode | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class MissingFileError(PublishError):
    exit_code = ExitCode.MISSING_FILE


class MetadataError(PublishError):
    exit_code = ExitCode.BAD_METADATA


class TitleError(PublishError):
    exit_code = ExitCode.TITLE_INVALID


class DescriptionError(PublishError):
    exit_code = ExitCode.DESCRIPTION_INVALID


class ManifestError(PublishError):
    exit_code = ExitCode.MANIFEST_INVALID


class MediaError(PublishError):
    exit_code = ExitCode.MEDIA_INVALID


class ClientSecretsError(PublishError):
    exit_code = ExitCode.CLIENT_SECRETS


class CredentialsError(PublishError):
    exit_code = ExitCode.CREDENTIALS


class AuthFailedError(PublishError):
    exit_code = ExitCode.AUTH_FAILED


class QuotaExceededError(PublishError):
    exit_code = ExitCode.QUOTA


class UploadFailedError(PublishError):
    exit_code = ExitCode.UPLOAD_FAILED


class ApiError(PublishError):
    exit_code = ExitCode.API_ERROR

    def __init__(self, message: str, *, status: int | None = None, reasons: tuple[str, ...] = ()):
        super().__init__(message)
        self.status = status
        self.reasons = reasons
