"""Publishing the assembled lectures to YouTube (YouTube Data API v3).

Modules: ``layout`` (every path and naming convention), ``lecture`` (load and validate a lecture's
metadata and files), ``manifest`` (what is already up), ``auth`` (OAuth, token file), ``upload``
(resumable uploads, retries, error mapping), ``publisher`` (plan and steps), ``quota`` (costs from
youtube_limits.json), ``cli`` (scripts/publish.py). See docs/publishing.md.
"""

from .errors import ExitCode, PublishError

__all__ = ["ExitCode", "PublishError"]
