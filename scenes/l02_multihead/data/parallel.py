"""L02.7 Parallel computation: heads as a batch axis (one batched matmul = a loop over heads, same FLOPs),
the batched-vs-loop timing from a benchmark result file when one exists, and tensor parallelism by heads
(W_Q/W_K/W_V split by columns, W_O by rows, one all-reduce sum)."""
from __future__ import annotations

import json
from dataclasses import dataclass

import torch

import attn_ref as ar
from attn_ref.bench.results import RESULTS_DIR, source_line
from scenes.kit.data_builders import builder
from scenes.kit.format import MINUS, shown
from scenes.kit.tensors import gaussian

from ._shared import Mat, load_mha, to_tuple

BATCH_SHAPE = dict(batch=2, n_heads=8, n=128, head_dim=64, seed=0)
"""Heads as a batch axis: B · H = 16 independent (128 × 64) attention problems."""


@dataclass(frozen=True)
class BatchedHeads:
    batch: int
    n_heads: int
    n: int
    head_dim: int
    problems: int                 # B · H independent (n × d_h) problems
    batched_shape: tuple[int, ...]   # (B·H, n, d_h): what one batched matmul sees
    max_diff_loop_vs_batched: float  # |loop over heads − one batched call| (max)
    flops_batched: int            # ar.attention_flops(B, H, n, n, d_h)
    flops_loop: int               # Σ over the H·B per-head calls: the same count


@builder("L02.7")
def batched_heads() -> BatchedHeads:
    """One ``ar.sdpa`` call over (B, H, n, d_h) equals a Python loop over the heads, with the same FLOPs."""
    B, H, n, hd, seed = (BATCH_SHAPE[k] for k in ("batch", "n_heads", "n", "head_dim", "seed"))
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(B, H, n, hd, generator=g, dtype=torch.float64) for _ in range(3))
    batched = ar.sdpa(q, k, v)
    loop = torch.stack([torch.stack([ar.sdpa(q[b, h][None, None], k[b, h][None, None], v[b, h][None, None])[0, 0]
                                     for h in range(H)]) for b in range(B)])
    return BatchedHeads(B, H, n, hd, B * H, (B * H, n, hd), float((batched - loop).abs().max()),
                        ar.attention_flops(B, H, n, n, hd), B * H * ar.attention_flops(1, 1, n, n, hd))


HEAD_LOOP_SUITE = "heads"
"""The benchmark suite the L02.7 timing comes from (``attn_ref.bench.suites.heads_suite``): records with
methods ``batched[impl]`` and ``head_loop[impl]``, impl ``torch_sdpa`` (fused) or ``attn_ref.sdpa``."""


@dataclass(frozen=True)
class HeadLoopTiming:
    available: bool
    reason: str                   # why not, when not available
    files: tuple[str, ...]        # result files read
    rows: tuple[tuple[str, str, int, int, int, float], ...]   # (device file, method, heads, seqlen, head_dim, ms)
    sources: tuple[str, ...]      # source line per file with records
    # the chart a scene draws: the fused implementation, batched vs loop per head count, one file, one length
    chart_impl: str = ""          # CHART_IMPL when its records exist
    chart_file: str = ""          # a GPU file if one has records, else the first
    chart_device: str = ""        # "GPU" or "CPU"
    chart_source: str = ""        # the file's source line
    chart_seqlen: int = 0         # the shortest length measured (per-call overhead weighs most there)
    chart_heads: tuple[int, ...] = ()
    chart_head_dims: tuple[int, ...] = ()
    chart_batched_ms: tuple[float, ...] = ()
    chart_loop_ms: tuple[float, ...] = ()
    chart_speedup: tuple[float, ...] = ()     # loop ms / batched ms


CHART_IMPL = "torch_sdpa"
"""The implementation the L02.7 chart compares: torch's fused SDPA (the reference materialises the scores)."""


def _chart(rows, sources: dict[str, str], devices: dict[str, str]) -> dict:
    """Batched vs head-loop times of CHART_IMPL in one file at its shortest length (empty when missing)."""
    mine = [r for r in rows if r[1] in (f"batched[{CHART_IMPL}]", f"head_loop[{CHART_IMPL}]")]
    if not mine:
        return {}
    files = sorted({r[0] for r in mine}, key=lambda f: (devices[f] != "cuda", f))
    f = files[0]
    times = {(r[1].split("[")[0], r[2], r[3]): (r[4], r[5]) for r in mine if r[0] == f}
    pairs = sorted({(h, n) for m, h, n in times if ("batched", h, n) in times and ("head_loop", h, n) in times})
    if not pairs:
        return {}
    n = min(n for _, n in pairs)
    heads = tuple(h for h, m in pairs if m == n)
    batched = tuple(times[("batched", h, n)][1] for h in heads)
    loop = tuple(times[("head_loop", h, n)][1] for h in heads)
    return dict(chart_impl=CHART_IMPL, chart_file=f, chart_device="GPU" if devices[f] == "cuda" else "CPU",
                chart_source=sources[f], chart_seqlen=n, chart_heads=heads,
                chart_head_dims=tuple(times[("batched", h, n)][0] for h in heads), chart_batched_ms=batched,
                chart_loop_ms=loop, chart_speedup=tuple(a / b for a, b in zip(loop, batched)))


@builder("L02.7")
def head_loop_timing() -> HeadLoopTiming:
    """Batched vs per-head-loop wall time from a committed benchmark result (suite 'heads'), if present.
    No number is invented: without such records ``available`` is False and ``reason`` says what is missing."""
    files, rows, sources = [], [], []
    by_file, devices = {}, {}
    for path in sorted(RESULTS_DIR.glob("*.json")):
        result = json.loads(path.read_text())
        files.append(path.name)
        recs = [r for r in result.get("records", []) if r.get("suite") == HEAD_LOOP_SUITE and "skipped" not in r]
        if recs:
            sources.append(source_line(result))
            by_file[path.name] = sources[-1]
            devices[path.name] = result["provenance"].get("device", "")
            rows += [(path.name, r["method"], r["heads"], r["seqlen"], r["head_dim"], float(r["time_ms"]))
                     for r in recs]
    reason = "" if rows else (f"no records of suite {HEAD_LOOP_SUITE!r} (methods 'batched[...]', 'head_loop[...]') in "
                              f"benchmarks/results/*.json: the bench needs a heads micro-suite")
    return HeadLoopTiming(bool(rows), reason, tuple(files), tuple(rows), tuple(sources),
                          **_chart(rows, by_file, devices))


TP_SHAPE = dict(d_model=8, n_heads=4, devices=2, seq=5, seed=3)
"""Tensor parallelism demo: d_model 8, 4 heads of width 2, 2 devices holding 2 heads each."""


@dataclass(frozen=True)
class TensorParallel:
    d_model: int
    n_heads: int
    head_dim: int
    devices: int
    heads_per_device: tuple[tuple[int, ...], ...]
    qkv_columns: tuple[tuple[int, int], ...]   # column range of W_Q/W_K/W_V each device holds
    o_rows: tuple[tuple[int, int], ...]        # row range of W_O each device holds
    params_per_device: int                     # a 1/devices share of the layer's 4·d² parameters
    params_total: int                          # ar.attention_params(d_model, H)
    partials: tuple[Mat, ...]                  # (devices, L, d_model): each device's partial output
    all_reduce: Mat                            # Σ partials
    full: Mat                                  # ar.MultiHeadAttention.forward on one device
    max_diff: float                            # |all-reduce − full| (max)
    all_reduce_numbers: int                    # L · d_model numbers summed per forward (one all-reduce)
    example_row: int                           # first token whose partials, shown to 2 places, add up on screen


@builder("L02.7")
def tensor_parallel() -> TensorParallel:
    """Megatron-style: each device computes its heads with its column slices of W_Q, W_K, W_V and its row slice
    of W_O; the partial outputs add up (one all-reduce) to the single-device output."""
    d, H, D, L, seed = (TP_SHAPE[k] for k in ("d_model", "n_heads", "devices", "seq", "seed"))
    hd, per = d // H, H // D
    w = gaussian((4, d, d), seed, 0.5)
    x = gaussian((1, L, d), seed + 1)
    full = load_mha(*w, H)
    cols = tuple((dev * per * hd, (dev + 1) * per * hd) for dev in range(D))
    partials = []
    with torch.no_grad():
        for a, b in cols:  # one device: its heads' columns of W_Q, W_K, W_V and rows of W_O
            q, k, v = ((x @ m[:, a:b]).view(1, L, per, hd).transpose(1, 2) for m in w[:3])
            heads = ar.sdpa(q, k, v)                                # (1, per, L, d_h), no mask
            partials.append(heads.transpose(1, 2).reshape(L, b - a) @ w[3][a:b])
        out = full(x)[0]
    total = torch.stack(partials).sum(0)
    example = next(i for i in range(L) if _adds_up([p[i].tolist() for p in partials], total[i].tolist()))
    return TensorParallel(
        d, H, hd, D, tuple(tuple(range(dev * per, (dev + 1) * per)) for dev in range(D)), cols, cols,
        4 * d * d // D, ar.attention_params(d, H), tuple(to_tuple(p) for p in partials), to_tuple(total),
        to_tuple(out), float((total - out).abs().max()), L * d, example)


def _adds_up(parts: list[list[float]], total: list[float], decimals: int = 2) -> bool:
    """The parts' values as the screen shows them (``decimals`` places) add up to the shown total."""
    r = [[round(float(shown(v, decimals).replace(MINUS, "-")) * 10 ** decimals) for v in row] for row in parts]
    t = [round(float(shown(v, decimals).replace(MINUS, "-")) * 10 ** decimals) for v in total]
    return all(sum(col) == tv for col, tv in zip(zip(*r), t))
