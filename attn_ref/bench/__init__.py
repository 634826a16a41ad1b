"""Benchmark harness and suites for attn_ref (torch only; charts live in ``attn_ref.bench.report``).

Timing: on CUDA, CUDA events after warm-up, L2 flushed before each repeat, median of the repeats; on
the CPU, wall time after warm-up, median. FLOPs follow the FlashAttention convention (4·b·h·n_q·n_k·d
forward, halved when causal, from the same flag the kernel got). Every result file carries its
provenance (device, versions, dtype, shapes, date, command, commit).
"""
from .harness import Measurement, peak_memory, time_fn
from .provenance import provenance

__all__ = ["Measurement", "peak_memory", "provenance", "time_fn"]
