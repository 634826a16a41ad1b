"""L04.6 Current SOTA approaches: a 2 × 2 map, exact vs approximate × compute vs memory, each cell with its
methods and one line of what each gives up. Cited facts only (window sizes and layer ratios from the
papers); no performance numbers. Mistral's window is read from ``attn_ref.MISTRAL_7B``."""
from __future__ import annotations

from dataclasses import dataclass

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import (AINSLIE_2023, DAO_2022, DAO_2023_FLASH2, DAO_2024, DE, DEEPSEEK_2024_V2,
                                   GEMMA_2024, GEMMA_2025, JIANG_2023, LIEBER, LIU_2023_RING, SHAH, XIAO)


@dataclass(frozen=True)
class Method:
    name: str
    gives: str
    gives_up: str
    lecture: str
    source: str


@dataclass(frozen=True)
class Cell:
    exactness: str                 # "exact" | "approximate"
    target: str                    # "compute" | "memory"
    methods: tuple[Method, ...]


@dataclass(frozen=True)
class ApproachMap:
    cells: tuple[Cell, ...]
    note: str


@builder("L04.6")
def approach_map() -> ApproachMap:
    """The four cells and their methods."""
    mw = ar.MISTRAL_7B.window
    exact_compute = Cell("exact", "compute", (
        Method("FlashAttention-2/3", "exact attention without the n × n matrix in HBM; O(n) extra memory",
               "FLOPs stay quadratic; hardware-specific kernels", "L06",
               f"{DAO_2023_FLASH2.short(venue=False)}; {SHAH.short(venue=False)}"),
        Method("Ring Attention", "sequence split across devices, K/V blocks passed round a ring",
               "needs many devices and overlapping communication", "",
               LIU_2023_RING.short(venue=False)),
    ))
    exact_memory = Cell("exact", "memory", (
        Method("GQA", "H_kv < H shares K/V heads: cache ÷ (H / H_kv)", "some quality vs MHA; uptraining needed to "
               "convert", "L08", AINSLIE_2023.short(venue=False)),
        Method("MLA", "caches a shared latent (d_c + d_h^R per layer)", "extra up-projections; decoupled RoPE", "L09",
               DEEPSEEK_2024_V2.short(venue=False)),
    ))
    approx_compute = Cell("approximate", "compute", (
        Method("sliding window", f"each token sees the last W (Mistral 7B: W = {mw}); cost O(n·W)",
               "no direct path beyond W; reach grows only with depth", "L07", JIANG_2023.short(venue=False)),
        Method("interleaved local/global layers", "Gemma 2: 1:1, W = 4096, global 8192; Gemma 3: 5:1, W = 1024, "
               "128K", "local layers cannot retrieve far; the global layers still pay full cost", "L07",
               f"{GEMMA_2024.short(venue=False)}; {GEMMA_2025.short(venue=False)}"),
        Method("linear / SSM hybrids", "a fixed-size state instead of a growing cache (Jamba, Griffin, Mamba-2)",
               "a bounded state cannot store every token: exact recall degrades", "L10",
               f"{LIEBER.short(venue=False)}; {DE.short(venue=False)}; {DAO_2024.short(venue=False)}"),
    ))
    approx_memory = Cell("approximate", "memory", (
        Method("KV quantisation", "fewer bits per cached number", "rounding error in K and V", "L05",
               ""),   # no KV-quantisation paper in the course catalogue: no citation rather than a wrong one
        Method("attention sinks + window (StreamingLLM)", "keeps the first tokens and the last W: constant memory",
               "tokens between the sinks and the window are gone", "L07", XIAO.short(venue=False)),
    ))
    return ApproachMap((exact_compute, exact_memory, approx_compute, approx_memory),
                       f"exact methods change where the work happens, not its result; FlashAttention removes the "
                       f"quadratic memory, not the quadratic FLOPs ({DAO_2022.short(venue=False)})")
