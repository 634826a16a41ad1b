#!/usr/bin/env python
"""Entry point: see scenes/pipeline/assemble.py (`python scripts/assemble.py --help`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scenes.pipeline.assemble import main

if __name__ == "__main__":
    sys.exit(main())
