"""L06.6 Performance gains. Left, cited: the FlashAttention-3 paper's forward figure (H100 80GB SXM5, FP16,
batch × seqlen = 16K, hidden 2048), hdim 128 non-causal: Standard, FA2, Triton, cuDNN, FA3 at 512 … 16K.
Right, measured: the prefill suite of the H200 file: naive, ``attn_ref.sdpa``, torch SDPA per backend that
ran (label = backend), our Triton FA-2 kernel; TFLOP/s by sequence length per head dim and causal flag,
with the source line. FLOPs by one convention, 4·b·h·n²·d halved when causal, from the same flag the kernel
received (E6.8); the file's FLOPs are checked against ``ar.attention_flops``."""
from __future__ import annotations

from dataclasses import dataclass

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import SHAH

from ._shared import GPU_RESULT, Vec, bench_result, bench_source, missing

SEQLENS: tuple[int, ...] = (512, 1024, 2048, 4096, 8192, 16384)
PREFILL_METHODS: tuple[str, ...] = ("naive", "attn_ref.sdpa", "torch_sdpa[math]", "torch_sdpa[efficient_attention]",
                                    "torch_sdpa[flash_attention]", "torch_sdpa[cudnn_attention]", "triton_fa2")


@dataclass(frozen=True)
class CitedRow:
    method: str
    tflops: tuple[float | None, ...]  # None = OOM


@dataclass(frozen=True)
class FA3Cited:
    setup: str
    head_dim: int
    causal: bool
    seqlens: tuple[int, ...]
    rows: tuple[CitedRow, ...]
    headline: tuple[str, ...]
    source: str
    note: str


@builder("L06.6")
def fa3_cited() -> FA3Cited:
    """FA3 paper, Fig. 5 forward panel (the flash-attn README's assets/flash3_fp16_fwd.png), hdim 128, non-causal."""
    return FA3Cited(
        "H100 80GB SXM5, FP16, batch × seqlen = 16K, hidden 2048 (16 heads of 128)", 128, False, SEQLENS,
        (CitedRow("Standard", (74.0, 100.0, 119.0, 133.0, 139.0, None)),
         CitedRow("FlashAttention-2", (309.0, 350.0, 362.0, 368.0, 370.0, 370.0)),
         CitedRow("Triton", (323.0, 372.0, 389.0, 389.0, 392.0, 395.0)),
         CitedRow("cuDNN", (497.0, 574.0, 617.0, 609.0, 600.0, 595.0)),
         CitedRow("FlashAttention-3", (467.0, 565.0, 625.0, 638.0, 646.0, 648.0))),
        ("FP16 up to 740 TFLOP/s (75% utilization)", "FP8 close to 1.2 PFLOP/s"),
        f"{SHAH.short()}, Figure 5 (forward, FP16) and abstract",
        "H100 SXM, not our H200 and not PCIe; 'Triton' is the Triton tutorial kernel; read off the figure's labels")


@dataclass(frozen=True)
class Series:
    method: str
    tflops: Vec
    time_ms: Vec


@dataclass(frozen=True)
class Panel:
    figure: str                       # the file's figure name (attn_ref.bench.results.chart_data)
    head_dim: int
    causal: bool
    seqlens: tuple[int, ...]
    batch: tuple[int, ...]
    heads: int
    series: tuple[Series, ...]
    skipped: tuple[str, ...]          # "method: reason" for backends that did not run


@dataclass(frozen=True)
class PrefillMeasured:
    available: bool
    reason: str
    file: str
    device: str
    form_factor: str                  # what the file says about SXM vs PCIe/NVL
    dtype: str
    peak_tflops: float
    backends_ran: tuple[str, ...]     # torch SDPA backends with records
    panels: tuple[Panel, ...]
    flops_match_convention: bool      # every record's flops == ar.attention_flops(b, h, n, n, d, causal)
    triton_over_flash_backend: Vec    # triton_fa2 / torch_sdpa[flash_attention], hdim 128 non-causal
    triton_share_of_peak: Vec         # hdim 128 non-causal
    source: str
    note: str


@builder("L06.6")
def prefill_measured() -> PrefillMeasured:
    """Suite 'prefill' of the GPU file: four panels (d = 64, 128 × causal or not), one series per method."""
    r = bench_result(GPU_RESULT)
    recs = [] if r is None else [x for x in r["records"] if x["suite"] == "prefill"]
    ran = [x for x in recs if "skipped" not in x]
    if not ran:
        return PrefillMeasured(False, missing(GPU_RESULT) if r is None else f"no prefill records in {GPU_RESULT}",
                               GPU_RESULT, "", "", "", 0.0, (), (), False, (), (), "", "")
    panels = []
    for d in sorted({x["head_dim"] for x in ran}):
        for causal in (False, True):
            rows = [x for x in ran if x["head_dim"] == d and x["causal"] == causal]
            ns = tuple(sorted({x["seqlen"] for x in rows}))
            by = {(x["method"], x["seqlen"]): x for x in rows}
            series = tuple(Series(m, tuple(by[(m, n)]["tflops"] for n in ns), tuple(by[(m, n)]["time_ms"] for n in ns))
                           for m in PREFILL_METHODS if all((m, n) in by for n in ns))
            skipped = tuple(f"{x['method']}: {x['skipped']}" for x in recs
                            if "skipped" in x and x["head_dim"] == d and x["causal"] == causal)
            name = f"prefill_d{d}_{'causal' if causal else 'full'}"
            panels.append(Panel(name, d, causal, ns, tuple(by[(series[0].method, n)]["batch"] for n in ns),
                                rows[0]["heads"], series, skipped))
    ok = all(x["flops"] == ar.attention_flops(x["batch"], x["heads"], x["seqlen"], x["seqlen"], x["head_dim"],
                                              causal=x["causal"]) for x in ran)
    peak = float(r["provenance"]["peaks"]["fp16_tflops"])
    p128 = next(p for p in panels if p.head_dim == 128 and not p.causal)
    s = {x.method: x for x in p128.series}
    tri, fl = s["triton_fa2"].tflops, s["torch_sdpa[flash_attention]"].tflops
    prov = r["provenance"]
    form = ("not recorded: the file names the GPU "
            f"'{prov['gpu_model']}' ({prov.get('sm_count')} SMs, {prov.get('gpu_memory_gib')} GiB) and matched the "
            f"peaks of '{prov['peaks'].get('matched')}' ({prov['peaks']['bandwidth_gbs']:g} GB/s, "
            f"{prov['peaks']['fp16_tflops']:g} TFLOP/s), which the SXM and the NVL (PCIe) H200 share")
    return PrefillMeasured(True, "", GPU_RESULT, prov["gpu_model"], form, r["dtype"], peak,
                           tuple(sorted({x["method"][11:-1] for x in ran if x["method"].startswith("torch_sdpa[")})),
                           tuple(panels), ok, tuple(a / b for a, b in zip(tri, fl)), tuple(a / peak for a in tri),
                           bench_source(r, "prefill"),
                           "forward only; batch × seqlen = 16K tokens, heads × head_dim = 2048 (the FA3 paper's "
                           "shapes); FLOPs 4·b·h·n²·d, halved when causal, from the flag each kernel received; "
                           "median of 20 repeats; an H200 (the same GH100 compute as the H100 SXM), not the FA3 "
                           "figure's H100")


@dataclass(frozen=True)
class FlopsConvention:
    b: int
    h: int
    n: int
    d: int
    forward: int                      # 4 b h n² d
    forward_causal: int               # half
    backward: float                   # 2.5 × forward
    forward_backward: float           # 3.5 × forward
    inflated_causal_tflops: float     # a causal run counted with non-causal FLOPs: 2× the true rate
    true_causal_tflops: float
    inflation_source: str
    example: str


@builder("L06.6")
def flops_convention() -> FlopsConvention:
    """E6.8 at the FA3 figure's 4K point (b = 4, h = 16, n = 4096, d = 128), and the 2× inflation of counting
    a causal run's FLOPs as non-causal, on the file's measured causal Triton time at that point."""
    b, h, n, d = 4, 16, 4096, 128
    fwd = ar.attention_flops(b, h, n, n, d)
    fwd_c = ar.attention_flops(b, h, n, n, d, causal=True)
    r = bench_result(GPU_RESULT)
    rec = None if r is None else next((x for x in r["records"] if x["suite"] == "prefill" and x["method"] ==
                                       "triton_fa2" and x["causal"] and x["head_dim"] == d and x["seqlen"] == n
                                       and "skipped" not in x), None)
    t = rec["time_ms"] * 1e-3 if rec else float("nan")
    return FlopsConvention(b, h, n, d, fwd, fwd_c, 2.5 * fwd, 3.5 * fwd, fwd / t / 1e12 if rec else float("nan"),
                           fwd_c / t / 1e12 if rec else float("nan"),
                           "triton-lang/triton #1849 (the tutorial's 2023 benchmark counted non-causal FLOPs for "
                           "causal runs)", "triton_fa2, causal, d = 128, n = 4096, batch 4, 16 heads (H200 file)")
