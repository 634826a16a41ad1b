"""L05.1 Core KV caching concept: the prompt and three generated tokens from ``ar.generate`` with and without
the cache (same tokens, same seed), step by step from the ``decode.step`` trace (cache length, the new K and V
rows, the attention row, the whole t × t pattern the no-cache side recomputes, each layer's cached K and V rows,
the work each side does: tokens run, K/V rows computed, attention FLOPs, and torch's FLOP counter over the whole
step); why it works: the K and V rows of old positions do not change when a token is appended (causal mask), in
every layer, while a bidirectional encoder's do (from its second layer on)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

import attn_ref as ar
from scenes.kit.data_builders import builder

from ._shared import (GEN_SEED, MODEL, NEW_TOKENS, PROMPT, UNTRAINED, Mat, Vec, head_dim, layer_kv, max_abs, model,
                      to_tuple, tokens)


@dataclass(frozen=True)
class Step:
    """One generated token, both sides. Layer 0, query head 0 / KV head 0 for the rows drawn."""
    step: int
    context_len: int                  # tokens before the new one (t)
    cache_len: int                    # tokens in the cache after the step (cache side)
    token: int                        # the token drawn (equal on both sides)
    new_k: Vec                        # cache side: the K row appended this step (layer 0, KV head 0, post-RoPE)
    new_v: Vec
    attention_row: Vec                # cache side: weights of the newest query over the t keys (layer 0, head 0)
    max_weight_diff: float            # |row with cache − row without| (all layers, heads)
    max_logit_diff: float             # |logits with cache − logits without|
    tokens_run_no_cache: int          # positions pushed through the model: t (the whole prefix, every step)
    tokens_run_cache: int             # t at the prefill step, then 1
    kv_rows_no_cache: int             # K/V rows computed per layer (= tokens run)
    kv_rows_cache: int
    score_cells_no_cache: int         # causal score cells per head: t(t + 1)/2 (the whole lower triangle)
    score_cells_cache: int            # t (one row) after the prefill
    attention_flops_no_cache: int     # exact causal attention FLOPs, all layers and heads (ar.causal_attention_flops)
    attention_flops_cache: int
    counted_flops_no_cache: int       # torch FlopCounterMode over the step (every matmul, masked half included)
    counted_flops_cache: int
    weights_full: Mat                 # no-cache side: the whole t × t causal pattern it recomputes (layer 0, head 0);
    #                                   its last row is attention_row


@dataclass(frozen=True)
class GenerationTrace:
    prompt: tuple[int, ...]
    tokens_no_cache: tuple[int, ...]
    tokens_cache: tuple[int, ...]
    identical: bool
    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    steps: tuple[Step, ...]
    cache_shape_per_layer: tuple[int, ...]     # (B, H_kv, n, d_h) after the last step
    queries_kept: int                          # 0: past queries are never needed again
    seed: int
    caption: str
    cache_k: tuple[Mat, ...]                   # per layer, KV head 0: cached K rows after the last step (post-RoPE)
    cache_v: tuple[Mat, ...]                   # likewise V; row j = position j (= new_k/new_v of layer 0)


def _counted(use_cache: bool) -> tuple[int, ...]:
    """FlopCounterMode totals of generate for 1 … NEW_TOKENS new tokens; differences give each step."""
    totals = []
    for k in range(1, NEW_TOKENS + 1):
        with FlopCounterMode(display=False) as fc:
            ar.generate(model(), tokens(PROMPT), k, use_cache=use_cache, seed=GEN_SEED)
        totals.append(fc.get_total_flops())
    return tuple(b - a for a, b in zip((0, *totals), totals))


@builder("L05.1")
def generation_trace() -> GenerationTrace:
    """``ar.generate`` with ``use_cache=False`` and ``True`` (seed GEN_SEED, temperature 1), traced per token."""
    m, hd = model(), head_dim()
    n_layers, H, H_kv = MODEL["n_layers"], MODEL["n_heads"], MODEL["n_kv_heads"]
    runs = {}
    for use_cache in (False, True):
        trace = ar.Trace()
        out = ar.generate(m, tokens(PROMPT), NEW_TOKENS, use_cache=use_cache, seed=GEN_SEED, trace=trace)
        runs[use_cache] = (out[0].tolist(), trace.of_kind("decode.step"))
    counted = {c: _counted(c) for c in (False, True)}
    steps = []
    for s, (a, b) in enumerate(zip(runs[False][1], runs[True][1])):
        t = b["context_len"]
        run_c = t if s == 0 else 1
        steps.append(Step(
            s, t, b["cache_len"], int(b["token"][0]),
            to_tuple(b["keys"][0, 0, 0, -1]), to_tuple(b["values"][0, 0, 0, -1]), to_tuple(b["weights"][0, 0, 0]),
            max_abs(a["weights"], b["weights"]), max_abs(a["logits"], b["logits"]),
            t, run_c, t, run_c, t * (t + 1) // 2, t * (t + 1) // 2 if s == 0 else t,
            ar.causal_attention_flops(t, t, hd, H) * n_layers,
            ar.causal_attention_flops(run_c, t, hd, H) * n_layers,
            counted[False][s], counted[True][s],
            to_tuple(_full_weights(runs[False][0][:t]))))
    n = len(PROMPT) + NEW_TOKENS - 1
    last = runs[True][1][-1]
    return GenerationTrace(PROMPT, tuple(runs[False][0]), tuple(runs[True][0]), runs[False][0] == runs[True][0],
                           n_layers, H, H_kv, hd, tuple(steps), (1, H_kv, n, hd), 0, GEN_SEED, UNTRAINED,
                           tuple(to_tuple(last["keys"][layer, 0, 0]) for layer in range(n_layers)),
                           tuple(to_tuple(last["values"][layer, 0, 0]) for layer in range(n_layers)))


def _full_weights(ids):
    """The causal attention weights (t, t) of layer 0, head 0 in one forward over ``ids`` (no cache)."""
    trace = ar.Trace()
    with torch.no_grad():
        model()(tokens(ids), trace=trace)
    return trace.of_kind("mha.forward")[0]["weights"][0, 0]


@dataclass(frozen=True)
class PrefixInvariance:
    """Run on x_{1:t} and on x_{1:t+1}: the K, V rows of positions 1 … t, layer by layer (E5.1)."""
    prefix: tuple[int, ...]
    appended: int
    decoder_k_diff: Vec               # per layer: max |K_{1:t}(x_{1:t+1}) − K_{1:t}(x_{1:t})|, causal
    decoder_v_diff: Vec
    encoder_k_diff: Vec               # the same weights without the causal mask (bidirectional)
    encoder_v_diff: Vec
    old_k_rows: Mat                   # layer 1 (the last), KV head 0: the rows that are reused
    note: str


@builder("L05.1")
def prefix_invariance() -> PrefixInvariance:
    """Causal ⇒ past rows never see the future ⇒ their K and V are final; an encoder's are not (layer ≥ 2)."""
    ids = (*PROMPT, generation_trace().tokens_cache[len(PROMPT)])
    t = len(PROMPT)
    dec_short, dec_long = layer_kv(PROMPT), layer_kv(ids)
    enc = ar.TinyDecoder(ar.DecoderConfig(**MODEL)).double().eval()
    for block in enc.blocks:
        block.attn.causal = False                # the same weights, every row sees every column
    enc_short, enc_long = layer_kv(PROMPT, enc), layer_kv(ids, enc)

    def diffs(short, long, which):
        return tuple(max_abs(s[which], lg[which][:, :t]) for s, lg in zip(short, long))

    return PrefixInvariance(PROMPT, ids[-1], diffs(dec_short, dec_long, 0), diffs(dec_short, dec_long, 1),
                            diffs(enc_short, enc_long, 0), diffs(enc_short, enc_long, 1),
                            to_tuple(dec_long[-1][0][0, :t]),
                            "encoder layer 1 reads only the embeddings, so its K, V do not change either; from "
                            "layer 2 on every row has seen the new token")
