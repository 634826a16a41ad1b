#!/usr/bin/env python3
"""Publish the assembled lectures to YouTube. A dry run unless --yes is given.

    .venv/bin/python scripts/publish.py --lecture 01            # what would happen, and its quota
    .venv/bin/python scripts/publish.py --lecture all --yes     # publish (private by default)

See docs/publishing.md for the OAuth setup, quotas and exit codes.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenes.pipeline.publish.cli import main

if __name__ == "__main__":
    sys.exit(main())
