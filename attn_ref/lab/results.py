"""Result files of the lab: where they live, what they contain, and a loader that checks them.

A result is one JSON object (schema ``attn_ref.lab.result/1``)::

    name         str    experiment name (file results/experiments/<name>.json)
    schema       str    "attn_ref.lab.result/1"
    description  str    what the experiment shows
    quick        bool   True for the shortened test configuration
    seed         int    the base seed
    config       dict   everything that determines the numbers (model, task, training, evaluation)
    metrics      dict   the numbers (JSON numbers rounded to 6 decimals, lists, nested dicts)
    maps         dict   name -> {"values": [[float]] (at most 32 × 32), "rows": str, "cols": str,
                        "caption": str, optional "tokens": [int]}
    citations    list   [{"paper": str, "arxiv": str}]
    provenance   dict   metadata that may differ between reproductions: code_version (git commit or
                        None), attn_ref_version, torch_version, python, threads, cpu_capability,
                        platform, date (UTC ISO), wall_time_s, command

Everything except ``provenance`` is reproduced exactly by ``scripts/experiments.py run <name>``.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

__all__ = ["MAX_MAP_SIDE", "METADATA_FIELDS", "SCHEMA", "ResultError", "load_result", "result_path",
           "results_dir", "validate_result", "write_result"]

SCHEMA = "attn_ref.lab.result/1"
MAX_MAP_SIDE = 32
#: top-level fields allowed to differ between two runs of the same experiment
METADATA_FIELDS = ("provenance",)

_REQUIRED = {
    "schema": str, "name": str, "description": str, "quick": bool, "seed": int, "config": dict,
    "metrics": dict, "maps": dict, "citations": list, "provenance": dict,
}
_PROVENANCE = {
    "code_version": (str, type(None)), "attn_ref_version": str, "torch_version": str, "python": str,
    "threads": int, "date": str, "wall_time_s": (int, float), "command": (str, type(None)),
}


class ResultError(ValueError):
    """A result file is missing, unreadable or does not match the schema (the message says where)."""


def results_dir() -> Path:
    """``$ATTN_REF_RESULTS`` if set, else ``<repository>/results/experiments`` (next to the package)."""
    env = os.environ.get("ATTN_REF_RESULTS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "results" / "experiments"


def result_path(name: str) -> Path:
    """Path of the committed result of experiment ``name``: ``results_dir() / f"{name}.json"``."""
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"name must be an experiment name like 'head_specialisation', got {name!r}")
    return results_dir() / f"{name}.json"


def _type_name(t) -> str:
    if isinstance(t, tuple):
        return " or ".join(_type_name(x) for x in t)
    return {type(None): "null", str: "string", int: "integer", float: "number", bool: "boolean",
            dict: "object", list: "array"}.get(t, t.__name__)


def _is(value, t) -> bool:
    ts = t if isinstance(t, tuple) else (t,)
    if isinstance(value, bool) and bool not in ts:
        return False                                   # JSON true is not an integer here
    return isinstance(value, ts)


def _check_numbers(where: str, obj) -> None:
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return
    if isinstance(obj, (int, float)):
        if not math.isfinite(obj):
            raise ResultError(f"{where}: must be a finite number, got {obj!r}")
        return
    if isinstance(obj, list):
        for i, x in enumerate(obj):
            _check_numbers(f"{where}[{i}]", x)
        return
    if isinstance(obj, dict):
        for k, x in obj.items():
            _check_numbers(f"{where}.{k}", x)
        return
    raise ResultError(f"{where}: unsupported value of type {type(obj).__name__}")


def _check_fields(obj: dict, spec: dict, source: str, prefix: str) -> None:
    """Every field of ``spec`` present in ``obj`` with its type, else :class:`ResultError` naming it."""
    for field, t in spec.items():
        if field not in obj:
            raise ResultError(f"{source}: required field '{prefix}{field}' is missing")
        if not _is(obj[field], t):
            raise ResultError(f"{source}: field '{prefix}{field}' must be {_type_name(t)}, "
                              f"got {_type_name(type(obj[field]))} {obj[field]!r:.60}")


def validate_result(result, source: str = "result") -> dict:
    """Check ``result`` against the schema; return it, or raise :class:`ResultError` naming the field."""
    if not isinstance(result, dict):
        raise ResultError(f"{source}: expected a JSON object, got {_type_name(type(result))}")
    _check_fields(result, _REQUIRED, source, "")
    if result["schema"] != SCHEMA:
        raise ResultError(f"{source}: field 'schema' must be {SCHEMA!r}, got {result['schema']!r}")
    _check_fields(result["provenance"], _PROVENANCE, source, "provenance.")
    if not result["metrics"]:
        raise ResultError(f"{source}: field 'metrics' is empty")
    _check_numbers(f"{source}: metrics", result["metrics"])
    for name, m in result["maps"].items():
        where = f"{source}: maps.{name}"
        if not isinstance(m, dict):
            raise ResultError(f"{where} must be an object, got {_type_name(type(m))}")
        for field, t in (("values", list), ("rows", str), ("cols", str), ("caption", str)):
            if field not in m:
                raise ResultError(f"{where}: required field '{field}' is missing")
            if not _is(m[field], t):
                raise ResultError(f"{where}.{field} must be {_type_name(t)}, got {_type_name(type(m[field]))}")
        v = m["values"]
        if not v or not all(isinstance(r, list) for r in v):
            raise ResultError(f"{where}.values must be a non-empty 2-D array (list of rows)")
        n_cols = len(v[0])
        if any(len(r) != n_cols for r in v) or n_cols == 0:
            raise ResultError(f"{where}.values must be rectangular, got row lengths {[len(r) for r in v]}")
        if len(v) > MAX_MAP_SIDE or n_cols > MAX_MAP_SIDE:
            raise ResultError(f"{where}.values is {len(v)}×{n_cols}; maps are at most "
                              f"{MAX_MAP_SIDE}×{MAX_MAP_SIDE}")
        for i, r in enumerate(v):
            for j, x in enumerate(r):
                if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                    raise ResultError(f"{where}.values[{i}][{j}] must be a finite number, got {x!r}")
        if "tokens" in m and not (isinstance(m["tokens"], list) and all(
                isinstance(t, int) and not isinstance(t, bool) for t in m["tokens"])):
            raise ResultError(f"{where}.tokens must be a list of integers")
    for i, c in enumerate(result["citations"]):
        if not (isinstance(c, dict) and isinstance(c.get("paper"), str) and isinstance(c.get("arxiv"), str)):
            raise ResultError(f"{source}: citations[{i}] must be an object with string fields 'paper' and 'arxiv'")
    return result


def load_result(name: str, path: str | os.PathLike | None = None) -> dict:
    """Load and validate the result of experiment ``name`` (from ``path`` or :func:`result_path`).

    Raises :class:`ResultError` (a ``ValueError``) with the file and the offending field when the file
    is missing, is not JSON, does not match the schema, or holds another experiment's result.
    """
    p = Path(path) if path is not None else result_path(name)
    if not p.exists():
        raise ResultError(f"{p}: no result file for experiment {name!r}; run "
                          f"`python scripts/experiments.py run {name}` to create it")
    try:
        data = json.loads(p.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ResultError(f"{p}: not a readable JSON file ({e})") from e
    validate_result(data, str(p))
    if data["name"] != name:
        raise ResultError(f"{p}: holds the result of experiment {data['name']!r}, expected {name!r}")
    return data


def write_result(result: dict, path: str | os.PathLike) -> Path:
    """Validate and write ``result`` as indented JSON (atomically). Returns the path."""
    validate_result(result, str(path))
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(result, indent=1, sort_keys=False) + "\n")
    os.replace(tmp, p)
    return p
