"""Lecture 5 data: every number the L05 scenes will draw, computed with ``attn_ref`` or read from the committed
benchmark results (benchmarks/results/gpu-nvidia-h200.json and cpu-amd-epyc.json), pure and seeded.

One module per topic, named after the scene it feeds, and ``_shared`` for the running model (a seeded,
untrained ``ar.TinyDecoder`` in float64: 2 layers, 4 query heads over 2 KV heads, d_h = 8), the prompt
(3, 17, 42, 8, 25), the generation seed, the helpers that run it (full forward, cached chunks with either
mask alignment, the K/V of every layer) and the benchmark files with their source lines. Every builder is
declared with ``@builder("L05.k")`` (``scenes.kit.data_builders``) and returns a frozen dataclass of plain
values; ``cache_clear()`` forgets every builder and shared input. Scenes use
``from scenes.l05_kv_cache import data``. Measured numbers carry their source line; cited ones their reference.

===================  =====  =========================================================================
builder              topic  what it holds
===================  =====  =========================================================================
generation_trace     L05.1  prompt + 3 tokens with and without the cache: same tokens; per step the new K/V
                            rows, the attention row, tokens run, K/V rows, exact attention FLOPs and torch's
                            FlopCounter (no cache 3,840 → 5,376 → 7,168 attention FLOPs; cache 3,840, 1,536, 1,792)
prefix_invariance    L05.1  K, V of old positions unchanged when a token is appended (0 in both layers); the
                            same weights without the mask (encoder): layer 2 changes (≈ 0.098 in K)
counters             L05.2  per step 2d·t(t+1) vs 4dt (d = 128); Σ ratio (T + 2)/3, dense (T + 1)/2
cache_memory         L05.2  KV bytes per token (512 / 320 / 128 / 67.5 KiB) at 4K/32K/128K beside the weights
cache_layout         L05.3  (B, H_kv, n, d_h) per layer, cache positions per call, keys stored after RoPE
masks                L05.3  prefill 5×5, decode 1×6 (lower-right all True), chunked 3×7; upper-left run: wrong
equivalence          L05.3  prefill + decode, chunked (4, 3, 1), token by token = full forward (≈ 1e-16)
static_vs_dynamic    L05.3  numbers written per step: concatenation copies the cache (4,352 in 16 steps), static 512
rolling_buffer       L05.3  slot = p mod 4 = KVCache(window=4); = sliding-window attention; sinks; Mistral 8× at 32K
padded_cache         L05.3  left padding: shared slots, positions cumsum(mask) − 1 per row
timeline             L05.4  Llama-2-7B on H100 SXM: prefill 2048 (compute-bound), 4 decode steps (memory-bound)
sampling             L05.4  T = 0.7 / 1.0 / 1.3, top-k 5, top-p 0.9 (7 tokens kept) on seeded logits
padded_batch         L05.4  left-padded greedy batch = each prompt alone (tokens equal, logits ≈ 1e-16)
paged_blocks         L05.4  block size 4, lengths 7/3/10: block tables, waste < a block, gathered K = contiguous
speculative          L05.4  verify 4 draft tokens in one q_len = 4 step = 4 decode steps; greedy loop = generate
decode_mask          L05.5  (1) is_causal in decode: the new token sees key 0 only; (2) chunked prefill upper-left
padding_positions    L05.5  (3) decode positions from len(cache) after mask positions at prefill: logits diverge
window_off_by_one    L05.5  (4) W vs W + 1 keys
static_length        L05.5  (5) non-zero-row length count: 4 instead of 5
precision            L05.5  (6) cached vs uncached: float64 ≈ 1e-15, float32 ≈ 4e-7, tokens equal
dropout              L05.5  (7) functional dropout_p in eval mode still drops
stale_cache          L05.5  a cache reused across prompts; reset fixes it
position_off_by_one  L05.5  decode position len(cache) ± 1
static_overflow      L05.5  a full static cache raises; generate refuses prompt + new > max_len
decode_bandwidth     L05.6  H200: decode step time, tokens/s, GB/s vs context per variant, beside bytes / β
generation_speed     L05.6  cache vs recompute tokens/s: H200 1.11×, CPU 2.63× (one length only: no sweep)
bytes_per_token      L05.6  MHA / GQA-8 / MQA / MLA bytes per token per layer: file = computed
token_bound          L05.6  Llama-2-7B (weights + KV) / β at 4K/32K/128K on H100 SXM and H200
split_k              L05.6  ar.flash_decoding, 4 splits of 16 keys: (LSE_s, O_s), merge = full; splitk timings
cited                L05.6  Flash-Decoding (8×, 50×), PagedAttention (2–4×), rasbt 27 → 110 tokens/s (4.07×)
references           recap  the papers (kit References), the manifest's Lecture 5 list
===================  =====  =========================================================================
"""
from __future__ import annotations

from scenes.kit import data_builders

from ._shared import GEN_SEED, MODEL, NEW_TOKENS, PROMPT, as_tensor, model
from .caching import generation_trace, prefix_invariance  # noqa: F401
from .generation import padded_batch, paged_blocks, sampling, speculative, timeline  # noqa: F401
from .implementation import (cache_layout, equivalence, masks, padded_cache, rolling_buffer,  # noqa: F401
                             static_vs_dynamic)
from .performance import bytes_per_token, cited, decode_bandwidth, generation_speed, split_k, token_bound  # noqa: F401
from .pitfalls import (decode_mask, dropout, padding_positions, position_off_by_one, precision,  # noqa: F401
                       stale_cache, static_length, static_overflow, window_off_by_one)
from .recap import references  # noqa: F401
from .savings import cache_memory, counters  # noqa: F401

LECTURE = "05"
BUILDERS = data_builders.builders(LECTURE)
"""Topic id -> the builders that supply its numbers (the kit registry's view of this lecture)."""


def cache_clear() -> None:
    """Forget every cached result of Lecture 5, shared inputs included."""
    data_builders.cache_clear(LECTURE)


__all__ = ["BUILDERS", "GEN_SEED", "MODEL", "NEW_TOKENS", "PROMPT", "as_tensor", "cache_clear", "model"] + [
    fn.__name__ for fns in BUILDERS.values() for fn in fns]
