"""Timing and peak memory of a callable, on CUDA or the CPU."""
from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

_L2_FLUSH_BYTES = 256 * 1024 * 1024  # larger than any current GPU's L2 (H100: 50 MB, H200: 60 MB)
_flush_buffer: torch.Tensor | None = None


@dataclass
class Measurement:
    """Median, min and max wall time of ``repeats`` runs, in milliseconds."""

    median_ms: float
    min_ms: float
    max_ms: float
    repeats: int

    def to_dict(self) -> dict:
        return asdict(self)


def _flush_l2(device: torch.device) -> None:
    global _flush_buffer
    if _flush_buffer is None or _flush_buffer.device != device:
        _flush_buffer = torch.empty(_L2_FLUSH_BYTES, dtype=torch.int8, device=device)
    _flush_buffer.zero_()


def time_fn(fn: Callable[[], object], device: str | torch.device = "cpu", warmup: int = 3,
            repeats: int = 10, flush_l2: bool = True) -> Measurement:
    """Time ``fn()``: warm-up calls first, then ``repeats`` timed calls; returns their median.

    CUDA: each call is bracketed by CUDA events, with the L2 cache flushed (a 256 MB write) before it,
    so no call reads the previous one's data from cache. CPU: ``time.perf_counter`` around each call.
    """
    device = torch.device(device)
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    for _ in range(warmup):
        fn()
    times = []
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        for _ in range(repeats):
            if flush_l2:
                _flush_l2(device)
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize(device)
            times.append(start.elapsed_time(end))
    else:
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    return Measurement(statistics.median(times), min(times), max(times), repeats)


def _cpu_peak_rss_bytes() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _cpu_rss_bytes() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_cpu_peak() -> bool:
    """Reset the kernel's peak-RSS counter (Linux: writing 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_memory(fn: Callable[[], object], device: str | torch.device = "cpu") -> dict:
    """Peak memory that ``fn()`` adds above what was in use before it ran, in bytes.

    CUDA: the caching allocator's peak (``torch.cuda.max_memory_allocated``) after a reset. CPU: the
    process's peak resident set size from the OS (VmHWM, reset through /proc/self/clear_refs), so it
    counts everything the process touched, the allocator's slack included.
    """
    device = torch.device(device)
    gc.collect()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        out = fn()
        torch.cuda.synchronize(device)
        peak = torch.cuda.max_memory_allocated(device)
        del out
        return {"peak_extra_bytes": int(peak - base), "source": "torch.cuda.max_memory_allocated"}
    if not _reset_cpu_peak():
        return {"peak_extra_bytes": None, "source": "unavailable (no /proc/self/clear_refs)"}
    base = _cpu_rss_bytes()
    out = fn()
    peak = _cpu_peak_rss_bytes()
    del out
    # RSS can shrink during the call (freed pages), so the peak may sit below the start: that is 0 extra
    return {"peak_extra_bytes": max(0, int(peak - base)), "source": "VmHWM - VmRSS before (/proc/self/status)"}
