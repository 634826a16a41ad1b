"""Lecture 6's companion notebook (``scripts/notebooks.py --lecture 06`` writes notebooks/06-*.ipynb).

The code cells are what a learner would write with ``attn_ref`` and torch: the same seeds, inputs and
calls as the data builders (``data/``), never an import of the scene package. ``$NAME`` placeholders
are filled with the data modules' own constants (``VALUES``), so a constant changed there changes the
notebook on regeneration. The measured numbers of L06.3, L06.4 and L06.6 are read from the committed GPU files
(benchmarks/results/gpu-nvidia-h200.json and benchmarks/gpu-runs/h200/triton-kernel-check.json), as a learner
would read them, and checked; the Triton kernel itself is read as text, never run (it needs a GPU).
``checks`` name the builder field each printed number must equal; the tests (tests/notebooks) execute the
notebook and compare. The builders that only quote published figures are listed in ``unchecked``.
"""
from __future__ import annotations

from scenes.kit.notebook import NotebookSpec, TopicCells, helpers

from .data import _shared, hierarchy, implementation, io_aware, performance, tiling

VALUES = {
    # the running example and the GPU files
    "N": _shared.N, "D": _shared.D, "BLOCK": _shared.BLOCK, "SEED": _shared.SEED, "GPU_RESULT": _shared.GPU_RESULT,
    # L06.1
    "IO_N": io_aware.IO_N, "IO_D": io_aware.IO_D, "SRAM_BYTES": io_aware.SRAM_BYTES,
    # L06.2
    "ROW": tiling.ROW, "RAGGED_N": tiling.RAGGED_N, "RAGGED_SEED": tiling.RAGGED_SEED,
    "SRAM_EXAMPLES": tiling.SRAM_EXAMPLES,
    # L06.3
    "LENGTHS": hierarchy.LENGTHS, "HEAD_DIM": hierarchy.HEAD_DIM, "SRAM_SIZES": hierarchy.SRAM_SIZES,
    "EXAMPLE": hierarchy.EXAMPLE, "MEMORY_METHODS": hierarchy.MEMORY_METHODS,
    # L06.4
    "DO_SEED": implementation.DO_SEED, "KERNEL_ROW": implementation.ROW,
    # L06.6
    "PREFILL_METHODS": performance.PREFILL_METHODS,
}

INTRO = """
Every number in the video of this lecture is computed by `attn_ref`, the course's tested library of attention
implementations (among them `ar.flash_attention`, a readable tile-by-tile FlashAttention loop that can record
every step, and the HBM traffic counters `ar.attention_io` and `ar.trace_io`), or read from the committed GPU
files of the repository (`benchmarks/results/gpu-nvidia-h200.json` and
`benchmarks/gpu-runs/h200/triton-kernel-check.json`, measured on an NVIDIA H200). This notebook recomputes them
with the same seeds, the same inputs and the same calls, and reads the same files, so you can check any number
you saw on screen, then change the block size, the length or the SRAM budget and see what moves. It needs only
`attn_ref` (`pip install .` in the repository, which also holds the result files) and matplotlib, and runs on a
CPU in seconds. The Triton kernel of L06.4 needs a GPU: here it is only read, and its GPU check is read from the
file.

The running example is one attention head: Q, K and V are 16 × 4 matrices (N = 16 tokens, head dim d = 4) of
seeded N(0, 1) numbers rounded to two decimals, in float64. Tiled in blocks of 4 rows and 4 columns, the 16 × 16
score matrix becomes a 4 × 4 grid of tiles, small enough that every number fits on a tile. Nothing in the
algorithm depends on the size: real kernels use blocks of 64 or 128 and d = 64 or 128.

Units: KiB = 2^10 bytes, MiB = 2^20 bytes, GB = 10^9 bytes; fp16 = 2 bytes per number; FLOPs count a multiply-add
as 2. The last line of each topic, `NUMBERS L06.k {...}`, prints its key numbers at full precision: the
repository's tests run this notebook and compare that line with the values the video draws.
"""

SETUP = ("""
import json
import math

import matplotlib.pyplot as plt
import torch

import attn_ref as ar
from attn_ref.bench.results import RESULTS_DIR, source_line  # benchmarks/results/ in the repository
""" + helpers("report", "gaussian", "max_abs", "bench_result") + """

def bench_source(result, suite=None):
    # The source line printed under a measured figure: device, versions, the commit a suite was rerun at,
    # SM count, Triton and CUDA versions, and the command.
    line = source_line(result)
    p = result["provenance"]
    for suites, commit in (p.get("later_commits") or {}).items():
        if suite and suite in suites.split(","):
            line += f" ({suite} rerun at attn_ref {commit[:8]})"
    extra = [f"{p['sm_count']} SMs" if p.get("sm_count") else "", f"triton {p['triton']}" if p.get("triton") else "",
             f"CUDA {p['cuda']}" if p.get("cuda") else ""]
    extra = ", ".join(e for e in extra if e)
    return f"{line}{'; ' + extra if extra else ''}; `{p['command']}`"
""", """
# The running example: one head, N = 16 tokens, d = 4, float64, shaped (batch 1, head 1, N, d).
N, D, BLOCK, SEED, GPU_RESULT = ${N}, ${D}, ${BLOCK}, ${SEED}, ${GPU_RESULT}
g = gaussian((3, N, D), SEED)
q, k, v = g[0][None, None], g[1][None, None], g[2][None, None]


def run(q, k, v, version=2, block_q=BLOCK, block_k=BLOCK, causal=False):
    # ar.flash_attention with a trace: (O, LSE, the "flash.step" steps, the "flash.final" step).
    trace = ar.Trace()
    out, lse = ar.flash_attention(q, k, v, block_q=block_q, block_k=block_k, causal=causal, version=version,
                                  return_lse=True, trace=trace)
    return out, lse, trace.of_kind("flash.step"), trace.of_kind("flash.final")[0]


print("Q =", q[0, 0])
""")

L06_1 = TopicCells(
    topic="L06.1",
    explanation="""
A GPU has two kinds of memory that matter here. HBM is large (40 to 141 GB) and, at 1.5 to 4.8 TB/s, fast by
any other standard; on-chip SRAM (the shared memory of each streaming multiprocessor, SM) is over ten times
faster but tiny: about 192 KB per SM on an A100, at most 228 KB on an H100. Every kernel loads its inputs from
HBM into SRAM and writes its outputs back. When a kernel does little arithmetic per byte it moves, its time is
set by those transfers, not by the arithmetic: it is *memory-bound*.

Standard attention (Algorithm 0 of the FlashAttention paper) runs as three kernels: S = QKᵀ, then
P = softmax(S), then O = PV. The N × N matrices S and P are written to HBM and read back again. Below,
`ar.attention_io` counts the bytes for one head with N = 1024, d = 64 in fp16: 8.9 MB for the standard version,
1 MB for a fused kernel that keeps each tile of S in SRAM and never writes it. The roofline model then compares
each pass's FLOPs per byte with the H100's ridge point (peak FLOP/s ÷ bandwidth, about 295): the element-wise
passes do around one FLOP per byte, and even the two matmuls, once S or P goes through HBM, do only about d.
Every pass sits below the ridge, so the fix is to move fewer bytes, not to compute faster.
""",
    code=("""
# The hierarchy, from the H100 SXM spec in attn_ref (the A100 figures are cited in the lecture).
H100 = ar.H100_SXM
smem_per_sm, sms = 228 * 1024, 132
print(f"{H100.name}: HBM {H100.memory_bytes / 1e9:.0f} GB at {H100.bandwidth / 1e12:.2f} TB/s; "
      f"shared memory {smem_per_sm // 1024} KB x {sms} SMs = {smem_per_sm * sms / 1e6:.1f} MB in all")

# Algorithm 0 line by line against the fused forward: bytes through HBM for one head, fp16.
IO_N, IO_D, SRAM_BYTES = ${IO_N}, ${IO_D}, ${SRAM_BYTES}
std, s = ar.attention_io(IO_N, IO_D, SRAM_BYTES, method="standard", breakdown=True)
fl, f = ar.attention_io(IO_N, IO_D, SRAM_BYTES, method="flash", version=2, breakdown=True)


def lines(rows, b=2):
    # (label, read elements, written elements) -> (label, read bytes, written bytes, cumulative bytes)
    out, cum = [], 0
    for label, r, w in rows:
        cum += (r + w) * b
        out.append((label, r * b, w * b, cum))
    return out


standard = lines((("1. load Q, K; S = QKᵀ; write S", s["read_QK"], s["write_S"]),
                  ("2. read S; P = softmax(S); write P", s["read_S"], s["write_P"]),
                  ("3. load P, V; O = PV; write O", s["read_PV"], s["write_O"])))
fused = lines((("load each Q block once", f["read_Q"], 0),
               (f"stream K, V past every Q block ({f['T_r']}x)", f["read_KV"], 0),
               ("write O and LSE once", 0, f["write_O"] + f["write_LSE"])))
for name, rows in (("standard", standard), ("fused", fused)):
    for label, r, w, cum in rows:
        print(f"{name:8s} {label:44s} read {r:>9,} B  write {w:>9,} B  total so far {cum:>9,} B")
score_bytes = ar.score_matrix_bytes(1, 1, IO_N, IO_N, 2)
print(f"standard {std:,} B vs fused {fl:,} B: {std / fl:.2f}x; S alone is {score_bytes / 2**20:.0f} MiB; "
      f"fused blocks B_r = {f['block_r']}, B_c = {f['block_c']}")
""", """
# The roofline of each pass of standard attention (N = 1024, d = 64, fp16) on the H100 SXM.
n, d, b = IO_N, IO_D, 2
passes = []
for name, flops, nbytes in (("S = QKᵀ", 2 * n * n * d, (2 * n * d + n * n) * b),
                            ("mask", n * n, 2 * n * n * b),
                            ("softmax", 5 * n * n, 2 * n * n * b),
                            ("dropout", 2 * n * n, 2 * n * n * b),
                            ("O = PV", 2 * n * n * d, (n * n + 2 * n * d) * b)):
    r = ar.roofline(flops, nbytes, H100)
    passes.append(dict(name=name, flops=float(flops), bytes=float(nbytes), intensity=r.intensity, bound=r.bound,
                       time_us=r.time * 1e6))
    print(f"{name:8s} {r.intensity:7.2f} FLOP/B -> {r.bound}-bound, at least {r.time * 1e6:6.2f} us")
print(f"ridge point of the {H100.name}: {H100.ridge_point:.1f} FLOP/B")

fig, ax = plt.subplots(figsize=(7, 3))
ax.bar([p["name"] for p in passes], [p["intensity"] for p in passes])
ax.axhline(H100.ridge_point, color="r", ls="--", label=f"ridge point {H100.ridge_point:.0f} FLOP/B")
ax.set_yscale("log")
ax.set_ylabel("FLOP per byte of HBM traffic")
ax.set_title("standard attention, one head, N = 1024, d = 64: every pass is memory-bound")
ax.legend(fontsize=8)
plt.show()

report("L06.1", h100_hbm_bytes_per_s=H100.bandwidth, h100_hbm_bytes=H100.memory_bytes,
       h100_smem_total_bytes=smem_per_sm * sms,
       standard_reads=[x[1] for x in standard], standard_writes=[x[2] for x in standard],
       standard_cum=[x[3] for x in standard], fused_reads=[x[1] for x in fused],
       fused_writes=[x[2] for x in fused], fused_cum=[x[3] for x in fused], standard_bytes=std, fused_bytes=fl,
       ratio=std / fl, score_matrix_bytes=score_bytes, block_r=f["block_r"], block_c=f["block_c"],
       ridge_point=H100.ridge_point, pass_flops=[p["flops"] for p in passes],
       pass_bytes=[p["bytes"] for p in passes], pass_intensity=[p["intensity"] for p in passes],
       pass_bound=[p["bound"] for p in passes], pass_time_us=[p["time_us"] for p in passes])
""",),
    try_this="""
# Try this: double N. Which count grows 4x, which about 2x? (Hint: who writes S?)
for n in (1024, 2048, 4096):
    a = ar.attention_io(n, 64, 192 * 1024, method="standard")
    b = ar.attention_io(n, 64, 192 * 1024, method="flash", version=2)
    print(n, f"{a:,}", f"{b:,}", round(a / b, 2))
""",
    checks={
        "h100_hbm_bytes_per_s": "memory_pyramid.h100_hbm_bytes_per_s",
        "h100_hbm_bytes": "memory_pyramid.h100_hbm_bytes",
        "h100_smem_total_bytes": "memory_pyramid.h100_smem_total_bytes",
        "standard_reads": "standard_vs_fused.standard.*.reads",
        "standard_writes": "standard_vs_fused.standard.*.writes",
        "standard_cum": "standard_vs_fused.standard.*.cum_bytes", "fused_reads": "standard_vs_fused.fused.*.reads",
        "fused_writes": "standard_vs_fused.fused.*.writes", "fused_cum": "standard_vs_fused.fused.*.cum_bytes",
        "standard_bytes": "standard_vs_fused.standard_bytes", "fused_bytes": "standard_vs_fused.fused_bytes",
        "ratio": "standard_vs_fused.ratio", "score_matrix_bytes": "standard_vs_fused.score_matrix_bytes",
        "block_r": "standard_vs_fused.block_r", "block_c": "standard_vs_fused.block_c",
        "ridge_point": "memory_bound.ridge_point", "pass_flops": "memory_bound.passes.*.flops",
        "pass_bytes": "memory_bound.passes.*.bytes", "pass_intensity": "memory_bound.passes.*.intensity",
        "pass_bound": "memory_bound.passes.*.bound", "pass_time_us": "memory_bound.passes.*.time_us",
    },
    unchecked={"fig2_cited": "published figures (FlashAttention Fig. 2: GFLOPs, HBM GB and runtime on an A100; "
                             "the abstract's speedups), quoted, not recomputed",
               "memory_pyramid": "the A100 pyramid (SRAM 19 TB/s, HBM 1.5 TB/s, DRAM 12.8 GB/s) is cited from "
                                 "FlashAttention Fig. 1; its H100 numbers are checked above"},
)

L06_2 = TopicCells(
    topic="L06.2",
    explanation="""
Softmax seems to need the whole row at once: the maximum (for stability) and the sum of exponentials both run
over all N keys. The *online softmax* (Milakov and Gimelshein, 2018) gets both in one pass over blocks of keys.
It keeps a running maximum m and a running sum ℓ = Σ e^{s − m}. When a new block brings a larger maximum, the
old sum was measured against the wrong reference, so it is multiplied by e^{m_old − m_new} before the new
block's terms are added. At the end, e^{s − m}/ℓ is exactly the softmax. The first cell follows row 4 of the
running example over its 4 key blocks: the maximum grows twice, and the result equals `ar.softmax`.

FlashAttention applies the same trick to the output. Each Q block keeps an unnormalised accumulator Õ; whenever
m grows, Õ is rescaled by the same factor, then the new tile's P̃V is added. After the last K/V block, Õ/ℓ is the
attention output. The second cell runs `ar.flash_attention` (FA-2 loop order) with a trace on the 4 × 4 grid of
tiles and prints, per tile, the running m and ℓ and the partial output Õ/ℓ. The output agrees with `ar.sdpa` to
rounding, and the stored log-sum-exp LSE = m + log ℓ with `torch.logsumexp`.

With a causal mask, tiles above the diagonal are never loaded (every entry would be masked), diagonal tiles are
masked inside, and the rest are full. The tile sizes of the paper follow from the SRAM budget M (in elements):
B_c = ⌈M/4d⌉, B_r = min(⌈M/4d⌉, d). When N is not a multiple of the block size, the last blocks are simply
shorter; the result is still exact.
""",
    code=("""
# One row, four key blocks: the online softmax, read off the trace of flash_attention run on that row alone.
ROW = ${ROW}
qr = q[..., ROW:ROW + 1, :]
_, _, row_steps, _ = run(qr, k, v, block_q=1)
scores = (qr @ k.transpose(-1, -2))[0, 0, 0] / math.sqrt(D)
row, m_old, l_old = [], float("-inf"), 0.0
for st in row_steps:
    c0, c1 = st["cols"]
    m_new, l_new = float(st["m"].flatten()[0]), float(st["l"].flatten()[0])
    resc = math.exp(m_old - m_new)                    # e^(m_old - m_new): 0 at the first block
    row.append(dict(m_old=m_old, m_new=m_new, grew=m_new > m_old, rescale=resc, block_max=float(scores[c0:c1].max()),
                    block_sum=float(st["P"].sum()), l_old=l_old, l_new=l_new))
    print(f"keys {c0:2d}-{c1 - 1:2d}: block max {float(scores[c0:c1].max()):6.3f}  m {m_old:6.3f} -> {m_new:6.3f}  "
          f"rescale {resc:.4f}  l = {resc:.4f} * {l_old:.4f} + {float(st['P'].sum()):.4f} = {l_new:.4f}")
    m_old, l_old = m_new, l_new
weights = torch.exp(scores - m_old) / l_old
sm = ar.softmax(scores)
print("e^(s - m)/l:", weights)
print("max |difference| to ar.softmax:", max_abs(weights, sm))

fig, ax = plt.subplots(figsize=(7, 3))
blocks = range(len(row))
ax.step(blocks, [r["m_new"] for r in row], where="mid", label="running max m")
ax.plot(blocks, [r["l_new"] for r in row], "o-", label="running sum ℓ")
ax.set_xticks(list(blocks), [f"keys {4 * b}-{4 * b + 3}" for b in blocks])
ax.set_title(f"online softmax of row {ROW}")
ax.legend(fontsize=8)
plt.show()
""", """
# The whole grid: every tile of the FA-2 loop (outer loop over Q blocks i, inner over K/V blocks j).
out, lse, steps, _ = run(q, k, v)
tiles, prev_m = [], None
for st in steps:
    i, j = st.index
    m, ell, acc = st["m"][0, 0], st["l"][0, 0], st["O"][0, 0]
    resc = torch.zeros_like(m) if j == 0 else torch.exp(prev_m - m)
    tiles.append(dict(i=i, j=j, scores=st["S"][0, 0], m=m, l=ell, rescale=resc, partial=acc,
                      normalised=acc / ell[:, None]))
    prev_m = m
    if i == 1:                                        # print one Q block's walk across the keys
        print(f"tile ({i},{j}) rows {st['rows']} cols {st['cols']}: m {[round(x, 4) for x in m.tolist()]}  "
              f"l {[round(x, 4) for x in ell.tolist()]}")
        print("   O~/l row 4 so far:", [round(x, 4) for x in (acc / ell[:, None])[0].tolist()])
ref = ar.sdpa(q, k, v)
lse_torch = torch.logsumexp((q @ k.transpose(-1, -2)) / math.sqrt(D), dim=-1)
print("max |O - ar.sdpa| =", max_abs(out, ref), "  max |LSE - logsumexp| =", max_abs(lse, lse_torch))
""", """
# Causal: which tiles are skipped, masked or full; and how many K/V elements were never read.
out_c, _, c_steps, _ = run(q, k, v, causal=True)
T = N // BLOCK
status = [["skipped"] * T for _ in range(T)]
masked_entries = []
for st in c_steps:
    i, j = st.index
    ninf = int(torch.isneginf(st["S"]).sum())
    status[i][j] = "masked" if ninf else "full"
    if ninf:
        masked_entries.append(ninf)
for r in status:
    print(" ".join(f"{x:8s}" for x in r))
flat = [x for r in status for x in r]
full_trace, causal_trace = ar.Trace(), ar.Trace()
ar.flash_attention(q, k, v, block_q=BLOCK, block_k=BLOCK, trace=full_trace)
ar.flash_attention(q, k, v, block_q=BLOCK, block_k=BLOCK, causal=True, trace=causal_trace)
kv_saved = ar.trace_io(full_trace, D, 2)["reads_total"] - ar.trace_io(causal_trace, D, 2)["reads_total"]
causal_diff = max_abs(out_c, ar.sdpa(q, k, v, is_causal=True))
print(f"{len(c_steps)} tiles computed, {flat.count('skipped')} skipped; {kv_saved} elements not read; "
      f"max |O - sdpa(is_causal)| = {causal_diff}")

# The paper's block sizes for a real SM (fp16, M = SRAM bytes / 2 elements).
SRAM_EXAMPLES = ${SRAM_EXAMPLES}
sizes = []
for name, sram in SRAM_EXAMPLES:
    for d in (64, 128):
        mem = sram // 2
        bc = -(-mem // (4 * d))                       # ceil(M / 4d)
        br = min(bc, d)
        _, info = ar.attention_io(4096, d, sram, method="flash", version=1, breakdown=True)
        sizes.append(dict(m_elems=mem, b_c=bc, b_r=br, io_block_c=info["block_c"], io_block_r=info["block_r"],
                          tiles_bytes=4 * bc * d * 2))
        print(f"{name}, d = {d}: M = {mem:,} elements -> B_c = {bc}, B_r = {br} "
              f"(attention_io: {info['block_c']}, {info['block_r']})")

# A ragged length: N = 18 with blocks of 4.
RAGGED_N, RAGGED_SEED = ${RAGGED_N}, ${RAGGED_SEED}
gr = gaussian((3, RAGGED_N, D), RAGGED_SEED)
qg, kg, vg = gr[0][None, None], gr[1][None, None], gr[2][None, None]
out_r, _, r_steps, _ = run(qg, kg, vg)
row_blocks = list(dict.fromkeys(tuple(st["rows"]) for st in r_steps))
col_blocks = list(dict.fromkeys(tuple(st["cols"]) for st in r_steps))
last_shape = list(r_steps[-1]["S"].shape[-2:])
ragged_diff = max_abs(out_r, ar.sdpa(qg, kg, vg))
print(f"N = {RAGGED_N}: row blocks {row_blocks}; last tile {last_shape}; {len(r_steps)} tiles; "
      f"max |O - sdpa| = {ragged_diff}")

report("L06.2", row_scores=scores, row_m_old=[r["m_old"] for r in row], row_m_new=[r["m_new"] for r in row],
       row_grew=[r["grew"] for r in row], row_rescale=[r["rescale"] for r in row],
       row_block_max=[r["block_max"] for r in row], row_block_sum=[r["block_sum"] for r in row],
       row_l_new=[r["l_new"] for r in row], row_m=m_old, row_l=l_old, row_weights=weights, row_softmax=sm,
       row_max_diff=max_abs(weights, sm), rescalings=sum(r["grew"] for r in row[1:]),
       tile_i=[t["i"] for t in tiles], tile_j=[t["j"] for t in tiles], tile_scores=[t["scores"] for t in tiles],
       tile_m=[t["m"] for t in tiles], tile_l=[t["l"] for t in tiles], tile_rescale=[t["rescale"] for t in tiles],
       tile_partial=[t["partial"] for t in tiles], tile_normalised=[t["normalised"] for t in tiles],
       out=out[0, 0], sdpa=ref[0, 0], max_diff=max_abs(out, ref), lse=lse[0, 0], lse_torch=lse_torch[0, 0],
       lse_diff=max_abs(lse, lse_torch), causal_status=status, causal_order=[list(st.index) for st in c_steps],
       causal_computed=len(c_steps), causal_skipped=flat.count("skipped"), causal_masked=flat.count("masked"),
       causal_full=flat.count("full"), masked_entries=masked_entries, causal_diff=causal_diff,
       kv_reads_saved=kv_saved, block_m=[x["m_elems"] for x in sizes], block_c=[x["b_c"] for x in sizes],
       block_r=[x["b_r"] for x in sizes], io_block_c=[x["io_block_c"] for x in sizes],
       io_block_r=[x["io_block_r"] for x in sizes], tiles_bytes=[x["tiles_bytes"] for x in sizes],
       ragged_row_blocks=row_blocks, ragged_col_blocks=col_blocks, ragged_last=last_shape,
       ragged_steps=len(r_steps), ragged_diff=ragged_diff)
""",),
    try_this="""
# Try this: other block sizes, even uneven ones. The output never changes; the number of tiles does.
for bq, bk in ((2, 2), (4, 8), (3, 5), (16, 16)):
    o, _, st, _ = run(q, k, v, block_q=bq, block_k=bk)
    print(bq, bk, len(st), "tiles, max |O - sdpa| =", max_abs(o, ar.sdpa(q, k, v)))
""",
    checks={
        "row_scores": "online_softmax_row.scores", "row_m_old": "online_softmax_row.steps.*.m_old",
        "row_m_new": "online_softmax_row.steps.*.m_new", "row_grew": "online_softmax_row.steps.*.grew",
        "row_rescale": "online_softmax_row.steps.*.rescale", "row_block_max": "online_softmax_row.steps.*.block_max",
        "row_block_sum": "online_softmax_row.steps.*.block_sum", "row_l_new": "online_softmax_row.steps.*.l_new",
        "row_m": "online_softmax_row.m", "row_l": "online_softmax_row.l", "row_weights": "online_softmax_row.weights",
        "row_softmax": "online_softmax_row.softmax", "row_max_diff": "online_softmax_row.max_diff",
        "rescalings": "online_softmax_row.rescalings",
        "tile_i": "tile_trace.steps.*.i", "tile_j": "tile_trace.steps.*.j", "tile_scores": "tile_trace.steps.*.scores",
        "tile_m": "tile_trace.steps.*.m", "tile_l": "tile_trace.steps.*.l",
        "tile_rescale": "tile_trace.steps.*.rescale",
        "tile_partial": "tile_trace.steps.*.partial", "tile_normalised": "tile_trace.steps.*.normalised",
        "out": "tile_trace.out", "sdpa": "tile_trace.sdpa", "max_diff": "tile_trace.max_diff", "lse": "tile_trace.lse",
        "lse_torch": "tile_trace.lse_torch", "lse_diff": "tile_trace.lse_diff",
        "causal_status": "causal_tiles.status", "causal_order": "causal_tiles.order",
        "causal_computed": "causal_tiles.computed", "causal_skipped": "causal_tiles.skipped",
        "causal_masked": "causal_tiles.masked", "causal_full": "causal_tiles.full",
        "masked_entries": "causal_tiles.masked_entries", "causal_diff": "causal_tiles.out_diff",
        "kv_reads_saved": "causal_tiles.kv_reads_saved",
        "block_m": "block_sizes.rows.*.m_elems", "block_c": "block_sizes.rows.*.b_c",
        "block_r": "block_sizes.rows.*.b_r",
        "io_block_c": "block_sizes.rows.*.io_block_c", "io_block_r": "block_sizes.rows.*.io_block_r",
        "tiles_bytes": "block_sizes.rows.*.tiles_bytes",
        "ragged_row_blocks": "ragged_tiles.row_blocks", "ragged_col_blocks": "ragged_tiles.col_blocks",
        "ragged_last": "ragged_tiles.last_tile_shape", "ragged_steps": "ragged_tiles.steps",
        "ragged_diff": "ragged_tiles.max_diff",
    },
)

L06_3 = TopicCells(
    topic="L06.3",
    explanation="""
How much does tiling save? Standard attention moves Θ(Nd + N²) elements through HBM: the N² term is S and P.
FlashAttention moves Θ(N²d²/M), where M is the SRAM size in elements: each Q block streams all of K and V past
it, and a larger M means larger, fewer blocks. For d = 64 and M = 98,304 elements (192 KB of fp16) the factor
d²/M is about 1/24, so the flash version moves far fewer bytes, and the gap grows with N. The first cell counts
both exactly with `ar.attention_io` for N = 256 to 16K and three SRAM sizes, and plots them on log-log axes.
(The paper also proves that no exact attention algorithm can do asymptotically better for all M.)

The backward pass needs P. Storing it would bring back the N × N memory, so FlashAttention stores only the
output O and one number per row, LSE = m + log ℓ, and rebuilds each tile of P as exp(S − LSE) when the backward
needs it: a little more arithmetic, much less memory traffic. The second cell records what
`ar.FlashAttentionFunction` saves for the backward (autograd's saved-tensor hooks): Q, K, V, O and the LSE,
nothing of size N × N, while autograd through plain `ar.sdpa` saves P. Then it rebuilds P tile by tile from the
LSE and compares it with the softmax.

Finally the measured memory: the repository's benchmark recorded the peak extra GPU memory of one forward on an
H200. The naive version allocates S and P and grows as N²; the tiled ones grow as N.
""",
    code=("""
LENGTHS, HEAD_DIM, SRAM_SIZES, EXAMPLE = ${LENGTHS}, ${HEAD_DIM}, ${SRAM_SIZES}, ${EXAMPLE}
std_bytes = [ar.attention_io(n, HEAD_DIM, SRAM_SIZES[0], method="standard") for n in LENGTHS]
flash_bytes = [[ar.attention_io(n, HEAD_DIM, m, method="flash", version=2) for n in LENGTHS] for m in SRAM_SIZES]
for n, a, *bs in zip(LENGTHS, std_bytes, *flash_bytes):
    print(f"N = {n:6d}: standard {a / 2**20:9.2f} MiB; flash " + ", ".join(f"{x / 2**20:7.2f}" for x in bs) + " MiB")

n, d, m = EXAMPLE["n"], EXAMPLE["d"], EXAMPLE["m"]
_, s_info = ar.attention_io(n, d, 2 * m, method="standard", breakdown=True)
_, f_info = ar.attention_io(n, d, 2 * m, method="flash", version=2, breakdown=True)
print(f"N = {n}, d = {d}, M = {m:,}: Nd + N^2 = {n * d + n * n:,} vs N^2 d^2 / M = {n * n * d * d / m:,.0f}; "
      f"exact element counts {s_info['elements']:,} vs {f_info['elements']:,}")

fig, ax = plt.subplots(figsize=(7, 4))
ax.loglog(LENGTHS, std_bytes, "o-", color="k", label="standard (S and P through HBM)")
for mb, fb in zip(SRAM_SIZES, flash_bytes):
    ax.loglog(LENGTHS, fb, "o-", label=f"flash, SRAM {mb // 1024} KB (M = {mb // 2:,})")
ax.set_xscale("log", base=2)
ax.set_xlabel("sequence length N")
ax.set_ylabel("HBM bytes, one head, d = 64, fp16")
ax.legend(fontsize=8)
plt.show()
""", """
# Recomputation: what the forward saves for the backward, and P rebuilt from the LSE.
def saved(fn):
    shapes = []

    def pack(t):
        shapes.append(list(t.shape))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return shapes


qg, kg, vg = (t.clone().requires_grad_() for t in (q, k, v))
flash_saved = saved(lambda: ar.FlashAttentionFunction.apply(qg, kg, vg, False, None, BLOCK, BLOCK)[0].sum())
plain_saved = saved(lambda: ar.sdpa(qg, kg, vg).sum())
print("FlashAttentionFunction saves", flash_saved, "=", sum(math.prod(s) for s in flash_saved), "numbers")
print("autograd through ar.sdpa saves", plain_saved, "=", sum(math.prod(s) for s in plain_saved), "numbers")

_, lse, steps, _ = run(q, k, v)
p_full = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D), dim=-1)
rebuilt_diff, tiles_rebuilt = 0.0, 0
for st in steps:
    (r0, r1), (c0, c1) = st["rows"], st["cols"]
    rebuilt = torch.exp(st["S"] - lse[..., r0:r1, None])       # P = exp(S - LSE), one tile
    rebuilt_diff = max(rebuilt_diff, max_abs(rebuilt, p_full[..., r0:r1, c0:c1]))
    tiles_rebuilt += 1
print(f"{tiles_rebuilt} tiles rebuilt, max |exp(S - LSE) - softmax(S)| = {rebuilt_diff}")
print("bytes at N =", LENGTHS, ": LSE (fp32)", [n * 4 for n in LENGTHS], "vs P (fp16)", [n * n * 2 for n in LENGTHS])
""", """
# Measured: peak extra memory of one forward on the H200 (suite 'memory' of the GPU file).
MEMORY_METHODS = ${MEMORY_METHODS}
gpu = bench_result(GPU_RESULT)
mem = [x for x in gpu["records"] if x["suite"] == "memory" and "skipped" not in x]
mem_series = {}
for mth in MEMORY_METHODS:
    rows = sorted((x for x in mem if x["method"] == mth), key=lambda x: x["seqlen"])
    mem_series[mth] = ([x["seqlen"] for x in rows], [x["peak_extra_bytes"] / 2**20 for x in rows])
    print(f"{mth:26s}", ", ".join(f"{n // 1024}K {mib:,.0f} MiB" for n, mib in zip(*mem_series[mth])))
naive = {x["seqlen"]: x for x in mem if x["method"] == "naive"}
tiled = {x["seqlen"]: x for x in mem if x["method"] == "torch_sdpa"}
mem_lengths = sorted(naive)
score_mib = [naive[n]["score_matrix_bytes"] / 2**20 for n in mem_lengths]
naive_over_tiled = [naive[n]["peak_extra_bytes"] / tiled[n]["peak_extra_bytes"] for n in mem_lengths]
output_mib = [naive[n]["batch"] * naive[n]["heads"] * n * naive[n]["head_dim"] * 2 / 2**20 for n in mem_lengths]
memory_source = bench_source(gpu, "memory")
print("naive / torch SDPA:", [round(x, 1) for x in naive_over_tiled])
print(memory_source)

fig, ax = plt.subplots(figsize=(7, 3.5))
for mth, (ns, mib) in mem_series.items():
    ax.loglog(ns, mib, "o-", label=mth)
ax.loglog(mem_lengths, score_mib, "k:", label="one score matrix (B·H·N²·2 bytes)")
ax.set_xscale("log", base=2)
ax.set_xlabel("sequence length")
ax.set_ylabel("peak extra memory (MiB)")
ax.set_title(gpu["provenance"]["gpu_model"] + ", one forward, fp16")
ax.legend(fontsize=7)
plt.show()

report("L06.3", standard=std_bytes, flash=flash_bytes, m_elems=[x // 2 for x in SRAM_SIZES],
       theta_standard=n * d + n * n, theta_flash=n * n * d * d / m, exact_standard_elems=s_info["elements"],
       exact_flash_elems=f_info["elements"], saved_shapes=flash_saved,
       saved_elems=sum(math.prod(s) for s in flash_saved),
       quadratic_saved=any(len(s) >= 2 and s[-1] == s[-2] == N for s in flash_saved),
       plain_saved_elems=sum(math.prod(s) for s in plain_saved), lse=lse.flatten(), rebuilt_diff=rebuilt_diff,
       tiles_rebuilt=tiles_rebuilt, lse_bytes=[n * 4 for n in LENGTHS], p_bytes=[n * n * 2 for n in LENGTHS],
       memory_device=gpu["provenance"]["gpu_model"], memory_methods=list(mem_series),
       memory_lengths=[mem_series[x][0] for x in mem_series], memory_mib=[mem_series[x][1] for x in mem_series],
       score_matrix_mib=score_mib, naive_over_tiled=naive_over_tiled, output_mib=output_mib,
       memory_source=memory_source)
""",),
    try_this="""
# Try this: a larger head dim. Flash traffic grows with d^2 / M: at which d would it stop beating standard?
for d in (64, 128, 256):
    a = ar.attention_io(4096, d, 192 * 1024, method="standard")
    b = ar.attention_io(4096, d, 192 * 1024, method="flash", version=2)
    print(d, f"{a / 2**20:.1f} MiB vs {b / 2**20:.1f} MiB")
""",
    checks={
        "standard": "io_scaling.standard", "flash": "io_scaling.flash", "m_elems": "io_scaling.m_elems",
        "theta_standard": "io_scaling.theta_standard", "theta_flash": "io_scaling.theta_flash",
        "exact_standard_elems": "io_scaling.exact_standard_elems", "exact_flash_elems": "io_scaling.exact_flash_elems",
        "saved_shapes": "recomputation.saved_shapes", "saved_elems": "recomputation.saved_elems",
        "quadratic_saved": "recomputation.quadratic_saved", "plain_saved_elems": "recomputation.plain_saved_elems",
        "lse": "recomputation.lse", "rebuilt_diff": "recomputation.rebuilt_diff",
        "tiles_rebuilt": "recomputation.tiles_rebuilt", "lse_bytes": "recomputation.lse_bytes",
        "p_bytes": "recomputation.p_bytes", "memory_device": "memory_measured.device",
        "memory_methods": "memory_measured.series.*.method", "memory_lengths": "memory_measured.series.*.lengths",
        "memory_mib": "memory_measured.series.*.peak_extra_mib", "score_matrix_mib": "memory_measured.score_matrix_mib",
        "naive_over_tiled": "memory_measured.naive_over_tiled", "output_mib": "memory_measured.output_mib",
        "memory_source": "memory_measured.source",
    },
    unchecked={"memory_cited": "published figures (the flash-attn README's 10x and 20x memory savings; "
                               "FlashAttention Proposition 3), quoted, not recomputed"},
)

L06_4 = TopicCells(
    topic="L06.4",
    explanation="""
The forward pass of FlashAttention-2 fits in a dozen lines. For each Q block (on a GPU: one thread block),
loop over the K/V blocks: compute the score tile, update the running max, rescale ℓ and Õ by e^{m_old − m_new},
add the new tile's exponentials and P̃V. After the loop, divide by ℓ once and store O and LSE. The first cell
prints that loop straight from `attn_ref/flash.py`, with the formula each line computes.

The backward pass walks the same tiles. It first computes one number per row, D_i = rowsum(dO ∘ O), which equals
Σ_j P_ij dP_ij (the term the softmax's derivative needs), so the full P is never required. Then per tile:
P = exp(S − LSE), dV += Pᵀ dO, dP = dO Vᵀ, dS = P ∘ (dP − D), dQ += dS K · s, dK += dSᵀ Q · s. The second cell
checks D both ways, compares the gradients of `ar.FlashAttentionFunction` with autograd through `ar.sdpa`, and
runs `torch.autograd.gradcheck`.

The repository also has a Triton kernel of the FA-2 forward (`attn_ref/kernels/triton_flash.py`). It needs a GPU,
so here it is only read. Two details are worth seeing: the grid launches one program per (Q block, batch·head),
and the scores are pre-multiplied by log2 e so the loop can use the fast exp2; the running max and sum are then
in base 2, and the kernel multiplies the final m + log2 ℓ by ln 2 to store a natural-log LSE. The third cell
replays that base-2 bookkeeping on one row in float64 and reads the kernel's committed GPU check.
""",
    code=("""
# The FA-2 forward loop of ar.flash_attention, read from its source file (line numbers, code, formula).
FLASH_FILE = ar.__file__.replace("__init__.py", "flash.py")
with open(FLASH_FILE) as fh:
    flash_src = fh.read().splitlines()


def loop_lines(after, first, last):
    # The lines from `first` to `last` (the first ones after the line holding `after`), dedented,
    # split into code and its trailing comment.
    start = next(n for n, line in enumerate(flash_src) if after in line)
    a = next(n for n in range(start, len(flash_src)) if first in flash_src[n])
    b = next(n for n in range(a + 1, len(flash_src)) if last in flash_src[n])
    block = flash_src[a:b + 1]
    indent = min(len(x) - len(x.lstrip()) for x in block if x.strip())
    out = []
    for n, line in enumerate(block):
        code, _, comment = line[indent:].partition("  # ")
        out.append((a + 1 + n, code.rstrip(), comment.strip()))
    return out


forward_lines = loop_lines("def flash_attention(", "# outer loop: one Q block",
                           "m[..., r0:r1], ell[..., r0:r1] = m_i, l_i")
for number, code, formula in forward_lines:
    print(f"{number:4d}  {code:70s} {formula}")
""", """
# The backward: D = rowsum(dO * O), gradients against autograd through ar.sdpa, and a gradcheck.
DO_SEED = ${DO_SEED}
qg, kg, vg = (t.clone().requires_grad_() for t in (q, k, v))
d_out = gaussian((N, D), DO_SEED)[None, None]
out = ar.flash_attention_autograd(qg, kg, vg, block_q=BLOCK, block_k=BLOCK)
gq, gk, gv = torch.autograd.grad(out, (qg, kg, vg), d_out)
ref = ar.sdpa(qg, kg, vg)
rq, rk, rv = torch.autograd.grad(ref, (qg, kg, vg), d_out)
o = out.detach()
p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D), dim=-1)
dp = d_out @ v.transpose(-1, -2)
d_row, d_p = (d_out * o).sum(-1), (p * dp).sum(-1)
print("D = rowsum(dO * O):", d_row.flatten())
print("max |D - sum_j P dP| =", max_abs(d_row, d_p))
print("max |dQ|, |dK|, |dV| differences to autograd through ar.sdpa:",
      max_abs(gq, rq), max_abs(gk, rk), max_abs(gv, rv))
small_g = gaussian((3, 6, 3), DO_SEED + 1)
small = [small_g[i][None, None].clone().requires_grad_() for i in range(3)]
grad_ok = torch.autograd.gradcheck(lambda a, b, c: ar.flash_attention_autograd(a, b, c, block_q=4, block_k=4), small)
print("gradcheck (N = 6, d = 3, blocks of 4):", grad_ok)
backward_lines = loop_lines("def _flash_backward(", "for c0 in range(0, n_k, block_k)", "dk[..., c0:c1, :] +=")
for number, code, formula in backward_lines:
    print(f"{number:4d}  {code:70s} {formula}")
""", """
# The Triton kernel, read as text (it runs only on a GPU), and its base-2 online softmax replayed on one row.
KERNEL_FILE = ar.__file__.replace("__init__.py", "kernels/triton_flash.py")
with open(KERNEL_FILE) as fh:
    kernel_src = fh.read()


def first_line(text, needle):
    return next(x.strip() for x in text.splitlines() if needle in x)


grid_line = first_line(kernel_src, "grid = (triton.cdiv")
scale_line = first_line(kernel_src, "scale * LOG2E")
lse_line = first_line(kernel_src, "lse = tl.where")
print(grid_line, scale_line, lse_line, sep="\\n")

KERNEL_ROW = ${KERNEL_ROW}
LOG2E = 1.0 / math.log(2.0)
_, lse = ar.flash_attention(q, k, v, block_q=BLOCK, block_k=BLOCK, return_lse=True)
s2 = (q[0, 0, KERNEL_ROW] @ k[0, 0].T) * (1 / math.sqrt(D)) * LOG2E      # scores in log2 units
m2, l2 = float("-inf"), 0.0
for c0 in range(0, N, BLOCK):
    blk = s2[c0:c0 + BLOCK]
    m_new = max(m2, float(blk.max()))
    l2 = 2.0 ** (m2 - m_new) * l2 + float(torch.exp2(blk - m_new).sum())
    m2 = m_new
lse2 = m2 + math.log2(l2)
print(f"row {KERNEL_ROW}: m2 = {m2:.6f}, l2 = {l2:.6f}, m2 + log2 l2 = {lse2:.6f}; x ln 2 = {lse2 * math.log(2.0):.12f}"
      f" vs LSE = {float(lse[0, 0, KERNEL_ROW]):.12f}")

# The kernel's correctness run on the H200, against a float64 oracle.
with open(RESULTS_DIR.parent / "gpu-runs" / "h200" / "triton-kernel-check.json") as fh:
    chk = json.load(fh)
for c in chk["cases"]:
    torch_err = c["torch_sdpa_err_vs_fp64"]
    print(f"{c['dtype'][6:]:9s} {c['n_q']:5d} x {c['n_k']:5d} d {c['d']:3d} causal {c['causal']!s:5s} "
          f"{c['alignment']:11s} max err {c['max_err_vs_fp64']:.2e}  LSE err {c['max_lse_err']:.2e}  "
          f"torch SDPA {'no lower-right mask' if torch_err is None else f'{torch_err:.2e}'}")
pv = chk["provenance"]
check_source = (f"Measured: {chk['device']}, torch {pv['torch']}, triton {pv['triton']}, {pv['date'][:10]}, "
                f"attn_ref {pv['commit'][:8]}; `{pv['command']}`")
print(check_source)

report("L06.4", forward_numbers=[x[0] for x in forward_lines], forward_code=[x[1] for x in forward_lines],
       forward_formulas=[x[2] for x in forward_lines], d_rowsum=d_row.flatten(), d_from_p=d_p.flatten(),
       d_diff=max_abs(d_row, d_p), dq_diff=max_abs(gq, rq), dk_diff=max_abs(gk, rk), dv_diff=max_abs(gv, rv),
       gradcheck=bool(grad_ok), backward_numbers=[x[0] for x in backward_lines],
       backward_code=[x[1] for x in backward_lines], backward_formulas=[x[2] for x in backward_lines],
       grid_line=grid_line, scale_line=scale_line, lse_line=lse_line, log2e=LOG2E,
       lse=float(lse[0, 0, KERNEL_ROW]), m2=m2, l2=l2, lse2=lse2, lse_from_base2=lse2 * math.log(2.0),
       stores_natural_log="0.6931471805599453" in lse_line,
       case_dtype=[c["dtype"].replace("torch.", "") for c in chk["cases"]], case_n_q=[c["n_q"] for c in chk["cases"]],
       case_n_k=[c["n_k"] for c in chk["cases"]], case_d=[c["d"] for c in chk["cases"]],
       case_causal=[c["causal"] for c in chk["cases"]], case_alignment=[c["alignment"] for c in chk["cases"]],
       case_max_err=[c["max_err_vs_fp64"] for c in chk["cases"]], case_lse_err=[c["max_lse_err"] for c in chk["cases"]],
       case_torch_err=[c["torch_sdpa_err_vs_fp64"] for c in chk["cases"]], check_source=check_source)
""",),
    try_this="""
# Try this: a causal backward. Does the tiled gradient still match autograd through ar.sdpa(is_causal=True)?
a, b, c = (t.clone().requires_grad_() for t in (q, k, v))
g1 = torch.autograd.grad(ar.flash_attention_autograd(a, b, c, causal=True, block_q=4, block_k=4), (a, b, c), d_out)
g2 = torch.autograd.grad(ar.sdpa(a, b, c, is_causal=True), (a, b, c), d_out)
print([max_abs(x, y) for x, y in zip(g1, g2)])
""",
    checks={
        "forward_numbers": "forward_code.lines.*.number", "forward_code": "forward_code.lines.*.code",
        "forward_formulas": "forward_code.lines.*.formula", "d_rowsum": "backward.d_rowsum",
        "d_from_p": "backward.d_from_p", "d_diff": "backward.d_diff", "dq_diff": "backward.dq_diff",
        "dk_diff": "backward.dk_diff", "dv_diff": "backward.dv_diff", "gradcheck": "backward.gradcheck",
        "backward_numbers": "backward.code.*.number", "backward_code": "backward.code.*.code",
        "backward_formulas": "backward.code.*.formula", "grid_line": "triton_kernel.grid_line",
        "scale_line": "triton_kernel.scale_line", "lse_line": "triton_kernel.lse_line", "log2e": "triton_kernel.log2e",
        "lse": "triton_kernel.lse", "m2": "triton_kernel.m2", "l2": "triton_kernel.l2", "lse2": "triton_kernel.lse2",
        "lse_from_base2": "triton_kernel.lse_from_base2", "stores_natural_log": "triton_kernel.stores_natural_log",
        "case_dtype": "triton_kernel.cases.*.dtype", "case_n_q": "triton_kernel.cases.*.n_q",
        "case_n_k": "triton_kernel.cases.*.n_k", "case_d": "triton_kernel.cases.*.d",
        "case_causal": "triton_kernel.cases.*.causal", "case_alignment": "triton_kernel.cases.*.alignment",
        "case_max_err": "triton_kernel.cases.*.max_err", "case_lse_err": "triton_kernel.cases.*.max_lse_err",
        "case_torch_err": "triton_kernel.cases.*.torch_sdpa_err", "check_source": "triton_kernel.check_source",
    },
    unchecked={"pitfalls": "known issues cited from the Triton and flash-attn repositories (no numbers)"},
)

L06_5 = TopicCells(
    topic="L06.5",
    explanation="""
FlashAttention-1 and FlashAttention-2 compute the same tiles in a different order, and the order decides the HBM
traffic. FA-1 puts K/V blocks in the outer loop: for each K_j, V_j it walks all Q blocks, so every tile reads
O_i, ℓ_i and m_i back from HBM, updates them, normalises O_i and writes all three back out. FA-2 swaps the
loops: each Q block stays on chip while the K/V blocks stream past, Õ is divided by ℓ once at the end, and each
O block is written exactly once, with its LSE.

The first cell runs both loop orders on the running example with a trace and counts the elements read and
written at every step with `ar.trace_io`; the totals agree with the closed form of `ar.attention_io`, and the
two outputs are the same. FA-2 moves about half as many elements in total, and writes each O block once
instead of once per tile.

The order also changes the parallelism. FA-1 launches one thread block per (batch, head); with batch 1 and 16
heads that is 16 blocks for 108 or 132 SMs, and most of the GPU idles. FA-2 also splits the Q blocks across thread
blocks, one per 128 rows, which fills the GPU even for a single long sequence. (The non-matmul work matters too:
an A100 does 312 TFLOP/s of fp16 matmul but only 19.5 TFLOP/s of other fp32 arithmetic, so FA-2 also trims the
rescaling work in the inner loop.)
""",
    code=("""
# The two loop orders on the running example, with HBM counters (elements) per step.
def order(version):
    trace = ar.Trace()
    out = ar.flash_attention(q, k, v, block_q=BLOCK, block_k=BLOCK, version=version, trace=trace)
    io = ar.trace_io(trace, D, version)
    normalised = [version == 1 or j == N // BLOCK - 1 for i, j in io["index"]]
    _, info = ar.attention_io(N, D, 2 * 4 * BLOCK * D, method="flash", version=version, block_r=BLOCK,
                              block_c=BLOCK, breakdown=True)
    return dict(out=out[0, 0], io=io, normalised=normalised, io_elements=info["elements"],
                io_o_block_writes=info["O_block_writes"])


fa = {ver: order(ver) for ver in (1, 2)}
for ver, r in fa.items():
    io = r["io"]
    print(f"FA-{ver}: order {[tuple(x) for x in io['index']][:6]} ...")
    print(f"   reads {io['reads_total']}, writes {io['writes_total']} (of which {io['init_writes']} initial), "
          f"O-tile writes {io['O_block_writes_total']}, normalisations {sum(r['normalised'])}; "
          f"attention_io: {r['io_elements']} elements, {r['io_o_block_writes']} O-block writes")
same_output = max_abs(fa[1]["out"], fa[2]["out"])
vs_sdpa = max_abs(fa[2]["out"], ar.sdpa(q, k, v)[0, 0])
print("max |O_FA1 - O_FA2| =", same_output, "  max |O_FA2 - sdpa| =", vs_sdpa)

fig, ax = plt.subplots(figsize=(7, 3))
for ver, r in fa.items():
    tot = [a + b for a, b in zip(r["io"]["cum_reads"], r["io"]["cum_writes"])]
    ax.plot(range(1, len(tot) + 1), tot, "o-", label=f"FA-{ver}")
ax.set_xlabel("tile step")
ax.set_ylabel("cumulative HBM elements (read + written)")
ax.legend()
plt.show()
""", """
# Thread blocks per launch against the SMs: FA-1 one per (batch, head), FA-2 one per (batch, head, 128 rows).
launch = []
for label, b, h, n in (("long sequence, batch 1, 16 heads", 1, 16, 16384),
                       ("training batch, 8 x 16 heads, 2K", 8, 16, 2048)):
    for dev, sm in (("A100", 108), ("H100 SXM", 132)):
        fa1, fa2 = b * h, b * h * math.ceil(n / 128)
        launch.append(dict(fa1=fa1, fa2=fa2, sms=sm, fa1_fill=min(1.0, fa1 / sm), fa2_fill=min(1.0, fa2 / sm)))
        print(f"{label} ({dev}): FA-1 {fa1} blocks ({100 * min(1.0, fa1 / sm):.0f} % of SMs busy), "
              f"FA-2 {fa2} blocks ({100 * min(1.0, fa2 / sm):.0f} %)")

report("L06.5", **{f"fa{ver}_{key}": val for ver, r in fa.items() for key, val in (
    ("reads", r["io"]["reads"]), ("writes", r["io"]["writes"]), ("cum_reads", r["io"]["cum_reads"]),
    ("cum_writes", r["io"]["cum_writes"]), ("o_tile_writes", r["io"]["O_block_writes"]),
    ("normalised", r["normalised"]), ("init_writes", r["io"]["init_writes"]),
    ("reads_total", r["io"]["reads_total"]), ("writes_total", r["io"]["writes_total"]),
    ("o_tile_writes_total", r["io"]["O_block_writes_total"]), ("normalisations", sum(r["normalised"])),
    ("io_elements", r["io_elements"]), ("io_o_block_writes", r["io_o_block_writes"]), ("out", r["out"]))},
       same_output=same_output, vs_sdpa=vs_sdpa, fa1_blocks=[x["fa1"] for x in launch],
       fa2_blocks=[x["fa2"] for x in launch], sms=[x["sms"] for x in launch],
       fa1_fill=[x["fa1_fill"] for x in launch], fa2_fill=[x["fa2_fill"] for x in launch])
""",),
    try_this="""
# Try this: a longer sequence with the same blocks. How does FA-1's extra traffic grow with the number of blocks?
for n in (16, 32, 64):
    gt = gaussian((3, n, D), 0)
    counts = []
    for ver in (1, 2):
        tr = ar.Trace()
        ar.flash_attention(gt[0][None, None], gt[1][None, None], gt[2][None, None], block_q=4, block_k=4,
                           version=ver, trace=tr)
        io = ar.trace_io(tr, D, ver)
        counts.append(io["reads_total"] + io["writes_total"])
    print(n, counts, round(counts[0] / counts[1], 2))
""",
    checks={
        **{f"fa{ver}_{key}": f"loop_orders.fa{ver}.{path}" for ver in (1, 2) for key, path in (
            ("reads", "steps.*.reads"), ("writes", "steps.*.writes"), ("cum_reads", "steps.*.cum_reads"),
            ("cum_writes", "steps.*.cum_writes"), ("o_tile_writes", "steps.*.o_tile_writes"),
            ("normalised", "steps.*.normalised"), ("init_writes", "init_writes"), ("reads_total", "reads"),
            ("writes_total", "writes"), ("o_tile_writes_total", "o_tile_writes"), ("normalisations", "normalisations"),
            ("io_elements", "io_elements"), ("io_o_block_writes", "io_o_block_writes"), ("out", "out"))},
        "same_output": "loop_orders.same_output", "vs_sdpa": "loop_orders.vs_sdpa",
        "fa1_blocks": "parallelism.cases.*.fa1_blocks", "fa2_blocks": "parallelism.cases.*.fa2_blocks",
        "sms": "parallelism.cases.*.sms", "fa1_fill": "parallelism.cases.*.fa1_fill",
        "fa2_fill": "parallelism.cases.*.fa2_fill",
    },
    unchecked={"versions_cited": "published figures (FA-2 §3.1's 312 vs 19.5 TFLOP/s, the FA-2 and FA-3 headline "
                                 "claims), quoted, not recomputed"},
)

L06_6 = TopicCells(
    topic="L06.6",
    explanation="""
What do the saved bytes buy? The FlashAttention-3 paper's forward benchmark on an H100 SXM (hdim 128, fp16)
shows standard attention at 74 to 139 TFLOP/s, FlashAttention-2 at about 370, and cuDNN and FlashAttention-3
at roughly 600 to 650 for long sequences (cited in the video, not recomputed here). The repository ran the
same shapes on an NVIDIA H200: batch × sequence length = 16K tokens, 16 heads of 128 (or 32 of 64), forward
only, with the naive three-kernel version, `attn_ref.sdpa`, each of torch's SDPA backends that ran, and the
course's own Triton FA-2 kernel. The first cell reads those records and plots TFLOP/s against length for the
four panels (d = 64 and 128, causal or not).

A throughput number is only as honest as its FLOP count. The convention here is 4·b·h·n²·d for the forward
(two matmuls of 2·n²·d each per head), halved when causal because half the tiles are skipped; the backward is
2.5× the forward. The second cell checks that every record's FLOPs follow that convention (`ar.attention_flops`,
from the same causal flag the kernel received) and shows what happens when a causal run is counted with the
non-causal FLOPs: the reported TFLOP/s doubles with no change in speed.
""",
    code=("""
# Measured: the prefill suite of the H200 file (forward TFLOP/s per method, length, head dim, causal flag).
PREFILL_METHODS = ${PREFILL_METHODS}
gpu = bench_result(GPU_RESULT)
pre = [x for x in gpu["records"] if x["suite"] == "prefill"]
ran = [x for x in pre if "skipped" not in x]
panels = []
for d in sorted({x["head_dim"] for x in ran}):
    for causal in (False, True):
        rows = [x for x in ran if x["head_dim"] == d and x["causal"] == causal]
        ns = sorted({x["seqlen"] for x in rows})
        by = {(x["method"], x["seqlen"]): x for x in rows}
        series = {mth: ([by[(mth, n)]["tflops"] for n in ns], [by[(mth, n)]["time_ms"] for n in ns])
                  for mth in PREFILL_METHODS if all((mth, n) in by for n in ns)}
        first = next(iter(series))
        panels.append(dict(figure=f"prefill_d{d}_{'causal' if causal else 'full'}", d=d, causal=causal, seqlens=ns,
                           batch=[by[(first, n)]["batch"] for n in ns], heads=rows[0]["heads"], series=series,
                           skipped=[f"{x['method']}: {x['skipped']}" for x in pre
                                    if "skipped" in x and x["head_dim"] == d and x["causal"] == causal]))
peak = float(gpu["provenance"]["peaks"]["fp16_tflops"])
prefill_source = bench_source(gpu, "prefill")
backends = sorted({x["method"][11:-1] for x in ran if x["method"].startswith("torch_sdpa[")})
p128 = next(p for p in panels if p["d"] == 128 and not p["causal"])
tri, fl = p128["series"]["triton_fa2"][0], p128["series"]["torch_sdpa[flash_attention]"][0]
print("torch SDPA backends that ran:", backends, "; peak", peak, "TFLOP/s")
print("d = 128, non-causal, triton_fa2 / flash backend:", [round(a / b, 2) for a, b in zip(tri, fl)])
print(prefill_source)

fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
for ax, p in zip(axes.flat, panels):
    for mth, (tf, _) in p["series"].items():
        ax.plot(p["seqlens"], tf, "o-", label=mth, lw=2.5 if mth == "triton_fa2" else 1)
    ax.axhline(peak, color="gray", ls=":")
    ax.set_xscale("log", base=2)
    ax.set_title(f"d = {p['d']}, {'causal' if p['causal'] else 'non-causal'}", fontsize=9)
    ax.set_ylabel("TFLOP/s")
axes[1, 0].set_xlabel("sequence length")
axes[1, 1].set_xlabel("sequence length")
axes[0, 0].legend(fontsize=6)
fig.suptitle(gpu["provenance"]["gpu_model"] + ", forward, fp16 (dotted: peak)")
plt.show()
""", """
# FLOPs by one convention, and the 2x a causal run gains when counted as non-causal.
flops_ok = all(x["flops"] == ar.attention_flops(x["batch"], x["heads"], x["seqlen"], x["seqlen"], x["head_dim"],
                                                causal=x["causal"]) for x in ran)
b, h, n, d = 4, 16, 4096, 128
fwd = ar.attention_flops(b, h, n, n, d)
fwd_c = ar.attention_flops(b, h, n, n, d, causal=True)
rec = next(x for x in ran if x["method"] == "triton_fa2" and x["causal"] and x["head_dim"] == d and x["seqlen"] == n)
t = rec["time_ms"] * 1e-3
print(f"every record's FLOPs = ar.attention_flops: {flops_ok}")
print(f"b = {b}, h = {h}, n = {n}, d = {d}: forward {fwd:,} FLOPs, causal {fwd_c:,}, backward {2.5 * fwd:,.0f}")
print(f"causal triton_fa2 at n = {n}: {t * 1e3:.3f} ms -> {fwd_c / t / 1e12:.1f} TFLOP/s honestly, "
      f"{fwd / t / 1e12:.1f} if counted as non-causal")

report("L06.6", device=gpu["provenance"]["gpu_model"], dtype=gpu["dtype"], peak_tflops=peak, backends_ran=backends,
       figures=[p["figure"] for p in panels], head_dims=[p["d"] for p in panels],
       causal=[p["causal"] for p in panels], seqlens=[p["seqlens"] for p in panels],
       batch=[p["batch"] for p in panels], heads=[p["heads"] for p in panels],
       methods=[list(p["series"]) for p in panels], tflops=[[s[0] for s in p["series"].values()] for p in panels],
       time_ms=[[s[1] for s in p["series"].values()] for p in panels], skipped=[p["skipped"] for p in panels],
       flops_match_convention=flops_ok, triton_over_flash_backend=[a / b_ for a, b_ in zip(tri, fl)],
       triton_share_of_peak=[a / peak for a in tri], prefill_source=prefill_source, forward=fwd,
       forward_causal=fwd_c, backward=2.5 * fwd, forward_backward=3.5 * fwd,
       inflated_causal_tflops=fwd / t / 1e12, true_causal_tflops=fwd_c / t / 1e12)
""",),
    try_this="""
# Try this: the share of the H200's fp16 peak that each method reaches at 16K, d = 128, causal.
p = next(p for p in panels if p["d"] == 128 and p["causal"])
for mth, (tf, _) in p["series"].items():
    print(f"{mth:32s} {tf[-1]:7.1f} TFLOP/s = {100 * tf[-1] / peak:5.1f} % of peak")
""",
    checks={
        "device": "prefill_measured.device", "dtype": "prefill_measured.dtype",
        "peak_tflops": "prefill_measured.peak_tflops", "backends_ran": "prefill_measured.backends_ran",
        "figures": "prefill_measured.panels.*.figure", "head_dims": "prefill_measured.panels.*.head_dim",
        "causal": "prefill_measured.panels.*.causal", "seqlens": "prefill_measured.panels.*.seqlens",
        "batch": "prefill_measured.panels.*.batch", "heads": "prefill_measured.panels.*.heads",
        "methods": "prefill_measured.panels.*.series.*.method", "tflops": "prefill_measured.panels.*.series.*.tflops",
        "time_ms": "prefill_measured.panels.*.series.*.time_ms", "skipped": "prefill_measured.panels.*.skipped",
        "flops_match_convention": "prefill_measured.flops_match_convention",
        "triton_over_flash_backend": "prefill_measured.triton_over_flash_backend",
        "triton_share_of_peak": "prefill_measured.triton_share_of_peak", "prefill_source": "prefill_measured.source",
        "forward": "flops_convention.forward", "forward_causal": "flops_convention.forward_causal",
        "backward": "flops_convention.backward", "forward_backward": "flops_convention.forward_backward",
        "inflated_causal_tflops": "flops_convention.inflated_causal_tflops",
        "true_causal_tflops": "flops_convention.true_causal_tflops",
    },
    unchecked={"fa3_cited": "published figures (FlashAttention-3 Fig. 5, H100 SXM, hdim 128: Standard, FA2, Triton, "
                            "cuDNN, FA3 TFLOP/s), read off the paper's figure, not recomputed"},
)

NOTEBOOK = NotebookSpec(intro=INTRO, setup=SETUP, values=VALUES, data_package="scenes.l06_flash.data",
                        topics=(L06_1, L06_2, L06_3, L06_4, L06_5, L06_6))
