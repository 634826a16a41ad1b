"""L05.3 Implementation deep dive: ``attn_ref.KVCache`` per layer, layout (B, H_kv, n, d_h), keys stored after
RoPE at their absolute position; cache positions arange(past, past + q_len); the masks of prefill, decode
(lower-right, all True) and chunked prefill (3 queries against 7 keys), with the upper-left mask computed beside
them giving wrong outputs; prefill + decode and chunked prefill equal the full causal forward at every
position; static (in place) vs dynamic (concatenate: copies the whole cache each step); the rolling buffer
(slot = position mod W, Mistral's 8× at 32K) and attention sinks; positions under left padding."""
from __future__ import annotations

from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import JIANG_2023, XIAO

from ._shared import (MODEL, NEW_TOKENS, PROMPT, chunked_logits, full_logits, head_dim, max_abs, model,
                      tokens)
from .caching import generation_trace

CHUNKS: tuple[int, ...] = (4, 3, 1)
"""Chunked prefill of the 8-token sequence: 4, then 3 queries against 7 keys, then one decode step."""
WINDOW = 4
N_SINK = 2
ROLL_TOKENS = 10
COPY_STEPS = 16
MISTRAL_TOKENS = 32768
"""The sequence length of Mistral's cited rolling-buffer figure (32k tokens, 8x less cache memory)."""
"""Decode steps of the static-vs-dynamic copy count (B = 1, H_kv = 2, d_h = 8)."""


def _sequence() -> tuple[int, ...]:
    return generation_trace().tokens_cache      # prompt + the 3 generated tokens (8 tokens)


@dataclass(frozen=True)
class CacheLayout:
    n_layers: int
    shape_per_layer: tuple[int, ...]            # (B, H_kv, n, d_h) of K (and of V) after prefill + decode
    static_shape: tuple[int, ...]               # (B, H_kv, L_max, d_h) preallocated
    cache_positions: tuple[tuple[int, ...], ...]    # per forward call: arange(past, past + q_len)
    q_lens: tuple[int, ...]
    stored_vs_rotated: float                    # |cached K − RoPE(W_k x) at absolute positions| (layer 0)
    stored_vs_unrotated: float                  # |cached K − W_k x| (no RoPE): far from 0
    dynamic_bytes: int                          # nbytes of one layer's dynamic cache (float64)
    static_bytes: int                           # nbytes of one layer's static cache (preallocated L_max)
    formula_bytes: int                          # ar.kv_cache_bytes(1, H_kv, d_h, n, bytes_per_elem=8)


@builder("L05.3")
def cache_layout() -> CacheLayout:
    """Prefill the prompt, decode 3 tokens; inspect layer 0's cache (post-RoPE keys)."""
    m, hd, seq = model(), head_dim(), _sequence()
    caches, static = m.new_caches(1), m.new_caches(1, static=True)
    q_lens = (len(PROMPT),) + (1,) * NEW_TOKENS
    pos, start = [], 0
    with torch.no_grad():
        for q in q_lens:
            pos.append(tuple(range(len(caches[0]), len(caches[0]) + q)))
            m(tokens(seq[start:start + q]), caches=caches)
            m(tokens(seq[start:start + q]), caches=static)
            start += q
        blk = m.blocks[0]
        h = blk.attn_norm(m.embed(tokens(seq)))
        k = blk.attn._split(blk.attn.k_proj(h), blk.attn.n_kv_heads)
        rotated = blk.attn.rope(k, torch.arange(len(seq)))
    c = caches[0]
    return CacheLayout(MODEL["n_layers"], tuple(c.keys.shape), tuple(static[0]._k.shape), tuple(pos), q_lens,
                       max_abs(c.keys, rotated), max_abs(c.keys, k), c.nbytes(), static[0].nbytes(),
                       ar.kv_cache_bytes(1, MODEL["n_kv_heads"], hd, len(seq), bytes_per_elem=8))


@dataclass(frozen=True)
class MaskCase:
    name: str
    n_q: int
    n_k: int
    lower_right: tuple[tuple[bool, ...], ...]    # the right mask with a cache
    upper_left: tuple[tuple[bool, ...], ...]     # PyTorch is_causal / torch.tril
    lower_right_all_true: bool
    wrong_max_logit_diff: float                  # upper-left in the model vs the full forward (0 when equal)


@dataclass(frozen=True)
class Masks:
    cases: tuple[MaskCase, ...]
    documented_3x4_lower_right: tuple[tuple[bool, ...], ...]
    documented_3x4_upper_left: tuple[tuple[bool, ...], ...]


def _bools(m: torch.Tensor) -> tuple[tuple[bool, ...], ...]:
    return tuple(tuple(bool(x) for x in row) for row in m.tolist())


@builder("L05.3")
def masks() -> Masks:
    """Prefill (5 × 5), decode (1 × 6), chunked prefill (3 × 7): both alignments, the wrong one run in the model."""
    seq = _sequence()
    full = full_logits(seq)
    cases = []
    for name, chunks in (("prefill", (5,)), ("decode", (5, 1)), ("chunked prefill", (4, 3))):
        n = sum(chunks)
        wrong = chunked_logits(seq[:n], chunks, alignment="upper_left")
        n_q = chunks[-1]
        lr, ul = ar.causal_mask(n_q, n, "lower_right"), ar.causal_mask(n_q, n, "upper_left")
        cases.append(MaskCase(name, n_q, n, _bools(lr), _bools(ul), bool(lr.all()),
                              max_abs(wrong[n - n_q:], full[n - n_q:n])))
    return Masks(tuple(cases), _bools(ar.causal_mask(3, 4, "lower_right")), _bools(ar.causal_mask(3, 4, "upper_left")))


@dataclass(frozen=True)
class Equivalence:
    """Logits at every position: full causal forward vs the cached schedules (float64)."""
    sequence: tuple[int, ...]
    schedules: tuple[tuple[int, ...], ...]       # chunk sizes fed through the cache
    max_diff: tuple[float, ...]                  # per schedule, over all positions
    max_diff_per_position: tuple[tuple[float, ...], ...]
    upper_left_chunked_diff: float               # CHUNKS with the upper-left mask: wrong


@builder("L05.3")
def equivalence() -> Equivalence:
    """Prefill + decode (5, 1, 1, 1), chunked prefill (4, 3, 1) and token by token (1 × 8) against one full pass."""
    seq = _sequence()
    full = full_logits(seq)
    schedules = ((len(PROMPT),) + (1,) * NEW_TOKENS, CHUNKS, (1,) * len(seq))
    diffs, per = [], []
    for sch in schedules:
        got = chunked_logits(seq, sch)
        per.append(tuple(float(x) for x in (got - full).abs().amax(-1)))
        diffs.append(max_abs(got, full))
    wrong = chunked_logits(seq, CHUNKS, alignment="upper_left")
    return Equivalence(seq, schedules, tuple(diffs), tuple(per), max_abs(wrong, full))


@dataclass(frozen=True)
class StaticDynamic:
    steps: int
    row_elems: int                               # B · H_kv · d_h numbers per token, K or V
    dynamic_copied: tuple[int, ...]              # K + V numbers written per step (torch.cat copies all of them)
    static_written: tuple[int, ...]              # K + V numbers written per step (one row each)
    dynamic_total: int
    static_total: int
    dynamic_buffer_moves: int                    # steps at which the key buffer got a new address (every one)
    static_buffer_moves: int                     # 0: one buffer, written in place
    static_nbytes: int                           # preallocated, constant
    dynamic_nbytes: tuple[int, ...]              # grows with the tokens held


@builder("L05.3")
def static_vs_dynamic() -> StaticDynamic:
    """One KVCache layer fed COPY_STEPS single tokens: concatenation copies O(n) per step, in place writes O(1)."""
    B, H_kv, hd = 1, MODEL["n_kv_heads"], head_dim()
    g = torch.Generator().manual_seed(50)
    ks = torch.randn(COPY_STEPS, B, H_kv, 1, hd, generator=g)
    dyn, sta = ar.KVCache(B, H_kv, hd), ar.KVCache(B, H_kv, hd, max_len=COPY_STEPS)
    row = B * H_kv * hd
    copied, written, moves_d, moves_s, nbytes = [], [], 0, 0, []
    ptr_d, ptr_s = dyn._k.data_ptr(), sta._k.data_ptr()
    for t in range(COPY_STEPS):
        k_all, _ = dyn.update(ks[t], ks[t])
        sta.update(ks[t], ks[t])
        copied.append(2 * k_all[0].numel())          # the new K and V tensors hold every row again
        written.append(2 * row)
        moves_d += dyn._k.data_ptr() != ptr_d
        moves_s += sta._k.data_ptr() != ptr_s
        ptr_d, ptr_s = dyn._k.data_ptr(), sta._k.data_ptr()
        nbytes.append(dyn.nbytes())
    return StaticDynamic(COPY_STEPS, row, tuple(copied), tuple(written), sum(copied), sum(written), moves_d, moves_s,
                         sta.nbytes(), tuple(nbytes))


@dataclass(frozen=True)
class RollingBuffer:
    window: int
    tokens: int
    slots: tuple[tuple[int | None, ...], ...]    # after each token: position held in slot s (slot = p mod W)
    held: tuple[tuple[int, ...], ...]            # KVCache(window=W).positions after each token
    slots_match_cache: bool
    max_logit_diff: float                        # TinyDecoder with rolling caches vs full forward + window mask
    sink: int
    sink_held: tuple[tuple[int, ...], ...]       # KVCache(window=W, n_sink).positions after each token
    sink_max_logit_diff: float                   # vs full forward with ar.sink_window_mask
    mistral_full_gib: float                      # Mistral-7B at 32K, fp16, no rolling buffer
    mistral_rolling_gib: float                   # held ≤ W = 4096 tokens
    mistral_ratio: float                         # 8.0
    mistral_tokens: int                          # 32,768: the sequence length of the cited figure
    mistral_window: int                          # W = 4096 (ar.MISTRAL_7B.window)
    cited_quote: str
    cited_source: str
    sink_source: str


@builder("L05.3")
def rolling_buffer() -> RollingBuffer:
    """Slot = position mod W; the rolling cache attends exactly like sliding-window attention over the whole
    sequence; with sinks the first tokens stay too."""
    m = model()
    g = torch.Generator().manual_seed(51)
    seq = tuple(torch.randint(0, MODEL["vocab_size"], (ROLL_TOKENS,), generator=g).tolist())
    slots, held, sink_held, ok = [], [], [], True
    cur: list[int | None] = [None] * WINDOW
    cache = ar.KVCache(1, 1, 2, window=WINDOW)
    sink = ar.KVCache(1, 1, 2, window=WINDOW, n_sink=N_SINK)
    one = torch.zeros(1, 1, 1, 2)
    for p in range(ROLL_TOKENS):
        cur[p % WINDOW] = p
        slots.append(tuple(cur))
        cache.update(one, one)
        sink.update(one, one)
        held.append(tuple(cache.positions.tolist()))
        sink_held.append(tuple(sink.positions.tolist()))
        ok &= sorted(x for x in cur if x is not None) == list(held[-1])
    with torch.no_grad():
        n = len(seq)
        full = m(tokens(seq), attn_mask=ar.sliding_window_mask(n, n, WINDOW)[None, None])[0]
        full_s = m(tokens(seq), attn_mask=ar.sink_window_mask(n, n, WINDOW, N_SINK)[None, None])[0]
        roll = chunked_logits(seq, (3,) + (1,) * (n - 3), m, caches=m.new_caches(1, window=WINDOW))
        roll_s = chunked_logits(seq, (3,) + (1,) * (n - 3), m, caches=m.new_caches(1, window=WINDOW, n_sink=N_SINK))
    mis = ar.MISTRAL_7B
    f, r = mis.kv_cache_bytes(MISTRAL_TOKENS), mis.kv_cache_bytes(MISTRAL_TOKENS, rolling_buffer=True)
    return RollingBuffer(WINDOW, ROLL_TOKENS, tuple(slots), tuple(held), bool(ok), max_abs(roll, full), N_SINK,
                         tuple(sink_held), max_abs(roll_s, full_s), f / 2 ** 30, r / 2 ** 30, f / r, MISTRAL_TOKENS,
                         mis.window,
                         "On a sequence length of 32k tokens, this reduces the cache memory usage by 8x, without "
                         "impacting the model quality.", f"{JIANG_2023.short()}, §2 (rolling buffer cache)",
                         f"{XIAO.short()} (attention sinks; keys keep their absolute RoPE position here)")


@dataclass(frozen=True)
class PaddedCache:
    """Left padding in the cache: slots are shared by the batch, RoPE positions are per row."""
    lengths: tuple[int, ...]
    mask: tuple[tuple[bool, ...], ...]           # ar.padding_mask(lengths, n, side="left")
    slots: tuple[int, ...]                       # cache slots 0 … n − 1 (the same for every row)
    positions: tuple[tuple[int, ...], ...]       # ar.positions_from_mask: cumsum(mask) − 1, pads clamped to 0
    next_position: tuple[int, ...]               # the first decode step's RoPE position per row (= length)
    next_slot: int                               # … written into slot n for every row


@builder("L05.3")
def padded_cache() -> PaddedCache:
    lengths = (5, 3)
    n = max(lengths)
    mask = ar.padding_mask(list(lengths), n, side="left")
    pos = ar.positions_from_mask(mask)
    return PaddedCache(lengths, _bools(mask), tuple(range(n)), tuple(tuple(r) for r in pos.tolist()),
                       tuple(int(p) + 1 for p in pos[:, -1]), n)
