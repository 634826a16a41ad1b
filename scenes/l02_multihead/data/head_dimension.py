"""L02.4 Head dimension: d_h = d_model / H across published models and one where H·d_h ≠ d_model, attention
FLOPs unchanged with H (``ar.attention_flops``), and the scale 1/√d_h (not 1/√d_model), measured."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder
from scenes.kit.references import BROWN, DAO_2023_FLASH2, GEMMA_2024, VASWANI, Reference

from ._shared import Vec

# Models without an attn_ref preset, cited: (name, d_model, n_heads, head_dim, reference, where)
_CITED = (
    ("Transformer big", 1024, 16, 64, VASWANI, "Table 3 'big' (d_model 1024, h 16, d_k 64)"),
    ("GPT-3 175B", 12288, 96, 128, BROWN, "Table 2.1 (d_model 12288, n_heads 96, d_head 128)"),
)
_PRESETS = (ar.TRANSFORMER_BASE, ar.GPT2_SMALL, ar.LLAMA2_7B, ar.LLAMA2_70B)
COUNTER = ("Gemma 2 2B", 2304, 8, 256, GEMMA_2024, "Table 1 (d_model 2304, 8 heads, head size 256); "
           "HF google/gemma-2-2b config.json (hidden_size 2304, num_attention_heads 8, head_dim 256)")
"""A model whose heads do not tile d_model: 8 × 256 = 2048 ≠ 2304, so W_Q is 2304 × 2048."""
FUSED_MAX_HEAD_DIM = 256
"""FlashAttention(-2)'s forward supports head dimensions up to 256 (Dao 2023, arXiv:2307.08691, README)."""


@dataclass(frozen=True)
class HeadDimRow:
    name: str
    d_model: int
    n_heads: int
    head_dim: int              # the model's own head size
    ratio: float               # d_model / n_heads
    tiles: bool                # n_heads · head_dim == d_model
    q_proj_shape: tuple[int, int]   # (d_model, n_heads · head_dim)
    source: str                # "attn_ref preset" or the citation
    cite: str                  # the source's authors and year, for a table's source column ("Brown et al. 2020")


@dataclass(frozen=True)
class HeadDims:
    rows: tuple[HeadDimRow, ...]
    counter_example: HeadDimRow
    fused_max_head_dim: int
    fused_source: str


def _row(name, d, h, hd, source, cite) -> HeadDimRow:
    return HeadDimRow(name, d, h, hd, d / h, h * hd == d, (d, h * hd), source, cite)


def _cite(ref: Reference, where: str) -> str:
    return f"{ref.cite}, arXiv:{ref.arxiv}, {where}"


@builder("L02.4")
def head_dims() -> HeadDims:
    """d_h = d_model / H: 64 for Transformer base/big and GPT-2 small, 128 for GPT-3 175B and Llama-2; and
    Gemma 2 2B, where 8 heads of 256 do not tile d_model 2304."""
    rows = [_row(c.name, c.d_model, c.n_heads, c.head_dim, f"attn_ref preset ({c.source.split(';')[0]})",
                 c.source.split(",")[0]) for c in _PRESETS]
    rows += [_row(n, d, h, hd, _cite(ref, where), ref.cite) for n, d, h, hd, ref, where in _CITED]
    order = ("Transformer base", "Transformer big", "GPT-2 small", "GPT-3 175B", "Llama-2-7B", "Llama-2-70B")
    rows.sort(key=lambda r: order.index(r.name))
    n, d, h, hd, ref, where = COUNTER
    return HeadDims(tuple(rows), _row(n, d, h, hd, _cite(ref, where), ref.cite), FUSED_MAX_HEAD_DIM,
                    _cite(DAO_2023_FLASH2, "flash-attention README: all head dimensions up to 256"))


FLOP_SHAPE = dict(batch=1, n=1024, d_model=512)
"""The FLOP table's shape: one sequence of 1024 tokens, d_model 512 (Transformer base)."""
FLOP_HEADS = (1, 2, 4, 8, 16, 32)


@dataclass(frozen=True)
class FlopInvariance:
    batch: int
    n: int
    d_model: int
    heads: tuple[int, ...]
    head_dims: tuple[int, ...]       # d_model / H
    flops: tuple[int, ...]           # ar.attention_flops(b, H, n, n, d_model / H): all equal
    params: tuple[int, ...]          # ar.attention_params(d_model, H): all equal
    closed_form: int                 # 4 · b · n² · d_model
    flops_shown: str
    flops_each_shown: tuple[str, ...]    # each H's count with thousands separators, for a table
    params_each_shown: tuple[str, ...]


@builder("L02.4")
def flop_invariance() -> FlopInvariance:
    """More heads, thinner heads: H · (d_model / H) = d_model, so FLOPs and parameters do not change."""
    b, n, d = FLOP_SHAPE["batch"], FLOP_SHAPE["n"], FLOP_SHAPE["d_model"]
    dims = tuple(d // h for h in FLOP_HEADS)
    flops = tuple(ar.attention_flops(b, h, n, n, hd) for h, hd in zip(FLOP_HEADS, dims))
    params = tuple(ar.attention_params(d, h) for h in FLOP_HEADS)
    return FlopInvariance(b, n, d, FLOP_HEADS, dims, flops, params, 4 * b * n * n * d, f"{flops[0]:,}",
                          tuple(f"{f:,}" for f in flops), tuple(f"{p:,}" for p in params))


SCALE_SHAPE = dict(d_model=512, n_heads=8, n=64, seed=0)
"""Scale demo: Transformer base widths, one head's q, k with independent N(0, 1) entries, 64 × 64 scores."""


@dataclass(frozen=True)
class ScaleRow:
    label: str                 # "1/√d_h" or "1/√d_model"
    scale: float
    score_std: float           # std of the scaled scores (≈ 1 for 1/√d_h)
    mean_max_weight: float     # mean over rows of the largest weight
    mean_entropy: float        # nats; log(n) is uniform


@dataclass(frozen=True)
class ScaleSharpness:
    d_model: int
    n_heads: int
    head_dim: int
    n: int
    uniform_weight: float      # 1/n
    uniform_entropy: float     # log n
    rows: tuple[ScaleRow, ScaleRow]
    std_ratio: float           # √(d_model / d_h) = √H: how much flatter 1/√d_model makes the scores
    max_weight_row: Vec        # one query row's sorted-descending top 5 weights under 1/√d_h
    max_weight_row_wrong: Vec  # the same row under 1/√d_model


@builder("L02.4")
def scale_sharpness() -> ScaleSharpness:
    """The scale uses the head's width: with 1/√d_model the scores of a 64-wide head shrink √8 ≈ 2.8× and the
    softmax flattens toward uniform (measured with ``ar.sdpa``)."""
    d, H, n, seed = (SCALE_SHAPE[k] for k in ("d_model", "n_heads", "n", "seed"))
    hd = d // H
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(1, 1, n, hd, generator=g, dtype=torch.float64) for _ in range(3))
    rows, tops = [], []
    for label, width in (("1/√d_h", hd), ("1/√d_model", d)):
        scale = width ** -0.5
        _, p = ar.sdpa(q, k, v, scale=scale, return_weights=True)
        s = ar.attention_scores(q, k, scale=scale)
        ent = -(p * p.clamp_min(1e-300).log()).sum(-1)
        rows.append(ScaleRow(label, scale, float(s.std()), float(p.max(-1).values.mean()), float(ent.mean())))
        tops.append(tuple(p[0, 0, 0].sort(descending=True).values[:5].tolist()))
    return ScaleSharpness(d, H, hd, n, 1 / n, math.log(n), tuple(rows), rows[0].score_std / rows[1].score_std,
                          tops[0], tops[1])
