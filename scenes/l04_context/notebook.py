"""Lecture 4's companion notebook (``scripts/notebooks.py --lecture 04`` writes notebooks/04-*.ipynb).

The code cells are what a learner would write with ``attn_ref`` and torch: the same seeds, inputs and
calls as the data builders (``data/``), never an import of the scene package. ``$NAME`` placeholders
are filled with the data modules' own constants (``VALUES``), so a constant changed there changes the
notebook on regeneration. The lab's numbers are read from the committed JSON file
(results/experiments/needle_haystack.json), as a learner would read it. ``checks`` name the builder field
each printed number must equal; the tests (tests/notebooks) execute the notebook and compare. Builders that
only quote published figures or wrap the committed benchmark files are listed in ``unchecked``.
"""
from __future__ import annotations

from scenes.kit.notebook import NotebookSpec, TopicCells, helpers

from .data import _shared, bounds, implications, metrics, needle, quadratic

VALUES = {
    "EXPERIMENT": _shared.EXPERIMENT,
    # L04.1
    "GRID_SIZES": quadratic.GRID_SIZES, "COUNTER_LENGTHS": quadratic.COUNTER_LENGTHS,
    "FLOP_LENGTHS": quadratic.FLOP_LENGTHS,
    # L04.2
    "BAR_LENGTHS": bounds.BAR_LENGTHS, "ROOF_PREFILL": bounds.PREFILL_LENGTHS,
    "DECODE_CONTEXT": bounds.DECODE_CONTEXT, "GQA_GROUP": bounds.GQA_GROUP, "FLOOR_CONTEXTS": bounds.FLOOR_CONTEXTS,
    # L04.3
    "SCHEMES": needle.SCHEMES, "LABELS": needle.LABELS, "PROTOCOL_DEPTH": needle.PROTOCOL_DEPTH,
    "PROTOCOL_SEED": needle.PROTOCOL_SEED, "DILUTION_N": needle.DILUTION_N, "DILUTION_DELTAS": needle.DILUTION_DELTAS,
    "TARGET_P": needle.TARGET_P, "N_128K": needle.N_128K,
    # L04.4
    "SCORED_FROM": metrics.SCORED_FROM, "AVG_SEED": metrics.AVG_SEED, "AVG_TOKENS": metrics.AVG_TOKENS,
    "AVG_WINDOWS": metrics.AVG_WINDOWS, "SHIFT_LEN": metrics.SHIFT_LEN, "SHIFT_SEED": metrics.SHIFT_SEED,
    # L04.7
    "REQUEST": implications.REQUEST, "LONG_REQUEST": implications.LONG_REQUEST,
    "MODEL_BATCH": implications.MODEL_BATCH, "MODEL_FLOOR_CONTEXTS": implications.FLOOR_CONTEXTS,
    "TTFT_LENGTHS": implications.PREFILL_LENGTHS,
}

INTRO = """
Every number in the video of this lecture is computed by `attn_ref`, the course's tested library of
attention implementations (cost models, model presets, device specs, `ar.softmax`), or read from a committed
result file of the course's lab (tiny models trained on a CPU). This notebook recomputes them with the same
inputs and the same calls, and reads the same result file, so you can check any number you saw on screen,
then change the context length, the model or the device and see what moves. It needs only `attn_ref`
(`pip install .` in the repository, which also holds the result files) and matplotlib, and runs on a CPU in
seconds: nothing here allocates an n × n matrix for a long n, the costs are counted, not measured.

Units: GiB = 2^30 bytes, GB = 10^9 bytes (the H100's "80 GB"); fp16 = 2 bytes per number; FLOPs count a
multiply-add as 2. The running model is Llama-2-7B (`ar.LLAMA2_7B`: 32 layers, d_model 4096, 32 heads of
128, one K/V head per query head). The last line of each topic, `NUMBERS L04.k {...}`, prints its key numbers
at full precision: the repository's tests run this notebook and compare that line with the values the video
draws.
"""

SETUP = ("""
import itertools
import json
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

import attn_ref as ar
from attn_ref.lab import result_path  # results/experiments/<name>.json in the repository
from attn_ref.lab.tasks import make_task  # the lab's needle-in-a-haystack task
""" + helpers("report", "load_lab", "lab_source") + """

MODEL = ar.LLAMA2_7B            # the running model
FP16 = 2                        # bytes per fp16/bf16 number
KIB, MIB, GIB, GB = 2 ** 10, 2 ** 20, 2 ** 30, 10 ** 9
H100, H200 = ar.H100_SXM, ar.H200
print(MODEL)
""",)

L04_1 = TopicCells(
    topic="L04.1",
    explanation="""
Self-attention compares every query with every key, so one head of one layer has an n × n grid of scores.
A causal mask hides the upper triangle, but the kept part, n(n+1)/2, is still quadratic, and a naive kernel
stores the whole grid anyway (masked cells as −∞). Per layer of Llama-2-7B at batch 1 that is
32 · n² scores: at n = 16K one fp16 score tensor is 16 GiB. The keys and values the model must keep grow only
linearly, 2 · 32 · 128 · n numbers per layer, so the scores overtake them at n = 2·d_h = 256.

Compute tells a similar story per token: the projections and the MLP cost a fixed 2·P_layer FLOPs per token,
while attention costs 4·n·d (each token against n keys, for scores and for the weighted sum), half that on
average under a causal mask. The two are equal at the crossover n* (`ar.attention_mlp_crossover`): about 24.7K
tokens for Llama-2-7B, 49.4K causal. Below it the MLP dominates; far beyond it attention does.
""",
    code=("""
GRID_SIZES, COUNTER_LENGTHS, FLOP_LENGTHS = ${GRID_SIZES}, ${COUNTER_LENGTHS}, ${FLOP_LENGTHS}

# The causal grids: n^2 cells, n(n+1)/2 kept (counted on the mask itself).
kept = [int(ar.causal_mask(n, n).sum()) for n in GRID_SIZES]
for n, k in zip(GRID_SIZES, kept):
    print(f"n = {n:4d}: {n * n:6d} cells, {k:5d} kept, {n * n - k:5d} masked")

# Score elements and bytes of one layer (b = 1, 32 heads) against that layer's K and V.
b, h, hd = 1, MODEL.n_heads, MODEL.head_dim
score_bytes = [ar.score_matrix_bytes(b, h, n, n, FP16) for n in COUNTER_LENGTHS]
kv_bytes = [ar.kv_cache_bytes(1, MODEL.n_kv_heads, hd, n, b, FP16) for n in COUNTER_LENGTHS]
for n, s, kv in zip(COUNTER_LENGTHS, score_bytes, kv_bytes):
    print(f"n = {n:7,d}: scores {s / MIB:12,.2f} MiB   K and V {kv / MIB:8,.2f} MiB   ratio {s / kv:7.1f}")
gib_16k = ar.score_matrix_bytes(b, h, 16384, 16384, FP16) / GIB
print(f"one fp16 score tensor at n = 16K: {gib_16k} GiB; scores = K+V at n = 2 d_h = {2 * hd}")
""", """
# FLOPs per token of one Llama-2-7B layer: the dense part (projections + MLP) against attention.
dense = MODEL.layer_flops(1)["dense"]
attn = [MODEL.layer_flops(n)["attention"] // n for n in FLOP_LENGTHS]
attn_causal = [MODEL.layer_flops(n, causal=True)["attention"] / n for n in FLOP_LENGTHS]
share = [a / (dense + a) for a in attn]
share_causal = [a / (dense + a) for a in attn_causal]
n_star, n_star_causal = MODEL.attention_mlp_crossover(), MODEL.attention_mlp_crossover(causal=True)
gpt = ar.GPT2_SMALL  # a GPT-style layer (12 d^2 parameters, GELU MLP): n* = 6 d, 12 d causal
gpt_star = ar.attention_mlp_crossover(gpt.d_model, gpt.n_heads, mlp="gelu")
gpt_star_causal = ar.attention_mlp_crossover(gpt.d_model, gpt.n_heads, mlp="gelu", causal=True)
print(f"P_layer = {dense // 2:,}; dense {dense:,} FLOPs per token; n* = {n_star:,.0f} ({n_star_causal:,.0f} causal)")
print(f"GPT-2 small (d = {gpt.d_model}): n* = {gpt_star:,.0f} = 6 d, causal {gpt_star_causal:,.0f} = 12 d")

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.bar([str(n) for n in FLOP_LENGTHS], [dense / 1e9] * len(FLOP_LENGTHS), label="dense (2 P_layer)")
ax.bar([str(n) for n in FLOP_LENGTHS], [a / 1e9 for a in attn_causal], bottom=dense / 1e9,
       label="attention (causal)")
ax.set_xlabel("context length n")
ax.set_ylabel("GFLOPs per token, one layer")
ax.legend()
plt.show()

report("L04.1", grid_n=list(GRID_SIZES), grid_cells=[n * n for n in GRID_SIZES],
       grid_kept=[n * (n + 1) // 2 for n in GRID_SIZES], grid_mask_kept=kept,
       counter_n=list(COUNTER_LENGTHS), score_elements=[s // FP16 for s in score_bytes], score_bytes=score_bytes,
       score_mib=[s / MIB for s in score_bytes], kv_bytes=kv_bytes,
       ratio=[s / kv for s, kv in zip(score_bytes, kv_bytes)],
       gib_at_16k=gib_16k, kv_equals_scores_at=2 * hd,
       p_layer=dense // 2, attention=attn, attention_causal=attn_causal, attention_share=share,
       attention_share_causal=share_causal, crossover=n_star, crossover_causal=n_star_causal,
       gpt_rule_crossover=gpt_star, gpt_rule_crossover_causal=gpt_star_causal)
"""),
    try_this="""
# Try this: a model with a wider MLP or fewer heads moves the crossover. Compare the presets' n*.
for key, m in ar.PRESETS.items():
    print(f"{key:16s} n* = {m.attention_mlp_crossover():>12,.0f}")
""",
    checks={
        "grid_n": "score_grids.rows.*.n", "grid_cells": "score_grids.rows.*.cells",
        "grid_kept": "score_grids.rows.*.kept", "grid_mask_kept": "score_grids.rows.*.mask_kept_check",
        "counter_n": "score_counter.rows.*.n", "score_elements": "score_counter.rows.*.score_elements",
        "score_bytes": "score_counter.rows.*.score_bytes", "score_mib": "score_counter.rows.*.score_mib",
        "kv_bytes": "score_counter.rows.*.kv_bytes", "ratio": "score_counter.rows.*.ratio",
        "gib_at_16k": "score_counter.gib_at_16k", "kv_equals_scores_at": "score_counter.kv_equals_scores_at",
        "p_layer": "flops_per_token.p_layer", "attention": "flops_per_token.rows.*.attention",
        "attention_causal": "flops_per_token.rows.*.attention_causal",
        "attention_share": "flops_per_token.rows.*.attention_share",
        "attention_share_causal": "flops_per_token.rows.*.attention_share_causal",
        "crossover": "flops_per_token.crossover", "crossover_causal": "flops_per_token.crossover_causal",
        "gpt_rule_crossover": "flops_per_token.gpt_rule_crossover",
        "gpt_rule_crossover_causal": "flops_per_token.gpt_rule_crossover_causal",
    },
)

L04_2 = TopicCells(
    topic="L04.2",
    explanation="""
Three things compete for GPU memory at long context. The weights of Llama-2-7B are fixed (13.5 GB in fp16).
The KV cache grows linearly: 512 KiB per token (2 · 32 layers · 32 heads · 128 · 2 bytes), 2 GiB at 4K and
64 GiB at 128K, close to a whole 80 GB H100. The score matrices S and P of one layer grow quadratically, but
they exist only inside a naive kernel: FlashAttention (Lecture 6) never writes them to memory.

Whether a step is limited by compute or by memory traffic is read off the roofline: a kernel with arithmetic
intensity AI (FLOPs per byte moved) below the device's ridge point (peak FLOP/s ÷ bandwidth: about 295 on the
H100 SXM, 206 on the H200) is memory-bound. Prefill of one head reads Q, K, V and writes O once (8·n·d bytes)
for 4·n²·d FLOPs, AI = n/2: compute-bound for long prompts. A decode step does 4·L·d FLOPs per KV head while
reading that head's K and V (4·L·d bytes): AI = 1 for MHA, g when g query heads share a K/V head (GQA). So
each generated token costs at least (weights + KV cache) / bandwidth, however fast the arithmetic is.
""",
    code=("""
BAR_LENGTHS = ${BAR_LENGTHS}
weights = MODEL.n_params() * FP16
bars = []
for n in BAR_LENGTHS:
    s = ar.score_matrix_bytes(1, MODEL.n_heads, n, n, FP16)
    kv = ar.kv_cache_bytes(MODEL.n_layers, MODEL.n_kv_heads, MODEL.head_dim, n, 1, FP16)
    bars.append((n, s / GIB, 2 * s / GIB, kv / GIB, kv / weights))
    print(f"n = {n:7,d}: S of one layer {s / GIB:7.2f} GiB, S and P {2 * s / GIB:7.2f} GiB, "
          f"KV cache {kv / GIB:6.2f} GiB, weights {weights / GIB:.2f} GiB")
print(f"KV per token {MODEL.kv_bytes_per_token(FP16):,} B; an 80 GB H100 holds {H100.memory_bytes / GIB:.1f} GiB")

fig, ax = plt.subplots(figsize=(7, 3.5))
x = torch.arange(len(BAR_LENGTHS), dtype=torch.float64)
ax.bar(x - 0.25, [b[1] for b in bars], 0.25, label="S of one layer (naive)")
ax.bar(x, [b[3] for b in bars], 0.25, label="KV cache, 32 layers")
ax.bar(x + 0.25, [weights / GIB] * len(bars), 0.25, label="weights")
ax.axhline(H100.memory_bytes / GIB, color="gray", ls=":", label="80 GB H100")
ax.set_xticks(x.tolist(), [f"{n // 1024}K" for n in BAR_LENGTHS])
ax.set_yscale("log")
ax.set_ylabel("GiB")
ax.legend(fontsize=7)
plt.show()
""", """
# The roofline: compulsory traffic only (Q, K, V read and O written once, 16-bit).
ROOF_PREFILL, DECODE_CONTEXT, GQA_GROUP = ${ROOF_PREFILL}, ${DECODE_CONTEXT}, ${GQA_GROUP}
hd = MODEL.head_dim
roof = {}
for dev in (H100, H200):
    pts = []
    for n in ROOF_PREFILL:  # flash prefill of one head
        pts.append(ar.roofline(ar.attention_flops(1, 1, n, n, hd), 4 * n * hd * FP16, dev))
    for g in (1, GQA_GROUP):  # one decode step per KV head, g query heads sharing it
        pts.append(ar.roofline(ar.attention_flops(1, g, 1, DECODE_CONTEXT, hd), 2 * DECODE_CONTEXT * hd * FP16, dev))
    roof[dev.name] = pts
    print(f"{dev.name}: ridge {dev.ridge_point:.1f} FLOP/B;",
          ", ".join(f"AI {p.intensity:g} ({p.bound})" for p in pts))

# The decode floor: one step streams the weights and the whole KV cache at least once.
FLOOR_CONTEXTS = ${FLOOR_CONTEXTS}
kv_floor = [MODEL.kv_cache_bytes(n) for n in FLOOR_CONTEXTS]
for n, kv in zip(FLOOR_CONTEXTS, kv_floor):
    t = 1e3 * ar.decode_time_lower_bound(MODEL.decode_bytes(n), H100)
    print(f"context {n:7,d}: KV {kv / GIB:5.1f} GiB, step >= {t:6.2f} ms on the H100")

report("L04.2", bar_n=list(BAR_LENGTHS), scores_gib=[b[1] for b in bars], scores_and_probs_gib=[b[2] for b in bars],
       kv_cache_gib=[b[3] for b in bars], kv_over_weights=[b[4] for b in bars],
       kv_bytes_per_token=MODEL.kv_bytes_per_token(FP16), weights_bytes=weights,
       device_memory_gib=H100.memory_bytes / GIB,
       ridge=[d.ridge_point for d in (H100, H200)], peak_tflops=[d.peak_flops / 1e12 for d in (H100, H200)],
       bandwidth_tbs=[d.bandwidth / 1e12 for d in (H100, H200)],
       intensity=[[p.intensity for p in roof[d.name]] for d in (H100, H200)],
       bound=[[p.bound for p in roof[d.name]] for d in (H100, H200)],
       time_s=[[p.time for p in roof[d.name]] for d in (H100, H200)],
       floor_kv_bytes=kv_floor,
       floor_kv_ms_h100=[1e3 * ar.decode_time_lower_bound(kv, H100) for kv in kv_floor],
       floor_total_ms_h100=[1e3 * ar.decode_time_lower_bound(MODEL.decode_bytes(n), H100) for n in FLOOR_CONTEXTS],
       floor_total_ms_h200=[1e3 * ar.decode_time_lower_bound(MODEL.decode_bytes(n), H200) for n in FLOOR_CONTEXTS],
       weights_ms_h100=1e3 * ar.decode_time_lower_bound(weights, H100),
       kv_4k_gib=MODEL.kv_cache_bytes(4096) / GIB,
       kv_4k_ms_h100=1e3 * ar.decode_time_lower_bound(MODEL.kv_cache_bytes(4096), H100))
"""),
    try_this="""
# Try this: at what prefill length does one head cross the H200's ridge? (AI = n / 2.)
for n in (256, 412, 512, 1024):
    p = ar.roofline(ar.attention_flops(1, 1, n, n, MODEL.head_dim), 4 * n * MODEL.head_dim * FP16, H200)
    print(n, p.intensity, p.bound)
""",
    checks={
        "bar_n": "memory_bars.bars.*.n", "scores_gib": "memory_bars.bars.*.scores_gib",
        "scores_and_probs_gib": "memory_bars.bars.*.scores_and_probs_gib",
        "kv_cache_gib": "memory_bars.bars.*.kv_cache_gib", "kv_over_weights": "memory_bars.bars.*.kv_over_weights",
        "kv_bytes_per_token": "memory_bars.kv_bytes_per_token", "weights_bytes": "memory_bars.weights_bytes",
        "device_memory_gib": "memory_bars.device_memory_gib",
        "ridge": "roofline.devices.*.ridge", "peak_tflops": "roofline.devices.*.peak_tflops",
        "bandwidth_tbs": "roofline.devices.*.bandwidth_tbs", "intensity": "roofline.devices.*.points.*.intensity",
        "bound": "roofline.devices.*.points.*.bound", "time_s": "roofline.devices.*.points.*.time_s",
        "floor_kv_bytes": "decode_floor.rows.*.kv_bytes", "floor_kv_ms_h100": "decode_floor.rows.*.kv_ms_h100",
        "floor_total_ms_h100": "decode_floor.rows.*.total_ms_h100",
        "floor_total_ms_h200": "decode_floor.rows.*.total_ms_h200",
        "weights_ms_h100": "decode_floor.weights_ms_h100", "kv_4k_gib": "decode_floor.kv_4k_gib",
        "kv_4k_ms_h100": "decode_floor.kv_4k_ms_h100",
    },
    unchecked={
        "measured_memory": "reads the committed GPU benchmark file (benchmarks/results/gpu-nvidia-h200.json, suite "
                           "'memory'); measured on an H200, not recomputable on a CPU",
        "measured_prefill": "reads the committed benchmark files (suite 'prefill', H200 and CPU timings); measured, "
                            "not recomputable here",
    },
)

L04_3 = TopicCells(
    topic="L04.3",
    explanation="""
A needle-in-a-haystack test hides one fact at a chosen depth of a long filler text and asks for it at the end.
The lab's version is token-exact: the needle `▸ key value` starts at token round(depth · (H − 3)) of a haystack
of H tokens, three distractor needles (other keys) sit at random free places, and the question `? key` closes
the sequence; the answer is the model's argmax at the last position. Lab experiment 2 trains tiny models at
64 tokens with each position scheme and scores 100 samples per (length, depth) cell at 1×, 2× and 4× that
length; RoPE + PI and RoPE + YaRN are the same RoPE model evaluated with a scaling factor, without
fine-tuning. A sliding-window model (W = 16, 2 layers) cannot see farther than its receptive field.

Why does retrieval get harder with length even for a model that finds the needle? Softmax dilution: if the
needle's logit beats N equal distractors by Δ, its weight is p = e^Δ / (e^Δ + N). Holding p fixed needs Δ to
grow like ln N: ln 10 ≈ 2.3 more per tenfold context.
""",
    code=("""
EXPERIMENT, SCHEMES, LABELS = ${EXPERIMENT}, ${SCHEMES}, ${LABELS}
lab = load_lab(EXPERIMENT)
m = lab["metrics"]
train = m["train_length"]

# One sample of the lab's task at depth 50 %.
PROTOCOL_DEPTH, PROTOCOL_SEED = ${PROTOCOL_DEPTH}, ${PROTOCOL_SEED}
task = make_task(lab["config"]["task"]).with_(depth=PROTOCOL_DEPTH)
sample = task.sample(1, torch.Generator().manual_seed(PROTOCOL_SEED))
tokens = [int(t) for t in sample.tokens[0]]
info = sample.info
print(f"context {task.context_len}, haystack {task.haystack_len(1)}, needle starts at {int(info['needle_start'][0])}, "
      f"distractors at {[int(s) for s in info['distractor_starts'][0]]}")

# The heat maps: accuracy per (length, depth), one panel per scheme.
fig, axes = plt.subplots(1, len(SCHEMES), figsize=(14, 2.8))
for ax, s in zip(axes, SCHEMES):
    ax.imshow(torch.tensor(m["schemes"][s]["accuracy"]).T, vmin=0, vmax=1, cmap="viridis", origin="lower")
    ax.set_xticks(range(len(m["lengths"])), m["lengths"])
    ax.set_yticks(range(len(m["depths"])), m["depths"])
    ax.set_title(LABELS[s], fontsize=9)
axes[0].set_ylabel("depth")
fig.suptitle(f"needle accuracy, trained at {train} tokens")
plt.show()
for s in SCHEMES:
    print(f"{LABELS[s]:12s} accuracy by length {m['schemes'][s]['accuracy_by_length']}")
print(lab_source(lab))
""", """
# One stored answer-position attention row per scheme: mass on the needle span vs the distractor spans.
row_stats = []
for s in ("rope", "nope", "alibi"):
    mp = lab["maps"][f"answer_row_{s}"]
    toks = mp["tokens"]
    marks = [i for i, t in enumerate(toks[:-2]) if t == task.MARK]
    needle_v = next(i + 2 for i in marks if toks[i + 1] == toks[-1])  # the needle whose key is asked
    others = [i + 2 for i in marks if toks[i + 1] != toks[-1]]
    nm = [sum(row[needle_v - 2:needle_v + 1]) for row in mp["values"]]
    dm = [sum(sum(row[p - 2:p + 1]) for p in others) for row in mp["values"]]
    best = max(range(len(nm)), key=lambda i: nm[i])
    row_stats.append((nm, dm, best))
    print(f"{LABELS[s]:6s}: best (layer, head) row {best}: {nm[best]:.2f} on the needle, {dm[best]:.2f} on distractors")

# Multi-needle (8 needles, 4 questions) and the sliding window.
mn, sw = m["multi_needle"], m["sliding_window"]
for s in SCHEMES:
    print(f"{LABELS[s]:12s} 8 needles: {mn['schemes'][s]['accuracy_by_length']}")
print(f"sliding window W = {sw['window']}: within one hop {sw['mean_accuracy_within_one_hop']:.3f}, beyond the "
      f"reach {sw['reach']} {sw['mean_accuracy_beyond_reach']:.3f}, chance {sw['chance']}")
""", """
# Softmax dilution: one needle with logit advantage delta over N equal distractors.
DILUTION_N, DILUTION_DELTAS, TARGET_P, N_128K = ${DILUTION_N}, ${DILUTION_DELTAS}, ${TARGET_P}, ${N_128K}
weights, gap = [], 0.0
for delta in DILUTION_DELTAS:
    row = []
    for n in DILUTION_N:
        x = torch.zeros(n + 1, dtype=torch.float64)
        x[0] = delta
        p = float(ar.softmax(x)[0])
        gap = max(gap, abs(p - math.exp(delta) / (math.exp(delta) + n)))
        row.append(p)
    weights.append(row)
    print(f"delta {delta:4.1f}:", " ".join(f"{p:.3f}" for p in row))
margins = [[ar.needle_margin(p, n) for n in DILUTION_N] for p in TARGET_P]
margin_128k = [ar.needle_margin(p, N_128K) for p in TARGET_P]
print(f"delta needed at 128K for p = {TARGET_P}: {[round(d, 2) for d in margin_128k]}; "
      f"per decade {math.log(10):.3f}; closed form gap {gap:.1e}")

report("L04.3", protocol_tokens=tokens, needle_start=int(info["needle_start"][0]),
       needle_value_pos=int(info["needle_pos"][0]),
       distractor_starts=[int(s) for s in info["distractor_starts"][0]], query_pos=int(info["query_pos"][-1]),
       haystack_len=task.haystack_len(1),
       train_length=train, lengths=m["lengths"], depths=m["depths"], multiples=[n / train for n in m["lengths"]],
       n_eval=lab["config"]["eval"]["n_eval"], accuracy=[m["schemes"][s]["accuracy"] for s in SCHEMES],
       accuracy_by_length=[m["schemes"][s]["accuracy_by_length"] for s in SCHEMES],
       needle_mass=[m["schemes"][s]["needle_mass"] for s in SCHEMES], lab_source=lab_source(lab),
       row_needle_mass=[r[0] for r in row_stats], row_distractor_mass=[r[1] for r in row_stats],
       row_best=[r[2] for r in row_stats],
       multi_lengths=mn["lengths"], multi_accuracy=[mn["schemes"][s]["accuracy_by_length"] for s in SCHEMES],
       window=sw["window"], reach=sw["reach"], within_one_hop=sw["mean_accuracy_within_one_hop"],
       beyond_reach=sw["mean_accuracy_beyond_reach"], chance=sw["chance"],
       dilution_weights=weights, margins=margins, per_decade=math.log(10), margin_128k=margin_128k,
       max_closed_form_gap=gap)
"""),
    try_this="""
# Try this: how large must the margin be for the needle to keep 99 % of the attention at 1M tokens?
print(ar.needle_margin(0.99, 1_000_000), "vs", ar.needle_margin(0.99, 1_000))
""",
    checks={
        "protocol_tokens": "protocol.tokens", "needle_start": "protocol.needle_start",
        "needle_value_pos": "protocol.needle_value_pos", "distractor_starts": "protocol.distractor_starts",
        "query_pos": "protocol.query_pos", "haystack_len": "protocol.haystack_len",
        "train_length": "heat_maps.train_length", "lengths": "heat_maps.lengths", "depths": "heat_maps.depths",
        "multiples": "heat_maps.multiples", "n_eval": "heat_maps.n_eval", "accuracy": "heat_maps.maps.*.accuracy",
        "accuracy_by_length": "heat_maps.maps.*.accuracy_by_length", "needle_mass": "heat_maps.maps.*.needle_mass",
        "lab_source": "heat_maps.source",
        "row_needle_mass": "answer_rows.rows.*.needle_mass",
        "row_distractor_mass": "answer_rows.rows.*.distractor_mass",
        "row_best": "answer_rows.rows.*.best_row",
        "multi_lengths": "multi_needle.lengths", "multi_accuracy": "multi_needle.accuracy_by_length",
        "window": "sliding_window.window", "reach": "sliding_window.reach",
        "within_one_hop": "sliding_window.within_one_hop", "beyond_reach": "sliding_window.beyond_reach",
        "chance": "sliding_window.chance",
        "dilution_weights": "dilution.weights", "margins": "dilution.margins", "per_decade": "dilution.per_decade",
        "margin_128k": "dilution.margin_128k", "max_closed_form_gap": "dilution.max_closed_form_gap",
    },
    unchecked={"cited_niah": "published figures (Lost in the Middle: GPT-3.5-Turbo 56.1 % closed-book, 88.3 % "
                             "oracle; RULER's abstract; NoLiMa), quoted on screen, not measured"},
)

L04_4 = TopicCells(
    topic="L04.4",
    explanation="""
Perplexity, exp(mean next-token NLL), is the usual quality metric, but a low perplexity at long context
does not show that the model uses the far context: most tokens are predictable from the last few. The lab
shows it directly: plain RoPE past its training length keeps its filler perplexity almost unchanged while its
needle accuracy falls. Retrieval accuracy (the heat maps of L04.3) and RULER's effective length (the longest
length that still beats Llama-2-7B's score at 4K, 85.6) test use of the context.

Two computation pitfalls change the number itself. Perplexity is exp of the per-token mean: averaging window
means instead weights a short last window like a full one. And a window of trg_len tokens gives only
trg_len − 1 predictions: logits[t] predicts token t + 1, so logits[:-1] is scored against tokens[1:];
forgetting the shift scores each logit against its own input, a different and meaningless number.
""",
    code=("""
SCORED_FROM = ${SCORED_FROM}


def mean(xs):
    xs = [x for x in xs if x is not None]  # None: a position the lab did not score
    return sum(xs) / len(xs)


loss_rows = []
for s in SCHEMES:
    v = m["schemes"][s]
    lp = v["loss_by_position"]
    inside, x2, beyond = mean(lp[SCORED_FROM:train]), mean(lp[train:2 * train]), mean(lp[train:])
    loss_rows.append((lp, inside, x2, beyond))
    print(f"{LABELS[s]:12s} perplexity inside {math.exp(inside):.3f}, at 2x {math.exp(x2):.3f}, "
          f"beyond {math.exp(beyond):.3f}; needle {v['accuracy_by_length']}")
rope = loss_rows[SCHEMES.index("rope")]
ppl_change = math.exp(rope[2]) / math.exp(rope[1]) - 1
print(f"RoPE at 2x: perplexity {100 * ppl_change:+.2f} %, needle accuracy {m['schemes']['rope']['accuracy_by_length']}")

fig, ax = plt.subplots(figsize=(7, 3))
for s, (lp, *_) in zip(SCHEMES, loss_rows):
    ax.plot([i for i, y in enumerate(lp) if y is not None], [y for y in lp if y is not None], lw=1, label=LABELS[s])
ax.axvline(train, color="gray", ls=":")
ax.set_xlabel("position")
ax.set_ylabel("filler NLL (nats)")
ax.legend(fontsize=7)
plt.show()
""", """
# Pitfall: per-window vs per-token averaging (seeded logits, windows of 4, 4 and 2 tokens).
AVG_SEED, AVG_TOKENS, AVG_WINDOWS = ${AVG_SEED}, ${AVG_TOKENS}, ${AVG_WINDOWS}
g = torch.Generator().manual_seed(AVG_SEED)
logits = torch.randn(AVG_TOKENS, 8, generator=g, dtype=torch.float64)
targets = torch.randint(0, 8, (AVG_TOKENS,), generator=g)
nll = torch.nn.CrossEntropyLoss(reduction="none")(logits, targets)
window_means, start = [], 0
for w in AVG_WINDOWS:
    window_means.append(float(nll[start:start + w].mean()))
    start += w
ppl_token = math.exp(float(nll.mean()))
ppl_window = math.exp(sum(window_means) / len(window_means))
ppl_ref = math.exp(float(F.cross_entropy(logits, targets, reduction="mean")))
print(f"per token {ppl_token:.2f} (F.cross_entropy: {ppl_ref:.2f}), mean of window means {ppl_window:.2f}")

# Pitfall: the label shift.
SHIFT_LEN, SHIFT_SEED = ${SHIFT_LEN}, ${SHIFT_SEED}
g = torch.Generator().manual_seed(SHIFT_SEED)
logits = torch.randn(SHIFT_LEN, 8, generator=g, dtype=torch.float64)
tokens8 = torch.randint(0, 8, (SHIFT_LEN,), generator=g)
shifted = torch.nn.CrossEntropyLoss(reduction="none")(logits[:-1], tokens8[1:])
unshifted = torch.nn.CrossEntropyLoss(reduction="none")(logits, tokens8)
print(f"{SHIFT_LEN} tokens -> {shifted.numel()} predictions; NLL {float(shifted.mean()):.4f} shifted, "
      f"{float(unshifted.mean()):.4f} unshifted")

report("L04.4", loss_by_position=[r[0] for r in loss_rows], mean_inside=[r[1] for r in loss_rows],
       mean_2x=[r[2] for r in loss_rows], mean_beyond=[r[3] for r in loss_rows],
       ppl_inside=[math.exp(r[1]) for r in loss_rows], ppl_2x=[math.exp(r[2]) for r in loss_rows],
       ppl_beyond=[math.exp(r[3]) for r in loss_rows], loss_length=lab["config"]["eval"]["loss_length"],
       n_documents=lab["config"]["eval"]["n_loss"], ppl_change=ppl_change,
       rope_accuracy_2x=m["schemes"]["rope"]["accuracy_by_length"][1],
       nll=nll, window_means=window_means, ppl_per_token=ppl_token, ppl_per_window=ppl_window,
       ppl_reference=ppl_ref, valid_predictions=shifted.numel(), nll_shifted=float(shifted.mean()),
       nll_unshifted=float(unshifted.mean()))
"""),
    try_this="""
# Try this: make the windows equal (e.g. 5 and 5). Do the two averages agree then?
means = [float(nll[:5].mean()), float(nll[5:].mean())]
print(math.exp(sum(means) / 2), ppl_token)
""",
    checks={
        "loss_by_position": "loss_by_position.schemes.*.loss_by_position",
        "mean_inside": "loss_by_position.schemes.*.mean_inside", "mean_2x": "loss_by_position.schemes.*.mean_2x",
        "mean_beyond": "loss_by_position.schemes.*.mean_beyond", "ppl_inside": "loss_by_position.schemes.*.ppl_inside",
        "ppl_2x": "loss_by_position.schemes.*.ppl_2x", "ppl_beyond": "loss_by_position.schemes.*.ppl_beyond",
        "loss_length": "loss_by_position.loss_length", "n_documents": "loss_by_position.n_documents",
        "ppl_change": "flat_perplexity.ppl_change", "rope_accuracy_2x": "flat_perplexity.accuracy_2x",
        "nll": "averaging.nll", "window_means": "averaging.window_means", "ppl_per_token": "averaging.ppl_per_token",
        "ppl_per_window": "averaging.ppl_per_window", "ppl_reference": "averaging.ppl_reference",
        "valid_predictions": "label_shift.valid_predictions", "nll_shifted": "label_shift.nll_shifted",
        "nll_unshifted": "label_shift.nll_unshifted",
    },
    unchecked={
        "pitfalls": "text only: the four pitfalls and which figure shows each (the computed ones are checked above)",
        "systems_metrics": "definitions with one example each, read from the committed GPU benchmark file "
                           "(measured on an H200) or from ar.kv_token_budget, which L04.7 checks",
        "effective_length": "RULER's threshold (Llama-2-7B at 4K, 85.6), a published figure quoted on screen",
    },
)

L04_5 = TopicCells(
    topic="L04.5",
    explanation="""
Context windows grew from BERT's 512 tokens (2018) to 128K for open models and 1M for Gemini 1.5 (2024). No
single trick did it: IO-aware exact kernels (FlashAttention, Lecture 6), RoPE scaling (PI, YaRN; Lecture 3),
smaller KV caches (GQA, MLA; Lectures 8 and 9), local or sparse attention (Lecture 7), long-data continued
pre-training, and sequence parallelism. The markers are citation data from the papers; three of them are
read from `attn_ref` presets, and those are recomputed here.
""",
    code=("""
for name, m_ in (("GPT-2", ar.GPT2_SMALL), ("Llama 2", ar.LLAMA2_7B), ("Mistral 7B", ar.MISTRAL_7B)):
    print(f"{name:11s} context {m_.context:,}" + (f", sliding window {m_.window:,}" if m_.window else ""))

report("L04.5", gpt2_context=ar.GPT2_SMALL.context, llama2_context=ar.LLAMA2_7B.context,
       mistral_context=ar.MISTRAL_7B.context)
""",),
    try_this="""
# Try this: the context of every attn_ref preset that records one, on a log scale.
ctx = {k: m_.context for k, m_ in ar.PRESETS.items() if m_.context}
plt.figure(figsize=(7, 3))
plt.barh(list(ctx), list(ctx.values()))
plt.xscale("log")
plt.show()
""",
    checks={"gpt2_context": "timeline.markers.1.context", "llama2_context": "timeline.markers.3.context",
            "mistral_context": "timeline.markers.7.context"},
)

L04_6 = TopicCells(
    topic="L04.6",
    explanation="""
The methods of the rest of the course sort into a 2 × 2 map. Exact methods keep the attention output and
change how it is computed or stored: FlashAttention and Ring Attention (compute and activation memory), GQA,
MQA and MLA (a smaller KV cache, at some cost in quality or uptraining). Approximate methods change what is
computed: sliding-window, sparse or local-global attention (Mistral's W = 4096, Gemma's 5:1 layers), and
linear or state-space layers (Lecture 10), which give up exact retrieval for constant memory. Each method's
entry on screen names what it gives up; there is nothing numerical to recompute here, so this topic's cell
only prints the Mistral window quoted in the map.
""",
    code=("""
print(f"Mistral 7B sliding window: {ar.MISTRAL_7B.window:,} tokens; a rolling cache of that many keys per layer")
report("L04.6")
""",),
    try_this="""
# Try this: how much smaller is a GQA-8 cache than MHA for Llama-2-70B's shape at 4K tokens?
mha = ar.kv_cache_bytes(80, 64, 128, 4096, 1, FP16)
gqa = ar.kv_cache_bytes(80, 8, 128, 4096, 1, FP16)
print(mha / GIB, gqa / GIB, mha / gqa)
""",
    checks={},
    unchecked={"approach_map": "a citation map (exact/approximate × compute/memory, what each method gives up); "
                               "text only"},
)

L04_7 = TopicCells(
    topic="L04.7",
    explanation="""
Put the numbers together on one 80 GB H100. Llama-2-7B's fp16 weights take 13.5 GB; what is left holds about
127K cached tokens in total: 30 requests of 4K, and not even one of 128K. The same budget holds four times as
many tokens with a GQA-8 cache and about 14 times as many with an MLA-sized latent (Lecture 9). Real models'
caches for one 128K sequence, from the `attn_ref` presets, range from 64 GiB (Llama-2-7B, MHA) down to a few
GiB (GQA, MLA). Latency grows too: every decode step reads the whole cache (the floor of L04.2), and the
compute floor of time-to-first-token grows faster than the prompt, ×2.04 per doubling at 1K but ×3.14 from 64K
to 128K, as the quadratic attention term takes over. (The video also shows decode steps measured on an H200,
read from the committed benchmark file; this notebook recomputes only their bandwidth floor for the whole
model at batch 8.)
""",
    code=("""
REQUEST, LONG_REQUEST = ${REQUEST}, ${LONG_REQUEST}
weights = MODEL.n_params() * FP16
mla_latent = ar.DEEPSEEK_V2.kv_lora_rank + ar.DEEPSEEK_V2.rope_head_dim
layouts = {"MHA (as shipped)": MODEL.kv_bytes_per_token(FP16),
           "GQA-8": ar.kv_cache_bytes(MODEL.n_layers, 8, MODEL.head_dim, 1, 1, FP16),
           "MLA-sized latent": MODEL.n_layers * mla_latent * FP16}
budgets = {k: ar.kv_token_budget(H100.memory_bytes, weights, per) for k, per in layouts.items()}
for k, bud in budgets.items():
    print(f"{k:18s} {layouts[k]:8,d} B/token: {bud:10,d} tokens = {bud // REQUEST:4d} x 4K, "
          f"{bud // LONG_REQUEST} x 128K")

caches = []
for key in ("llama-2-7b", "llama-2-70b", "llama-3-8b", "mistral-7b", "deepseek-67b", "deepseek-v2"):
    p = ar.PRESETS[key]
    per = p.kv_bytes_per_token(FP16)
    rolling = p.kv_cache_bytes(LONG_REQUEST, rolling_buffer=True) / GIB if p.window else None
    caches.append((p.name, per, p.kv_cache_bytes(LONG_REQUEST) / GIB, rolling))
    print(f"{p.name:16s} {per / KIB:6.1f} KiB/token, 128K: {caches[-1][2]:6.2f} GiB"
          + (f" (rolling buffer {rolling:.2f} GiB)" if rolling is not None else ""))
""", """
# Decode floor at batch 8 on the H200 and TTFT's compute floor on the H100.
MODEL_BATCH, MODEL_FLOOR_CONTEXTS, TTFT_LENGTHS = ${MODEL_BATCH}, ${MODEL_FLOOR_CONTEXTS}, ${TTFT_LENGTHS}
floor_ms = [1e3 * ar.decode_time_lower_bound(MODEL.decode_bytes(n, MODEL_BATCH), H200) for n in MODEL_FLOOR_CONTEXTS]
fpt = [MODEL.n_layers * MODEL.layer_flops(1, n_k=n)["total"] for n in MODEL_FLOOR_CONTEXTS]
ai = [ar.arithmetic_intensity(MODEL_BATCH * f, MODEL.decode_bytes(n, MODEL_BATCH))
      for f, n in zip(fpt, MODEL_FLOOR_CONTEXTS)]
for n, t, a in zip(MODEL_FLOOR_CONTEXTS, floor_ms, ai):
    print(f"context {n:7,d}: step >= {t:6.2f} ms, {MODEL_BATCH / (t / 1e3):7,.0f} tokens/s at most, AI {a:.1f}")

ttft_flops = [MODEL.n_layers * MODEL.layer_flops(n, causal=True)["total"] for n in TTFT_LENGTHS]
att_share = [MODEL.layer_flops(n, causal=True)["attention"] / MODEL.layer_flops(n, causal=True)["total"]
             for n in TTFT_LENGTHS]
ttft_ms = [1e3 * f / H100.peak_flops for f in ttft_flops]
growth = [b / a for a, b in itertools.pairwise(ttft_ms)]
for n, t, s in zip(TTFT_LENGTHS, ttft_ms, att_share):
    print(f"prompt {n:7,d}: TTFT >= {t:9.1f} ms, attention {100 * s:4.1f} % of the FLOPs")
print("growth per doubling:", [round(x, 2) for x in growth])
takeaway_latency = f"TTFT floor grows {growth[TTFT_LENGTHS.index(65536)]:.2f}× from 64K to 128K tokens"
takeaway_memory = f"{budgets['MHA (as shipped)']:,} cached tokens fit beside the weights on an 80 GB H100"
print(takeaway_latency, "|", takeaway_memory)

report("L04.7", weights_gb=weights / GB, fill_per_token=list(layouts.values()), budget_tokens=list(budgets.values()),
       requests_4k=[b // REQUEST for b in budgets.values()],
       requests_128k=[b // LONG_REQUEST for b in budgets.values()],
       fits_one_128k=[b >= LONG_REQUEST for b in budgets.values()],
       preset_names=[c[0] for c in caches], preset_per_token=[c[1] for c in caches],
       preset_gib_128k=[c[2] for c in caches], preset_rolling_gib=[c[3] for c in caches],
       model_floor_ms=floor_ms, model_floor_tokens_per_s=[MODEL_BATCH / (t / 1e3) for t in floor_ms],
       model_flops_per_token=fpt, model_intensity=ai,
       prefill_flops=ttft_flops, prefill_attention_share=att_share, ttft_floor_ms=ttft_ms,
       growth_per_doubling=growth, tokens_per_ms=[n / t for n, t in zip(TTFT_LENGTHS, ttft_ms)],
       takeaway_latency=takeaway_latency, takeaway_memory=takeaway_memory)
"""),
    try_this="""
# Try this: the same budget with an 8-bit KV cache (1 byte per number). How many 128K requests fit now?
per8 = MODEL.kv_bytes_per_token(1)
print(ar.kv_token_budget(H100.memory_bytes, weights, per8) // LONG_REQUEST)
""",
    checks={
        "weights_gb": "memory_fill.weights_gb", "fill_per_token": "memory_fill.bars.*.kv_bytes_per_token",
        "budget_tokens": "memory_fill.bars.*.budget_tokens", "requests_4k": "memory_fill.bars.*.requests_4k",
        "requests_128k": "memory_fill.bars.*.requests_128k", "fits_one_128k": "memory_fill.bars.*.fits_one_128k",
        "preset_names": "preset_caches.*.name", "preset_per_token": "preset_caches.*.kv_bytes_per_token",
        "preset_gib_128k": "preset_caches.*.cache_gib_128k", "preset_rolling_gib": "preset_caches.*.rolling_gib_128k",
        "model_floor_ms": "decode_vs_context.model_floor_ms",
        "model_floor_tokens_per_s": "decode_vs_context.model_floor_tokens_per_s",
        "model_flops_per_token": "decode_vs_context.model_flops_per_token",
        "model_intensity": "decode_vs_context.model_intensity",
        "prefill_flops": "prefill_cost.flops", "prefill_attention_share": "prefill_cost.attention_share",
        "ttft_floor_ms": "prefill_cost.ttft_floor_ms", "growth_per_doubling": "prefill_cost.growth_per_doubling",
        "tokens_per_ms": "prefill_cost.tokens_per_ms",
        "takeaway_latency": "takeaways.0.figure", "takeaway_memory": "takeaways.1.figure",
    },
)

NOTEBOOK = NotebookSpec(intro=INTRO, setup=SETUP, values=VALUES, data_package="scenes.l04_context.data",
                        topics=(L04_1, L04_2, L04_3, L04_4, L04_5, L04_6, L04_7))
