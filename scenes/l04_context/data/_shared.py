"""Shared inputs of Lecture 4: the model whose numbers the lecture follows (Llama-2-7B, ``attn_ref.LLAMA2_7B``),
the devices of the roofline (``attn_ref.H100_SXM``, ``attn_ref.H200``), the committed results the measured
figures read (lab experiment 2, ``results/experiments/needle_haystack.json``; the benchmark files
``benchmarks/results/gpu-nvidia-h200.json`` and ``cpu-amd-epyc.json``) with their source lines, and a
least-squares slope on log-log axes (how "quadratic" and "linear" are read off a measured curve).

Units: bytes are bytes (GiB = 2³⁰ B where a builder says GiB, GB = 10⁹ B where it says GB — the H100's
"80 GB" is 80·10⁹ B); FLOPs by the FlashAttention convention (a multiply-add is 2 FLOPs,
``attn_ref.costs``); fp16/bf16 = 2 bytes per element.
"""
from __future__ import annotations

import math

import attn_ref as ar
from attn_ref.bench.results import RESULTS_DIR, load_result, source_line
from attn_ref.lab import load_result as load_lab

Vec = tuple[float, ...]
Mat = tuple[Vec, ...]

MODEL = ar.LLAMA2_7B
"""The running model: 32 layers, d 4096, 32 heads of 128, MHA (KV 512 KiB per token in fp16), context 4096."""
FP16 = 2
"""Bytes per element of fp16/bf16."""
GIB = 2 ** 30
MIB = 2 ** 20
KIB = 2 ** 10
GB = 10 ** 9
DEVICES: tuple[ar.DeviceSpec, ...] = (ar.H100_SXM, ar.H200)
"""The roofline's devices (datasheet peaks, ``attn_ref.costs``)."""
EXPERIMENT = "needle_haystack"
"""Lab experiment 2: needle retrieval over context length × depth per position scheme."""
GPU_FILE = "gpu-nvidia-h200.json"
CPU_FILE = "cpu-amd-epyc.json"
"""The benchmark result files with the memory, prefill and decode suites (float16 on the H200, float32 on CPU)."""


def lab() -> dict:
    """Lab experiment 2's committed result (``attn_ref.lab.load_result``, validated)."""
    return load_lab(EXPERIMENT)


def lab_source(result: dict) -> str:
    """The source line under a lab figure: experiment, seed, library versions, date and the command."""
    p = result["provenance"]
    return (f"Lab experiment {result['name']} (seed {result['seed']}): attn_ref {p['attn_ref_version']}, "
            f"torch {p['torch_version']}, CPU, {p['date'][:10]}; `{p['command']}`")


def bench(name: str) -> dict | None:
    """A committed benchmark result by file name, validated (``attn_ref.bench.results.load_result``); None
    when no such file is committed."""
    path = RESULTS_DIR / name
    return load_result(path) if path.exists() else None


def records(result: dict, suite: str) -> list[dict]:
    """The measured (not skipped) records of one suite."""
    return [r for r in result["records"] if r.get("suite") == suite and "skipped" not in r]


def bench_source(result: dict) -> str:
    """The provenance line of a benchmark file (``attn_ref.bench.results.source_line``)."""
    return source_line(result)


def loglog_slope(xs, ys) -> float:
    """Least-squares slope of log y against log x: 2 for y ∝ x², 1 for y ∝ x."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)
