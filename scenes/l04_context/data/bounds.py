"""L04.2 Memory and computation bounds: memory bars per context length (materialised S and P of one layer,
the whole model's KV cache, the weights), the roofline of the H100 SXM and H200 with flash prefill per head
(AI ≈ n/2), MHA decode (AI ≈ 1) and GQA decode (AI ≈ g), the measured peak memory (bench suite 'memory':
materialised vs tiled, log-log slopes ≈ 2 vs ≈ 1) and prefill time (suite 'prefill'), and the decode floor
t ≥ (weights + KV bytes) / bandwidth."""
from __future__ import annotations

from dataclasses import dataclass

import attn_ref as ar
from scenes.kit.data_builders import builder

from ._shared import CPU_FILE, DEVICES, FP16, GIB, GPU_FILE, MIB, MODEL, bench, bench_source, loglog_slope, records

BAR_LENGTHS: tuple[int, ...] = (4096, 16384, 32768, 131072)
"""The context lengths of the memory bars (4K, 16K, 32K, 128K)."""


@dataclass(frozen=True)
class MemoryBar:
    n: int
    scores_gib: float          # S of one layer, (1, 32, n, n) fp16
    scores_and_probs_gib: float   # S and P
    kv_cache_gib: float        # all 32 layers, ar.kv_cache_bytes
    weights_gib: float
    kv_over_weights: float


@dataclass(frozen=True)
class MemoryBars:
    model: str
    bars: tuple[MemoryBar, ...]
    kv_bytes_per_token: int    # 524,288 (512 KiB)
    weights_bytes: int         # n_params · 2
    device_memory_gib: float   # an 80 GB H100 in GiB (74.5)
    note: str


@builder("L04.2")
def memory_bars() -> MemoryBars:
    """Three bars per length for Llama-2-7B in fp16: one layer's S (and P) if materialised, the KV cache of the
    whole model, the weights."""
    w = MODEL.n_params() * FP16
    bars = []
    for n in BAR_LENGTHS:
        s = ar.score_matrix_bytes(1, MODEL.n_heads, n, n, FP16)
        kv = ar.kv_cache_bytes(MODEL.n_layers, MODEL.n_kv_heads, MODEL.head_dim, n, 1, FP16)
        bars.append(MemoryBar(n, s / GIB, 2 * s / GIB, kv / GIB, w / GIB, kv / w))
    return MemoryBars(MODEL.name, tuple(bars), MODEL.kv_bytes_per_token(FP16), w, ar.H100_SXM.memory_bytes / GIB,
                      "S and P are per layer and exist only inside a naive kernel (flash never writes them); the "
                      "KV cache is all layers and stays for the whole generation")


@dataclass(frozen=True)
class RooflinePoint:
    label: str
    flops: float
    bytes: float
    intensity: float
    bound: str                 # on this device
    time_s: float              # max(F/P, Q/W)
    short: str = ""            # the point's name on a plot ("prefill, n = 1,024")
    n: int = 0                 # prefill length, or the decode context
    group: int = 1             # query heads per KV head (decode points)


@dataclass(frozen=True)
class DeviceRoofline:
    name: str
    peak_tflops: float
    bandwidth_tbs: float
    ridge: float               # FLOP/B
    points: tuple[RooflinePoint, ...]
    source: str


@dataclass(frozen=True)
class Roofline:
    head_dim: int
    decode_context: int
    devices: tuple[DeviceRoofline, ...]
    note: str


PREFILL_LENGTHS = (1024, 16384)
DECODE_CONTEXT = 4096
GQA_GROUP = 8
"""Query heads per KV head of the GQA point (Llama-2-70B: 64 query heads, 8 KV heads)."""


def _points(device: ar.DeviceSpec, hd: int) -> tuple[RooflinePoint, ...]:
    pts = []
    for n in PREFILL_LENGTHS:
        f = ar.attention_flops(1, 1, n, n, hd)                  # 4 n² d per head
        q = 4 * n * hd * FP16                                   # Q, K, V read, O written once: 8 n d bytes
        r = ar.roofline(f, q, device)
        pts.append(RooflinePoint(f"flash prefill, one head, n = {n:,}", f, q, r.intensity, r.bound, r.time,
                                 f"prefill, n = {n:,}", n, 1))
    for label, g in (("decode MHA (g = 1)", 1), (f"decode GQA (g = {GQA_GROUP})", GQA_GROUP)):
        f = ar.attention_flops(1, g, 1, DECODE_CONTEXT, hd)     # g query heads share one K/V head: 4 L d g
        q = 2 * DECODE_CONTEXT * hd * FP16                      # K and V of that head read once: 4 L d bytes
        r = ar.roofline(f, q, device)
        pts.append(RooflinePoint(f"{label}, context {DECODE_CONTEXT:,}, per KV head", f, q, r.intensity, r.bound,
                                 r.time, label.split(" (")[0], DECODE_CONTEXT, g))
    return tuple(pts)


@builder("L04.2")
def roofline() -> Roofline:
    """``ar.roofline`` on the H100 SXM (ridge ≈ 295 FLOP/B) and H200 (≈ 206): prefill per head is compute-bound
    (AI = n/2), decode is memory-bound (AI = g)."""
    hd = MODEL.head_dim
    devs = tuple(DeviceRoofline(dv.name, dv.peak_flops / 1e12, dv.bandwidth / 1e12, dv.ridge_point, _points(dv, hd),
                                dv.source) for dv in DEVICES)
    return Roofline(hd, DECODE_CONTEXT, devs,
                    "compulsory traffic only (each of Q, K, V, O once, 16-bit): a real flash kernel re-reads K and V "
                    "once per query block; AI = n/2 for prefill, g for decode")


@dataclass(frozen=True)
class MemorySeries:
    method: str
    seqlens: tuple[int, ...]
    peak_mib: tuple[float, ...]
    slope: float | None        # log-log least squares over the fitted points (None: fewer than 3 usable)
    fitted_from: int           # the smallest seqlen used in the fit


@dataclass(frozen=True)
class MeasuredMemory:
    available: bool
    reason: str
    device: str
    batch: int
    heads: int
    head_dim: int
    dtype: str
    series: tuple[MemorySeries, ...]
    score_matrix_mib: tuple[float, ...]   # b·h·n² · β per seqlen, as the file records it
    source: str
    cpu_note: str


FIT_FROM = 2048
"""The slopes are fitted from this length on: below it allocator granularity and fixed buffers dominate."""


@builder("L04.2")
def measured_memory() -> MeasuredMemory:
    """Bench suite 'memory' on the H200: peak extra memory of one attention forward vs length; materialised
    (naive) ∝ n², tiled (flash) ∝ n. The CPU file's RSS-based numbers are too coarse for a slope (zeros, a
    negative value) and are only named."""
    r = bench(GPU_FILE)
    if r is None:
        return MeasuredMemory(False, f"benchmarks/results/{GPU_FILE} is not committed", "", 0, 0, 0, "", (), (), "",
                              "")
    recs = records(r, "memory")
    series = []
    for method in dict.fromkeys(x["method"] for x in recs):
        pts = sorted((x["seqlen"], x["peak_extra_bytes"]) for x in recs if x["method"] == method)
        fit = [(n, b) for n, b in pts if n >= FIT_FROM and b > 0]
        series.append(MemorySeries(method, tuple(n for n, _ in pts), tuple(b / MIB for _, b in pts),
                                   loglog_slope(*zip(*fit)) if len(fit) >= 3 else None, FIT_FROM))
    first = recs[0]
    lens = sorted({x["seqlen"] for x in recs})
    score = tuple(next(x["score_matrix_bytes"] for x in recs if x["seqlen"] == n) / MIB for n in lens)
    cpu = bench(CPU_FILE)
    cpu_note = ""
    if cpu is not None:
        cpu_recs = records(cpu, "memory")
        bad = [x for x in cpu_recs if x["peak_extra_bytes"] <= 0]
        cpu_note = (f"CPU file ({cpu_recs[0]['memory_source']}): {len(bad)} of {len(cpu_recs)} readings ≤ 0 B; "
                    f"too coarse for a slope, not plotted")
    return MeasuredMemory(True, "", r["provenance"].get("gpu_model", ""), first["batch"], first["heads"],
                          first["head_dim"], first["dtype"], tuple(series), score, bench_source(r), cpu_note)


@dataclass(frozen=True)
class PrefillSeries:
    method: str
    seqlens: tuple[int, ...]
    batch: tuple[int, ...]
    time_ms: tuple[float, ...]          # one call: batch × seqlen = 16K tokens
    time_per_seq_ms: tuple[float, ...]  # time / batch: one sequence of that length
    tflops: tuple[float, ...]
    slope_per_seq: float                # log-log slope of time per sequence (≈ 2 where compute-bound)


@dataclass(frozen=True)
class MeasuredPrefill:
    available: bool
    reason: str
    head_dim: int
    heads: int
    causal: bool
    tokens_per_call: int
    series: tuple[PrefillSeries, ...]
    source: str
    cpu_head_dim: int                   # the CPU file's shapes (float32, head dim 64, 8 heads, b·n = 4K)
    cpu_series: tuple[PrefillSeries, ...]
    cpu_source: str
    cpu_load: float | None              # 1-minute load average when the CPU run started (2 CPUs)


PREFILL_METHODS = ("naive", "torch_sdpa[flash_attention]")
PREFILL_HEAD_DIM = 128
CPU_HEAD_DIM = 64


def _prefill_series(result: dict, head_dim: int) -> tuple[PrefillSeries, ...]:
    recs = [x for x in records(result, "prefill") if x["head_dim"] == head_dim and not x["causal"]]
    series = []
    for m in PREFILL_METHODS:
        pts = sorted((x["seqlen"], x["batch"], x["time_ms"], x["tflops"]) for x in recs if x["method"] == m)
        per_seq = tuple(t / b for _, b, t, _ in pts)
        series.append(PrefillSeries(m, tuple(p[0] for p in pts), tuple(p[1] for p in pts), tuple(p[2] for p in pts),
                                    per_seq, tuple(p[3] for p in pts), loglog_slope([p[0] for p in pts], per_seq)))
    return tuple(series)


@builder("L04.2")
def measured_prefill() -> MeasuredPrefill:
    """Bench suite 'prefill' on the H200 (head dim 128, non-causal): batch × seqlen is held fixed (16K tokens),
    so the time per call grows like n and the time per sequence like n². The CPU file's run (float32, head
    dim 64) beside it, with the machine's load when it ran."""
    r = bench(GPU_FILE)
    if r is None:
        return MeasuredPrefill(False, f"benchmarks/results/{GPU_FILE} is not committed", 0, 0, False, 0, (), "", 0,
                               (), "", None)
    recs = [x for x in records(r, "prefill") if x["head_dim"] == PREFILL_HEAD_DIM and not x["causal"]]
    tokens = {x["batch"] * x["seqlen"] for x in recs}
    cpu = bench(CPU_FILE)
    return MeasuredPrefill(True, "", PREFILL_HEAD_DIM, recs[0]["heads"], False, min(tokens),
                           _prefill_series(r, PREFILL_HEAD_DIM), bench_source(r), CPU_HEAD_DIM,
                           _prefill_series(cpu, CPU_HEAD_DIM) if cpu else (), bench_source(cpu) if cpu else "",
                           cpu["provenance"].get("load_average_1m") if cpu else None)


@dataclass(frozen=True)
class DecodeFloorRow:
    context: int
    kv_bytes: int
    kv_ms_h100: float
    kv_ms_h200: float
    total_ms_h100: float       # (weights + KV) / bandwidth
    total_ms_h200: float


@dataclass(frozen=True)
class DecodeFloor:
    model: str
    batch: int
    weights_bytes: int
    weights_ms_h100: float
    weights_ms_h200: float
    rows: tuple[DecodeFloorRow, ...]
    kv_4k_gib: float           # 2 GiB
    kv_4k_ms_h100: float       # ≥ 0.64 ms


FLOOR_CONTEXTS = (1024, 4096, 16384, 32768, 131072)


@builder("L04.2")
def decode_floor() -> DecodeFloor:
    """A decode step streams the weights and the KV cache at least once: t ≥ bytes / bandwidth
    (``ar.decode_time_lower_bound``), Llama-2-7B at batch 1."""
    w = MODEL.n_params() * FP16
    h100, h200 = ar.H100_SXM, ar.H200
    rows = []
    for n in FLOOR_CONTEXTS:
        kv = MODEL.kv_cache_bytes(n)
        rows.append(DecodeFloorRow(n, kv, 1e3 * ar.decode_time_lower_bound(kv, h100),
                                   1e3 * ar.decode_time_lower_bound(kv, h200),
                                   1e3 * ar.decode_time_lower_bound(MODEL.decode_bytes(n), h100),
                                   1e3 * ar.decode_time_lower_bound(MODEL.decode_bytes(n), h200)))
    kv4 = MODEL.kv_cache_bytes(4096)
    return DecodeFloor(MODEL.name, 1, w, 1e3 * ar.decode_time_lower_bound(w, h100),
                       1e3 * ar.decode_time_lower_bound(w, h200), tuple(rows), kv4 / GIB,
                       1e3 * ar.decode_time_lower_bound(kv4, h100))
