"""Lecture 6 data: every number the L06 scenes will draw, computed with ``attn_ref`` (``flash_attention`` and
its trace, ``trace_io``, ``attention_io``, ``FlashAttentionFunction``, ``sdpa``, ``roofline``) or read from the
committed GPU files (benchmarks/results/gpu-nvidia-h200.json, benchmarks/gpu-runs/h200/triton-kernel-check.json),
pure and seeded; published figures are citation data with their reference and place.

One module per topic, named after the scene it feeds, and ``_shared`` for the running example (seeded float64
Q, K, V of one head: N = 16, d = 4, blocks of 4, a 4 × 4 grid of tiles), the traced runner and the GPU files
with their source lines. Every builder is declared with ``@builder("L06.k")`` (``scenes.kit.data_builders``)
and returns a frozen dataclass of plain values; ``cache_clear()`` forgets every builder and shared input.
Scenes use ``from scenes.l06_flash import data``. Measured numbers carry their source line; cited ones their
reference.

===================  =====  =========================================================================
builder              topic  what it holds
===================  =====  =========================================================================
memory_pyramid       L06.1  cited A100 pyramid (SRAM 19 TB/s 20 MB, HBM 1.5 TB/s 40 GB, DRAM 12.8 GB/s);
                            H100 SXM 3.35 TB/s, 80 GB, 50 MB L2, 228 KB × 132 SMs (= 30.8 MB of SRAM)
standard_vs_fused    L06.1  Algorithm 0 line by line vs the fused FA-2 forward, N = 1024, d = 64, fp16,
                            192 KB SRAM: 8.91 MB vs 1.05 MB of HBM traffic (8.5×); S alone is 2 MiB
memory_bound         L06.1  roofline on the H100 SXM (ridge 295): QKᵀ, PV 57 FLOP/B; mask 0.25, softmax 1.25,
                            dropout 0.5: every pass of standard attention memory-bound
fig2_cited           L06.1  FA1 Fig. 2: 66.6 vs 75.2 GFLOPs, 40.3 vs 4.4 GB, 41.7 vs 7.3 ms; 7.6×, 15%, 3×, 2.4×
online_softmax_row   L06.2  row 4 over 4 key blocks: m, ℓ, e^{m_old − m_new} per block (the max grows twice);
                            e^{s − m}/ℓ = ar.softmax (0 difference)
tile_trace           L06.2  N = 16, blocks of 4: 16 steps with S tile, m, ℓ, rescale, Õ, Õ/ℓ; O = ar.sdpa
                            (≈ 4e-16), LSE = torch.logsumexp
causal_tiles         L06.2  causal 4 × 4 grid: 6 skipped, 4 masked (6 −inf each), 6 full; 192 K/V elements
                            not read; O = ar.sdpa(is_causal=True)
block_sizes          L06.2  E6.5: A100 (M = 98,304) d = 64 → B_c 384, B_r 64; d = 128 → 192, 128; H100 228 KB
ragged_tiles         L06.2  N = 18: last row/column blocks of 2, 25 tiles, O = ar.sdpa
io_scaling           L06.3  attention_io bytes vs N = 256 … 16K (d = 64) for M = 24K/48K/96K elements; at
                            N = 4096, d = 64, M = 98,304: N²d²/M ≈ 0.70M vs Nd + N² ≈ 17.0M
recomputation        L06.3  FlashAttentionFunction saves Q, K, V, O, LSE (272 elements, nothing N × N);
                            P = exp(S − LSE) rebuilt in 16 tiles = softmax (≈ 1e-16)
memory_measured      L06.3  H200 memory suite: naive 65 → 8,208 MiB, attn_ref.flash_attention 10 → 147,
                            torch SDPA 1 → 16 MiB at N = 1K … 16K (source line)
memory_cited         L06.3  flash-attn README 10× at 2K, 20× at 4K; FA1 Proposition 3
forward_code         L06.4  the FA-2 loop of attn_ref.flash_attention, line numbers, formula per line
backward             L06.4  D = rowsum(dO ∘ O) = Σ P dP; dQ, dK, dV = autograd through ar.sdpa (≈ 4e-16);
                            gradcheck; the backward's tile loop
triton_kernel        L06.4  grid (⌈N/BLOCK_M⌉, B·H), scale · log2 e, the stored LSE (natural log: × ln 2);
                            base-2 replay of row 4: m₂ + log₂ ℓ₂ = LSE/ln 2; the H200 check (12 cases)
pitfalls             L06.4  tutorial backward vs causal (#4541, #5660), N_CTX % 128, block pointers, alignment
loop_orders          L06.5  FA-1 vs FA-2 traces with trace_io counters: 1,248 vs 656 elements, 16 vs 4 O-tile
                            writes, 16 vs 4 normalisations; = attention_io; O equal (≈ 1e-16)
parallelism          L06.5  thread blocks FA-1 b·h vs FA-2 b·h·⌈N/128⌉ against 108 / 132 SMs; split-Q
versions_cited       L06.5  FA2 §3.1 312 / 19.5 = 16×; FA2 2×, 50–73%, 225 TFLOP/s; FA3 features, 740, 1.2 PF
fa3_cited            L06.6  FA3 Fig. 5, hdim 128 non-causal, H100 SXM: Standard, FA2, Triton, cuDNN, FA3 rows
prefill_measured     L06.6  H200 prefill suite, d = 64/128 × causal (= the file's figures): naive, attn_ref.sdpa,
                            4 torch SDPA backends, triton_fa2 TFLOP/s (d = 128, 16K: 463; cuDNN 655); FLOPs =
                            ar.attention_flops; source line; form factor (SXM / NVL) not recorded
flops_convention     L06.6  E6.8 at b = 4, h = 16, n = 4K, d = 128; a causal run counted non-causal: 2×
references           recap  the papers (kit References), the manifest's Lecture 6 list
===================  =====  =========================================================================
"""
from __future__ import annotations

from scenes.kit import data_builders

from ._shared import BLOCK, D, N, SEED, as_tensor, qkv
from .hierarchy import io_scaling, memory_cited, memory_measured, recomputation  # noqa: F401
from .implementation import backward, forward_code, pitfalls, triton_kernel  # noqa: F401
from .io_aware import fig2_cited, memory_bound, memory_pyramid, standard_vs_fused  # noqa: F401
from .performance import fa3_cited, flops_convention, prefill_measured  # noqa: F401
from .recap import references  # noqa: F401
from .tiling import block_sizes, causal_tiles, online_softmax_row, ragged_tiles, tile_trace  # noqa: F401
from .versions import loop_orders, parallelism, versions_cited  # noqa: F401

LECTURE = "06"
BUILDERS = data_builders.builders(LECTURE)
"""Topic id -> the builders that supply its numbers (the kit registry's view of this lecture)."""


def cache_clear() -> None:
    """Forget every cached result of Lecture 6, shared inputs included."""
    data_builders.cache_clear(LECTURE)


__all__ = ["BLOCK", "BUILDERS", "D", "N", "SEED", "as_tensor", "cache_clear", "qkv"] + [
    fn.__name__ for fns in BUILDERS.values() for fn in fns]
