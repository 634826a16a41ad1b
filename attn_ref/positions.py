"""Absolute and relative position encodings other than RoPE.

- Sinusoidal absolute encodings (Vaswani et al. 2017, arXiv:1706.03762).
- ALiBi linear biases (Press et al. 2021, arXiv:2108.12409).
- T5 bucketed relative position bias (Raffel et al. 2019, arXiv:1910.10683).

Biases have shape (H, n_q, n_k) and are additive float masks (docs/conventions.md): add them to the scaled scores,
e.g. ``sdpa(q, k, v, attn_mask=bias)``. When n_q != n_k queries are aligned to the end of the keys
(``lower_right``, as in decoding with a KV cache): query i sits at position ``i + n_k - n_q``.
"""

from __future__ import annotations

import math

import torch

from ._checks import check_positive_int, check_tensor

__all__ = [
    "alibi_bias",
    "alibi_slopes",
    "sinusoidal_positions",
    "t5_bucket",
    "t5_relative_bias",
    "t5_relative_buckets",
]


def sinusoidal_positions(
    n: int, d: int, base: float = 10000.0, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """Sinusoidal table (n, d) of arXiv:1706.03762 §3.5:

    PE[p, 2i]   = sin(p / base^(2i/d))
    PE[p, 2i+1] = cos(p / base^(2i/d))
    """
    check_positive_int("n", n)
    check_positive_int("d", d)
    if d % 2:
        raise ValueError(f"d must be even (sin/cos pairs), got {d}")
    p = torch.arange(n, dtype=torch.float64)[:, None]
    inv_freq = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # 1 / base^(2i/d)
    angle = p * inv_freq  # (n, d/2)
    pe = torch.stack([torch.sin(angle), torch.cos(angle)], dim=-1).flatten(-2)  # sin at 2i, cos at 2i+1
    return pe.to(dtype)


def alibi_slopes(n_heads: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Head slopes m_h of ALiBi (arXiv:2108.12409 §3 and the authors' code).

    For n = 2^k heads: m_h = 2^(-8h/n), h = 1..n (8 heads: 1/2, 1/4, ..., 1/256).
    Otherwise, with n0 = the largest power of two <= n_heads: the n0 slopes above, then the odd-indexed
    slopes of the 2*n0 sequence, 2^(-8(2j-1)/(2 n0)), j = 1..n_heads-n0 (they interleave the first ones).
    """
    check_positive_int("n_heads", n_heads)

    def power_of_two(n: int) -> list[float]:
        return [2.0 ** (-8.0 * h / n) for h in range(1, n + 1)]

    n0 = 2 ** math.floor(math.log2(n_heads))
    slopes = power_of_two(n0)
    if n0 < n_heads:
        slopes += power_of_two(2 * n0)[0::2][: n_heads - n0]  # exponents -8(2j-1)/(2 n0)
    return torch.tensor(slopes, dtype=dtype)


def alibi_bias(
    n_heads: int, n_q: int, n_k: int, symmetric: bool = False, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """ALiBi additive bias (H, n_q, n_k): ``bias[h, i, j] = -m_h * (pos_i - j)`` (arXiv:2108.12409 eq. 1),
    with pos_i = i + n_k - n_q. Meant with a causal mask (keys j <= pos_i); future keys get a positive bias.
    ``symmetric=True`` gives ``-m_h * |pos_i - j|`` for bidirectional encoders.
    """
    check_positive_int("n_q", n_q)
    check_positive_int("n_k", n_k)
    m = alibi_slopes(n_heads, torch.float64)
    pos_q = torch.arange(n_q, dtype=torch.float64) + (n_k - n_q)
    dist = pos_q[:, None] - torch.arange(n_k, dtype=torch.float64)[None, :]  # pos_i - j
    if symmetric:
        dist = dist.abs()
    return (-m[:, None, None] * dist).to(dtype)


def t5_bucket(
    relative_position: torch.Tensor,
    bidirectional: bool = True,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> torch.Tensor:
    """T5 bucket of ``relative_position = key_pos - query_pos`` (arXiv:1910.10683 §2.1, Mesh-TF rule).

    bidirectional: half the buckets for keys after the query (offset nb/2), |rel| in the rest;
    otherwise n = max(-rel, 0) (keys after the query share bucket 0). With nb the buckets left and
    e = nb // 2:
        bucket(n) = n                                                          if n < e
                  = min(e + floor(ln(n/e) / ln(max_distance/e) * (nb - e)), nb - 1)   otherwise
    The log is taken in float32, as in the trained checkpoints (Mesh TF, HF T5).
    """
    check_tensor("relative_position", relative_position)
    check_positive_int("num_buckets", num_buckets)
    check_positive_int("max_distance", max_distance)
    rel = relative_position.long()
    bucket = torch.zeros_like(rel)
    nb = num_buckets
    if bidirectional:
        nb //= 2
        bucket = bucket + (rel > 0).long() * nb  # keys after the query
        n = rel.abs()
    else:
        n = (-rel).clamp(min=0)  # distance into the past
    exact = nb // 2
    if exact < 1:
        raise ValueError(f"num_buckets must be >= {4 if bidirectional else 2}, got {num_buckets}")
    if max_distance <= exact:
        raise ValueError(f"max_distance must be > {exact} (the exact-bucket range), got {max_distance}")
    is_small = n < exact
    # log-spaced buckets for distances exact .. max_distance (clamp avoids log(0) on the small branch)
    scaled = torch.log(n.float().clamp(min=1) / exact) / math.log(max_distance / exact) * (nb - exact)
    large = (exact + scaled.long()).clamp(max=nb - 1)
    return bucket + torch.where(is_small, n, large)


def t5_relative_buckets(
    n_q: int, n_k: int, num_buckets: int = 32, max_distance: int = 128, bidirectional: bool = True
) -> torch.Tensor:
    """Bucket indices (n_q, n_k) for query i at position i + n_k - n_q and key j: ``t5_bucket(j - pos_i)``."""
    check_positive_int("n_q", n_q)
    check_positive_int("n_k", n_k)
    pos_q = torch.arange(n_q) + (n_k - n_q)
    rel = torch.arange(n_k)[None, :] - pos_q[:, None]  # key - query
    return t5_bucket(rel, bidirectional, num_buckets, max_distance)


def t5_relative_bias(
    n_q: int,
    n_k: int,
    table: torch.Tensor,
    num_buckets: int | None = None,
    max_distance: int = 128,
    bidirectional: bool = True,
) -> torch.Tensor:
    """T5 relative bias (H, n_q, n_k): ``bias[h, i, j] = table[bucket(j - pos_i), h]``.

    ``table`` is the learned (num_buckets, H) embedding (HF ``relative_attention_bias.weight``);
    ``num_buckets`` defaults to ``table.shape[0]``.
    """
    check_tensor("table", table, ndim=2)
    if num_buckets is None:
        num_buckets = table.shape[0]
    if table.shape[0] != num_buckets:
        raise ValueError(f"table must have num_buckets={num_buckets} rows, got shape {tuple(table.shape)}")
    buckets = t5_relative_buckets(n_q, n_k, num_buckets, max_distance, bidirectional)
    return table[buckets].permute(2, 0, 1)  # (n_q, n_k, H) -> (H, n_q, n_k)
