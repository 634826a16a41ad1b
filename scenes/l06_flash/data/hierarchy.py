"""L06.3 Memory hierarchy optimization. Computed: HBM traffic against N for several SRAM sizes M from
``ar.attention_io`` (standard Θ(Nd + N²) vs flash Θ(N²d²/M)), the Θ-expressions at the plan's example
(N = 4096, d = 64, M = 98,304 elements); recomputation: the forward saves one LSE per row (what
``ar.FlashAttentionFunction`` keeps, recorded with autograd's saved-tensor hooks) and the backward rebuilds
P = exp(S − LSE) tile by tile. Measured: the memory suite of the H200 file (peak extra memory vs length, with
its source line). Cited: the flash-attn README's memory savings, FlashAttention Proposition 3."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import DAO_2022

from ._shared import BLOCK, D, GPU_RESULT, N, Vec, bench_result, bench_source, max_abs, missing, qkv, run

LENGTHS: tuple[int, ...] = (256, 512, 1024, 2048, 4096, 8192, 16384)
HEAD_DIM = 64
SRAM_SIZES: tuple[int, ...] = (48 * 1024, 96 * 1024, 192 * 1024)
"""SRAM budgets in bytes (fp16: M = 24,576, 49,152 and 98,304 elements)."""
EXAMPLE = dict(n=4096, d=64, m=98_304)


@dataclass(frozen=True)
class IOScaling:
    lengths: tuple[int, ...]
    d: int
    sram_bytes: tuple[int, ...]
    m_elems: tuple[int, ...]
    standard: tuple[int, ...]         # bytes, attention_io(method="standard")
    flash: tuple[tuple[int, ...], ...]   # per SRAM size: bytes, attention_io(method="flash", version=2)
    example_n: int
    example_d: int
    example_m: int
    theta_standard: int               # N d + N²
    theta_flash: float                # N² d² / M
    exact_standard_elems: int         # attention_io's element counts at the example
    exact_flash_elems: int
    note: str
    source: str


@builder("L06.3")
def io_scaling() -> IOScaling:
    """Log-log bars: bytes moved by one head, standard vs flash (three SRAM sizes), N = 256 … 16K, d = 64."""
    std = tuple(ar.attention_io(n, HEAD_DIM, SRAM_SIZES[0], method="standard") for n in LENGTHS)
    fl = tuple(tuple(ar.attention_io(n, HEAD_DIM, m, method="flash", version=2) for n in LENGTHS)
               for m in SRAM_SIZES)
    n, d, m = EXAMPLE["n"], EXAMPLE["d"], EXAMPLE["m"]
    _, s = ar.attention_io(n, d, 2 * m, method="standard", breakdown=True)
    _, f = ar.attention_io(n, d, 2 * m, method="flash", version=2, breakdown=True)
    return IOScaling(LENGTHS, HEAD_DIM, SRAM_SIZES, tuple(x // 2 for x in SRAM_SIZES), std, fl, n, d, m,
                     n * d + n * n, n * n * d * d / m, s["elements"], f["elements"],
                     "the Θ-expressions drop constants; the lines are attention_io's exact counts (fp16, one head, "
                     "non-causal)", f"{DAO_2022.short()}, Theorem 2; attn_ref.attention_io")


@dataclass(frozen=True)
class Recomputation:
    n: int
    saved_shapes: tuple[tuple[int, ...], ...]   # what FlashAttentionFunction saves for backward
    saved_elems: int
    quadratic_saved: bool                        # any saved tensor with an N × N trailing shape
    plain_saved_elems: int                       # autograd through ar.sdpa saves P (and more)
    lse: Vec
    rebuilt_diff: float                          # |exp(S − LSE) − softmax(S)| over all tiles
    tiles_rebuilt: int
    lse_bytes: tuple[int, ...]                   # N · 4 (fp32 LSE) at LENGTHS
    p_bytes: tuple[int, ...]                     # N² · 2 (fp16 P)
    lengths: tuple[int, ...]
    p_rebuilt: tuple[Vec, ...] = ()              # N × N: exp(S − LSE) assembled from the rebuilt tiles


def _saved(fn) -> list[tuple[int, ...]]:
    shapes = []

    def pack(t):
        shapes.append(tuple(t.shape))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return shapes


@builder("L06.3")
def recomputation() -> Recomputation:
    """The forward keeps O(N) (one LSE per row), never P; the backward rebuilds P = exp(S − LSE) per tile."""
    q, k, v = (t.clone().requires_grad_() for t in qkv())
    flash = _saved(lambda: ar.FlashAttentionFunction.apply(q, k, v, False, None, BLOCK, BLOCK)[0].sum())
    plain = _saved(lambda: ar.sdpa(q, k, v).sum())
    qd, kd, vd = (t.detach() for t in (q, k, v))
    _, lse, steps, _ = run(qd, kd, vd)
    p_full = torch.softmax(qd @ kd.transpose(-1, -2) / math.sqrt(D), dim=-1)
    diff, tiles = 0.0, 0
    p_tiles = torch.full_like(p_full, float("nan"))
    for st in steps:
        (r0, r1), (c0, c1) = st["rows"], st["cols"]
        rebuilt = torch.exp(st["S"] - lse[..., r0:r1, None])      # P = exp(S − LSE), tile by tile
        diff = max(diff, max_abs(rebuilt, p_full[..., r0:r1, c0:c1]))
        p_tiles[..., r0:r1, c0:c1] = rebuilt
        tiles += 1
    return Recomputation(N, tuple(flash), sum(math.prod(s) for s in flash),
                         any(len(s) >= 2 and s[-1] == s[-2] == N for s in flash),
                         sum(math.prod(s) for s in plain), tuple(float(x) for x in lse.flatten()), diff, tiles,
                         tuple(n * 4 for n in LENGTHS), tuple(n * n * 2 for n in LENGTHS), LENGTHS,
                         tuple(tuple(float(x) for x in row) for row in p_tiles.reshape(N, N)))


@dataclass(frozen=True)
class MemorySeries:
    method: str
    lengths: tuple[int, ...]
    peak_extra_mib: Vec


@dataclass(frozen=True)
class MemoryMeasured:
    available: bool
    reason: str
    file: str
    device: str
    batch: int
    heads: int
    head_dim: int
    series: tuple[MemorySeries, ...]
    score_matrix_mib: Vec             # the file's score_matrix_bytes (B·H·N²·2)
    naive_over_tiled: Vec             # naive / torch_sdpa peak at each length
    output_mib: Vec                   # B·H·N·d·2: the output O itself
    source: str
    note: str


MEMORY_METHODS: tuple[str, ...] = ("naive", "attn_ref.flash_attention", "torch_sdpa")


@builder("L06.3")
def memory_measured() -> MemoryMeasured:
    """Suite 'memory' of the GPU file: peak extra memory of one forward, materialised vs tiled."""
    r = bench_result(GPU_RESULT)
    recs = [] if r is None else [x for x in r["records"] if x["suite"] == "memory" and "skipped" not in x]
    if not recs:
        return MemoryMeasured(False, missing(GPU_RESULT) if r is None else f"no memory records in {GPU_RESULT}",
                              GPU_RESULT, "", 0, 0, 0, (), (), (), (), "", "")
    series = []
    for mth in MEMORY_METHODS:
        rows = sorted((x for x in recs if x["method"] == mth), key=lambda x: x["seqlen"])
        series.append(MemorySeries(mth, tuple(x["seqlen"] for x in rows),
                                   tuple(x["peak_extra_bytes"] / 2 ** 20 for x in rows)))
    naive = {x["seqlen"]: x for x in recs if x["method"] == "naive"}
    sdpa = {x["seqlen"]: x for x in recs if x["method"] == "torch_sdpa"}
    lengths = sorted(naive)
    return MemoryMeasured(True, "", GPU_RESULT, r["provenance"]["gpu_model"], recs[0]["batch"], recs[0]["heads"],
                          recs[0]["head_dim"], tuple(series),
                          tuple(naive[n]["score_matrix_bytes"] / 2 ** 20 for n in lengths),
                          tuple(naive[n]["peak_extra_bytes"] / sdpa[n]["peak_extra_bytes"] for n in lengths),
                          tuple(x["batch"] * x["heads"] * n * x["head_dim"] * 2 / 2 ** 20
                                for n, x in ((n, naive[n]) for n in lengths)),
                          bench_source(r, "memory"),
                          "torch.cuda.max_memory_allocated above the inputs, fp16, forward only; "
                          "attn_ref.flash_attention is the teaching loop (blocks of 128, float32 accumulators), "
                          "measured for memory only; torch_sdpa is torch's default dispatch (the file does not record "
                          "the backend; its peak is the output O alone, so nothing n × n was allocated)")


@dataclass(frozen=True)
class MemoryCited:
    readme_savings: tuple[tuple[int, float], ...]   # (sequence length, ×)
    readme_source: str
    lower_bound: str
    lower_bound_source: str


@builder("L06.3")
def memory_cited() -> MemoryCited:
    return MemoryCited(((2048, 10.0), (4096, 20.0)),
                       "Dao-AILab/flash-attention README, memory footprint figure (A100; memory grows linearly "
                       "in sequence length)",
                       "no exact attention algorithm computes attention with o(N²d²M⁻¹) HBM accesses for "
                       "all M in [d, Nd]", f"{DAO_2022.short()}, Proposition 3")
