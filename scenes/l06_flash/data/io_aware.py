"""L06.1 IO-aware attention computation. Cited: the memory pyramid of FlashAttention Fig. 1 (A100) and the
H100 SXM datasheet numbers; FlashAttention Fig. 2 (left). Computed: Algorithm 0 (standard attention) line
by line with its HBM byte counters from ``ar.attention_io(method="standard")`` beside the fused forward
(``method="flash"``), and the roofline of each pass (``ar.roofline``): the n × n element-wise passes
(softmax, masking, dropout) do ≤ 1.25 FLOP per byte; even the two matmuls, once S or P goes through HBM, do
only ≈ d FLOP per byte (57 at d = 64), below the H100's ridge of 295: standard attention is memory-bound."""
from __future__ import annotations

from dataclasses import dataclass

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import DAO_2022

IO_N, IO_D = 1024, 64
"""The counters' example: GPT-2 medium's head (N = 1024, d = 64, as in FlashAttention Fig. 2), fp16."""
SRAM_BYTES = 192 * 1024
"""One A100 SM's shared memory (the 20 MB of Fig. 1 is this summed over 108 SMs)."""


@dataclass(frozen=True)
class Level:
    name: str
    bandwidth: str
    capacity: str


@dataclass(frozen=True)
class MemoryPyramid:
    a100: tuple[Level, ...]           # cited, top (fast, small) to bottom
    a100_source: str
    h100_hbm_bytes_per_s: float       # ar.H100_SXM
    h100_hbm_bytes: float
    h100_l2_bytes: int
    h100_smem_per_sm_bytes: int
    h100_sms: int
    h100_smem_total_bytes: int        # 228 KB × 132
    h100_source: str
    note: str


@builder("L06.1")
def memory_pyramid() -> MemoryPyramid:
    """FlashAttention Fig. 1 (A100, cited) and the H100 SXM datasheet (``ar.H100_SXM`` and
    shared/reference/performance.md §7)."""
    a100 = (Level("SRAM", "19 TB/s", "20 MB"), Level("HBM", "1.5 TB/s", "40 GB"),
            Level("CPU DRAM", "12.8 GB/s", "> 1 TB"))
    smem, sms = 228 * 1024, 132
    return MemoryPyramid(a100, f"{DAO_2022.short()}, Figure 1 (left)", ar.H100_SXM.bandwidth,
                         ar.H100_SXM.memory_bytes, 50 * 10 ** 6, smem, sms, smem * sms,
                         f"{ar.H100_SXM.source}; 132 SMs, 50 MB L2, ≤ 228 KB shared memory per SM",
                         "the SRAM figure is summed over all SMs: one thread block sees one SM's share "
                         "(≈ 192 KB on A100, ≤ 228 KB on H100)")


@dataclass(frozen=True)
class IOLine:
    label: str                        # the algorithm's line, in words
    reads: int                        # bytes
    writes: int
    cum_bytes: int


@dataclass(frozen=True)
class StandardVsFused:
    n: int
    d: int
    sram_bytes: int
    bytes_per_elem: int
    standard: tuple[IOLine, ...]      # Algorithm 0, lines 1-3
    fused: tuple[IOLine, ...]         # FA-2 forward: Q once, K/V streamed T_r times, O and LSE written once
    standard_bytes: int               # ar.attention_io(method="standard")
    fused_bytes: int                  # ar.attention_io(method="flash", version=2)
    ratio: float
    score_matrix_bytes: int           # N² · 2: what S (and P) occupy in HBM in the standard version
    block_r: int
    block_c: int
    kv_passes: int                    # T_r: how many times K and V stream past the Q blocks
    source: str


@builder("L06.1")
def standard_vs_fused() -> StandardVsFused:
    """Byte counters for one head, N = 1024, d = 64, fp16, 192 KB of SRAM."""
    b = 2
    std, s = ar.attention_io(IO_N, IO_D, SRAM_BYTES, method="standard", breakdown=True)
    fl, f = ar.attention_io(IO_N, IO_D, SRAM_BYTES, method="flash", version=2, breakdown=True)

    def lines(rows):
        out, cum = [], 0
        for label, r, w in rows:
            cum += (r + w) * b
            out.append(IOLine(label, r * b, w * b, cum))
        return tuple(out)

    standard = lines((("1. load Q, K; S = QKᵀ; write S", s["read_QK"], s["write_S"]),
                      ("2. read S; P = softmax(S); write P", s["read_S"], s["write_P"]),
                      ("3. load P, V; O = PV; write O", s["read_PV"], s["write_O"])))
    fused = lines((("load each Q block once", f["read_Q"], 0),
                   (f"stream K, V past every Q block ({f['T_r']}×)", f["read_KV"], 0),
                   ("write O and LSE once", 0, f["write_O"] + f["write_LSE"])))
    return StandardVsFused(IO_N, IO_D, SRAM_BYTES, b, standard, fused, std, fl, std / fl,
                           ar.score_matrix_bytes(1, 1, IO_N, IO_N, b), f["block_r"], f["block_c"], f["T_r"],
                           f"{DAO_2022.short()}, Algorithm 0 and Theorem 2; counts: attn_ref.attention_io")


@dataclass(frozen=True)
class Pass:
    name: str
    flops: float
    bytes: float
    intensity: float                  # FLOP/byte
    bound: str                        # "memory" | "compute" on the H100 SXM
    time_us: float                    # roofline lower bound


@dataclass(frozen=True)
class MemoryBound:
    n: int
    d: int
    device: str
    ridge_point: float                # FLOP/byte
    peak_flops: float                 # FLOP/s (dense fp16), the roof
    bandwidth: float                  # bytes/s (HBM), the slope
    passes: tuple[Pass, ...]
    assumption: str


@builder("L06.1")
def memory_bound() -> MemoryBound:
    """The roofline of standard attention's passes for one head (N = 1024, d = 64, fp16) on the H100 SXM: every
    pass, the matmuls included (they write S or read P), sits below the ridge point."""
    n, d, b = IO_N, IO_D, 2
    rows = (("S = QKᵀ", 2 * n * n * d, (2 * n * d + n * n) * b),
            ("mask", n * n, 2 * n * n * b),
            ("softmax", 5 * n * n, 2 * n * n * b),
            ("dropout", 2 * n * n, 2 * n * n * b),
            ("O = PV", 2 * n * n * d, (n * n + 2 * n * d) * b))
    passes = []
    for name, fl, by in rows:
        r = ar.roofline(fl, by, ar.H100_SXM)
        passes.append(Pass(name, float(fl), float(by), r.intensity, r.bound, r.time * 1e6))
    return MemoryBound(n, d, ar.H100_SXM.name, ar.H100_SXM.ridge_point, ar.H100_SXM.peak_flops,
                       ar.H100_SXM.bandwidth, tuple(passes),
                       "element-wise FLOPs per entry: mask 1, softmax ≈ 5 (max, subtract, exp, sum, divide), "
                       "dropout 2; every pass reads and writes the n × n matrix once in fp16")


@dataclass(frozen=True)
class Fig2:
    """FlashAttention Fig. 2 (left), cited: GPT-2 medium, N = 1024, d = 64, 16 heads, batch 64, A100, fwd + bwd."""
    setup: str
    gflops: tuple[float, float]       # standard, FlashAttention
    hbm_gb: tuple[float, float]
    runtime_ms: tuple[float, float]
    earlier_version: str
    claims: tuple[str, ...]
    source: str


@builder("L06.1")
def fig2_cited() -> Fig2:
    return Fig2("GPT-2 medium attention, N = 1024, d = 64, 16 heads, batch 64, A100, forward + backward",
                (66.6, 75.2), (40.3, 4.4), (41.7, 7.3),
                "an earlier arXiv version prints HBM R/W 35.3 GB and runtime 35.1 vs 11.7 ms: the slide cites "
                "the final version (v2) [verify]",
                ("7.6× on the attention computation (GPT-2), Figure 1 (right)",
                 "15% end-to-end on BERT-large (seq 512) vs the MLPerf 1.1 record (abstract)",
                 "3× on GPT-2 (seq 1K) (abstract)", "2.4× on long-range arena (1K–4K) (abstract)"),
                f"{DAO_2022.short()}, Figure 2 (left)")
