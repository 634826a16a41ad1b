"""Where the publisher looks for things: every path and file-name convention lives here.

The assembly step (scenes/pipeline/) writes one metadata file per lecture; the publisher finds a
lecture only through it, and the video, captions and thumbnail through the names it holds (relative
to the metadata file). If the assembler's naming changes, change it here and nowhere else.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_MEDIA_DIR = REPO_ROOT / "media" / "lectures"

# Per lecture: "<id>-<slug>.metadata.json" next to the video, or "<id>-<slug>/metadata.json".
METADATA_PATTERNS = ("*.metadata.json", "*/metadata.json")

# Keys every metadata file must have, with the JSON types accepted for each.
METADATA_KEYS: dict[str, tuple[type, ...]] = {
    "id": (str, int),
    "slug": (str,),
    "title": (str,),
    "description": (str,),
    "tags": (list,),
    "video": (str,),
    "captions": (str,),
    "thumbnail": (str,),
    "chapters": (list,),
    "duration": (int, float),
    "voice": (str, dict, type(None)),
}
FILE_KEYS = ("video", "captions", "thumbnail")

MANIFEST_NAME = "publish-manifest.json"

# The YouTube costs and limits (figures with their date) are data, not code.
LIMITS_FILE = Path(__file__).with_name("youtube_limits.json")

CLIENT_SECRETS_ENV = "ATTN_YT_CLIENT_SECRETS"
TOKEN_DIR_NAME = "attn-lectures"
TOKEN_FILE_NAME = "youtube-token.json"


def manifest_path(media_dir: Path) -> Path:
    return Path(media_dir) / MANIFEST_NAME


def config_dir() -> Path:
    """$XDG_CONFIG_HOME/attn-lectures, or ~/.config/attn-lectures when it is unset or empty."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base.strip() else Path.home() / ".config"
    return root / TOKEN_DIR_NAME


def token_path() -> Path:
    return config_dir() / TOKEN_FILE_NAME
