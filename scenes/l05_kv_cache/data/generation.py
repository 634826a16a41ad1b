"""L05.4 Autoregressive generation patterns: one prefill step and decode steps as points on the roofline
(Llama-2-7B on an H100 SXM, FLOPs and bytes computed: prefill compute-bound, decode memory-bound); sampling
(``ar.sampling_distribution``: temperature 0.7 / 1.0 / 1.3, top-k = 5, top-p = 0.9); a left-padded batch
(positions cumsum(mask) − 1) equal to the unpadded runs; PagedAttention's block table; speculative decoding's
verification step (k draft tokens in one q_len = k step against the cache, lower-right mask)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import KWON, LEVIATHAN, YU

from ._shared import MODEL, PROMPT, UNTRAINED, Vec, chunked_logits, full_logits, gaussian, max_abs, model, \
    to_tuple, tokens

PREFILL_LEN = 2048
DECODE_STEPS = 4
SAMPLING_V = 10
SAMPLING_SEED = 52
SAMPLING_STD = 1.5
TEMPERATURES: tuple[float, ...] = (0.7, 1.0, 1.3)
TOP_K = 5
TOP_P = 0.9
PADDED_PROMPTS: tuple[tuple[int, ...], ...] = (PROMPT, (9, 4, 30))
PADDED_NEW = 4
BLOCK = 4
PAGED_LENGTHS: tuple[int, ...] = (7, 3, 10)
DRAFT_K = 4
DRAFT_SEED = 6
DRAFT_NOISE = 0.02
"""The draft model: the target's weights plus seeded N(0, 0.02²) noise (untrained models agree rarely otherwise)."""


@dataclass(frozen=True)
class RooflinePoint:
    label: str
    n_q: int
    n_k: int
    flops: float
    bytes: float
    intensity: float
    bound: str                         # "compute" or "memory"
    time_s: float                      # roofline lower bound


@dataclass(frozen=True)
class Timeline:
    model: str
    device: str
    device_source: str
    peak_tflops: float                 # the device's roof (dense bf16), for the roofline plot
    bandwidth_tbs: float               # its memory bandwidth, TB/s
    ridge_point: float
    points: tuple[RooflinePoint, ...]
    bytes_note: str


def _forward_cost(cfg: ar.ModelConfig, n_q: int, n_k: int) -> tuple[float, float]:
    """(FLOPs, bytes) of one forward of n_q new tokens against n_k keys, batch 1, bf16: every layer (causal
    attention when n_q = n_k), the LM head on the last position; bytes = weights + KV read + KV written."""
    per_layer = cfg.layer_flops(n_q, n_k, causal=n_q == n_k)["total"]
    flops = cfg.n_layers * per_layer + 2 * cfg.d_model * cfg.vocab
    past = n_k - n_q
    kv_read = cfg.kv_cache_bytes(past) if past else 0
    nbytes = cfg.n_params() * 2 + kv_read + cfg.kv_cache_bytes(n_q)
    return float(flops), float(nbytes)


@builder("L05.4")
def timeline() -> Timeline:
    """Prefill of 2048 tokens, then 4 decode steps, as roofline points (computed, not measured)."""
    cfg, dev = ar.LLAMA2_7B, ar.H100_SXM
    pts = []
    for label, n_q, n_k in (("prefill", PREFILL_LEN, PREFILL_LEN),
                            *((f"decode {s + 1}", 1, PREFILL_LEN + s + 1) for s in range(DECODE_STEPS))):
        f, b = _forward_cost(cfg, n_q, n_k)
        r = ar.roofline(f, b, dev)
        pts.append(RooflinePoint(label, n_q, n_k, f, b, r.intensity, r.bound, r.time))
    return Timeline(cfg.name, dev.name, dev.source, dev.peak_flops / 1e12, dev.bandwidth / 1e12, dev.ridge_point,
                    tuple(pts),
                    "bytes: the weights once (bf16) + the KV cache read + the new K/V written; activations left out")


@dataclass(frozen=True)
class Sampling:
    logits: Vec                                  # seeded, V = 10 (not a trained model's)
    temperatures: tuple[float, ...]
    probs: tuple[Vec, ...]                       # ar.sampling_distribution at each temperature
    greedy: Vec                                  # temperature 0: one-hot on the argmax
    top_k: int
    top_k_probs: Vec                             # T = 1, top-k = 5
    top_k_threshold: float                       # the k-th largest logit: the cut line
    top_p: float
    top_p_probs: Vec                             # T = 1, top-p = 0.9
    order: tuple[int, ...]                       # tokens by probability, most likely first (bars sorted)
    sorted_cumulative: Vec                       # cumulative mass in that order, T = 1
    top_p_kept: int                              # the smallest prefix with mass ≥ 0.9
    top_p_mass: float                            # its mass before renormalising
    caption: str


@builder("L05.4")
def sampling() -> Sampling:
    z = gaussian((SAMPLING_V,), SAMPLING_SEED, SAMPLING_STD)
    probs = tuple(to_tuple(ar.sampling_distribution(z, t)) for t in TEMPERATURES)
    p1 = ar.sampling_distribution(z, 1.0)
    order = torch.argsort(p1, descending=True, stable=True)
    cum = p1[order].cumsum(0)
    kept = int((cum < TOP_P).sum()) + 1
    return Sampling(to_tuple(z), TEMPERATURES, probs, to_tuple(ar.sampling_distribution(z, 0)), TOP_K,
                    to_tuple(ar.sampling_distribution(z, 1.0, top_k=TOP_K)), float(torch.topk(z, TOP_K).values[-1]),
                    TOP_P, to_tuple(ar.sampling_distribution(z, 1.0, top_p=TOP_P)), tuple(order.tolist()),
                    to_tuple(cum), kept, float(cum[kept - 1]),
                    "seeded logits N(0, 1.5²) over 10 tokens, rounded to 2 decimals: not a trained model's")


@dataclass(frozen=True)
class PaddedBatch:
    prompts: tuple[tuple[int, ...], ...]
    padded: tuple[tuple[int, ...], ...]          # left-padded with pad id 0
    mask: tuple[tuple[bool, ...], ...]
    positions: tuple[tuple[int, ...], ...]       # ar.positions_from_mask: cumsum(mask) − 1 (pads clamped to 0)
    batched_tokens: tuple[tuple[int, ...], ...]  # generated, greedy, without the padding
    alone_tokens: tuple[tuple[int, ...], ...]    # each prompt generated on its own
    equal: bool
    max_logit_diff: float                        # batched vs alone, every step (float64)


@builder("L05.4")
def padded_batch() -> PaddedBatch:
    """Greedy generation of a left-padded batch equals each prompt run alone (positions from the mask)."""
    m = model()
    tb, ta = ar.Trace(), []
    out = ar.generate(m, [list(p) for p in PADDED_PROMPTS], PADDED_NEW, temperature=0, trace=tb)
    n = max(map(len, PADDED_PROMPTS))
    mask = ar.padding_mask([len(p) for p in PADDED_PROMPTS], n, side="left")
    alone, diff = [], 0.0
    for b, p in enumerate(PADDED_PROMPTS):
        t = ar.Trace()
        alone.append(tuple(ar.generate(m, tokens(p), PADDED_NEW, temperature=0, trace=t)[0, len(p):].tolist()))
        ta.append(t)
        diff = max(diff, max(max_abs(s["logits"][b], u["logits"][0]) for s, u in zip(tb, t)))
    batched = tuple(tuple(r[n:]) for r in out.tolist())
    return PaddedBatch(PADDED_PROMPTS, tuple(tuple(r[:n]) for r in out.tolist()), tuple(
        tuple(bool(x) for x in r) for r in mask.tolist()), tuple(tuple(r) for r in ar.positions_from_mask(
            mask).tolist()), batched, tuple(alone), batched == tuple(alone), diff)


@dataclass(frozen=True)
class PagedBlocks:
    block: int
    lengths: tuple[int, ...]
    order: tuple[tuple[int, int], ...]           # (sequence, position) in arrival order (round robin decode)
    block_tables: tuple[tuple[int, ...], ...]    # per sequence: physical block ids, in logical order
    blocks_used: int
    slots_used: int                              # Σ lengths
    slots_reserved: int                          # blocks_used · block
    waste_per_sequence: tuple[int, ...]          # < block each (only the last block is partly empty)
    static_reserved: int                         # a contiguous max_len slab per sequence (max_len = 32)
    gather_equal: bool                           # K gathered through the table == the contiguous K
    max_attention_diff: float                    # attention over gathered K/V vs contiguous (ar.sdpa)
    cited: str
    orca: str


@builder("L05.4")
def paged_blocks() -> PagedBlocks:
    """A block pool filled in arrival order; each sequence's table maps logical blocks to physical ones."""
    hd = 4
    g = torch.Generator().manual_seed(53)
    seqs = [torch.randn(n, hd, generator=g, dtype=torch.float64) for n in PAGED_LENGTHS]   # one K per sequence
    order, filled = [], [0] * len(PAGED_LENGTHS)
    while any(f < n for f, n in zip(filled, PAGED_LENGTHS)):
        for s, n in enumerate(PAGED_LENGTHS):
            if filled[s] < n:
                order.append((s, filled[s]))
                filled[s] += 1
    tables: list[list[int]] = [[] for _ in PAGED_LENGTHS]
    n_blocks = sum(math.ceil(n / BLOCK) for n in PAGED_LENGTHS)
    pool = torch.zeros(n_blocks, BLOCK, hd, dtype=torch.float64)
    nxt = 0
    for s, p in order:
        if p % BLOCK == 0:                       # a new block from the free list
            tables[s].append(nxt)
            nxt += 1
        pool[tables[s][p // BLOCK], p % BLOCK] = seqs[s][p]
    ok, worst = True, 0.0
    for s, n in enumerate(PAGED_LENGTHS):
        gathered = pool[tables[s]].reshape(-1, hd)[:n]
        ok &= bool(torch.equal(gathered, seqs[s]))
        q = torch.randn(1, 1, 1, hd, generator=g, dtype=torch.float64)
        worst = max(worst, max_abs(ar.sdpa(q, gathered[None, None], gathered[None, None]),
                                   ar.sdpa(q, seqs[s][None, None], seqs[s][None, None])))
    used = sum(len(t) for t in tables)
    return PagedBlocks(BLOCK, PAGED_LENGTHS, tuple(order), tuple(tuple(t) for t in tables), used,
                       sum(PAGED_LENGTHS), used * BLOCK,
                       tuple(len(t) * BLOCK - n for t, n in zip(tables, PAGED_LENGTHS)),
                       len(PAGED_LENGTHS) * MODEL["max_len"], ok, worst,
                       f"{KWON.short()}: 2–4× serving throughput over FasterTransformer and Orca at the same latency",
                       f"{YU.short()}: iteration-level scheduling (continuous batching)")


@dataclass(frozen=True)
class Speculative:
    prompt: tuple[int, ...]
    k: int
    draft_tokens: tuple[int, ...]                # greedy proposals of the draft (target + small noise)
    target_greedy: tuple[int, ...]               # the target's greedy choice after each prefix (one verify pass)
    accepted: int                                # longest matching prefix
    verify_vs_sequential: float                  # |logits of the one q_len = k step − k decode steps|
    verify_upper_left_diff: float                # the same step with the upper-left mask: wrong
    verify_mask: tuple[tuple[bool, ...], ...]    # ar.causal_mask(k, n + k, "lower_right")
    output_equals_target_generate: bool          # greedy speculative loop == ar.generate(target, greedy)
    target_calls: int                            # verify passes the loop needed for SPEC_NEW tokens
    accepted_per_call: tuple[int, ...]
    caption: str
    cited: str


SPEC_NEW = 8


@builder("L05.4")
def speculative() -> Speculative:
    """Verify k draft tokens with one cached forward of k queries (lower-right): the same logits as k steps."""
    target = model()
    draft = ar.TinyDecoder(ar.DecoderConfig(**MODEL)).double().eval()
    g = torch.Generator().manual_seed(DRAFT_SEED)
    with torch.no_grad():
        for p in draft.parameters():
            p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype) * DRAFT_NOISE)
    n = len(PROMPT)
    d_tok = tuple(ar.generate(draft, tokens(PROMPT), DRAFT_K, temperature=0)[0, n:].tolist())
    seq = PROMPT + d_tok
    one_pass = chunked_logits(seq, (n, DRAFT_K), target)[n - 1:]
    stepwise = chunked_logits(seq, (n,) + (1,) * DRAFT_K, target)[n - 1:]
    wrong = chunked_logits(seq, (n, DRAFT_K), target, alignment="upper_left")[n - 1:]
    choice = tuple(int(x) for x in one_pass.argmax(-1))           # k + 1 greedy choices
    acc = 0
    while acc < DRAFT_K and d_tok[acc] == choice[acc]:
        acc += 1
    # the full greedy speculative loop (recomputing the prefix each verify for clarity)
    out, calls, per_call = list(PROMPT), 0, []
    while len(out) < n + SPEC_NEW:
        prop = ar.generate(draft, tokens(out), DRAFT_K, temperature=0)[0, len(out):].tolist()
        logits = full_logits(out + prop, target)[len(out) - 1:]
        calls += 1
        best = logits.argmax(-1).tolist()
        j = 0
        while j < DRAFT_K and prop[j] == best[j]:
            j += 1
        out += [*prop[:j], best[j]]
        per_call.append(j)
    out = out[:n + SPEC_NEW]
    ref = ar.generate(target, tokens(PROMPT), SPEC_NEW, temperature=0)[0].tolist()
    return Speculative(PROMPT, DRAFT_K, d_tok, choice, acc, max_abs(one_pass, stepwise), max_abs(wrong, stepwise),
                       tuple(tuple(bool(x) for x in r) for r in ar.causal_mask(DRAFT_K, n + DRAFT_K,
                                                                                "lower_right").tolist()),
                       out == ref, calls, tuple(per_call), UNTRAINED,
                       f"{LEVIATHAN.short()}; greedy acceptance shown (the paper's rejection sampling keeps the "
                       "target's distribution when sampling)")
