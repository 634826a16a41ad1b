"""Run suites and write one result file per machine."""
from __future__ import annotations

import sys
import time

import torch

from .provenance import machine_slug, provenance
from .results import RESULTS_DIR, SCHEMA, build_figures, write_result
from .suites import PROFILES, SUITES


def _progress_printer(total: int):
    state = {"i": 0, "t0": time.time()}

    def progress(msg: str) -> None:
        state["i"] += 1
        end = "" if sys.stderr.isatty() else "\n"
        sys.stderr.write(f"\r[{time.time() - state['t0']:6.0f}s] {msg[:90]:<90}{end}")
        sys.stderr.flush()
    return progress


def run_benchmarks(suites=None, device="cpu", dtype=None, profile=None, out=None, command=None,
                   threads=None) -> dict:
    """Run the named suites (default all) and write ``benchmarks/results/<machine>.json``."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device is cuda but no CUDA GPU is available")
    profile = profile or ("gpu" if device.type == "cuda" else "cpu")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
    dtype = dtype or (torch.float16 if device.type == "cuda" else torch.float32)
    suites = list(suites or SUITES)
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        raise ValueError(f"unknown suite(s) {unknown}; available: {sorted(SUITES)}")
    if threads:
        torch.set_num_threads(threads)
    info = provenance(device, command)
    progress = _progress_printer(0)
    records = []
    t0 = time.time()
    for name in suites:
        records.extend(SUITES[name](device, dtype, profile, progress))
    sys.stderr.write("\n")
    info["wall_s"] = round(time.time() - t0, 1)
    result = {"schema": SCHEMA, "provenance": info, "profile": profile,
              "dtype": str(dtype).replace("torch.", ""), "suites": suites, "records": records,
              "figures": build_figures(records, device.type)}
    path = out or (RESULTS_DIR / f"{machine_slug(info)}.json")
    write_result(result, path)
    result["path"] = str(path)
    return result
