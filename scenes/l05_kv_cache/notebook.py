"""Lecture 5's companion notebook (``scripts/notebooks.py --lecture 05`` writes notebooks/05-*.ipynb).

The code cells are what a learner would write with ``attn_ref`` and torch: the same seeds, inputs and
calls as the data builders (``data/``), never an import of the scene package. ``$NAME`` placeholders
are filled with the data modules' own constants (``VALUES``), so a constant changed there changes the
notebook on regeneration. The measured numbers of L05.6 are read from the committed benchmark files
(benchmarks/results/gpu-nvidia-h200.json and cpu-amd-epyc.json), as a learner would read them, and checked.
``checks`` name the builder field each printed number must equal; the tests (tests/notebooks) execute the
notebook and compare. The one builder that only quotes published figures is listed in ``unchecked``.
"""
from __future__ import annotations

from scenes.kit.notebook import NotebookSpec, TopicCells, helpers

from .data import _shared, generation, implementation, performance, pitfalls, savings

VALUES = {
    # the running model and prompt
    "MODEL": _shared.MODEL, "PROMPT": _shared.PROMPT, "NEW_TOKENS": _shared.NEW_TOKENS,
    "GEN_SEED": _shared.GEN_SEED, "GPU_RESULT": _shared.GPU_RESULT, "CPU_RESULT": _shared.CPU_RESULT,
    # L05.2
    "COUNTER_DIM": savings.COUNTER_DIM, "COUNTER_STEPS": savings.COUNTER_STEPS, "RATIO_T": savings.RATIO_T,
    "CONTEXTS": savings.CONTEXTS, "PRESET_KEYS": savings.PRESET_KEYS, "KIND": savings.KIND,
    # L05.3
    "CHUNKS": implementation.CHUNKS, "ROLL_WINDOW": implementation.WINDOW, "N_SINK": implementation.N_SINK,
    "ROLL_TOKENS": implementation.ROLL_TOKENS, "COPY_STEPS": implementation.COPY_STEPS,
    # L05.4
    "PREFILL_LEN": generation.PREFILL_LEN, "DECODE_STEPS": generation.DECODE_STEPS,
    "SAMPLING_V": generation.SAMPLING_V, "SAMPLING_SEED": generation.SAMPLING_SEED,
    "SAMPLING_STD": generation.SAMPLING_STD, "TEMPERATURES": generation.TEMPERATURES, "TOP_K": generation.TOP_K,
    "TOP_P": generation.TOP_P, "PADDED_PROMPTS": generation.PADDED_PROMPTS, "PADDED_NEW": generation.PADDED_NEW,
    "BLOCK": generation.BLOCK, "PAGED_LENGTHS": generation.PAGED_LENGTHS, "DRAFT_K": generation.DRAFT_K,
    "DRAFT_SEED": generation.DRAFT_SEED, "DRAFT_NOISE": generation.DRAFT_NOISE, "SPEC_NEW": generation.SPEC_NEW,
    # L05.5
    "SECOND_PROMPT": pitfalls.SECOND_PROMPT, "PIT_WINDOW": pitfalls.WINDOW, "WINDOW_N": pitfalls.WINDOW_N,
    "STATIC_MAX": pitfalls.STATIC_MAX, "DROPOUT_P": pitfalls.DROPOUT_P,
    # L05.6
    "VARIANTS": performance.VARIANTS, "BOUND_CONTEXTS": performance.BOUND_CONTEXTS,
    "SPLIT_N": performance.SPLIT_N, "SPLIT_D": performance.SPLIT_D, "SPLITS": performance.SPLITS,
    "SPLIT_SEED": performance.SPLIT_SEED,
}

INTRO = """
Every number in the video of this lecture is computed by `attn_ref`, the course's tested library of
attention implementations (a tiny decoder with a KV cache, `ar.generate`, cost models, model presets, device
specs), or read from the committed benchmark files of the repository (`benchmarks/results/`, measured on an
NVIDIA H200 and on a 2-core CPU). This notebook recomputes them with the same seeds, the same inputs and the
same calls, and reads the same result files, so you can check any number you saw on screen, then change the
prompt, the chunk sizes, the window or the model and see what moves. It needs only `attn_ref` (`pip install .`
in the repository, which also holds the result files) and matplotlib, and runs on a CPU in seconds.

The running model is a seeded, *untrained* `ar.TinyDecoder` in float64: 2 layers, d_model 32, 4 query heads
sharing 2 K/V heads (grouped-query attention), head width d_h = 8, a vocabulary of 64 tokens. Its tokens are
random draws, not language. What the lecture shows with it is structural (the cache gives the same outputs as
recomputation, which rows are reused, which masks are right) and holds for any weights. The cost numbers use
real models from the presets (Llama-2-7B: 32 layers, 32 heads of 128, 512 KiB of cache per token in fp16).

Units: KiB = 2^10 bytes, GiB = 2^30 bytes, GB = 10^9 bytes; fp16/bf16 = 2 bytes per number; FLOPs count a
multiply-add as 2. The last line of each topic, `NUMBERS L05.k {...}`, prints its key numbers at full
precision: the repository's tests run this notebook and compare that line with the values the video draws.
"""

SETUP = ("""
import itertools
import json
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

import attn_ref as ar
from attn_ref.bench.results import RESULTS_DIR, source_line  # benchmarks/results/ in the repository
""" + helpers("report", "gaussian", "max_abs", "bench_result") + """

def bench_source(result, suite=None):
    # The source line printed under a measured figure (and the commit a suite was rerun at, if any).
    line = source_line(result)
    for suites, commit in (result["provenance"].get("later_commits") or {}).items():
        if suite and suite in suites.split(","):
            line += f" ({suite} rerun at attn_ref {commit[:8]})"
    return f"{line}; `{result['provenance']['command']}`"
""", """
# The running model: a seeded, untrained TinyDecoder in float64, eval mode (no dropout anywhere).
MODEL_CONFIG = ${MODEL}
PROMPT, NEW_TOKENS, GEN_SEED = ${PROMPT}, ${NEW_TOKENS}, ${GEN_SEED}
model = ar.TinyDecoder(ar.DecoderConfig(**MODEL_CONFIG)).double().eval()
N_LAYERS, N_HEADS, N_KV_HEADS = MODEL_CONFIG["n_layers"], MODEL_CONFIG["n_heads"], MODEL_CONFIG["n_kv_heads"]
HEAD_DIM = MODEL_CONFIG["d_model"] // N_HEADS


def tokens(ids):
    # (1, n) LongTensor of token ids.
    return torch.tensor([list(ids)], dtype=torch.long)


@torch.no_grad()
def full_logits(ids, m=model, attn_mask=None):
    # Logits (n, V) of one causal forward over all of ids: no cache.
    return m(tokens(ids), attn_mask=attn_mask)[0]


@torch.no_grad()
def chunked_logits(ids, chunks, m=model, alignment="lower_right", caches=None):
    # Logits (n, V) with ids fed through a KV cache in chunks (prefill = one chunk, decode = chunks of 1).
    # alignment="upper_left" forces PyTorch's is_causal mask (query i sees keys j <= i) into every chunk: a bug.
    caches = m.new_caches(1) if caches is None else caches
    out, start = [], 0
    for size in chunks:
        past = len(caches[0])
        mask = None
        if alignment == "upper_left":
            mask = ar.causal_mask(size, past + size, "upper_left")[None, None]
        out.append(m(tokens(ids[start:start + size]), caches=caches, attn_mask=mask)[0])
        start += size
    return torch.cat(out)


@torch.no_grad()
def layer_kv(ids, m=model):
    # (K, V) of every layer, each (H_kv, n, d_h) after RoPE, read from the forward's "mha.forward" trace.
    trace = ar.Trace()
    m(tokens(ids), trace=trace)
    return [(s["k"][0], s["v"][0]) for s in trace.of_kind("mha.forward")]


print(model.config)
""")

L05_1 = TopicCells(
    topic="L05.1",
    explanation="""
A decoder generates one token at a time, and each new token needs attention over everything before it. Without
a cache, every step runs the whole prefix through the model again: at step t it recomputes t rows of keys and
values and the whole causal triangle of t(t+1)/2 scores, although only the last row is new. With a cache, the
prompt is run once (the *prefill*), its K and V rows are stored in every layer, and each later step runs one
token: one new K/V row is appended, and one query row attends to all cached keys.

Below, `ar.generate` draws three tokens after the prompt (3, 17, 42, 8, 25), once with `use_cache=False` and
once with `use_cache=True`, with the same sampler seed. The tokens are the same, the logits agree to float64
rounding, and the work per step is very different: the exact attention FLOPs of the cached decode steps are a
fraction of the recomputed ones, and torch's own FLOP counter over the whole step (every matmul, the MLP too)
tells the same story.

Why is it allowed? Under a causal mask, position i never looks at positions after i, so the K and V rows of
old positions cannot change when a token is appended: they are final the moment they are computed. The second
cell checks this in every layer. A bidirectional encoder is different: from its second layer on, every row has
seen the new token, so its old K and V rows change and nothing could be cached.
""",
    code=("""
runs = {}
for use_cache in (False, True):
    trace = ar.Trace()
    out = ar.generate(model, tokens(PROMPT), NEW_TOKENS, use_cache=use_cache, seed=GEN_SEED, trace=trace)
    runs[use_cache] = (out[0].tolist(), trace.of_kind("decode.step"))
SEQ = tuple(runs[True][0])  # prompt + the 3 generated tokens: the sequence the next topics reuse
print("without cache:", runs[False][0])
print("with cache:   ", runs[True][0])


def counted(use_cache):
    # torch's FlopCounterMode over generate for 1, 2, 3 new tokens; the differences are the steps.
    totals = []
    for k in range(1, NEW_TOKENS + 1):
        with FlopCounterMode(display=False) as fc:
            ar.generate(model, tokens(PROMPT), k, use_cache=use_cache, seed=GEN_SEED)
        totals.append(fc.get_total_flops())
    return [b - a for a, b in zip([0] + totals, totals)]


counted_flops = {c: counted(c) for c in (False, True)}
steps = []
for s, (a, b) in enumerate(zip(runs[False][1], runs[True][1])):
    t = b["context_len"]                   # tokens before the new one
    run_c = t if s == 0 else 1             # the cache runs the whole prompt once, then one token
    steps.append(dict(
        context_len=t, cache_len=b["cache_len"], token=int(b["token"][0]),
        new_k=b["keys"][0, 0, 0, -1], new_v=b["values"][0, 0, 0, -1],   # layer 0, KV head 0: the row appended
        attention_row=b["weights"][0, 0, 0],                            # layer 0, head 0: the newest query's row
        max_weight_diff=max_abs(a["weights"], b["weights"]), max_logit_diff=max_abs(a["logits"], b["logits"]),
        run_no_cache=t, run_cache=run_c, cells_no_cache=t * (t + 1) // 2,
        cells_cache=t * (t + 1) // 2 if s == 0 else t,
        flops_no_cache=ar.causal_attention_flops(t, t, HEAD_DIM, N_HEADS) * N_LAYERS,
        flops_cache=ar.causal_attention_flops(run_c, t, HEAD_DIM, N_HEADS) * N_LAYERS,
        counted_no_cache=counted_flops[False][s], counted_cache=counted_flops[True][s]))
    r = steps[-1]
    print(f"step {s}: t = {t}, token {r['token']}, cache holds {r['cache_len']}; tokens run {t} vs {run_c}; "
          f"attention FLOPs {r['flops_no_cache']:,} vs {r['flops_cache']:,}; "
          f"counted {r['counted_no_cache']:,} vs {r['counted_cache']:,}; |logit diff| {r['max_logit_diff']:.1e}")
cache_shape = list(runs[True][1][-1]["keys"].shape[1:])   # (B, H_kv, n, d_h) per layer after the last step
print("cache per layer (B, H_kv, n, d_h):", cache_shape)

fig, ax = plt.subplots(figsize=(7, 3))
x = torch.arange(NEW_TOKENS, dtype=torch.float64)
ax.bar(x - 0.2, [r["flops_no_cache"] for r in steps], 0.4, label="no cache (recompute the prefix)")
ax.bar(x + 0.2, [r["flops_cache"] for r in steps], 0.4, label="KV cache")
ax.set_xticks(x.tolist(), [f"step {s} (t = {r['context_len']})" for s, r in enumerate(steps)])
ax.set_ylabel("attention FLOPs, all layers")
ax.legend(fontsize=8)
plt.show()
""", """
# Why caching is allowed: run x_1..t and x_1..t+1; compare the K, V rows of positions 1..t, layer by layer.
ids = (*PROMPT, SEQ[len(PROMPT)])
t = len(PROMPT)
encoder = ar.TinyDecoder(ar.DecoderConfig(**MODEL_CONFIG)).double().eval()
for block in encoder.blocks:
    block.attn.causal = False              # the same weights, but every row sees every column


def diffs(short, long, which):             # which: 0 = K, 1 = V
    return [max_abs(s[which], lg[which][:, :t]) for s, lg in zip(short, long)]


dec_short, dec_long = layer_kv(PROMPT), layer_kv(ids)
enc_short, enc_long = layer_kv(PROMPT, encoder), layer_kv(ids, encoder)
dec_k, dec_v = diffs(dec_short, dec_long, 0), diffs(dec_short, dec_long, 1)
enc_k, enc_v = diffs(enc_short, enc_long, 0), diffs(enc_short, enc_long, 1)
print(f"decoder (causal): max change of old K per layer {dec_k}, of old V {dec_v}")
print(f"encoder (no mask): max change of old K per layer {enc_k}, of old V {enc_v}")
old_k_rows = dec_long[-1][0][0, :t]        # last layer, KV head 0: the rows the cache reuses
print(old_k_rows)

report("L05.1", prompt=list(PROMPT), tokens_no_cache=runs[False][0], tokens_cache=runs[True][0],
       identical=runs[False][0] == runs[True][0], n_layers=N_LAYERS, n_heads=N_HEADS, n_kv_heads=N_KV_HEADS,
       head_dim=HEAD_DIM, context_len=[r["context_len"] for r in steps], cache_len=[r["cache_len"] for r in steps],
       token=[r["token"] for r in steps], new_k=[r["new_k"] for r in steps], new_v=[r["new_v"] for r in steps],
       attention_row=[r["attention_row"] for r in steps], max_weight_diff=[r["max_weight_diff"] for r in steps],
       max_logit_diff=[r["max_logit_diff"] for r in steps], tokens_run_no_cache=[r["run_no_cache"] for r in steps],
       tokens_run_cache=[r["run_cache"] for r in steps], kv_rows_no_cache=[r["run_no_cache"] for r in steps],
       kv_rows_cache=[r["run_cache"] for r in steps], score_cells_no_cache=[r["cells_no_cache"] for r in steps],
       score_cells_cache=[r["cells_cache"] for r in steps],
       attention_flops_no_cache=[r["flops_no_cache"] for r in steps],
       attention_flops_cache=[r["flops_cache"] for r in steps],
       counted_flops_no_cache=[r["counted_no_cache"] for r in steps],
       counted_flops_cache=[r["counted_cache"] for r in steps], cache_shape=cache_shape,
       appended=ids[-1], decoder_k_diff=dec_k, decoder_v_diff=dec_v, encoder_k_diff=enc_k, encoder_v_diff=enc_v,
       old_k_rows=old_k_rows)
""", ),
    try_this="""
# Try this: sample greedily (temperature 0) or with another seed. Do the two runs still agree?
for seed in (0, 7):
    a = ar.generate(model, tokens(PROMPT), 6, use_cache=False, seed=seed)
    b = ar.generate(model, tokens(PROMPT), 6, use_cache=True, seed=seed)
    print(seed, a[0].tolist(), torch.equal(a, b))
""",
    checks={
        "prompt": "generation_trace.prompt", "tokens_no_cache": "generation_trace.tokens_no_cache",
        "tokens_cache": "generation_trace.tokens_cache", "identical": "generation_trace.identical",
        "n_layers": "generation_trace.n_layers", "n_heads": "generation_trace.n_heads",
        "n_kv_heads": "generation_trace.n_kv_heads", "head_dim": "generation_trace.head_dim",
        "context_len": "generation_trace.steps.*.context_len", "cache_len": "generation_trace.steps.*.cache_len",
        "token": "generation_trace.steps.*.token", "new_k": "generation_trace.steps.*.new_k",
        "new_v": "generation_trace.steps.*.new_v", "attention_row": "generation_trace.steps.*.attention_row",
        "max_weight_diff": "generation_trace.steps.*.max_weight_diff",
        "max_logit_diff": "generation_trace.steps.*.max_logit_diff",
        "tokens_run_no_cache": "generation_trace.steps.*.tokens_run_no_cache",
        "tokens_run_cache": "generation_trace.steps.*.tokens_run_cache",
        "kv_rows_no_cache": "generation_trace.steps.*.kv_rows_no_cache",
        "kv_rows_cache": "generation_trace.steps.*.kv_rows_cache",
        "score_cells_no_cache": "generation_trace.steps.*.score_cells_no_cache",
        "score_cells_cache": "generation_trace.steps.*.score_cells_cache",
        "attention_flops_no_cache": "generation_trace.steps.*.attention_flops_no_cache",
        "attention_flops_cache": "generation_trace.steps.*.attention_flops_cache",
        "counted_flops_no_cache": "generation_trace.steps.*.counted_flops_no_cache",
        "counted_flops_cache": "generation_trace.steps.*.counted_flops_cache",
        "cache_shape": "generation_trace.cache_shape_per_layer",
        "appended": "prefix_invariance.appended", "decoder_k_diff": "prefix_invariance.decoder_k_diff",
        "decoder_v_diff": "prefix_invariance.decoder_v_diff", "encoder_k_diff": "prefix_invariance.encoder_k_diff",
        "encoder_v_diff": "prefix_invariance.encoder_v_diff", "old_k_rows": "prefix_invariance.old_k_rows",
    },
)

L05_2 = TopicCells(
    topic="L05.2",
    explanation="""
Count the attention work of one head of width d. Without a cache, step t (t tokens including the new one)
recomputes the whole causal triangle: t(t+1)/2 scores and as many weighted-sum terms, 2d·t(t+1) FLOPs. With a
cache it computes one row: t scores, 4d·t FLOPs. Summed over T steps the ratio is (T + 2)/3, so it grows
linearly with the length of the generation: about 34 at T = 100, 1,366 at T = 4096. The dense layers
(projections, MLP) cost 2P per token run; recomputing runs t tokens at step t, so their ratio is (T + 1)/2.

The price is memory. The cache holds 2 (K and V) · n_layers · H_kv · d_h numbers per token: for Llama-2-7B in
fp16 that is 2 · 32 · 32 · 128 · 2 bytes = 512 KiB per token, 2 GiB at 4K tokens and 64 GiB at 128K, more than
its 13.5 GB of weights. Grouped-query attention (Llama-2-70B, Mistral-7B: 8 K/V heads) and DeepSeek-V2's
multi-head latent attention (one 512-wide latent plus one 64-wide RoPE key per layer) exist to shrink that
number; Lectures 8 and 9 treat them. Contexts beyond a model's trained length are what-ifs, flagged below.
""",
    code=("""
COUNTER_DIM, COUNTER_STEPS, RATIO_T = ${COUNTER_DIM}, ${COUNTER_STEPS}, ${RATIO_T}
d = COUNTER_DIM
steps_t = list(range(1, COUNTER_STEPS + 1))
flops_no = [ar.causal_attention_flops(t, t, d) for t in steps_t]      # 2d t(t+1): the whole triangle again
flops_yes = [ar.causal_attention_flops(1, t, d) for t in steps_t]     # 4d t: one new row
assert flops_no == [2 * d * t * (t + 1) for t in steps_t] and flops_yes == [4 * d * t for t in steps_t]
cum_no, cum_yes = list(itertools.accumulate(flops_no)), list(itertools.accumulate(flops_yes))
held = [ar.kv_cache_bytes(1, 1, d, t) for t in steps_t]               # K and V rows of one head, fp16
ratios, dense = [], []
for T in RATIO_T:
    a = sum(ar.causal_attention_flops(t, t, d) for t in range(1, T + 1))
    b = sum(ar.causal_attention_flops(1, t, d) for t in range(1, T + 1))
    ratios.append(a / b)
    dense.append(sum(range(1, T + 1)) / T)                            # sum of 2P t over sum of 2P
    print(f"T = {T:5d}: attention ratio {a / b:9.3f} = (T + 2)/3 = {(T + 2) / 3:9.3f}; dense {dense[-1]:7.1f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3))
ax1.plot(steps_t, cum_no, "o-", label="no cache")
ax1.plot(steps_t, cum_yes, "o-", label="KV cache")
ax1.set_xlabel("step t")
ax1.set_ylabel("cumulative attention FLOPs (one head)")
ax1.legend()
ax2.bar(steps_t, [b / 1024 for b in held])
ax2.set_xlabel("step t")
ax2.set_ylabel("cache held (KiB, one head)")
plt.show()
""", """
CONTEXTS, PRESET_KEYS, KIND = ${CONTEXTS}, ${PRESET_KEYS}, ${KIND}
mem = []
for key in PRESET_KEYS:
    cfg = ar.PRESETS[key]
    per = cfg.kv_bytes_per_token()
    cache = [cfg.kv_cache_bytes(n) for n in CONTEXTS]
    try:
        weights = cfg.n_params() * 2
    except ValueError:                      # DeepSeek-V2 is a mixture of experts: parameters not modelled
        weights = None
    mem.append(dict(name=cfg.name, kind=KIND[key], n_layers=cfg.n_layers,
                    n_kv_heads=cfg.n_kv_heads if cfg.mla is None else 1, head_dim=cfg.head_dim, per=per,
                    cache=cache, weights=weights,
                    over=[c / weights if weights else None for c in cache], context=cfg.context,
                    beyond=[cfg.context is not None and n > cfg.context for n in CONTEXTS]))
    print(f"{cfg.name:14s} {KIND[key]:5s} {per / 1024:6.1f} KiB/token; cache "
          + ", ".join(f"{n // 1024}K: {c / 2 ** 30:6.2f} GiB" + (" (beyond its context)" if b else "")
                      for n, c, b in zip(CONTEXTS, cache, mem[-1]["beyond"]))
          + (f"; weights {weights / 2 ** 30:.1f} GiB" if weights else ""))

report("L05.2", head_dim=d, steps=steps_t, flops_no_cache=flops_no, flops_cache=flops_yes,
       cumulative_no_cache=cum_no, cumulative_cache=cum_yes, cache_bytes=held, ratio_T=list(RATIO_T), ratio=ratios,
       dense_ratio=dense, contexts=list(CONTEXTS), names=[r["name"] for r in mem], kinds=[r["kind"] for r in mem],
       layers=[r["n_layers"] for r in mem], kv_heads=[r["n_kv_heads"] for r in mem],
       head_dims=[r["head_dim"] for r in mem], bytes_per_token=[r["per"] for r in mem],
       kib_per_token=[r["per"] / 1024 for r in mem], model_cache_bytes=[r["cache"] for r in mem],
       model_cache_gib=[[c / 2 ** 30 for c in r["cache"]] for r in mem], weight_bytes=[r["weights"] for r in mem],
       cache_over_weights=[r["over"] for r in mem], trained_context=[r["context"] for r in mem],
       beyond_context=[r["beyond"] for r in mem])
"""),
    try_this="""
# Try this: the cache of Llama-2-7B in 8-bit (1 byte per number) and for a batch of 16 requests at 4K.
cfg = ar.LLAMA2_7B
print(cfg.kv_cache_bytes(4096, bytes_per_elem=1) / 2 ** 30, "GiB in 8-bit")
print(ar.kv_cache_bytes(cfg.n_layers, cfg.n_kv_heads, cfg.head_dim, 4096, 16) / 2 ** 30, "GiB for 16 requests")
""",
    checks={
        "head_dim": "counters.head_dim", "steps": "counters.steps", "flops_no_cache": "counters.flops_no_cache",
        "flops_cache": "counters.flops_cache", "cumulative_no_cache": "counters.cumulative_no_cache",
        "cumulative_cache": "counters.cumulative_cache", "cache_bytes": "counters.cache_bytes",
        "ratio_T": "counters.ratio_T", "ratio": "counters.ratio", "dense_ratio": "counters.dense_ratio",
        "contexts": "cache_memory.contexts", "names": "cache_memory.models.*.name",
        "kinds": "cache_memory.models.*.kind", "layers": "cache_memory.models.*.n_layers",
        "kv_heads": "cache_memory.models.*.n_kv_heads", "head_dims": "cache_memory.models.*.head_dim",
        "bytes_per_token": "cache_memory.models.*.bytes_per_token",
        "kib_per_token": "cache_memory.models.*.kib_per_token",
        "model_cache_bytes": "cache_memory.models.*.cache_bytes", "model_cache_gib": "cache_memory.models.*.cache_gib",
        "weight_bytes": "cache_memory.models.*.weight_bytes",
        "cache_over_weights": "cache_memory.models.*.cache_over_weights",
        "trained_context": "cache_memory.models.*.trained_context",
        "beyond_context": "cache_memory.models.*.beyond_context",
    },
)

L05_3 = TopicCells(
    topic="L05.3",
    explanation="""
In `attn_ref` every layer owns one `KVCache`, holding K and V as (B, H_kv, n, d_h) tensors: batch, K/V heads
(2 here, not 4: the query heads share them), tokens, head width. Keys are stored *after* RoPE, rotated at their
absolute position, so a cached key never has to be touched again. Each forward call writes its new rows at
cache positions `arange(past, past + q_len)`.

The mask needs care. With a cache, the queries are the *last* q_len positions of a sequence of n_k keys, so the
causal mask is aligned to the lower right: query i sees key j iff j ≤ i + (n_k − q_len). PyTorch's
`is_causal=True` (and `torch.tril`) align it to the upper left instead, which is right only when q_len = n_k.
For a single decode step the right mask is a row of all True; the upper-left one lets the new token see key 0
only. For chunked prefill (3 queries against 7 keys) it hides keys the queries are entitled to. Run through the
model, the upper-left mask gives wrong logits, while prefill + decode, chunked prefill (4, 3, 1) and token by
token all equal one full forward pass to float64 rounding.

Three storage policies follow. A *dynamic* cache concatenates: `torch.cat` allocates a new buffer and copies
every row at each step, O(n) per token. A *static* cache preallocates max_len slots and writes one row in place.
A *rolling* cache keeps only the last W tokens in slot p mod W, which is exactly sliding-window attention
(Mistral: 8× smaller at 32K); attention sinks keep the first tokens as well. With a left-padded batch the slots
are shared but each row's RoPE positions come from its own mask: cumsum(mask) − 1.
""",
    code=("""
# The layout: prefill the prompt, decode 3 tokens; a dynamic and a static cache side by side.
caches, static = model.new_caches(1), model.new_caches(1, static=True)
q_lens = (len(PROMPT),) + (1,) * NEW_TOKENS
cache_positions, start = [], 0
with torch.no_grad():
    for q in q_lens:
        cache_positions.append(list(range(len(caches[0]), len(caches[0]) + q)))
        model(tokens(SEQ[start:start + q]), caches=caches)
        model(tokens(SEQ[start:start + q]), caches=static)
        start += q
    blk = model.blocks[0]                   # recompute layer 0's keys by hand: projection, then RoPE
    h = blk.attn_norm(model.embed(tokens(SEQ)))
    k_plain = blk.attn._split(blk.attn.k_proj(h), blk.attn.n_kv_heads)
    k_rotated = blk.attn.rope(k_plain, torch.arange(len(SEQ)))
c = caches[0]
layout = dict(shape=list(c.keys.shape), static_shape=list(static[0]._k.shape),  # _k: the preallocated buffer
              vs_rotated=max_abs(c.keys, k_rotated), vs_plain=max_abs(c.keys, k_plain),
              dynamic_bytes=c.nbytes(), static_bytes=static[0].nbytes(),
              formula_bytes=ar.kv_cache_bytes(1, N_KV_HEADS, HEAD_DIM, len(SEQ), bytes_per_elem=8))
print(f"per layer: K and V {layout['shape']} (B, H_kv, n, d_h); static buffer {layout['static_shape']}")
print(f"cache positions per call: {cache_positions}")
print(f"cached K vs RoPE(W_k x): {layout['vs_rotated']:.1e}; vs W_k x without RoPE: {layout['vs_plain']:.2f}")
print(f"bytes (float64): dynamic {layout['dynamic_bytes']} = formula {layout['formula_bytes']}, "
      f"static {layout['static_bytes']}")
""", """
# The masks: prefill (5 x 5), decode (1 x 6), chunked prefill (3 x 7), and the upper-left mistake in the model.
full = full_logits(SEQ)
mask_cases = []
for name, chunks in (("prefill", (5,)), ("decode", (5, 1)), ("chunked prefill", (4, 3))):
    n = sum(chunks)
    n_q = chunks[-1]
    wrong = chunked_logits(SEQ[:n], chunks, alignment="upper_left")
    lr, ul = ar.causal_mask(n_q, n, "lower_right"), ar.causal_mask(n_q, n, "upper_left")
    mask_cases.append(dict(name=name, n_q=n_q, n_k=n, lr=lr, ul=ul, all_true=bool(lr.all()),
                           wrong_diff=max_abs(wrong[n - n_q:], full[n - n_q:n])))
    print(f"{name:16s} {n_q} x {n}: lower-right all True: {bool(lr.all())}; "
          f"upper-left run in the model: |logit diff| {mask_cases[-1]['wrong_diff']:.3f}")

fig, axes = plt.subplots(2, 3, figsize=(10, 3.5))
for col, mc in enumerate(mask_cases):
    for row, key in enumerate(("lr", "ul")):
        axes[row, col].imshow(mc[key], cmap="Greys_r", vmin=0, vmax=1)
        axes[row, col].set_title(f"{mc['name']}, {'lower-right' if key == 'lr' else 'upper-left'}", fontsize=8)
        axes[row, col].set_xticks([])
        axes[row, col].set_yticks([])
plt.show()

# Equivalence: three cache schedules against one full forward (float64).
CHUNKS = ${CHUNKS}
schedules = [(len(PROMPT),) + (1,) * NEW_TOKENS, CHUNKS, (1,) * len(SEQ)]
eq_diff, eq_per_position = [], []
for sch in schedules:
    got = chunked_logits(SEQ, sch)
    eq_per_position.append([float(x) for x in (got - full).abs().amax(-1)])
    eq_diff.append(max_abs(got, full))
    print(f"schedule {sch}: max |logits - full forward| = {eq_diff[-1]:.1e}")
eq_wrong = max_abs(chunked_logits(SEQ, CHUNKS, alignment="upper_left"), full)
print(f"chunks {CHUNKS} with the upper-left mask: {eq_wrong:.3f}")
""", """
# Static vs dynamic: numbers written per decode step (B = 1, H_kv = 2, d_h = 8).
COPY_STEPS = ${COPY_STEPS}
g = torch.Generator().manual_seed(50)
ks = torch.randn(COPY_STEPS, 1, N_KV_HEADS, 1, HEAD_DIM, generator=g)
dyn, sta = ar.KVCache(1, N_KV_HEADS, HEAD_DIM), ar.KVCache(1, N_KV_HEADS, HEAD_DIM, max_len=COPY_STEPS)
row = N_KV_HEADS * HEAD_DIM
copied, written, moves_d, moves_s, dyn_bytes = [], [], 0, 0, []
ptr_d, ptr_s = dyn._k.data_ptr(), sta._k.data_ptr()      # where each key buffer lives in memory
for t in range(COPY_STEPS):
    k_all, _ = dyn.update(ks[t], ks[t])
    sta.update(ks[t], ks[t])
    copied.append(2 * k_all[0].numel())                   # torch.cat wrote every K and V row again
    written.append(2 * row)                               # in place: one K row and one V row
    moves_d += dyn._k.data_ptr() != ptr_d
    moves_s += sta._k.data_ptr() != ptr_s
    ptr_d, ptr_s = dyn._k.data_ptr(), sta._k.data_ptr()
    dyn_bytes.append(dyn.nbytes())
print(f"{COPY_STEPS} steps: dynamic wrote {sum(copied):,} numbers (new buffer {moves_d} times), "
      f"static {sum(written):,} (new buffer {moves_s} times); static holds {sta.nbytes()} bytes throughout")

# The rolling buffer: slot = position mod W, the same as KVCache(window=W); with sinks the first tokens stay.
ROLL_WINDOW, N_SINK, ROLL_TOKENS = ${ROLL_WINDOW}, ${N_SINK}, ${ROLL_TOKENS}
g = torch.Generator().manual_seed(51)
roll_seq = tuple(torch.randint(0, MODEL_CONFIG["vocab_size"], (ROLL_TOKENS,), generator=g).tolist())
slots, held, sink_held, slots_ok = [], [], [], True
cur = [None] * ROLL_WINDOW
rolling = ar.KVCache(1, 1, 2, window=ROLL_WINDOW)
sinks = ar.KVCache(1, 1, 2, window=ROLL_WINDOW, n_sink=N_SINK)
one = torch.zeros(1, 1, 1, 2)
for p in range(ROLL_TOKENS):
    cur[p % ROLL_WINDOW] = p
    slots.append(list(cur))
    rolling.update(one, one)
    sinks.update(one, one)
    held.append(rolling.positions.tolist())
    sink_held.append(sinks.positions.tolist())
    slots_ok &= sorted(x for x in cur if x is not None) == held[-1]
    print(f"token {p}: slots {slots[-1]}, window cache holds {held[-1]}, with sinks {sink_held[-1]}")
with torch.no_grad():
    n = len(roll_seq)
    sw = full_logits(roll_seq, attn_mask=ar.sliding_window_mask(n, n, ROLL_WINDOW)[None, None])
    sw_sink = full_logits(roll_seq, attn_mask=ar.sink_window_mask(n, n, ROLL_WINDOW, N_SINK)[None, None])
    roll = chunked_logits(roll_seq, (3,) + (1,) * (n - 3), caches=model.new_caches(1, window=ROLL_WINDOW))
    roll_sink = chunked_logits(roll_seq, (3,) + (1,) * (n - 3),
                               caches=model.new_caches(1, window=ROLL_WINDOW, n_sink=N_SINK))
mis = ar.MISTRAL_7B
mis_full, mis_roll = mis.kv_cache_bytes(32768), mis.kv_cache_bytes(32768, rolling_buffer=True)
print(f"rolling cache vs sliding-window mask: {max_abs(roll, sw):.1e}; with sinks: {max_abs(roll_sink, sw_sink):.1e}")
print(f"Mistral-7B at 32K: {mis_full / 2 ** 30:.2f} GiB full, {mis_roll / 2 ** 30:.2f} GiB rolling "
      f"({mis_full / mis_roll:.0f}x)")

# Left padding: shared slots, per-row positions.
pad_lengths = (5, 3)
pad_n = max(pad_lengths)
pad_mask = ar.padding_mask(list(pad_lengths), pad_n, side="left")
pad_pos = ar.positions_from_mask(pad_mask)
print("mask", pad_mask.tolist(), "positions", pad_pos.tolist(), "next positions", (pad_pos[:, -1] + 1).tolist())

report("L05.3", shape_per_layer=layout["shape"], static_shape=layout["static_shape"],
       cache_positions=cache_positions, q_lens=list(q_lens), stored_vs_rotated=layout["vs_rotated"],
       stored_vs_unrotated=layout["vs_plain"], dynamic_bytes=layout["dynamic_bytes"],
       static_bytes=layout["static_bytes"], formula_bytes=layout["formula_bytes"],
       mask_names=[mc["name"] for mc in mask_cases], mask_n_q=[mc["n_q"] for mc in mask_cases],
       mask_n_k=[mc["n_k"] for mc in mask_cases], lower_right=[mc["lr"] for mc in mask_cases],
       upper_left=[mc["ul"] for mc in mask_cases], lower_right_all_true=[mc["all_true"] for mc in mask_cases],
       wrong_max_logit_diff=[mc["wrong_diff"] for mc in mask_cases],
       documented_3x4_lower_right=ar.causal_mask(3, 4, "lower_right"),
       documented_3x4_upper_left=ar.causal_mask(3, 4, "upper_left"),
       sequence=list(SEQ), schedules=schedules, equivalence_max_diff=eq_diff,
       equivalence_per_position=eq_per_position, upper_left_chunked_diff=eq_wrong,
       copy_steps=COPY_STEPS, row_elems=row, dynamic_copied=copied, static_written=written,
       dynamic_total=sum(copied), static_total=sum(written), dynamic_buffer_moves=moves_d,
       static_buffer_moves=moves_s, static_nbytes=sta.nbytes(), dynamic_nbytes=dyn_bytes,
       window=ROLL_WINDOW, roll_tokens=ROLL_TOKENS, slots=slots, held=held, slots_match_cache=slots_ok,
       rolling_logit_diff=max_abs(roll, sw), sink=N_SINK, sink_held=sink_held,
       sink_logit_diff=max_abs(roll_sink, sw_sink), mistral_full_gib=mis_full / 2 ** 30,
       mistral_rolling_gib=mis_roll / 2 ** 30, mistral_ratio=mis_full / mis_roll,
       pad_lengths=list(pad_lengths), pad_mask=pad_mask, pad_slots=list(range(pad_n)), pad_positions=pad_pos,
       pad_next_position=[int(p) + 1 for p in pad_pos[:, -1]], pad_next_slot=pad_n)
"""),
    try_this="""
# Try this: a prefill of 2 tokens followed by chunks of 3 and 3. Still equal to the full forward?
print(max_abs(chunked_logits(SEQ, (2, 3, 3)), full))
print(ar.causal_mask(3, 8, "lower_right").int())
""",
    checks={
        "shape_per_layer": "cache_layout.shape_per_layer", "static_shape": "cache_layout.static_shape",
        "cache_positions": "cache_layout.cache_positions", "q_lens": "cache_layout.q_lens",
        "stored_vs_rotated": "cache_layout.stored_vs_rotated",
        "stored_vs_unrotated": "cache_layout.stored_vs_unrotated", "dynamic_bytes": "cache_layout.dynamic_bytes",
        "static_bytes": "cache_layout.static_bytes", "formula_bytes": "cache_layout.formula_bytes",
        "mask_names": "masks.cases.*.name", "mask_n_q": "masks.cases.*.n_q", "mask_n_k": "masks.cases.*.n_k",
        "lower_right": "masks.cases.*.lower_right", "upper_left": "masks.cases.*.upper_left",
        "lower_right_all_true": "masks.cases.*.lower_right_all_true",
        "wrong_max_logit_diff": "masks.cases.*.wrong_max_logit_diff",
        "documented_3x4_lower_right": "masks.documented_3x4_lower_right",
        "documented_3x4_upper_left": "masks.documented_3x4_upper_left",
        "sequence": "equivalence.sequence", "schedules": "equivalence.schedules",
        "equivalence_max_diff": "equivalence.max_diff", "equivalence_per_position": "equivalence.max_diff_per_position",
        "upper_left_chunked_diff": "equivalence.upper_left_chunked_diff",
        "copy_steps": "static_vs_dynamic.steps", "row_elems": "static_vs_dynamic.row_elems",
        "dynamic_copied": "static_vs_dynamic.dynamic_copied", "static_written": "static_vs_dynamic.static_written",
        "dynamic_total": "static_vs_dynamic.dynamic_total", "static_total": "static_vs_dynamic.static_total",
        "dynamic_buffer_moves": "static_vs_dynamic.dynamic_buffer_moves",
        "static_buffer_moves": "static_vs_dynamic.static_buffer_moves",
        "static_nbytes": "static_vs_dynamic.static_nbytes", "dynamic_nbytes": "static_vs_dynamic.dynamic_nbytes",
        "window": "rolling_buffer.window", "roll_tokens": "rolling_buffer.tokens", "slots": "rolling_buffer.slots",
        "held": "rolling_buffer.held", "slots_match_cache": "rolling_buffer.slots_match_cache",
        "rolling_logit_diff": "rolling_buffer.max_logit_diff", "sink": "rolling_buffer.sink",
        "sink_held": "rolling_buffer.sink_held", "sink_logit_diff": "rolling_buffer.sink_max_logit_diff",
        "mistral_full_gib": "rolling_buffer.mistral_full_gib",
        "mistral_rolling_gib": "rolling_buffer.mistral_rolling_gib", "mistral_ratio": "rolling_buffer.mistral_ratio",
        "pad_lengths": "padded_cache.lengths", "pad_mask": "padded_cache.mask", "pad_slots": "padded_cache.slots",
        "pad_positions": "padded_cache.positions", "pad_next_position": "padded_cache.next_position",
        "pad_next_slot": "padded_cache.next_slot",
    },
)

L05_4 = TopicCells(
    topic="L05.4",
    explanation="""
Generation has two phases with opposite characters. *Prefill* runs the whole prompt at once: thousands of
tokens share one read of the weights, so the arithmetic intensity (FLOPs per byte moved) is high and the step
is compute-bound. *Decode* runs one token per step: it still reads every weight and the whole KV cache, for
only ~2 FLOPs per parameter, so its intensity is near 1 and it is memory-bound. On the roofline of an H100 SXM
(ridge ≈ 295 FLOP/B), Llama-2-7B's prefill of 2048 tokens sits far right of the ridge, each decode step far left.
(These points are computed from the model's shapes and the datasheet, not measured.)

Each decode step ends by drawing a token from the logits. Temperature T divides the logits before the softmax
(T < 1 sharpens, T > 1 flattens, T = 0 is greedy argmax); top-k keeps the k most likely tokens; top-p (nucleus)
keeps the smallest set whose probability reaches p, then renormalises.

Serving many requests needs more bookkeeping. A left-padded batch gives each row its positions from its own mask
and then produces exactly the tokens of each prompt run alone. PagedAttention stores the cache in fixed-size
blocks from a shared pool, with a block table per sequence (like virtual memory pages): at most one partly empty
block per sequence is wasted, and gathering K through the table gives the same attention as a contiguous K.
Speculative decoding lets a small draft model propose k tokens; the target checks all k in *one* cached forward
with k queries (lower-right mask), which gives the same logits as k single decode steps, and keeps the longest
prefix it agrees with. With greedy acceptance the output is exactly the target's own greedy output.
""",
    code=("""
PREFILL_LEN, DECODE_STEPS = ${PREFILL_LEN}, ${DECODE_STEPS}
cfg, dev = ar.LLAMA2_7B, ar.H100_SXM


def forward_cost(cfg, n_q, n_k):
    # (FLOPs, bytes) of one forward of n_q new tokens against n_k keys, batch 1, bf16: all layers plus the LM head
    # on the last position; bytes = the weights once + the KV cache read + the new K/V written.
    flops = cfg.n_layers * cfg.layer_flops(n_q, n_k, causal=n_q == n_k)["total"] + 2 * cfg.d_model * cfg.vocab
    past = n_k - n_q
    nbytes = cfg.n_params() * 2 + (cfg.kv_cache_bytes(past) if past else 0) + cfg.kv_cache_bytes(n_q)
    return float(flops), float(nbytes)


points = []
for label, n_q, n_k in (("prefill", PREFILL_LEN, PREFILL_LEN),
                        *((f"decode {s + 1}", 1, PREFILL_LEN + s + 1) for s in range(DECODE_STEPS))):
    f, b = forward_cost(cfg, n_q, n_k)
    r = ar.roofline(f, b, dev)
    points.append((label, n_q, n_k, f, b, r.intensity, r.bound, r.time))
    print(f"{label:9s} {n_q:5d} x {n_k:5d}: {f / 1e12:7.3f} TFLOP, {b / 1e9:6.2f} GB, AI {r.intensity:8.1f} "
          f"FLOP/B ({r.bound}-bound), >= {1e3 * r.time:6.2f} ms")
print(f"{dev.name}: ridge point {dev.ridge_point:.1f} FLOP/B")

fig, ax = plt.subplots(figsize=(6, 3.5))
ai = torch.logspace(-1, 4, 200, dtype=torch.float64)
ax.loglog(ai, torch.minimum(ai * dev.bandwidth, torch.tensor(dev.peak_flops)) / 1e12, color="gray")
for label, *_, a, bound, _t in points[:2]:
    ax.plot(a, min(a * dev.bandwidth, dev.peak_flops) / 1e12, "o", label=f"{label} ({bound}-bound)")
ax.set_xlabel("arithmetic intensity (FLOP/byte)")
ax.set_ylabel("attainable TFLOP/s")
ax.legend(fontsize=8)
plt.show()
""", """
# Sampling: temperature, top-k and top-p on seeded logits over 10 tokens (not a trained model's).
SAMPLING_V, SAMPLING_SEED, SAMPLING_STD = ${SAMPLING_V}, ${SAMPLING_SEED}, ${SAMPLING_STD}
TEMPERATURES, TOP_K, TOP_P = ${TEMPERATURES}, ${TOP_K}, ${TOP_P}
z = gaussian((SAMPLING_V,), SAMPLING_SEED, SAMPLING_STD)
probs = [ar.sampling_distribution(z, t) for t in TEMPERATURES]
greedy = ar.sampling_distribution(z, 0)
p_top_k = ar.sampling_distribution(z, 1.0, top_k=TOP_K)
p_top_p = ar.sampling_distribution(z, 1.0, top_p=TOP_P)
p1 = ar.sampling_distribution(z, 1.0)
order = torch.argsort(p1, descending=True, stable=True)
cum = p1[order].cumsum(0)
kept = int((cum < TOP_P).sum()) + 1                      # the smallest prefix with mass >= p
print("logits", z.tolist())
print(f"top-p {TOP_P}: keeps {kept} tokens holding {float(cum[kept - 1]):.3f} of the mass; "
      f"top-k {TOP_K} cuts at logit {float(torch.topk(z, TOP_K).values[-1])}")

fig, ax = plt.subplots(figsize=(8, 3))
w = 0.8 / (len(TEMPERATURES) + 2)
bars = [*zip((f"T = {t}" for t in TEMPERATURES), probs), (f"top-k {TOP_K}", p_top_k), (f"top-p {TOP_P}", p_top_p)]
for i, (lab, p) in enumerate(bars):
    ax.bar(torch.arange(SAMPLING_V) + (i - 2) * w, p, w, label=lab)
ax.set_xticks(range(SAMPLING_V))
ax.set_xlabel("token")
ax.set_ylabel("probability")
ax.legend(fontsize=7)
plt.show()
""", """
# A left-padded batch, greedy, equals each prompt generated on its own.
PADDED_PROMPTS, PADDED_NEW = ${PADDED_PROMPTS}, ${PADDED_NEW}
tb = ar.Trace()
out = ar.generate(model, [list(p) for p in PADDED_PROMPTS], PADDED_NEW, temperature=0, trace=tb)
n = max(map(len, PADDED_PROMPTS))
batch_mask = ar.padding_mask([len(p) for p in PADDED_PROMPTS], n, side="left")
alone, batch_diff = [], 0.0
for b, p in enumerate(PADDED_PROMPTS):
    t_alone = ar.Trace()
    alone.append(ar.generate(model, tokens(p), PADDED_NEW, temperature=0, trace=t_alone)[0, len(p):].tolist())
    batch_diff = max(batch_diff, max(max_abs(s["logits"][b], u["logits"][0]) for s, u in zip(tb, t_alone)))
padded, batched = [r[:n] for r in out.tolist()], [r[n:] for r in out.tolist()]
print(f"padded {padded}, positions {ar.positions_from_mask(batch_mask).tolist()}")
print(f"batched {batched}, alone {alone}, max |logit diff| {batch_diff:.1e}")

# PagedAttention: blocks of BLOCK slots from one pool, filled in arrival order (round robin).
BLOCK, PAGED_LENGTHS = ${BLOCK}, ${PAGED_LENGTHS}
hd = 4
g = torch.Generator().manual_seed(53)
seqs = [torch.randn(n_, hd, generator=g, dtype=torch.float64) for n_ in PAGED_LENGTHS]   # one K per sequence
arrival, filled = [], [0] * len(PAGED_LENGTHS)
while any(f < n_ for f, n_ in zip(filled, PAGED_LENGTHS)):
    for s, n_ in enumerate(PAGED_LENGTHS):
        if filled[s] < n_:
            arrival.append((s, filled[s]))
            filled[s] += 1
tables = [[] for _ in PAGED_LENGTHS]
pool = torch.zeros(sum(math.ceil(n_ / BLOCK) for n_ in PAGED_LENGTHS), BLOCK, hd, dtype=torch.float64)
nxt = 0
for s, p in arrival:
    if p % BLOCK == 0:                                   # a new block from the free list
        tables[s].append(nxt)
        nxt += 1
    pool[tables[s][p // BLOCK], p % BLOCK] = seqs[s][p]
gather_ok, paged_diff = True, 0.0
for s, n_ in enumerate(PAGED_LENGTHS):
    gathered = pool[tables[s]].reshape(-1, hd)[:n_]      # K read through the block table
    gather_ok &= bool(torch.equal(gathered, seqs[s]))
    q = torch.randn(1, 1, 1, hd, generator=g, dtype=torch.float64)
    paged_diff = max(paged_diff, max_abs(ar.sdpa(q, gathered[None, None], gathered[None, None]),
                                         ar.sdpa(q, seqs[s][None, None], seqs[s][None, None])))
used = sum(len(t_) for t_ in tables)
waste = [len(t_) * BLOCK - n_ for t_, n_ in zip(tables, PAGED_LENGTHS)]
print(f"block tables {tables}: {used} blocks, {sum(PAGED_LENGTHS)} of {used * BLOCK} slots used, waste {waste}; "
      f"contiguous max_len slabs would reserve {len(PAGED_LENGTHS) * MODEL_CONFIG['max_len']}")
""", """
# Speculative decoding: a draft (the target's weights + small seeded noise) proposes DRAFT_K tokens greedily.
DRAFT_K, DRAFT_SEED, DRAFT_NOISE, SPEC_NEW = ${DRAFT_K}, ${DRAFT_SEED}, ${DRAFT_NOISE}, ${SPEC_NEW}
draft = ar.TinyDecoder(ar.DecoderConfig(**MODEL_CONFIG)).double().eval()
g = torch.Generator().manual_seed(DRAFT_SEED)
with torch.no_grad():
    for p in draft.parameters():
        p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype) * DRAFT_NOISE)
n = len(PROMPT)
d_tok = ar.generate(draft, tokens(PROMPT), DRAFT_K, temperature=0)[0, n:].tolist()
spec_seq = PROMPT + tuple(d_tok)
one_pass = chunked_logits(spec_seq, (n, DRAFT_K))[n - 1:]          # verify all k in one q_len = k step
stepwise = chunked_logits(spec_seq, (n,) + (1,) * DRAFT_K)[n - 1:]  # k ordinary decode steps
wrong = chunked_logits(spec_seq, (n, DRAFT_K), alignment="upper_left")[n - 1:]
choice = [int(x) for x in one_pass.argmax(-1)]                      # the target's greedy choice after each prefix
accepted = 0
while accepted < DRAFT_K and d_tok[accepted] == choice[accepted]:
    accepted += 1
print(f"draft {d_tok}, target {choice}: {accepted} accepted; one pass vs {DRAFT_K} steps "
      f"{max_abs(one_pass, stepwise):.1e}, upper-left {max_abs(wrong, stepwise):.3f}")

# The whole greedy loop (recomputing the prefix at each verify, for clarity) against plain greedy generation.
spec_out, calls, per_call = list(PROMPT), 0, []
while len(spec_out) < n + SPEC_NEW:
    prop = ar.generate(draft, tokens(spec_out), DRAFT_K, temperature=0)[0, len(spec_out):].tolist()
    best = full_logits(spec_out + prop)[len(spec_out) - 1:].argmax(-1).tolist()
    calls += 1
    j = 0
    while j < DRAFT_K and prop[j] == best[j]:
        j += 1
    spec_out += [*prop[:j], best[j]]                                 # the agreed prefix + the target's own token
    per_call.append(j)
spec_out = spec_out[:n + SPEC_NEW]
reference = ar.generate(model, tokens(PROMPT), SPEC_NEW, temperature=0)[0].tolist()
print(f"{SPEC_NEW} tokens in {calls} target calls (accepted per call {per_call}); equals greedy: "
      f"{spec_out == reference}")

report("L05.4", timeline_labels=[p[0] for p in points], timeline_n_q=[p[1] for p in points],
       timeline_n_k=[p[2] for p in points], timeline_flops=[p[3] for p in points],
       timeline_bytes=[p[4] for p in points], timeline_intensity=[p[5] for p in points],
       timeline_bound=[p[6] for p in points], timeline_time_s=[p[7] for p in points],
       ridge_point=dev.ridge_point,
       logits=z, temperatures=list(TEMPERATURES), probs=probs, greedy=greedy, top_k=TOP_K, top_k_probs=p_top_k,
       top_k_threshold=float(torch.topk(z, TOP_K).values[-1]), top_p=TOP_P, top_p_probs=p_top_p, order=order,
       sorted_cumulative=cum, top_p_kept=kept, top_p_mass=float(cum[kept - 1]),
       padded_prompts=[list(p) for p in PADDED_PROMPTS], padded=padded,
       padded_mask=batch_mask, padded_positions=ar.positions_from_mask(batch_mask), batched_tokens=batched,
       alone_tokens=alone, batch_equal=batched == alone, batch_logit_diff=batch_diff,
       block=BLOCK, paged_lengths=list(PAGED_LENGTHS), arrival=arrival, block_tables=tables, blocks_used=used,
       slots_used=sum(PAGED_LENGTHS), slots_reserved=used * BLOCK, waste=waste,
       static_reserved=len(PAGED_LENGTHS) * MODEL_CONFIG["max_len"], gather_equal=gather_ok,
       paged_attention_diff=paged_diff,
       draft_tokens=d_tok, target_greedy=choice, accepted=accepted, verify_vs_sequential=max_abs(one_pass, stepwise),
       verify_upper_left_diff=max_abs(wrong, stepwise),
       verify_mask=ar.causal_mask(DRAFT_K, n + DRAFT_K, "lower_right"), spec_equals_greedy=spec_out == reference,
       target_calls=calls, accepted_per_call=per_call)
"""),
    try_this="""
# Try this: how does the top-p set grow with the temperature? (Flatter distributions need more tokens.)
for t in (0.5, 1.0, 2.0):
    print(t, int((ar.sampling_distribution(z, t, top_p=TOP_P) > 0).sum()), "tokens kept")
""",
    checks={
        "timeline_labels": "timeline.points.*.label", "timeline_n_q": "timeline.points.*.n_q",
        "timeline_n_k": "timeline.points.*.n_k", "timeline_flops": "timeline.points.*.flops",
        "timeline_bytes": "timeline.points.*.bytes", "timeline_intensity": "timeline.points.*.intensity",
        "timeline_bound": "timeline.points.*.bound", "timeline_time_s": "timeline.points.*.time_s",
        "ridge_point": "timeline.ridge_point",
        "logits": "sampling.logits", "temperatures": "sampling.temperatures", "probs": "sampling.probs",
        "greedy": "sampling.greedy", "top_k": "sampling.top_k", "top_k_probs": "sampling.top_k_probs",
        "top_k_threshold": "sampling.top_k_threshold", "top_p": "sampling.top_p",
        "top_p_probs": "sampling.top_p_probs", "order": "sampling.order",
        "sorted_cumulative": "sampling.sorted_cumulative", "top_p_kept": "sampling.top_p_kept",
        "top_p_mass": "sampling.top_p_mass",
        "padded_prompts": "padded_batch.prompts", "padded": "padded_batch.padded", "padded_mask": "padded_batch.mask",
        "padded_positions": "padded_batch.positions", "batched_tokens": "padded_batch.batched_tokens",
        "alone_tokens": "padded_batch.alone_tokens", "batch_equal": "padded_batch.equal",
        "batch_logit_diff": "padded_batch.max_logit_diff",
        "block": "paged_blocks.block", "paged_lengths": "paged_blocks.lengths", "arrival": "paged_blocks.order",
        "block_tables": "paged_blocks.block_tables", "blocks_used": "paged_blocks.blocks_used",
        "slots_used": "paged_blocks.slots_used", "slots_reserved": "paged_blocks.slots_reserved",
        "waste": "paged_blocks.waste_per_sequence", "static_reserved": "paged_blocks.static_reserved",
        "gather_equal": "paged_blocks.gather_equal", "paged_attention_diff": "paged_blocks.max_attention_diff",
        "draft_tokens": "speculative.draft_tokens", "target_greedy": "speculative.target_greedy",
        "accepted": "speculative.accepted", "verify_vs_sequential": "speculative.verify_vs_sequential",
        "verify_upper_left_diff": "speculative.verify_upper_left_diff", "verify_mask": "speculative.verify_mask",
        "spec_equals_greedy": "speculative.output_equals_target_generate", "target_calls": "speculative.target_calls",
        "accepted_per_call": "speculative.accepted_per_call",
    },
)

L05_5 = TopicCells(
    topic="L05.5",
    explanation="""
A KV cache is easy to get almost right. Each pitfall below is computed both ways on the running model, so you
can see how large the error is; most of them are real bugs reported against PyTorch or Hugging Face.

1. **`is_causal=True` in a decode step.** PyTorch aligns it to the upper left, so a single query against 6 keys
   sees key 0 only. The same bug in chunked prefill hides keys from every query of the chunk. Fix: a
   lower-right mask (or no mask at all for a single decode query).
2. **Positions under left padding.** Taking prefill positions from the mask but decode positions from the shared
   cache length makes the short row jump ahead by its padding: its logits change. Fix: keep per-row positions
   (last position + 1). Using shared positions everywhere only shifts a row by a constant, which RoPE, being
   relative, does not notice (an absolute position table would).
3. **The sliding window off by one.** A window of W keys means p − W < j ≤ p; writing ≤ gives W + 1 keys.
   (flash-attn's `window_size=(W − 1, 0)` is the W-key window.)
4. **Counting a static cache's length by its non-zero rows.** A real key that happens to be all zeros is not
   counted, and the next write overwrites a real token. Fix: keep an explicit counter.
5. **Precision.** Cached and uncached decoding add the same terms in different orders, so their logits may differ
   by rounding: ~1e-15 in float64, ~4e-7 in float32 (in bfloat16 this tiny model happens to give identical
   logits). The tokens agree. That is not a bug; compare with a tolerance that fits the dtype.
6. **Dropout in eval mode.** `F.scaled_dot_product_attention(..., dropout_p=0.1)` drops even after `.eval()`:
   the functional call does not know the module's mode. Fix: `dropout_p=p if self.training else 0.0`.
7. **A stale cache**, a decode position off by one, and a static cache that overflows complete the list:
   reset the cache between prompts, use position len(cache), and check max_len before generating.
""",
    code=("""
# (1) is_causal in a decode step and in chunked prefill.
def weights_row(ids, chunks, alignment):
    # Layer 0, head 0 attention weights of the last query of the last chunk.
    caches, trace, start = model.new_caches(1), ar.Trace(), 0
    for i, size in enumerate(chunks):
        past = len(caches[0])
        mask = ar.causal_mask(size, past + size, "upper_left")[None, None] if alignment == "upper_left" else None
        with torch.no_grad():
            model(tokens(ids[start:start + size]), caches=caches, attn_mask=mask,
                  trace=trace if i == len(chunks) - 1 else None)
        start += size
    return trace.of_kind("mha.forward")[0]["weights"][0, 0, -1]


n_dec = len(PROMPT) + 1                     # the prompt, then one decode step: 1 query against 6 keys
wrong_row = weights_row(SEQ[:n_dec], (n_dec - 1, 1), "upper_left")
right_row = weights_row(SEQ[:n_dec], (n_dec - 1, 1), "lower_right")
w_dec = chunked_logits(SEQ[:n_dec], (n_dec - 1, 1), alignment="upper_left")[-1]
r_dec = chunked_logits(SEQ[:n_dec], (n_dec - 1, 1))[-1]
w_ch = chunked_logits(SEQ[:7], (4, 3), alignment="upper_left")[4:]
r_ch = chunked_logits(SEQ[:7], (4, 3))[4:]
chunk_diff = [float(x) for x in (w_ch - full[4:7]).abs().amax(-1)]
print(f"decode with is_causal: weights {[round(x, 3) for x in wrong_row.tolist()]} (keys seen: "
      f"{int((wrong_row > 0).sum())}); right: {[round(x, 3) for x in right_row.tolist()]}")
print(f"logit error: decode {max_abs(w_dec, full[n_dec - 1]):.3f} (right {max_abs(r_dec, full[n_dec - 1]):.1e}); "
      f"chunk of 3 x 7 per query {[round(x, 3) for x in chunk_diff]} (right {max_abs(r_ch, full[4:7]):.1e})")
""", """
# (2) Left padding: positions from the mask, then +1 per step ("mask"), vs decode at len(cache) ("mixed"),
# vs shared positions everywhere ("shared": a constant shift per row, invisible to RoPE).
@torch.no_grad()
def greedy_batch(prompts, new, mode):
    n = max(map(len, prompts))
    toks = torch.tensor([[0] * (n - len(p)) + list(p) for p in prompts])
    mask = ar.padding_mask([len(p) for p in prompts], n, side="left")
    caches = model.new_caches(len(prompts))
    pos = torch.arange(n).expand(len(prompts), n) if mode == "shared" else ar.positions_from_mask(mask)
    out, logits_all, used, step = [[] for _ in prompts], [], [], toks
    for _ in range(new):
        logits = model(step, caches=caches, positions=pos, attn_mask=mask)[:, -1]
        logits_all.append(logits)
        nxt = logits.argmax(-1)
        for b in range(len(prompts)):
            out[b].append(int(nxt[b]))
        mask = torch.cat([mask, torch.ones(len(prompts), 1, dtype=torch.bool)], 1)
        pos = pos[:, -1:] + 1 if mode == "mask" else torch.full((len(prompts), 1), len(caches[0]))
        used.append(pos[:, 0].tolist())
        step = nxt[:, None]
    return out, logits_all, used[:-1]


short = PADDED_PROMPTS[1]
alone_t = ar.Trace()
alone_short = ar.generate(model, tokens(short), PADDED_NEW, temperature=0, trace=alone_t)[0, len(short):].tolist()
pad_runs = {mode: greedy_batch(PADDED_PROMPTS, PADDED_NEW, mode) for mode in ("mask", "mixed", "shared")}
pad_diff = {mode: max(max_abs(lg[1], a["logits"][0]) for lg, a in zip(r[1], alone_t)) for mode, r in pad_runs.items()}
for mode, r in pad_runs.items():
    print(f"{mode:6s}: decode positions {r[2]}, short row {r[0][1]} (alone {alone_short}), "
          f"|logit diff| {pad_diff[mode]:.1e}")

# (3) The window off by one: W keys vs W + 1.
PIT_WINDOW, WINDOW_N = ${PIT_WINDOW}, ${WINDOW_N}
right_w = ar.sliding_window_mask(WINDOW_N, WINDOW_N, PIT_WINDOW)
i, j = torch.arange(WINDOW_N)[:, None], torch.arange(WINDOW_N)[None, :]
wrong_w = (j <= i) & (j >= i - PIT_WINDOW)
window_diff = max_abs(full_logits(SEQ[:WINDOW_N], attn_mask=right_w[None, None]),
                      full_logits(SEQ[:WINDOW_N], attn_mask=wrong_w[None, None]))
print(f"keys per query: right {right_w.sum(-1).tolist()}, off by one {wrong_w.sum(-1).tolist()}; "
      f"|logit diff| {window_diff:.3f}")

# (4) A static cache whose length is counted by non-zero key rows.
STATIC_MAX = ${STATIC_MAX}
sc = ar.KVCache(1, 1, HEAD_DIM, max_len=STATIC_MAX, dtype=torch.float64)
g = torch.Generator().manual_seed(54)
k5 = torch.randn(1, 1, 5, HEAD_DIM, generator=g, dtype=torch.float64)
k5[0, 0, 2] = 0.0                           # a real token whose key happens to be all zeros
sc.update(k5, k5)
heuristic = int(sc._k[0, 0].any(-1).sum())  # _k: the preallocated buffer
print(f"5 tokens written: len(cache) = {len(sc)}, non-zero rows = {heuristic}: the next write lands on slot "
      f"{heuristic} and overwrites token {heuristic}")
""", """
# (5) Precision: cached vs uncached generation in three dtypes.
dtypes, prec_diff, prec_equal, prec_eps, f64_tokens = [], [], [], [], []
for dt in (torch.float64, torch.float32, torch.bfloat16):
    m = ar.TinyDecoder(ar.DecoderConfig(**MODEL_CONFIG)).to(dt).eval()
    ta, tb = ar.Trace(), ar.Trace()
    a = ar.generate(m, tokens(PROMPT), NEW_TOKENS, use_cache=False, seed=GEN_SEED, trace=ta)
    b = ar.generate(m, tokens(PROMPT), NEW_TOKENS, use_cache=True, seed=GEN_SEED, trace=tb)
    dtypes.append(str(dt).removeprefix("torch."))
    prec_diff.append(max(max_abs(x["logits"].double(), y["logits"].double()) for x, y in zip(ta, tb)))
    prec_equal.append(bool(torch.equal(a, b)))
    prec_eps.append(float(torch.finfo(dt).eps))
    if dt == torch.float64:
        f64_tokens = a[0].tolist()
    print(f"{dtypes[-1]:9s}: |cached - uncached| {prec_diff[-1]:.1e} (eps {prec_eps[-1]:.1e}); "
          f"tokens equal: {prec_equal[-1]}")


# (6) Functional dropout inside a module in eval mode.
DROPOUT_P = ${DROPOUT_P}


class Attn(torch.nn.Module):
    def __init__(self, fixed):
        super().__init__()
        self.fixed = fixed

    def forward(self, q, k, v):
        p = (DROPOUT_P if self.training else 0.0) if self.fixed else DROPOUT_P
        return F.scaled_dot_product_attention(q, k, v, dropout_p=p)


g = torch.Generator().manual_seed(55)
q, k, v = (torch.randn(1, 2, 4, 8, generator=g, dtype=torch.float64) for _ in range(3))
wrong_m, right_m = Attn(False).eval(), Attn(True).eval()
with torch.random.fork_rng(devices=[]):
    torch.manual_seed(0)
    w1, w2, r1, r2 = wrong_m(q, k, v), wrong_m(q, k, v), right_m(q, k, v), right_m(q, k, v)
print(f"eval mode, dropout_p = {DROPOUT_P}: two calls differ by {max_abs(w1, w2):.3f}; "
      f"fixed: {max_abs(r1, r2)}, vs ar.sdpa {max_abs(r1, ar.sdpa(q, k, v)):.1e}")

# (7) A stale cache reused for a second prompt, then reset.
SECOND_PROMPT = ${SECOND_PROMPT}
caches = model.new_caches(1)
with torch.no_grad():
    model(tokens(PROMPT), caches=caches)
    stale_len = len(caches[0])
    stale = model(tokens(SECOND_PROMPT), caches=caches)[0, -1]
    for c in caches:
        c.reset()
    after_reset = model(tokens(SECOND_PROMPT), caches=caches)[0, -1]
fresh = full_logits(SECOND_PROMPT)[-1]
print(f"stale cache ({stale_len} old tokens): |logit diff| {max_abs(stale, fresh):.3f} (greedy next token "
      f"{int(stale.argmax())}, fresh run {int(fresh.argmax())}); after reset {max_abs(after_reset, fresh):.1e}")

# The decode position off by one: len(cache) - 1, len(cache), len(cache) + 1.
n = len(PROMPT)
want = full_logits(SEQ[:n + 1])[-1]
pos_diff, pos_changed = [], []
for off in (-1, 0, 1):
    caches = model.new_caches(1)
    with torch.no_grad():
        model(tokens(SEQ[:n]), caches=caches)
        got = model(tokens(SEQ[n:n + 1]), caches=caches, positions=torch.tensor([n + off]))[0, -1]
    pos_diff.append(max_abs(got, want))
    pos_changed.append(int(got.argmax()) != int(want.argmax()))
print(f"decode position {n} - 1, {n}, {n} + 1: |logit diff| {[round(x, 4) for x in pos_diff]}")

# A static cache that overflows, and generate's check up front.
x = torch.zeros(1, 1, STATIC_MAX, 2)
one = torch.zeros(1, 1, 1, 2)
full_c, dyn_c = ar.KVCache(1, 1, 2, max_len=STATIC_MAX), ar.KVCache(1, 1, 2)
full_c.update(x, x)
dyn_c.update(x, x)
dyn_c.update(one, one)
try:
    full_c.update(one, one)
    overflow_error = ""
except ValueError as e:
    overflow_error = str(e)
try:
    ar.generate(model, tokens(PROMPT), MODEL_CONFIG["max_len"], temperature=0)
    generate_error = ""
except ValueError as e:
    generate_error = str(e)
print(overflow_error)
print(generate_error)

report("L05.5", decode_n_k=n_dec, wrong_row=wrong_row, right_row=right_row,
       wrong_keys_seen=int((wrong_row > 0).sum()), decode_logit_diff=max_abs(w_dec, full[n_dec - 1]),
       decode_right_diff=max_abs(r_dec, full[n_dec - 1]),
       chunk_logit_diff=chunk_diff, chunk_right_diff=max_abs(r_ch, full[4:7]),
       mask_positions=ar.positions_from_mask(batch_mask), decode_positions_right=pad_runs["mask"][2],
       decode_positions_mixed=pad_runs["mixed"][2], alone=alone_short, right=pad_runs["mask"][0][1],
       mixed=pad_runs["mixed"][0][1], shared=pad_runs["shared"][0][1], right_logit_diff=pad_diff["mask"],
       mixed_logit_diff=pad_diff["mixed"], shared_logit_diff=pad_diff["shared"],
       mixed_tokens_differ=pad_runs["mixed"][0][1] != alone_short,
       window=PIT_WINDOW, window_n=WINDOW_N, right_keys=right_w.sum(-1), wrong_keys=wrong_w.sum(-1),
       window_logit_diff=window_diff, flash_attn_window_size=[PIT_WINDOW - 1, 0],
       static_written=5, static_true_length=len(sc), static_heuristic_length=heuristic,
       dtypes=dtypes, precision_diff=prec_diff, precision_tokens_equal=prec_equal, eps=prec_eps,
       float64_tokens=f64_tokens, dropout_training=wrong_m.training, dropout_p=DROPOUT_P,
       dropout_wrong_diff=max_abs(w1, w2), dropout_right_diff=max_abs(r1, r2),
       dropout_vs_reference=max_abs(r1, ar.sdpa(q, k, v)),
       stale_cache_len=stale_len, stale_logit_diff=max_abs(stale, fresh), reset_logit_diff=max_abs(after_reset, fresh),
       stale_next=int(stale.argmax()), fresh_next=int(fresh.argmax()),
       position_right=n, position_offsets=[-1, 0, 1], position_logit_diff=pos_diff, position_greedy_changed=pos_changed,
       overflow_max_len=STATIC_MAX, overflow_held=len(full_c), overflow_error=overflow_error,
       dynamic_len_after=len(dyn_c), generate_error=generate_error)
"""),
    try_this="""
# Try this: how far does a wrong decode position have to be before the greedy token changes?
for off in (2, 5, 10):
    caches = model.new_caches(1)
    with torch.no_grad():
        model(tokens(SEQ[:n]), caches=caches)
        got = model(tokens(SEQ[n:n + 1]), caches=caches, positions=torch.tensor([n + off]))[0, -1]
    print(off, max_abs(got, want), int(got.argmax()) != int(want.argmax()))
""",
    checks={
        "decode_n_k": "decode_mask.decode_n_k", "wrong_row": "decode_mask.wrong_row",
        "right_row": "decode_mask.right_row", "wrong_keys_seen": "decode_mask.wrong_keys_seen",
        "decode_logit_diff": "decode_mask.decode_logit_diff", "decode_right_diff": "decode_mask.decode_right_diff",
        "chunk_logit_diff": "decode_mask.chunk_logit_diff", "chunk_right_diff": "decode_mask.chunk_right_diff",
        "mask_positions": "padding_positions.mask_positions",
        "decode_positions_right": "padding_positions.decode_positions_right",
        "decode_positions_mixed": "padding_positions.decode_positions_mixed", "alone": "padding_positions.alone",
        "right": "padding_positions.right", "mixed": "padding_positions.mixed", "shared": "padding_positions.shared",
        "right_logit_diff": "padding_positions.right_logit_diff",
        "mixed_logit_diff": "padding_positions.mixed_logit_diff",
        "shared_logit_diff": "padding_positions.shared_logit_diff",
        "mixed_tokens_differ": "padding_positions.mixed_tokens_differ",
        "window": "window_off_by_one.window", "window_n": "window_off_by_one.n",
        "right_keys": "window_off_by_one.right_keys", "wrong_keys": "window_off_by_one.wrong_keys",
        "window_logit_diff": "window_off_by_one.logit_diff",
        "flash_attn_window_size": "window_off_by_one.flash_attn_window_size",
        "static_written": "static_length.written", "static_true_length": "static_length.true_length",
        "static_heuristic_length": "static_length.heuristic_length",
        "dtypes": "precision.dtypes", "precision_diff": "precision.max_logit_diff",
        "precision_tokens_equal": "precision.tokens_equal", "eps": "precision.eps",
        "float64_tokens": "precision.float64_tokens",
        "dropout_training": "dropout.module_training", "dropout_p": "dropout.dropout_p",
        "dropout_wrong_diff": "dropout.wrong_call_diff", "dropout_right_diff": "dropout.right_call_diff",
        "dropout_vs_reference": "dropout.right_vs_reference",
        "stale_cache_len": "stale_cache.stale_cache_len", "stale_logit_diff": "stale_cache.stale_logit_diff",
        "reset_logit_diff": "stale_cache.reset_logit_diff", "stale_next": "stale_cache.stale_next",
        "fresh_next": "stale_cache.fresh_next",
        "position_right": "position_off_by_one.right_position", "position_offsets": "position_off_by_one.offsets",
        "position_logit_diff": "position_off_by_one.logit_diff",
        "position_greedy_changed": "position_off_by_one.greedy_changed",
        "overflow_max_len": "static_overflow.max_len", "overflow_held": "static_overflow.held",
        "overflow_error": "static_overflow.error", "dynamic_len_after": "static_overflow.dynamic_len_after",
        "generate_error": "static_overflow.generate_error",
    },
)

L05_6 = TopicCells(
    topic="L05.6",
    explanation="""
A decode step must read every cached byte at least once, so its time is bounded below by bytes / bandwidth.
The repository's benchmark measured one decode step of attention alone (batch 8, 32 query heads, fp16) on an
NVIDIA H200 (4.8 TB/s) for four cache layouts: MHA (32 K/V heads), GQA-8, MQA (1 K/V head) and absorbed MLA (one
576-wide latent). At long contexts MHA reaches over 90 % of the peak bandwidth: the step time is the bound. The
smaller caches are faster in absolute terms but further from the bound, because there is too little to read to
keep the memory system busy. (The CPU file holds the same suite on 2 CPU cores; only the GPU figures are shown.)

For a whole model at batch 1 the floor is (weights + KV cache) / bandwidth per token: for Llama-2-7B on an H100
SXM about 4.7 ms at 4K tokens, which caps it at about 214 tokens/s however fast the arithmetic is (307 on the
H200, with its 4.8 TB/s). Longer contexts add cache bytes to every step: at 128K (beyond Llama 2's trained 4K, a
what-if) the floor is 24.5 ms on the H100.

The measured end-to-end gain of caching depends on the model size: for the benchmark's small TinyDecoder the
cache wins only 1.11× on the H200 (each step is dominated by kernel launches) but 2.63× on the CPU. Only one
generated length is recorded, so there is no sweep over length.

When the batch is 1 and the context is long, a single decode query leaves most of a GPU idle. Flash-Decoding
splits the keys into chunks, computes each chunk's partial output O_s and log-sum-exp LSE_s in parallel, then
merges them with weights exp(LSE_s − LSE): the result is exact. `ar.flash_decoding` is a readable reference
whose splits run one after another, so in the measured timings more splits cost more; a real kernel runs them
in parallel across the GPU's SMs.
""",
    code=("""
# Measured: one decode step of attention over the cache on the H200 (benchmarks/results/...).
GPU_RESULT, CPU_RESULT, VARIANTS = ${GPU_RESULT}, ${CPU_RESULT}, ${VARIANTS}
gpu = bench_result(GPU_RESULT)
peak = float(gpu["provenance"]["peaks"]["bandwidth_gbs"])
dec = [x for x in gpu["records"] if x["suite"] == "decode" and x["method"] in VARIANTS and "skipped" not in x]
series = {}
for v in VARIANTS:
    rows = sorted((x for x in dec if x["method"] == v), key=lambda x: x["context"])
    bound = [x["cache_bytes_read"] / (peak * 1e9) * 1e3 for x in rows]       # ms at the peak bandwidth
    series[v] = dict(kv_heads=rows[0]["kv_heads"], head_dim=rows[0]["head_dim"], contexts=[x["context"] for x in rows],
                     time_ms=[x["time_ms"] for x in rows], tokens_per_s=[x["tokens_per_s"] for x in rows],
                     gb_per_s=[x["gb_per_s"] for x in rows], share=[x["share_of_peak_bw"] for x in rows],
                     cache_bytes=[x["cache_bytes_read"] for x in rows], bound_ms=bound,
                     bound_over_time=[b / x["time_ms"] for b, x in zip(bound, rows)])
    print(f"{v:5s}: " + ", ".join(f"{c // 1024}K {t:.3f} ms ({100 * s:.0f} % of peak)"
                                  for c, t, s in zip(series[v]["contexts"], series[v]["time_ms"], series[v]["share"])))
decode_source = bench_source(gpu, "decode")
print(decode_source)

fig, ax = plt.subplots(figsize=(7, 3.5))
for v, s in series.items():
    ax.plot(s["contexts"], s["gb_per_s"], "o-", label=v)
ax.axhline(peak, color="gray", ls=":", label=f"peak {peak:,.0f} GB/s")
ax.set_xscale("log", base=2)
ax.set_xlabel("context length")
ax.set_ylabel("GB/s of cache read")
ax.set_title(gpu["provenance"]["gpu_model"] + ", one decode step, batch 8")
ax.legend(fontsize=7)
plt.show()

# Bytes per token per layer: the file's against the formula.
longest = max(x["context"] for x in dec)
by = {x["method"]: x for x in dec if x["context"] == longest}
computed = [ar.kv_cache_bytes(1, by[v]["kv_heads"], by[v]["head_dim"], 1) if v != "MLA"
            else ar.mla_cache_elems_per_token(ar.DEEPSEEK_V2) * 2 for v in VARIANTS]
print("bytes per token per layer, file:", [by[v]["cache_bytes_per_token"] for v in VARIANTS], "computed:", computed)
""", """
# Measured: generation with the cache vs recomputing the prefix (a 4-layer TinyDecoder, d_model 128).
gen_rows = []
for name in (GPU_RESULT, CPU_RESULT):
    r = bench_result(name)
    g_ = {x["method"]: x for x in r["records"] if x["suite"] == "generation" and "skipped" not in x}
    c, rc = g_["kv_cache"], g_["recompute"]
    p = r["provenance"]
    gen_rows.append(dict(file=name, device=p.get("gpu_model") or p["cpu_model"], prompt=c["prompt"],
                         new_tokens=c["new_tokens"], cache=c["tokens_per_s"], recompute=rc["tokens_per_s"],
                         speedup=c["tokens_per_s"] / rc["tokens_per_s"], source=bench_source(r, "decode")))
    print(f"{gen_rows[-1]['device']:16s} prompt {c['prompt']}, {c['new_tokens']} new: cache {c['tokens_per_s']:.1f} "
          f"tokens/s, recompute {rc['tokens_per_s']:.1f}: {gen_rows[-1]['speedup']:.2f}x")

# Computed: the per-token floor (weights + KV cache) / bandwidth for Llama-2-7B, batch 1, bf16.
BOUND_CONTEXTS = ${BOUND_CONTEXTS}
cfg = ar.LLAMA2_7B
devs = (ar.H100_SXM, ar.H200)
total = [cfg.decode_bytes(n_) for n_ in BOUND_CONTEXTS]
bound_ms = [[ar.decode_time_lower_bound(b, d_) * 1e3 for b in total] for d_ in devs]
for d_, row in zip(devs, bound_ms):
    print(f"{d_.name:9s}: " + ", ".join(f"{n_ // 1024}K >= {t:.2f} ms ({1e3 / t:.0f} tokens/s at most)"
                                        for n_, t in zip(BOUND_CONTEXTS, row)))
""", """
# ar.flash_decoding: 4 splits over 16 keys, each (LSE_s, O_s), merged with weights exp(LSE_s - LSE).
SPLIT_N, SPLIT_D, SPLITS, SPLIT_SEED = ${SPLIT_N}, ${SPLIT_D}, ${SPLITS}, ${SPLIT_SEED}
gq = gaussian((3, SPLIT_N, SPLIT_D), SPLIT_SEED)
q, k, v = gq[0, :1][None, None], gq[1][None, None], gq[2][None, None]
trace = ar.Trace()
out = ar.flash_decoding(q, k, v, SPLITS, trace=trace)
merge = trace.of_kind("flash_decoding.merge")[0]
split_steps = trace.of_kind("flash_decoding.split")
for i, s in enumerate(split_steps):
    print(f"keys {s['cols']}: LSE_s {float(s['lse_s'].flatten()[0]):.4f}, "
          f"weight {float(merge['weights'][i].flatten()[0]):.4f}")
full_out = ar.sdpa(q, k, v)
print(f"LSE {float(merge['lse'].flatten()[0]):.4f}; merged vs one pass: {max_abs(out, full_out):.1e}")

# Measured: the split-K timings of that reference implementation on the H200.
sk = [x for x in gpu["records"] if x["suite"] == "splitk" and "skipped" not in x]
sk_ctx = sorted({x["context"] for x in sk})
sk_methods = list(dict.fromkeys(x["method"] for x in sk))
sk_times = [[next(x["time_ms"] for x in sk if x["method"] == mth and x["context"] == c) for c in sk_ctx]
            for mth in sk_methods]
for mth, ts in zip(sk_methods, sk_times):
    print(f"{mth:28s} " + ", ".join(f"{c // 1024}K {t:7.3f} ms" for c, t in zip(sk_ctx, ts)))

report("L05.6", decode_device=gpu["provenance"]["gpu_model"], peak_gb_per_s=peak, batch=dec[0]["batch"],
       heads=dec[0]["heads"], variants=list(series), kv_heads=[s["kv_heads"] for s in series.values()],
       head_dims=[s["head_dim"] for s in series.values()], contexts=[s["contexts"] for s in series.values()],
       time_ms=[s["time_ms"] for s in series.values()], tokens_per_s=[s["tokens_per_s"] for s in series.values()],
       gb_per_s=[s["gb_per_s"] for s in series.values()], share_of_peak=[s["share"] for s in series.values()],
       cache_bytes_read=[s["cache_bytes"] for s in series.values()],
       bound_ms=[s["bound_ms"] for s in series.values()],
       bound_over_time=[s["bound_over_time"] for s in series.values()], decode_source=decode_source,
       measured_bytes=[by[v]["cache_bytes_per_token"] for v in VARIANTS], computed_bytes=computed,
       bytes_kv_heads=[by[v]["kv_heads"] for v in VARIANTS],
       gen_files=[r["file"] for r in gen_rows], gen_devices=[r["device"] for r in gen_rows],
       gen_prompt=[r["prompt"] for r in gen_rows], gen_new_tokens=[r["new_tokens"] for r in gen_rows],
       gen_cache_tokens_per_s=[r["cache"] for r in gen_rows],
       gen_recompute_tokens_per_s=[r["recompute"] for r in gen_rows], gen_speedup=[r["speedup"] for r in gen_rows],
       gen_source=[r["source"] for r in gen_rows],
       bound_model=cfg.name, bound_devices=[d_.name for d_ in devs], bandwidths=[d_.bandwidth for d_ in devs],
       bound_contexts=list(BOUND_CONTEXTS), weight_bytes=cfg.n_params() * 2,
       kv_bytes=[cfg.kv_cache_bytes(n_) for n_ in BOUND_CONTEXTS], token_bound_ms=bound_ms,
       max_tokens_per_s=[[1e3 / t for t in row] for row in bound_ms],
       beyond_context=[n_ > cfg.context for n_ in BOUND_CONTEXTS],
       split_scores=(q @ k.transpose(-1, -2))[0, 0, 0] / SPLIT_D ** 0.5,
       split_cols=[list(s["cols"]) for s in split_steps],
       split_lse=[float(s["lse_s"].flatten()[0]) for s in split_steps],
       split_out=[s["O_s"].flatten() for s in split_steps],
       split_weight=[float(merge["weights"][i].flatten()[0]) for i in range(len(split_steps))],
       lse=float(merge["lse"].flatten()[0]), merged=out.flatten(), full=full_out.flatten(),
       split_max_diff=max_abs(out, full_out), weights_sum=float(merge["weights"].sum()),
       splitk_contexts=sk_ctx, splitk_methods=sk_methods, splitk_time_ms=sk_times,
       splitk_source=bench_source(gpu, "splitk"))
"""),
    try_this="""
# Try this: more splits give the same answer. Does the merge stay exact with 16 splits of one key each?
print(max_abs(ar.flash_decoding(q, k, v, 16), full_out))
""",
    checks={
        "decode_device": "decode_bandwidth.device", "peak_gb_per_s": "decode_bandwidth.peak_gb_per_s",
        "batch": "decode_bandwidth.batch", "heads": "decode_bandwidth.heads",
        "variants": "decode_bandwidth.series.*.variant", "kv_heads": "decode_bandwidth.series.*.kv_heads",
        "head_dims": "decode_bandwidth.series.*.head_dim", "contexts": "decode_bandwidth.series.*.contexts",
        "time_ms": "decode_bandwidth.series.*.time_ms", "tokens_per_s": "decode_bandwidth.series.*.tokens_per_s",
        "gb_per_s": "decode_bandwidth.series.*.gb_per_s", "share_of_peak": "decode_bandwidth.series.*.share_of_peak",
        "cache_bytes_read": "decode_bandwidth.series.*.cache_bytes", "bound_ms": "decode_bandwidth.series.*.bound_ms",
        "bound_over_time": "decode_bandwidth.series.*.bound_over_time", "decode_source": "decode_bandwidth.source",
        "measured_bytes": "bytes_per_token.measured_bytes", "computed_bytes": "bytes_per_token.computed_bytes",
        "bytes_kv_heads": "bytes_per_token.kv_heads",
        "gen_files": "generation_speed.rows.*.file", "gen_devices": "generation_speed.rows.*.device",
        "gen_prompt": "generation_speed.rows.*.prompt", "gen_new_tokens": "generation_speed.rows.*.new_tokens",
        "gen_cache_tokens_per_s": "generation_speed.rows.*.cache_tokens_per_s",
        "gen_recompute_tokens_per_s": "generation_speed.rows.*.recompute_tokens_per_s",
        "gen_speedup": "generation_speed.rows.*.speedup", "gen_source": "generation_speed.rows.*.source",
        "bound_model": "token_bound.model", "bound_devices": "token_bound.devices",
        "bandwidths": "token_bound.bandwidths", "bound_contexts": "token_bound.contexts",
        "weight_bytes": "token_bound.weight_bytes", "kv_bytes": "token_bound.kv_bytes",
        "token_bound_ms": "token_bound.bound_ms", "max_tokens_per_s": "token_bound.max_tokens_per_s",
        "beyond_context": "token_bound.beyond_context",
        "split_scores": "split_k.scores", "split_cols": "split_k.splits.*.cols", "split_lse": "split_k.splits.*.lse",
        "split_out": "split_k.splits.*.out", "split_weight": "split_k.splits.*.weight", "lse": "split_k.lse",
        "merged": "split_k.merged", "full": "split_k.full", "split_max_diff": "split_k.max_diff",
        "weights_sum": "split_k.weights_sum", "splitk_contexts": "split_k.measured_contexts",
        "splitk_methods": "split_k.measured.*.0", "splitk_time_ms": "split_k.measured.*.1",
        "splitk_source": "split_k.source",
    },
    unchecked={"cited": "published figures (Flash-Decoding's 8× and 50×, PagedAttention's 2–4×, rasbt's CPU anchor "
                        "27 → 110 tokens/s), quoted on screen, not measured here"},
)

NOTEBOOK = NotebookSpec(intro=INTRO, setup=SETUP, values=VALUES, data_package="scenes.l05_kv_cache.data",
                        topics=(L05_1, L05_2, L05_3, L05_4, L05_5, L05_6))
