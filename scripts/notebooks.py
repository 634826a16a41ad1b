#!/usr/bin/env python
"""Generate each lecture's companion notebook, notebooks/NN-<slug>.ipynb, from its manifest entry and its
notebook spec (scenes/lNN_<slug>/notebook.py); see scenes/kit/notebook.py.

    scripts/notebooks.py --lecture ready          # write the notebook of every ready lecture
    scripts/notebooks.py --lecture 01 --check     # exit 1 when the committed notebook is out of date
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scenes.pipeline import cli
from scenes.kit.notebook import notebook_path, render


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lecture", default="ready", help="'ready' (default), 'all', or ids like 01 or 01,02")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 when a notebook is missing or stale")
    ap.add_argument("--manifest", default=None, help="course manifest (module:ATTR or file.py:ATTR)")
    args = ap.parse_args(argv)
    course, lectures = cli.course_and_lectures(ap, args.manifest, args.lecture)
    if not lectures:
        print(f"no lecture selected by {args.lecture!r}", file=sys.stderr)
        return 2
    stale = []
    for lec in lectures:
        rel = notebook_path(lec)
        path = Path(course.root) / rel
        try:
            text = render(course, lec)
        except (LookupError, ValueError, TypeError) as e:
            print(f"lecture {lec.id}: {e}", file=sys.stderr)
            return 2
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append((lec, rel, "missing" if not path.exists() else "out of date"))
            continue
        if path.exists() and path.read_text(encoding="utf-8") == text:
            print(f"{rel}: up to date")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"{rel}: written")
    for lec, rel, why in stale:
        print(f"{rel} is {why} (its spec, manifest or data constants changed); regenerate it with: "
              f".venv/bin/python scripts/notebooks.py --lecture {lec.id}", file=sys.stderr)
    if args.check and not stale:
        print(f"{len(lectures)} notebook(s) up to date")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
