"""Result files: records with provenance, and the figures (series) that charts and slides read.

Schema ``attn_ref.bench/1``::

    {"schema": ..., "provenance": {...}, "profile": "cpu"|"gpu"|"smoke", "dtype": "float16",
     "records": [{"suite", "method", "dtype", <shape>, "time_ms", ...}, ...],
     "figures": {name: {"title", "x_label", "y_label", "log_x", "log_y",
                        "series": [{"name", "x": [...], "y": [...], "unit"}]}}}
"""
from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from pathlib import Path

SCHEMA = "attn_ref.bench/1"
RESULTS_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


def _series(records, x_key, y_key, scale=1.0, name_key="method", where=None):
    groups = defaultdict(list)
    for r in records:
        if "skipped" in r or r.get(y_key) is None:
            continue
        if where and not all(r.get(k) == v for k, v in where.items()):
            continue
        groups[r[name_key]].append((r[x_key], r[y_key] * scale))
    return [{"name": name, "x": [x for x, _ in sorted(pts)], "y": [y for _, y in sorted(pts)]}
            for name, pts in groups.items()]


def build_figures(records: list[dict], device: str) -> dict:
    """Chart-ready figures from the records of all suites."""
    figs = {}
    by_suite = defaultdict(list)
    for r in records:
        by_suite[r["suite"]].append(r)
    gpu = device == "cuda"
    for d in sorted({r["head_dim"] for r in by_suite["prefill"]}):
        for causal in (False, True):
            key = "tflops" if gpu else "time_ms"
            figs[f"prefill_d{d}_{'causal' if causal else 'full'}"] = {
                "title": f"Attention forward, head dim {d}, {'causal' if causal else 'non-causal'}",
                "x_label": "sequence length", "y_label": "TFLOP/s" if gpu else "time (ms)",
                "log_x": True, "log_y": not gpu,
                "series": _series(by_suite["prefill"], "seqlen", key, where={"head_dim": d, "causal": causal}),
            }
    if by_suite["memory"]:
        figs["memory_vs_length"] = {
            "title": "Peak extra memory of one attention forward", "x_label": "sequence length",
            "y_label": "MiB", "log_x": True, "log_y": True,
            "series": _series(by_suite["memory"], "seqlen", "peak_extra_bytes", scale=1 / 2**20)}
    dec = [r for r in by_suite["decode"] if r["method"] != "cache_sizes"]
    if dec:
        figs["decode_step"] = {
            "title": "One decode step of attention over the KV cache", "x_label": "context length",
            "y_label": "GB/s of cache read" if gpu else "time per step (ms)", "log_x": True, "log_y": not gpu,
            "series": _series(dec, "context", "gb_per_s" if gpu else "time_ms")}
        longest = max(r["context"] for r in dec)
        figs["cache_bytes_per_token"] = {
            "title": "KV cache per token per layer", "x_label": "attention variant", "y_label": "bytes",
            "log_x": False, "log_y": False, "kind": "bar",
            "series": [{"name": "bytes",
                        "x": [r["method"] for r in dec if r["context"] == longest and "skipped" not in r],
                        "y": [r["cache_bytes_per_token"] for r in dec
                              if r["context"] == longest and "skipped" not in r]}]}
    if by_suite["generation"]:
        figs["generation_tokens_per_s"] = {
            "title": "Generation with a KV cache vs recomputing the prefix", "x_label": "method",
            "y_label": "tokens/s", "log_x": False, "log_y": False, "kind": "bar",
            "series": [{"name": "tokens/s", "x": [r["method"] for r in by_suite["generation"]],
                        "y": [r["tokens_per_s"] for r in by_suite["generation"]]}]}
    if by_suite["sliding"]:
        figs["sliding_time"] = {"title": "Sliding window vs full causal attention", "x_label": "sequence length",
                                "y_label": "time (ms)", "log_x": True, "log_y": True,
                                "series": _series(by_suite["sliding"], "seqlen", "time_ms")}
        figs["sliding_memory"] = {"title": "Sliding window vs full causal attention: memory",
                                  "x_label": "sequence length", "y_label": "MiB", "log_x": True, "log_y": True,
                                  "series": _series(by_suite["sliding"], "seqlen", "peak_extra_bytes", 1 / 2**20)}
    if by_suite["linear"]:
        figs["linear_time"] = {"title": "Linear attention and selective scan vs softmax attention",
                               "x_label": "sequence length", "y_label": "time (ms)", "log_x": True, "log_y": True,
                               "series": _series(by_suite["linear"], "seqlen", "time_ms")}
    for mode in ("forward", "forward+backward"):
        rows = [r for r in by_suite["variants"] if r.get("mode") == mode]
        if rows:
            figs[f"variants_{mode.replace('+', '_')}"] = {
                "title": f"Attention variants at about equal parameter count: {mode}",
                "x_label": "sequence length", "y_label": "time (ms)", "log_x": True, "log_y": True,
                "series": _series(rows, "seqlen", "time_ms")}
    if by_suite["splitk"]:
        figs["splitk_decode"] = {"title": "Decode at long context: split-K vs one pass", "x_label": "context length",
                                 "y_label": "time per step (ms)", "log_x": True, "log_y": True,
                                 "series": _series(by_suite["splitk"], "context", "time_ms")}
    for n in sorted({r["seqlen"] for r in by_suite["heads"]}):
        rows = [r for r in by_suite["heads"] if r["seqlen"] == n]
        figs[f"heads_n{n}"] = {"title": f"Heads batched vs a loop over heads, sequence length {n}",
                               "x_label": "heads (fixed width H·d_h)", "y_label": "time (ms)",
                               "log_x": True, "log_y": True, "series": _series(rows, "heads", "time_ms")}
    return {k: v for k, v in figs.items() if v["series"]}


def validate(result: dict) -> dict:
    """Raise ValueError naming what is missing or malformed in a result dict; return it unchanged."""
    if not isinstance(result, dict):
        raise ValueError(f"a benchmark result must be a JSON object, got {type(result).__name__}")
    for key, typ in (("schema", str), ("provenance", dict), ("records", list), ("figures", dict)):
        if not isinstance(result.get(key), typ):
            raise ValueError(f"benchmark result field {key!r} must be a {typ.__name__}, got {result.get(key)!r:.80}")
    if result["schema"] != SCHEMA:
        raise ValueError(f"benchmark result schema must be {SCHEMA!r}, got {result['schema']!r}")
    for key in ("device", "torch", "date", "command"):
        if key not in result["provenance"]:
            raise ValueError(f"benchmark provenance lacks {key!r}")
    for name, fig in result["figures"].items():
        for s in fig.get("series", []):
            if len(s["x"]) != len(s["y"]):
                raise ValueError(f"figure {name!r} series {s['name']!r}: x and y differ in length")
    return result


def write_result(result: dict, path: str | os.PathLike) -> Path:
    """Validate, then write atomically (temp file + rename): never a truncated file under the name."""
    validate(result)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(result, f, indent=1, default=float)
        f.write("\n")
    os.replace(tmp, path)
    return path


def load_result(path: str | os.PathLike) -> dict:
    """Read and validate a result file."""
    with open(path) as f:
        return validate(json.load(f))


def source_line(result: dict) -> str:
    """The provenance line a slide shows under a measured figure."""
    p = result["provenance"]
    where = p.get("gpu_model") or p.get("cpu_model")
    extra = f", {p['cpu_count']} CPUs" if p.get("device") == "cpu" and p.get("cpu_count") else ""
    return (f"Measured: {where}{extra}, {result.get('dtype', '')}, torch {p['torch']}, "
            f"{p['date'][:10]}, attn_ref {str(p.get('commit') or '')[:8]}").replace(", ,", ",")


def chart_data(result: dict, figure: str) -> dict:
    """One figure with the provenance, in the form the scene kit's benchmark chart reads."""
    if figure not in result["figures"]:
        raise KeyError(f"figure {figure!r} not in result; available: {sorted(result['figures'])}")
    return dict(result["figures"][figure], provenance=result["provenance"], source=source_line(result))


def _merged_command(commands: list[str]) -> str:
    """``bench.py run ... --suite a`` and ``... --suite b`` → one line ending ``--suite a,b``."""
    import re

    suites = [m.group(1) for c in commands for m in re.finditer(r"--suite[ =](\S+)", c)]
    base = re.sub(r"\s*--(suite|out)[ =]\S+", "", commands[0]).strip()
    return f"{base} --suite {','.join(dict.fromkeys(suites))}" if suites else " && ".join(dict.fromkeys(commands))


def merge_results(results: list[dict]) -> dict:
    """One result from several runs on the same machine (e.g. one process per suite)."""
    if not results:
        raise ValueError("merge_results needs at least one result")
    machines = {(r["provenance"].get("gpu_model") or r["provenance"].get("cpu_model")) for r in results}
    if len(machines) != 1:
        raise ValueError(f"results come from different machines: {sorted(map(str, machines))}")
    first = results[0]
    records = [rec for r in results for rec in r["records"]]
    prov = dict(first["provenance"])
    prov["command"] = _merged_command([r["provenance"]["command"] for r in results])
    prov["wall_s"] = round(sum(r["provenance"].get("wall_s") or 0 for r in results), 1)
    return {"schema": SCHEMA, "provenance": prov, "profile": first["profile"], "dtype": first["dtype"],
            "suites": [s for r in results for s in r.get("suites", [])], "records": records,
            "figures": build_figures(records, prov["device"])}
