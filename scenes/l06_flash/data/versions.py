"""L06.5 Flash Attention 1 vs 2. Computed: the two loop orders on the running example (the traces of
``ar.flash_attention(version=1)`` and ``version=2``), with HBM read/write counters per step from
``ar.trace_io`` (checked against ``ar.attention_io`` per version): FA-1 writes O_i, ℓ_i, m_i back after every
tile (16 O-tile writes) and renormalises each time; FA-2 keeps Õ on chip and writes each O block once with its
LSE (4). Both give the same O (E6.7). Parallelism: thread blocks launched by each version against the SMs.
Cited: FA-2 §3.1 (A100 312 vs 19.5 TFLOP/s), the FA-2 and FA-3 headline figures (FA-3 as the horizon)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import DAO_2022, DAO_2023_FLASH2, SHAH

from ._shared import BLOCK, D, N, Mat, as_tensor, max_abs, qkv, to_tuple


@dataclass(frozen=True)
class LoopStep:
    i: int
    j: int
    reads: int                        # elements read from HBM at this step
    writes: int
    cum_reads: int
    cum_writes: int                   # FA-1: after the N(d + 2) initial writes of O, ℓ, m
    o_tile_writes: int                # cumulative O tiles written to HBM
    normalised: bool                  # O divided by ℓ at this step
    cum_normalisations: int           # divisions by ℓ so far (O tiles)


@dataclass(frozen=True)
class LoopOrder:
    version: int
    outer: str                        # "K/V blocks" | "Q blocks"
    steps: tuple[LoopStep, ...]
    init_writes: int
    reads: int
    writes: int
    o_tile_writes: int
    normalisations: int
    io_elements: int                  # ar.attention_io(version=…, block_r = block_c = 4)["elements"]
    io_o_block_writes: int
    out: Mat


@dataclass(frozen=True)
class LoopOrders:
    n: int
    d: int
    block: int
    fa1: LoopOrder
    fa2: LoopOrder
    same_output: float                # |O_FA1 − O_FA2|
    vs_sdpa: float                    # |O_FA2 − ar.sdpa|
    source_fa1: str
    source_fa2: str


def _order(version: int, q, k, v) -> LoopOrder:
    trace = ar.Trace()
    out = ar.flash_attention(q, k, v, block_q=BLOCK, block_k=BLOCK, version=version, trace=trace)
    io = ar.trace_io(trace, D, version)
    steps, norms = [], 0
    for n_, (i, j) in enumerate(io["index"]):
        norm = version == 1 or j == N // BLOCK - 1
        norms += norm
        steps.append(LoopStep(i, j, io["reads"][n_], io["writes"][n_], io["cum_reads"][n_], io["cum_writes"][n_],
                              io["O_block_writes"][n_], norm, norms))
    _, info = ar.attention_io(N, D, 2 * 4 * BLOCK * D, method="flash", version=version, block_r=BLOCK,
                              block_c=BLOCK, breakdown=True)
    return LoopOrder(version, "K/V blocks" if version == 1 else "Q blocks", tuple(steps), io["init_writes"],
                     io["reads_total"], io["writes_total"], io["O_block_writes_total"],
                     sum(s.normalised for s in steps), info["elements"], info["O_block_writes"],
                     to_tuple(out[0, 0]))


@builder("L06.5")
def loop_orders() -> LoopOrders:
    """Two TileGrids side by side: the FA-1 and FA-2 traces of the running example with their HBM counters."""
    q, k, v = qkv()
    a, b = _order(1, q, k, v), _order(2, q, k, v)
    oa, ob = as_tensor(a.out), as_tensor(b.out)
    return LoopOrders(N, D, BLOCK, a, b, max_abs(oa, ob), max_abs(ob, ar.sdpa(q, k, v)[0, 0]),
                      f"{DAO_2022.short()}, Algorithm 1", f"{DAO_2023_FLASH2.short()}, Algorithm 1")


@dataclass(frozen=True)
class LaunchCase:
    label: str
    batch: int
    heads: int
    n: int
    block_r: int
    fa1_blocks: int                   # batch × heads
    fa2_blocks: int                   # batch × heads × ⌈N / B_r⌉
    sms: int
    fa1_fill: float                   # min(1, blocks / SMs)
    fa2_fill: float


@dataclass(frozen=True)
class Parallelism:
    cases: tuple[LaunchCase, ...]
    sm_counts: tuple[tuple[str, int], ...]
    split_q: str
    warps: int                        # warps per thread block in the split-Q picture
    source: str


@builder("L06.5")
def parallelism() -> Parallelism:
    """Thread blocks per launch: FA-1 one per (batch, head); FA-2 also one per Q block (B_r = 128)."""
    sms = (("A100", 108), ("H100 SXM", 132))
    cases = []
    for label, b, h, n in (("long sequence, batch 1, 16 heads", 1, 16, 16384),
                           ("training batch, 8 × 16 heads, 2K", 8, 16, 2048)):
        for dev, sm in sms:
            fa1, fa2 = b * h, b * h * math.ceil(n / 128)
            cases.append(LaunchCase(f"{label} ({dev})", b, h, n, 128, fa1, fa2, sm, min(1.0, fa1 / sm),
                                    min(1.0, fa2 / sm)))
    return Parallelism(tuple(cases), sms,
                       "FA-2 splits Q across the 4 warps of a block (each warp owns rows, all see the same K, V), "
                       "so no warp needs another's partial sums: no shared-memory reduction (FA-1 split K, 'split-K')",
                       4,
                       f"{DAO_2023_FLASH2.short()}, §3.2 (parallelism) and §3.3 (work partitioning between warps)")


@dataclass(frozen=True)
class VersionsCited:
    a100_matmul_tflops: float
    a100_nonmatmul_tflops: float
    ratio: float                      # 312 / 19.5 = 16
    ratio_quote: str
    fa2_claims: tuple[str, ...]
    fa2_source: str
    fa3_features: tuple[str, ...]
    fa3_claims: tuple[str, ...]
    fa3_source: str
    fa2_speedup: float                # the claims' numbers, for the voice (equal to the strings above)
    fa2_peak_low: float               # % of the A100's theoretical peak
    fa2_peak_high: float
    fa2_tflops: float                 # end to end, per A100
    fa2_mfu: float                    # %
    fa3_fp16_tflops: float
    fa3_fp16_util: float              # %
    fa3_fp8_pflops: float


@builder("L06.5")
def versions_cited() -> VersionsCited:
    return VersionsCited(312.0, 19.5, 312.0 / 19.5, "each non-matmul FLOP is 16× more expensive than a matmul FLOP",
                         ("around 2× speedup compared to FlashAttention",
                          "50–73% of the theoretical maximum FLOPs/s on A100",
                          "up to 225 TFLOPs/s per A100 GPU end-to-end (72% model FLOPs utilization)"),
                         f"{DAO_2023_FLASH2.short()}, abstract and §3.1",
                         ("warp specialisation (producer warps load with TMA, consumer warps compute)",
                          "ping-pong scheduling: one warpgroup's softmax overlaps the other's GEMMs",
                          "intra-warpgroup overlap of softmax and GEMM", "FP8 with block quantisation and "
                          "incoherent processing"),
                         ("1.5–2.0× over FlashAttention-2 on H100", "FP16 up to 740 TFLOPs/s (75% utilization)",
                          "FP8 close to 1.2 PFLOPs/s"),
                         f"{SHAH.short()}, abstract and §3",
                         2.0, 50.0, 73.0, 225.0, 72.0, 740.0, 75.0, 1.2)
