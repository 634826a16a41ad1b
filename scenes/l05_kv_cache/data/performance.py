"""L05.6 Performance implications. Measured (benchmark result files, with their source lines): one decode step
of attention over the KV cache on the H200 (MHA / GQA-8 / MQA / absorbed MLA, contexts 1K–64K: time, tokens/s,
GB/s, share of the 4.8 TB/s peak) beside the bandwidth bound bytes/β; generation with the cache vs recomputing
the prefix (one generated length only: no sweep is recorded); cache bytes per token per variant; the split-K
timings of attn_ref's reference ``flash_decoding`` (splits run one after another there). Computed: the
per-token lower bound (weights + KV)/β for Llama-2-7B at 4K/32K/128K; ``ar.flash_decoding`` split by split
with the LSE merge. Cited: Flash-Decoding, PagedAttention, rasbt's CPU anchor."""
from __future__ import annotations

from dataclasses import dataclass


import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import DAO_2023_DECODING, KWON

from ._shared import (CPU_RESULT, GPU_RESULT, Vec, bench_result, bench_source, gaussian, max_abs, missing,
                      to_tuple)

VARIANTS: tuple[str, ...] = ("MHA", "GQA-8", "MQA", "MLA")
BOUND_CONTEXTS: tuple[int, ...] = (4096, 32768, 131072)
SPLIT_N, SPLIT_D, SPLITS, SPLIT_SEED = 16, 8, 4, 56


@dataclass(frozen=True)
class DecodeSeries:
    variant: str
    kv_heads: int
    head_dim: int
    contexts: tuple[int, ...]
    time_ms: Vec                      # median of the repeats
    tokens_per_s: Vec                 # batch / step time (attention alone, batch 8)
    gb_per_s: Vec                     # cache bytes read / time
    share_of_peak: Vec                # of the file's peak bandwidth
    cache_bytes: tuple[int, ...]      # read per step (whole batch)
    bound_ms: Vec                     # cache bytes / peak bandwidth: the floor
    bound_over_time: Vec              # ≤ 1


@dataclass(frozen=True)
class DecodeBandwidth:
    available: bool
    reason: str
    file: str
    device: str
    peak_gb_per_s: float
    batch: int
    heads: int
    series: tuple[DecodeSeries, ...]
    source: str
    note: str


@builder("L05.6")
def decode_bandwidth() -> DecodeBandwidth:
    """Suite 'decode' of the GPU result: step time and GB/s against context, with the bound bytes / β."""
    r = bench_result(GPU_RESULT)
    if r is None:
        return DecodeBandwidth(False, missing(GPU_RESULT), GPU_RESULT, "", 0.0, 0, 0, (), "", "")
    recs = [x for x in r["records"] if x["suite"] == "decode" and x["method"] in VARIANTS and "skipped" not in x]
    if not recs:
        return DecodeBandwidth(False, f"no decode records in {GPU_RESULT}", GPU_RESULT, "", 0.0, 0, 0, (), "", "")
    peak = float(r["provenance"]["peaks"]["bandwidth_gbs"])
    series = []
    for v in VARIANTS:
        rows = sorted((x for x in recs if x["method"] == v), key=lambda x: x["context"])
        bound = tuple(x["cache_bytes_read"] / (peak * 1e9) * 1e3 for x in rows)
        series.append(DecodeSeries(v, rows[0]["kv_heads"], rows[0]["head_dim"], tuple(x["context"] for x in rows),
                                   tuple(x["time_ms"] for x in rows), tuple(x["tokens_per_s"] for x in rows),
                                   tuple(x["gb_per_s"] for x in rows), tuple(x["share_of_peak_bw"] for x in rows),
                                   tuple(x["cache_bytes_read"] for x in rows), bound,
                                   tuple(b / x["time_ms"] for b, x in zip(bound, rows))))
    return DecodeBandwidth(True, "", GPU_RESULT, r["provenance"]["gpu_model"], peak, recs[0]["batch"],
                           recs[0]["heads"], tuple(series), bench_source(r, "decode"),
                           "attention alone (torch SDPA; MLA absorbed: two matmuls over the 576-wide latent), fp16, "
                           "one query per sequence; tokens/s = batch / step time, not a whole model's")


@dataclass(frozen=True)
class GenerationRow:
    file: str
    device: str
    prompt: int
    new_tokens: int
    cache_tokens_per_s: float
    recompute_tokens_per_s: float
    speedup: float
    source: str


@dataclass(frozen=True)
class GenerationSpeed:
    rows: tuple[GenerationRow, ...]
    sweep_available: bool             # tokens/s against generated length
    sweep_reason: str
    model: str


@builder("L05.6")
def generation_speed() -> GenerationSpeed:
    """Suite 'generation' (ar.generate on a 4-layer TinyDecoder, d_model 128) from the GPU and CPU files."""
    rows = []
    for name in (GPU_RESULT, CPU_RESULT):
        r = bench_result(name)
        if r is None:
            continue
        g = {x["method"]: x for x in r["records"] if x["suite"] == "generation" and "skipped" not in x}
        if "kv_cache" in g and "recompute" in g:
            c, rc = g["kv_cache"], g["recompute"]
            p = r["provenance"]
            rows.append(GenerationRow(name, p.get("gpu_model") or p["cpu_model"], c["prompt"], c["new_tokens"],
                                      c["tokens_per_s"], rc["tokens_per_s"], c["tokens_per_s"] / rc["tokens_per_s"],
                                      bench_source(r, "decode")))   # generation runs inside the decode suite
    lengths = {row.new_tokens for row in rows if row.file == GPU_RESULT}
    return GenerationSpeed(
        tuple(rows), len(lengths) > 1,
        "" if len(lengths) > 1 else (f"no generation records from {GPU_RESULT}" if not lengths else
                                     f"{GPU_RESULT} records one generated length ({sorted(lengths)} new tokens after "
                                     "a 64-token prompt); tokens/s against generated length needs a sweep the "
                                     "bench does not run"),
        "ar.TinyDecoder: 4 layers, d_model 128, 8 heads, float32, greedy")


@dataclass(frozen=True)
class BytesPerToken:
    available: bool
    reason: str
    file: str
    variants: tuple[str, ...]
    measured_bytes: tuple[int, ...]   # the file's cache_bytes_per_token (one layer, the bench's 32 heads × 128)
    computed_bytes: tuple[int, ...]   # ar.kv_cache_bytes(1, H_kv, 128, 1) (MLA: (512 + 64) · 2)
    kv_heads: tuple[int, ...]
    source: str


@builder("L05.6")
def bytes_per_token() -> BytesPerToken:
    r = bench_result(GPU_RESULT)
    recs = [] if r is None else [x for x in r["records"]
                                 if x["suite"] == "decode" and x["method"] in VARIANTS and "skipped" not in x]
    if not recs:
        return BytesPerToken(False, missing(GPU_RESULT) if r is None else f"no decode records in {GPU_RESULT}",
                             GPU_RESULT, VARIANTS, (), (), (), "")
    longest = max(x["context"] for x in recs)
    by = {x["method"]: x for x in recs if x["context"] == longest}
    comp = tuple(ar.kv_cache_bytes(1, by[v]["kv_heads"], by[v]["head_dim"], 1) if v != "MLA"
                 else ar.mla_cache_elems_per_token(ar.DEEPSEEK_V2) * 2 for v in VARIANTS)
    return BytesPerToken(True, "", GPU_RESULT, VARIANTS, tuple(by[v]["cache_bytes_per_token"] for v in VARIANTS), comp,
                         tuple(by[v]["kv_heads"] for v in VARIANTS), bench_source(r, "decode"))


@dataclass(frozen=True)
class TokenBound:
    model: str
    devices: tuple[str, ...]
    bandwidths: Vec                   # bytes/s (datasheets)
    contexts: tuple[int, ...]
    weight_bytes: int
    kv_bytes: tuple[int, ...]
    bound_ms: tuple[Vec, ...]         # per device, per context: (weights + KV) / β
    max_tokens_per_s: tuple[Vec, ...]
    beyond_context: tuple[bool, ...]
    device_sources: tuple[str, ...]


@builder("L05.6")
def token_bound() -> TokenBound:
    """E5.8 for Llama-2-7B, batch 1, bf16: every step reads the weights and the whole cache at least once."""
    cfg = ar.LLAMA2_7B
    devs = (ar.H100_SXM, ar.H200)
    total = [cfg.decode_bytes(n) for n in BOUND_CONTEXTS]
    bound = tuple(tuple(ar.decode_time_lower_bound(b, d) * 1e3 for b in total) for d in devs)
    return TokenBound(cfg.name, tuple(d.name for d in devs), tuple(d.bandwidth for d in devs), BOUND_CONTEXTS,
                      cfg.n_params() * 2, tuple(cfg.kv_cache_bytes(n) for n in BOUND_CONTEXTS), bound,
                      tuple(tuple(1e3 / t for t in row) for row in bound),
                      tuple(n > cfg.context for n in BOUND_CONTEXTS), tuple(d.source for d in devs))


@dataclass(frozen=True)
class Split:
    cols: tuple[int, int]
    lse: float
    out: Vec
    weight: float                     # exp(lse_s − lse)


@dataclass(frozen=True)
class SplitK:
    n_keys: int
    head_dim: int
    scores: Vec                       # q·k_j/√d for all keys (one query)
    splits: tuple[Split, ...]
    lse: float
    merged: Vec
    full: Vec                         # ar.sdpa over all keys
    max_diff: float
    weights_sum: float                # Σ_s exp(lse_s − lse) = 1
    file: str
    measured_available: bool
    measured_reason: str
    measured_contexts: tuple[int, ...]
    measured: tuple[tuple[str, Vec], ...]   # (method, time_ms per context)
    measured_note: str
    source: str


@builder("L05.6")
def split_k() -> SplitK:
    """``ar.flash_decoding`` with 4 splits over 16 keys, traced; then the splitk suite's timings."""
    g = gaussian((3, SPLIT_N, SPLIT_D), SPLIT_SEED)
    q, k, v = g[0, :1][None, None], g[1][None, None], g[2][None, None]
    trace = ar.Trace()
    out = ar.flash_decoding(q, k, v, SPLITS, trace=trace)
    merge = trace.of_kind("flash_decoding.merge")[0]
    splits = tuple(Split(s["cols"], float(s["lse_s"].flatten()[0]), to_tuple(s["O_s"].flatten()),
                         float(merge["weights"][i].flatten()[0]))
                   for i, s in enumerate(trace.of_kind("flash_decoding.split")))
    full = ar.sdpa(q, k, v)
    r = bench_result(GPU_RESULT)
    recs = [] if r is None else [x for x in r["records"] if x["suite"] == "splitk" and "skipped" not in x]
    reason = "" if recs else (missing(GPU_RESULT) if r is None else f"no splitk records in {GPU_RESULT}")
    ctx = tuple(sorted({x["context"] for x in recs}))
    methods = tuple(dict.fromkeys(x["method"] for x in recs))
    measured = tuple((mth, tuple(next(x["time_ms"] for x in recs if x["method"] == mth and x["context"] == c)
                                 for c in ctx)) for mth in methods)
    return SplitK(SPLIT_N, SPLIT_D, to_tuple((q @ k.transpose(-1, -2))[0, 0, 0] / SPLIT_D ** 0.5), splits,
                  float(merge["lse"].flatten()[0]), to_tuple(out.flatten()), to_tuple(full.flatten()),
                  max_abs(out, full), float(merge["weights"].sum()), GPU_RESULT, bool(recs), reason, ctx, measured,
                  "attn_ref.flash_decoding is a reference: its splits run one after another in Python, so more "
                  "splits cost more here; a Flash-Decoding kernel runs them in parallel across SMs",
                  bench_source(r, "splitk") if recs else "")


@dataclass(frozen=True)
class Cited:
    """Published figures, quoted with where they are (not measured here)."""
    flash_decoding_generation: str
    flash_decoding_attention: str
    flash_decoding_setup: str
    flash_decoding_source: str
    paged_attention: str
    paged_attention_source: str
    rasbt_tokens_per_s: tuple[float, float]   # without → with the cache
    rasbt_ratio: float                        # 110 / 27 = 4.07 (the README rounds to "~5x"; not repeated)
    rasbt_setup: str
    rasbt_source: str
    flash_decoding_factors: tuple[float, float] = (8.0, 50.0)   # generation, attention: "up to" these (the quotes)
    paged_attention_factors: tuple[float, float] = (2.0, 4.0)   # the quoted range


@builder("L05.6")
def cited() -> Cited:
    """Flash-Decoding (8×, 50×), PagedAttention (2–4×) and rasbt's CPU anchor (27 → 110 tokens/s)."""
    return Cited("up to 8x faster generation for very long sequences (CodeLlama-34B)",
                 "the attention itself is up to 50x faster than FlashAttention",
                 "A100, micro-benchmark with 16 query heads, 2 KV heads, head dim 128",
                 f"{DAO_2023_DECODING.short()}, 2023-10-13 (benchmark section)",
                 "2–4× serving throughput over FasterTransformer and Orca at the same level of latency",
                 f"{KWON.short(venue=False)}, abstract",
                 (27.0, 110.0), 110.0 / 27.0, "124M GPT, 200 new tokens, Mac Mini M4 CPU",
                 "rasbt/LLMs-from-scratch, ch04/03_kv-cache/README.md")
