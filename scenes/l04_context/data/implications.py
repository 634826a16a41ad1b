"""L04.7 Real-world implications: an 80 GB H100 filled with Llama-2-7B's fp16 weights and then its KV cache
(``ar.kv_token_budget``: at most 126,882 tokens across the batch — 30 requests of 4K, not one of 131,072), the
same bar with a GQA-8 cache and an MLA-sized latent (L09 preview); the cache real models take at 128K
(``attn_ref`` presets); decode cost per token against context — measured (bench suite 'decode', H200) beside
the bandwidth floor — and the prefill FLOPs that make TTFT superlinear in prompt length."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import LIU_2023_LOST

from ._shared import FP16, GB, GIB, GPU_FILE, KIB, MODEL, bench, bench_source, loglog_slope, records

REQUEST = 4096
LONG_REQUEST = 131_072


@dataclass(frozen=True)
class FillBar:
    label: str
    kv_bytes_per_token: int
    budget_tokens: int             # ⌊(80 GB − weights) / KV per token⌋
    requests_4k: int
    requests_128k: int
    fits_one_128k: bool
    hypothetical: bool             # the Llama-2-7B weights with another cache layout
    note: str


@dataclass(frozen=True)
class MemoryFill:
    device: str
    memory_bytes: float
    weights_bytes: int
    weights_gb: float
    bars: tuple[FillBar, ...]
    caveat: str
    request_tokens: int = REQUEST            # the short request the bars count (4096)
    long_request_tokens: int = LONG_REQUEST  # the full-context request (131,072)


MLA_LATENT = ar.DEEPSEEK_V2.kv_lora_rank + ar.DEEPSEEK_V2.rope_head_dim
"""DeepSeek-V2's cached numbers per token per layer: d_c + d_h^R = 512 + 64 = 576."""


@builder("L04.7")
def memory_fill() -> MemoryFill:
    """Llama-2-7B on an 80 GB H100: weights first, then as many cached tokens as fit."""
    dev = ar.H100_SXM
    w = MODEL.n_params() * FP16
    layouts = (
        ("MHA (Llama-2-7B as shipped)", MODEL.kv_bytes_per_token(FP16), False, "32 KV heads × 128 × 32 layers"),
        ("GQA-8 cache", ar.kv_cache_bytes(MODEL.n_layers, 8, MODEL.head_dim, 1, 1, FP16), True,
         "8 KV heads: a quarter of the cache (weights kept at Llama-2-7B's)"),
        ("MLA-sized latent (L09)", MODEL.n_layers * MLA_LATENT * FP16, True,
         f"DeepSeek-V2's {MLA_LATENT} numbers per token per layer on 32 layers (weights kept at Llama-2-7B's)"),
    )
    bars = []
    for label, per, hyp, note in layouts:
        budget = ar.kv_token_budget(dev.memory_bytes, w, per)
        bars.append(FillBar(label, per, budget, budget // REQUEST, budget // LONG_REQUEST, budget >= LONG_REQUEST,
                            hyp, note))
    return MemoryFill(dev.name, dev.memory_bytes, w, w / GB, tuple(bars),
                      "an upper bound: activations, the allocator and fragmentation take more")


@dataclass(frozen=True)
class PresetCache:
    name: str
    kv_bytes_per_token: int
    kib_per_token: float
    cache_gib_128k: float          # one sequence of 131,072 tokens
    rolling_gib_128k: float | None   # with the sliding-window rolling buffer (Mistral), else None
    attention: str
    source: str


@builder("L04.7")
def preset_caches() -> tuple[PresetCache, ...]:
    """The KV cache real models take for one 128K-token sequence (fp16/bf16), from the ``attn_ref`` presets."""
    out = []
    for key in ("llama-2-7b", "llama-2-70b", "llama-3-8b", "mistral-7b", "deepseek-67b", "deepseek-v2"):
        m = ar.PRESETS[key]
        per = m.kv_bytes_per_token(FP16)
        kind = ("MLA" if m.mla is not None else "MHA" if m.n_kv_heads == m.n_heads else f"GQA-{m.n_kv_heads}")
        rolling = m.kv_cache_bytes(LONG_REQUEST, rolling_buffer=True) / GIB if m.window else None
        out.append(PresetCache(m.name, per, per / KIB, m.kv_cache_bytes(LONG_REQUEST) / GIB, rolling, kind,
                               m.source))
    return tuple(out)


@dataclass(frozen=True)
class DecodeSeries:
    method: str
    kv_heads: int
    contexts: tuple[int, ...]
    time_ms: tuple[float, ...]          # one layer's attention step, batch 8
    tokens_per_s: tuple[float, ...]
    gb_per_s: tuple[float, ...]
    floor_ms: tuple[float, ...]         # cache bytes read / 4.8 TB/s (ar.decode_time_lower_bound)
    share_of_peak: tuple[float, ...]
    slope: float                        # log-log slope of time vs context over the two longest contexts' range


@dataclass(frozen=True)
class DecodeVsContext:
    available: bool
    reason: str
    batch: int
    heads: int
    head_dim: int
    series: tuple[DecodeSeries, ...]
    model_floor_contexts: tuple[int, ...]
    model_floor_ms: tuple[float, ...]        # Llama-2-7B step at batch 8 on the H200: (weights + 8·KV) / bandwidth
    model_floor_tokens_per_s: tuple[float, ...]
    model_flops_per_token: tuple[int, ...]   # Llama-2-7B, 32 layers: 2·P_layer + 4·n·d per layer (ar.layer_flops)
    model_intensity: tuple[float, ...]       # those FLOPs × batch / the floor's bytes: far below the ridge
    source: str
    note: str


MODEL_BATCH = 8
FLOOR_CONTEXTS = (1024, 4096, 16384, 65536, 131072)


@builder("L04.7")
def decode_vs_context() -> DecodeVsContext:
    """Bench suite 'decode' on the H200 (one layer: 32 query heads × 128, batch 8, fp16) at contexts 1K–64K, each
    beside its bandwidth floor; and the whole-model floor for Llama-2-7B at batch 8."""
    floor = tuple(1e3 * ar.decode_time_lower_bound(MODEL.decode_bytes(n, MODEL_BATCH), ar.H200)
                  for n in FLOOR_CONTEXTS)
    tps = tuple(MODEL_BATCH / (t / 1e3) for t in floor)
    fpt = tuple(MODEL.n_layers * MODEL.layer_flops(1, n_k=n)["total"] for n in FLOOR_CONTEXTS)
    ai = tuple(ar.arithmetic_intensity(MODEL_BATCH * f, MODEL.decode_bytes(n, MODEL_BATCH))
               for f, n in zip(fpt, FLOOR_CONTEXTS))
    r = bench(GPU_FILE)
    if r is None:
        return DecodeVsContext(False, f"benchmarks/results/{GPU_FILE} is not committed", 0, 0, 0, (), FLOOR_CONTEXTS,
                               floor, tps, fpt, ai, "", "")
    recs = records(r, "decode")
    recs = [x for x in recs if x["method"] != "cache_sizes"]
    series = []
    for m in dict.fromkeys(x["method"] for x in recs):
        pts = sorted((x for x in recs if x["method"] == m), key=lambda x: x["context"])
        ctx = tuple(x["context"] for x in pts)
        t = tuple(x["time_ms"] for x in pts)
        series.append(DecodeSeries(m, pts[0]["kv_heads"], ctx, t, tuple(x["tokens_per_s"] for x in pts),
                                   tuple(x["gb_per_s"] for x in pts),
                                   tuple(1e3 * ar.decode_time_lower_bound(x["cache_bytes_read"], ar.H200) for x in pts),
                                   tuple(x["share_of_peak_bw"] for x in pts), loglog_slope(ctx[-2:], t[-2:])))
    first = recs[0]
    later = r["provenance"].get("later_commits", {}).get("decode")
    source = bench_source(r) + (f" (decode suite rerun at {later[:8]})" if later else "")
    return DecodeVsContext(True, "", first["batch"], first["heads"], first["head_dim"], tuple(series), FLOOR_CONTEXTS,
                           floor, tps, fpt, ai, source,
                           "the measured step is one layer's attention only (32 query heads × 128 = one Llama-2-7B "
                           "layer for MHA); the model floor adds all 32 layers' caches and the weights")


@dataclass(frozen=True)
class PrefillCost:
    model: str
    lengths: tuple[int, ...]
    flops: tuple[int, ...]              # 32 layers, causal, ar.layer_flops (LM head not counted)
    attention_share: tuple[float, ...]
    ttft_floor_ms: tuple[float, ...]    # flops / 989.4 TFLOP/s on the H100 SXM
    growth_per_doubling: tuple[float, ...]   # ttft(2n) / ttft(n): above 2 once attention matters
    tokens_per_ms: tuple[float, ...]


PREFILL_LENGTHS = (1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)


@builder("L04.7")
def prefill_cost() -> PrefillCost:
    """TTFT's compute floor for Llama-2-7B: FLOPs of a causal prefill over n tokens / peak; superlinear in n."""
    fl = tuple(MODEL.n_layers * MODEL.layer_flops(n, causal=True)["total"] for n in PREFILL_LENGTHS)
    att = tuple(MODEL.layer_flops(n, causal=True)["attention"] / MODEL.layer_flops(n, causal=True)["total"]
                for n in PREFILL_LENGTHS)
    ms = tuple(1e3 * f / ar.H100_SXM.peak_flops for f in fl)
    growth = tuple(b / a for a, b in itertools.pairwise(ms))
    return PrefillCost(MODEL.name, PREFILL_LENGTHS, fl, att, ms, growth,
                       tuple(n / t for n, t in zip(PREFILL_LENGTHS, ms)))


@dataclass(frozen=True)
class Takeaway:
    cost: str
    figure: str
    source: str


@builder("L04.7")
def takeaways() -> tuple[Takeaway, ...]:
    """Latency, memory, reliability: one number each, from the builders above or the cited paper."""
    pc, mf = prefill_cost(), memory_fill()
    i = PREFILL_LENGTHS.index(65536)
    return (
        Takeaway("latency", f"TTFT floor grows {pc.growth_per_doubling[i]:.2f}× from 64K to 128K tokens",
                 "ar.layer_flops / H100 SXM peak"),
        Takeaway("memory", f"{mf.bars[0].budget_tokens:,} cached tokens fit beside the weights on an 80 GB H100",
                 "ar.kv_token_budget"),
        Takeaway("reliability", "accuracy is highest when the relevant text is at the start or the end of the "
                 "context: put key facts at the ends", LIU_2023_LOST.short(venue=False)),
    )
