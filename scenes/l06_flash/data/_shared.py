"""Shared inputs of Lecture 6: the running example (seeded float64 Q, K, V of one head, N = 16 tokens, d = 4,
tiled in blocks of 4: a 4 × 4 grid of tiles), helpers that run ``ar.flash_attention`` with a trace, and the
committed GPU files (benchmarks/results/gpu-nvidia-h200.json: the prefill and memory suites;
benchmarks/gpu-runs/h200/triton-kernel-check.json: the Triton kernel against a float64 oracle) with their
source lines.

The example is small so every number fits on a tile; nothing in it depends on the size (the tests rerun the
same checks at other N, d and block sizes).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

import attn_ref as ar
from attn_ref.bench.results import RESULTS_DIR, source_line
from scenes.kit.data_builders import shared_input
from scenes.kit.tensors import as_tensor, gaussian, to_tuple  # noqa: F401  (re-exported to the topics)

Vec = tuple[float, ...]
Mat = tuple[Vec, ...]

N, D, BLOCK = 16, 4, 4
"""The running example: N = 16 tokens, head dim d = 4, blocks B_r = B_c = 4 (a 4 × 4 TileGrid)."""
SEED = 60
GPU_RESULT = "gpu-nvidia-h200.json"
KERNEL_CHECK = Path(__file__).resolve().parents[3] / "benchmarks" / "gpu-runs" / "h200" / "triton-kernel-check.json"
"""The Triton kernel's correctness run on the H200 (scripts/gpu_check.py), committed beside the benchmark."""


@shared_input
def qkv() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Seeded Q, K, V, each (1, 1, N, d) float64 (N(0, 1) rounded to 2 decimals)."""
    g = gaussian((3, N, D), SEED)
    return g[0][None, None], g[1][None, None], g[2][None, None]


def run(q, k, v, version: int = 2, block_q: int = BLOCK, block_k: int = BLOCK, causal: bool = False):
    """``ar.flash_attention`` with a trace: (O, LSE, the ``flash.step`` steps, the ``flash.final`` step)."""
    trace = ar.Trace()
    out, lse = ar.flash_attention(q, k, v, block_q=block_q, block_k=block_k, causal=causal, version=version,
                                  return_lse=True, trace=trace)
    return out, lse, trace.of_kind("flash.step"), trace.of_kind("flash.final")[0]


def max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max()) if a.numel() else 0.0


def bench_result(name: str) -> dict | None:
    """A committed benchmark result file (benchmarks/results/<name>), read as JSON; None when it is absent."""
    path = RESULTS_DIR / name
    return json.loads(path.read_text()) if path.exists() else None


def missing(name: str) -> str:
    return f"benchmarks/results/{name} is not committed: no measured numbers (none invented)"


def bench_source(result: dict, suite: str | None = None) -> str:
    """The source line under a measured figure (``attn_ref.bench.results.source_line``), the commit ``suite``
    was rerun at when the provenance records one (``later_commits``), the SM count, and the command."""
    line = source_line(result)
    p = result["provenance"]
    for suites, commit in (p.get("later_commits") or {}).items():
        if suite and suite in suites.split(","):
            line += f" ({suite} rerun at attn_ref {commit[:8]})"
    extra = [f"{p['sm_count']} SMs" if p.get("sm_count") else "", f"triton {p['triton']}" if p.get("triton") else "",
             f"CUDA {p['cuda']}" if p.get("cuda") else ""]
    extra = ", ".join(e for e in extra if e)
    return f"{line}{'; ' + extra if extra else ''}; `{p['command']}`"


def kernel_check() -> dict | None:
    """benchmarks/gpu-runs/h200/triton-kernel-check.json as JSON; None when it is absent."""
    return json.loads(KERNEL_CHECK.read_text()) if KERNEL_CHECK.exists() else None
