"""Atomic file writes: a crash never leaves a truncated file under a final name.

The project's one atomic-write helper: the pipeline, the publisher and the kit (narration cache,
loudness) all write through it. It imports only the standard library, so the kit can use it
without pulling in the pipeline.

Everything is written to a temporary file in the destination's folder, flushed and fsynced, then
moved over the final name with os.replace (atomic on POSIX within one file system). Temporary
files are named ``.<name>.partial-<pid>-<n><suffix>`` so an interrupted run leaves only dot-files
that the next run ignores (and `clean_partials` removes).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_counter = itertools.count()
PARTIAL_TAG = ".partial-"


def temp_path_for(final: str | os.PathLike[str]) -> Path:
    """A fresh temporary path beside ``final`` that keeps its suffix (ffmpeg guesses formats from it)."""
    final = Path(final)
    return final.with_name(f".{final.stem}{PARTIAL_TAG}{os.getpid()}-{next(_counter)}{final.suffix}")


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def commit(tmp: str | os.PathLike[str], final: str | os.PathLike[str]) -> Path:
    """fsync ``tmp`` and move it over ``final``."""
    tmp, final = Path(tmp), Path(final)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    _fsync_dir(final.parent)
    return final


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write (by any means, e.g. an ffmpeg subprocess); on success it
    replaces ``final``; on an exception it is removed and ``final`` is left as it was."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(final)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to {tmp} for {final}")
        commit(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes(final: str | os.PathLike[str], data: bytes, mode: int | None = None) -> Path:
    """Write ``data`` to ``final`` atomically. ``mode`` (e.g. 0o600 for a secret) is set on the
    temporary file before any byte is written, whatever the umask; by default the umask decides."""
    final = Path(final)
    with atomic_path(final) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
        with open(fd, "wb") as fh:
            if mode is not None:
                os.fchmod(fd, mode)
            fh.write(data)
    return final


def write_text(final: str | os.PathLike[str], text: str, mode: int | None = None) -> Path:
    return write_bytes(final, text.encode("utf-8"), mode)


def write_json(final: str | os.PathLike[str], obj: Any) -> Path:
    return write_text(final, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike[str], default: Any = None) -> Any:
    """Read JSON; a missing or unreadable file gives ``default``."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_partials(folder: str | os.PathLike[str]) -> int:
    """Remove temporary files left in ``folder`` by interrupted runs (those whose process is gone;
    a partial file of a run still going on is left alone). Returns how many were removed."""
    n = 0
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    for p in folder.iterdir():
        if not (p.name.startswith(".") and PARTIAL_TAG in p.name and p.is_file()):
            continue
        try:
            pid = int(p.name.split(PARTIAL_TAG, 1)[1].split("-", 1)[0])
        except ValueError:
            continue
        if pid != os.getpid() and _pid_alive(pid):
            continue
        with contextlib.suppress(OSError):
            p.unlink()
            n += 1
    return n
