"""L04.1 Quadratic scaling problem: the causal score grid for n = 8 … 128 beside a token strip that grows
linearly (score elements b·h·n² and fp16 bytes per layer against the KV cache's 2·h·d_h·n), and the FLOPs
per token of one Llama-2-7B layer against context length — the dense part 2·P_layer (projections + MLP)
against attention 4·n·d (non-causal) or 2·n·d (causal average): equal at n* = 24,704 / 49,408."""
from __future__ import annotations

from dataclasses import dataclass

import attn_ref as ar
from scenes.kit.data_builders import builder

from ._shared import FP16, GIB, MIB, MODEL

GRID_SIZES: tuple[int, ...] = (8, 16, 32, 64, 128)
"""The causal score grids drawn, cells shrinking as n doubles."""
COUNTER_LENGTHS: tuple[int, ...] = (8, 16, 32, 64, 128, 1024, 4096, 16384, 32768, 131072)
"""The counters run on past the drawn grids to lengths where the bytes matter."""
FLOP_LENGTHS: tuple[int, ...] = (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)
"""Context lengths of the stacked FLOPs-per-token bars."""


@dataclass(frozen=True)
class GridRow:
    n: int
    cells: int                 # n² scores per head
    kept: int                  # n(n+1)/2 under the causal mask (diagonal included)
    masked: int                # n(n−1)/2 set to −∞
    mask_kept_check: int       # the same count read off ar.causal_mask(n, n)


@dataclass(frozen=True)
class ScoreGrids:
    rows: tuple[GridRow, ...]
    note: str


@builder("L04.1")
def score_grids() -> ScoreGrids:
    """The causal grids n = 8 … 128: n² cells, of which n(n+1)/2 are kept (counted on ``ar.causal_mask``)."""
    rows = []
    for n in GRID_SIZES:
        kept = int(ar.causal_mask(n, n).sum())
        rows.append(GridRow(n, n * n, n * (n + 1) // 2, n * (n - 1) // 2, kept))
    return ScoreGrids(tuple(rows), "a causal mask hides half the grid but a naive kernel still stores all n² "
                                   "scores (the masked ones as −∞)")


@dataclass(frozen=True)
class CounterRow:
    n: int
    score_elements: int        # b·h·n² per layer (one of S or P)
    score_bytes: int           # fp16, ar.score_matrix_bytes(b, h, n, n)
    score_mib: float
    kv_elements: int           # 2·h_kv·d_h·n per layer: the token strip (linear)
    kv_bytes: int              # fp16, ar.kv_cache_bytes(1 layer, …)
    ratio: float               # score bytes / KV bytes = n / (2·d_h) for MHA


@dataclass(frozen=True)
class ScoreCounter:
    batch: int
    n_heads: int
    head_dim: int
    rows: tuple[CounterRow, ...]
    gib_at_16k: float          # one fp16 score tensor at n = 16K: 16 GiB
    kv_equals_scores_at: int   # n where b·h·n² = 2·b·h·d_h·n (n = 2·d_h = 256)
    model: str


@builder("L04.1")
def score_counter() -> ScoreCounter:
    """Per layer of the running model (b = 1, h = 32, d_h = 128): score elements b·h·n² and their fp16 bytes
    (``ar.score_matrix_bytes``) against one layer's K and V (``ar.kv_cache_bytes``)."""
    b, h, hd = 1, MODEL.n_heads, MODEL.head_dim
    rows = []
    for n in COUNTER_LENGTHS:
        sb = ar.score_matrix_bytes(b, h, n, n, FP16)
        kvb = ar.kv_cache_bytes(1, MODEL.n_kv_heads, hd, n, b, FP16)
        rows.append(CounterRow(n, sb // FP16, sb, sb / MIB, kvb // FP16, kvb, sb / kvb))
    return ScoreCounter(b, h, hd, tuple(rows), ar.score_matrix_bytes(b, h, 16384, 16384, FP16) / GIB,
                        2 * hd, MODEL.name)


@dataclass(frozen=True)
class FlopsRow:
    n: int
    dense: int                 # 2·P_layer per token (projections + MLP)
    attention: int             # 4·n·H·d_h per token (non-causal)
    attention_causal: float    # 2·n·H·d_h per token on average (causal)
    attention_share: float     # attention / (dense + attention)
    attention_share_causal: float


@dataclass(frozen=True)
class FlopsPerToken:
    model: str
    d_model: int
    p_layer: int               # 4·d² + 3·d·d_ff = 202,375,168
    rows: tuple[FlopsRow, ...]
    crossover: float           # ar.attention_mlp_crossover: 24,704
    crossover_causal: float    # 49,408
    gpt_rule_d: int            # a GPT-style layer (P = 12 d², GELU, d_ff = 4d) …
    gpt_rule_crossover: float  # … crosses at n* = 6 d
    gpt_rule_crossover_causal: float   # 12 d (Kaplan et al. §2.1: the context term is small for n_ctx ≪ 12 d_model)
    note: str


@builder("L04.1")
def flops_per_token() -> FlopsPerToken:
    """FLOPs per token of one Llama-2-7B layer (``ar.layer_flops``): the dense part is constant, attention grows
    linearly per token (quadratically per sequence); they are equal at ``ar.attention_mlp_crossover``."""
    dense = MODEL.layer_flops(1)["dense"]
    rows = []
    for n in FLOP_LENGTHS:
        full = MODEL.layer_flops(n)
        causal = MODEL.layer_flops(n, causal=True)
        assert full["dense"] == n * dense  # the dense part is per token
        a, ac = full["attention"] // n, causal["attention"] / n
        rows.append(FlopsRow(n, dense, a, ac, a / (dense + a), ac / (dense + ac)))
    gpt = ar.GPT2_SMALL
    return FlopsPerToken(MODEL.name, MODEL.d_model, dense // 2, tuple(rows), MODEL.attention_mlp_crossover(),
                         MODEL.attention_mlp_crossover(causal=True), gpt.d_model,
                         ar.attention_mlp_crossover(gpt.d_model, gpt.n_heads, mlp="gelu"),
                         ar.attention_mlp_crossover(gpt.d_model, gpt.n_heads, mlp="gelu", causal=True),
                         "per token: attention 4·n·d grows with the context, the dense 2·P_layer does not; the "
                         "score memory b·h·n² is quadratic from the first token")
