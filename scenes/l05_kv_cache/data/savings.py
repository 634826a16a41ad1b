"""L05.2 Memory savings mathematics: two counters per step — attention FLOPs without and with the cache (exact
causal counts per layer and head, ``ar.causal_attention_flops``: 2d·t(t+1) vs 4dt; summed over T steps the
ratio is (T + 2)/3) and dense-layer FLOPs (2P·t vs 2P, ratio (T + 1)/2) — against the bytes the cache holds;
then ``kv_cache_bytes`` per model (Llama-2-7B MHA, Llama-2-70B GQA-8, Mistral-7B GQA-8, DeepSeek-V2 MLA) at
4K, 32K and 128K tokens beside the weights."""
from __future__ import annotations

from dataclasses import dataclass

import attn_ref as ar
from scenes.kit.data_builders import builder

COUNTER_DIM = 128
"""d of the per-head counters (Llama 2's head width)."""
COUNTER_STEPS = 16
RATIO_T: tuple[int, ...] = (1, 2, 10, 100, 1000, 4096)
CONTEXTS: tuple[int, ...] = (4096, 32768, 131072)
PRESET_KEYS: tuple[str, ...] = ("llama-2-7b", "llama-2-70b", "mistral-7b", "deepseek-v2")
KIND = {"llama-2-7b": "MHA", "llama-2-70b": "GQA-8", "mistral-7b": "GQA-8", "deepseek-v2": "MLA"}


@dataclass(frozen=True)
class Counters:
    """Per layer, per head, step t = 1 … T (t tokens after the step's token is added, empty prompt)."""
    head_dim: int
    steps: tuple[int, ...]
    flops_no_cache: tuple[int, ...]        # 2d·t(t+1): the whole causal triangle again
    flops_cache: tuple[int, ...]           # 4dt: one new row
    cumulative_no_cache: tuple[int, ...]
    cumulative_cache: tuple[int, ...]
    cache_bytes: tuple[int, ...]           # K and V rows held after step t, fp16: 2·d·t·2 bytes
    flops_saved: tuple[int, ...]           # the step's no-cache minus cache FLOPs
    cumulative_saved: tuple[int, ...]      # Σ no-cache − Σ cache after step t
    bytes_added: tuple[int, ...]           # the step's new K and V rows, fp16: 2·d·2 bytes
    ratio_T: tuple[int, ...]
    ratio: tuple[float, ...]               # Σ no-cache / Σ cache at T = ratio_T: (T + 2)/3
    dense_ratio: tuple[float, ...]         # Σ 2P·t / Σ 2P = (T + 1)/2


@builder("L05.2")
def counters() -> Counters:
    """FLOPs saved and bytes spent, step by step (exact causal counts)."""
    d = COUNTER_DIM
    steps = tuple(range(1, COUNTER_STEPS + 1))
    no = tuple(ar.causal_attention_flops(t, t, d) for t in steps)
    yes = tuple(ar.causal_attention_flops(1, t, d) for t in steps)
    cum = lambda xs: tuple(sum(xs[:k + 1]) for k in range(len(xs)))  # noqa: E731
    ratios, dense = [], []
    for T in RATIO_T:
        a = sum(ar.causal_attention_flops(t, t, d) for t in range(1, T + 1))
        b = sum(ar.causal_attention_flops(1, t, d) for t in range(1, T + 1))
        ratios.append(a / b)
        dense.append(sum(range(1, T + 1)) / T)   # Σ_t 2P·t / Σ_t 2P, P cancels
    held = tuple(ar.kv_cache_bytes(1, 1, d, t) for t in steps)
    saved = tuple(a - b for a, b in zip(no, yes))
    return Counters(d, steps, no, yes, cum(no), cum(yes), held, saved, cum(saved),
                    tuple(b - a for a, b in zip((0, *held), held)), RATIO_T, tuple(ratios), tuple(dense))


@dataclass(frozen=True)
class ModelMemory:
    key: str
    name: str
    kind: str                          # MHA / GQA-8 / MLA
    n_layers: int
    n_kv_heads: int
    head_dim: int
    bytes_per_token: int               # bf16/fp16
    kib_per_token: float
    cache_bytes: tuple[int, ...]       # at CONTEXTS, batch 1
    cache_gib: tuple[float, ...]
    weight_bytes: int | None           # n_params · 2 (None: not modelled, MoE)
    cache_over_weights: tuple[float | None, ...]
    trained_context: int | None
    beyond_context: tuple[bool, ...]   # context > the model's trained context (a what-if)
    note: str


@dataclass(frozen=True)
class CacheMemory:
    contexts: tuple[int, ...]
    models: tuple[ModelMemory, ...]
    formula: str
    mla_note: str


@builder("L05.2")
def cache_memory() -> CacheMemory:
    """``ModelConfig.kv_cache_bytes`` (= ``ar.kv_cache_bytes`` for K/V models) at 4K/32K/128K, beside the weights."""
    rows = []
    for key in PRESET_KEYS:
        cfg = ar.PRESETS[key]
        per = cfg.kv_bytes_per_token()
        cache = tuple(cfg.kv_cache_bytes(n) for n in CONTEXTS)
        try:
            weights = cfg.n_params() * 2
            note = ""
        except ValueError:
            weights = None
            note = ("MoE: parameter count not modelled in attn_ref; DeepSeek-V2 (arXiv:2405.04434) states 236B "
                    "total parameters, 21B active per token")
        rows.append(ModelMemory(
            key, cfg.name, KIND[key], cfg.n_layers, cfg.n_kv_heads if cfg.mla is None else 1,
            cfg.head_dim, per, per / 1024, cache, tuple(c / 2 ** 30 for c in cache), weights,
            tuple(c / weights if weights else None for c in cache), cfg.context,
            tuple(cfg.context is not None and n > cfg.context for n in CONTEXTS), note))
    return CacheMemory(CONTEXTS, tuple(rows), "2 · n_layers · H_kv · d_h · n · bytes",
                       "MLA caches one latent c (d_c = 512) and one shared RoPE key (d_h^R = 64) per layer: "
                       "(512 + 64) · 60 layers · 2 bytes")
