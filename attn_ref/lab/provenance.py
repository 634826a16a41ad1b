"""Run metadata for lab results: code version (git commit), library versions, threads, CPU, date."""
from __future__ import annotations

import datetime as _dt
import platform
import sys

import torch

from ..bench.provenance import _git_commit

__all__ = ["code_version", "provenance"]


def code_version() -> str | None:
    """``git rev-parse HEAD`` of the checkout holding this package, with ``+dirty`` when tracked files
    differ from it; None outside a git checkout (the benchmarks' helper, so both record it alike)."""
    return _git_commit()


def provenance(threads: int, wall_time_s: float, command: str | None) -> dict:
    from .. import __version__
    try:
        cap = torch.backends.cpu.get_cpu_capability()
    except Exception:  # pragma: no cover - older torch
        cap = "unknown"
    return {
        "code_version": code_version(),
        "attn_ref_version": __version__,
        "torch_version": torch.__version__,
        "python": platform.python_version(),
        "threads": int(threads),
        "cpu_capability": cap,
        "platform": f"{platform.system()} {platform.machine()}",
        "date": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "wall_time_s": round(float(wall_time_s), 1),
        "command": command if command is not None else " ".join(sys.argv) or None,
    }
