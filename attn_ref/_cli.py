"""Command-line helpers shared by scripts/bench.py and scripts/experiments.py (exit codes: docs/exit-codes.md)."""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

EXIT_OK, EXIT_ARGS, EXIT_DEVICE, EXIT_READ, EXIT_WRITE = 0, 2, 3, 4, 5


def positive_int(text: str) -> int:
    """argparse ``type``: an int ≥ 1 (0 or a negative count is an argument error, never silently changed)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def output_folder_problem(folder: str | os.PathLike) -> str | None:
    """Why ``folder`` cannot receive output, or None when it can.

    Missing folders are created only inside the project or the system temp folder; elsewhere the folder
    must already exist (a mistyped ``/nonexistent/dir`` is refused, never created). An existing folder must
    be a writable directory.
    """
    folder = Path(folder).resolve()
    if folder.exists():
        if not folder.is_dir():
            return f"{folder} is not a folder"
        if not os.access(folder, os.W_OK):
            return f"folder {folder} is not writable"
        return None
    roots = (PROJECT_ROOT, Path(tempfile.gettempdir()).resolve())
    if any(folder.is_relative_to(r) for r in roots):
        return None
    return (f"folder {folder} does not exist (missing folders are created only inside the project, "
            f"{PROJECT_ROOT}, or the temp folder, {roots[1]})")
