"""Lecture 4 data: every number the L04 scenes will draw, computed with ``attn_ref`` (cost models, presets,
``ar.softmax``), read from the committed lab result (results/experiments/needle_haystack.json) or from the
committed benchmark results (benchmarks/results/gpu-nvidia-h200.json, cpu-amd-epyc.json), pure and seeded;
published figures are citation data with their source, kept apart from what is measured.

One module per topic, named after the scene it feeds, and ``_shared`` for the running model (Llama-2-7B,
``ar.LLAMA2_7B``), the roofline devices (H100 SXM, H200), the result loaders with their source lines and a
log-log slope. Every builder is declared with ``@builder("L04.k")`` (``scenes.kit.data_builders``) and returns
a frozen dataclass of plain values; ``cache_clear()`` forgets every builder. Scenes use
``from scenes.l04_context import data``.

=================  =====  ==========================================================================
builder            topic  what it holds
=================  =====  ==========================================================================
score_grids        L04.1  causal grids n = 8 … 128: n² cells, n(n+1)/2 kept (counted on ar.causal_mask)
score_counter      L04.1  b·h·n² and fp16 bytes per layer (1, 32 heads) vs the layer's K/V: 16 GiB at 16K
flops_per_token    L04.1  Llama-2-7B layer: dense 2·P_layer (P = 202,375,168) vs attention 4nd / 2nd;
                          n* = 24,704 (non-causal), 49,408 (causal); GPT-style 12d² layer: 6d (12d causal)
memory_bars        L04.2  S (and P) per layer, KV cache (64 GiB at 128K), weights (13.48 GB) at 4K … 128K
roofline           L04.2  H100 SXM (ridge 295.3) and H200 (206.1): flash prefill AI = n/2, decode AI = g
measured_memory    L04.2  bench 'memory' (H200): naive slope ≈ 2.0, tiled ≈ 1.0; CPU readings too coarse
measured_prefill   L04.2  bench 'prefill' (H200, d 128; CPU, d 64): time per sequence slope ≈ 2
decode_floor       L04.2  t ≥ bytes / bandwidth: KV 2 GiB at 4K ≥ 0.641 ms (H100), weights ≥ 4.02 ms
protocol           L04.3  one sample of the lab's task (depth 50 %): the exact inserter; gkamradt's for reference
heat_maps          L04.3  lab accuracy (length × depth) for RoPE / PI / YaRN / NoPE / ALiBi, trained at 64
answer_rows        L04.3  stored answer-position rows: mass on the needle span vs the distractor spans
multi_needle       L04.3  8 needles, 4 questions: accuracy by length per scheme
sliding_window     L04.3  W = 16: 1.0 within one hop (15), 0.049 beyond the reach (31), chance 0.0625
dilution           L04.3  p = e^Δ/(e^Δ + N) via ar.softmax; Δ for p = 0.5, 0.9 grows by ln 10 per decade
cited_niah         L04.3  Lost in the Middle (56.1% closed-book, 88.3% oracle), RULER quotes, NoLiMa [verify]
loss_by_position   L04.4  lab per-position NLL (256 tokens, 64 documents), perplexity inside / 2× / 4×
flat_perplexity    L04.4  RoPE at 2×: perplexity +0.17 % while needle accuracy falls to 0.91
averaging          L04.4  per-window vs per-token mean: perplexity 15.82 vs 14.99 (seeded logits)
label_shift        L04.4  trg_len 8 gives 7 predictions; the unshifted loss is another number
pitfalls           L04.4  the four pitfalls and what shows each
systems_metrics    L04.4  TTFT, time per output token, throughput, KV bytes per token, max batch: source each
effective_length   L04.4  RULER's threshold: Llama-2-7B at 4K, 85.6 (cited)
timeline           L04.5  BERT 512 … Gemini 1.5 1M, each with source, technique and lecture
approach_map       L04.6  exact/approximate × compute/memory, each method with what it gives up
memory_fill        L04.7  80 GB H100: 126,882 tokens (30 × 4K, no 128K) MHA; GQA-8 507,531; MLA-sized 1.8M
preset_caches      L04.7  one 128K sequence's cache per preset: 64 GiB (Llama-2-7B) … 8.4 GiB (DeepSeek-V2)
decode_vs_context  L04.7  bench 'decode' (H200) per variant beside its floor; Llama-2-7B floor, FLOPs, AI at batch 8
prefill_cost       L04.7  TTFT floor on the H100: ×2.04 per doubling at 1K, ×3.14 at 64K → 128K
takeaways          L04.7  latency, memory, reliability: one number each
references         recap  the papers (kit References), the manifest's Lecture 4 list
=================  =====  ==========================================================================
"""
from __future__ import annotations

from scenes.kit import data_builders

from ._shared import DEVICES, FP16, MODEL, lab, lab_source, loglog_slope
from .approaches import approach_map  # noqa: F401
from .bounds import decode_floor, measured_memory, measured_prefill, memory_bars, roofline  # noqa: F401
from .implications import (decode_vs_context, memory_fill, prefill_cost, preset_caches,  # noqa: F401
                           takeaways)
from .metrics import (averaging, effective_length, flat_perplexity, label_shift, loss_by_position,  # noqa: F401
                      pitfalls, systems_metrics)
from .needle import (answer_rows, cited_niah, dilution, heat_maps, multi_needle, protocol,  # noqa: F401
                     sliding_window)
from .quadratic import flops_per_token, score_counter, score_grids  # noqa: F401
from .recap import references  # noqa: F401
from .timeline import timeline  # noqa: F401

LECTURE = "04"
BUILDERS = data_builders.builders(LECTURE)
"""Topic id -> the builders that supply its numbers (the kit registry's view of this lecture)."""


def cache_clear() -> None:
    """Forget every cached result of Lecture 4."""
    data_builders.cache_clear(LECTURE)


__all__ = ["BUILDERS", "DEVICES", "FP16", "MODEL", "cache_clear", "lab", "lab_source", "loglog_slope"] + [
    fn.__name__ for fns in BUILDERS.values() for fn in fns]
