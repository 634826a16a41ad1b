"""Differential attention (Ye et al. 2024, "Differential Transformer", arXiv:2410.05258).

Each output head subtracts two softmax maps so that attention noise common to both cancels:

    DiffAttn(X) = (softmax(Q1 K1ᵀ·s) − λ·softmax(Q2 K2ᵀ·s)) V,        s = 1/sqrt(d)
    λ           = exp(λ_q1·λ_k1) − exp(λ_q2·λ_k2) + λ_init
    head_i'     = (1 − λ_init) · RMSNorm(head_i)                      (per head, over 2d features)

Transcribed from the published naive forward, microsoft/unilm:Diff-Transformer/multihead_diffattn.py:
q and k have 2·n_heads heads of size d = d_model / n_heads / 2, v has n_heads heads of size 2d, and
the two maps of output head i are the *adjacent* q/k heads (2i, 2i+1) (a ``view(B, H, 2, L, L)``), not
the first and second half of the heads. λ is one scalar per layer, shared by all heads.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._checks import check_choice, check_positive_int, check_scale, check_tensor
from .core import softmax
from .masks import causal_mask
from .rope import _check_positions, apply_rope, rope_frequencies
from .trace import emit

__all__ = ["DifferentialAttention", "lambda_init"]


def lambda_init(depth: int) -> float:
    """λ_init = 0.8 − 0.6·exp(−0.3·depth), ``depth`` = 0-based layer index (the paper's l − 1).

    lambda_init(0) = 0.2, lambda_init(1) ≈ 0.355509, → 0.8 for deep layers. (arXiv:2410.05258, §2.1)
    """
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise TypeError(f"depth must be an int (0-based layer index), got {type(depth).__name__} {depth!r}")
    if depth < 0:
        raise ValueError(f"depth must be >= 0 (0-based layer index), got {depth}")
    return 0.8 - 0.6 * math.exp(-0.3 * depth)  # λ_init(depth) = 0.8 − 0.6·e^(−0.3·depth)


def _rms_norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    """Non-affine RMSNorm over the last dim: x / sqrt(mean(x²) + eps)."""
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)


class DifferentialAttention(nn.Module):
    """Multi-head differential attention, one layer (arXiv:2410.05258; unilm ``MultiheadDiffAttn``).

    Args:
        d_model: model width; must be divisible by ``2·n_heads``.
        n_heads: number of differential heads (half the heads of a comparable Transformer).
        depth: 0-based layer index, sets λ_init = :func:`lambda_init` (depth).
        rope: ``None`` (no positions) or the RoPE pairing applied to q and k per head of size d:
            ``"interleaved"`` (what the published code uses) or ``"half"``.
        rope_base: RoPE base θ.
        causal: causal (upper-left) mask on the scores, as the published code.
        lambda_override: if given, λ is this constant instead of the reparametrised value
            (e.g. 0.0 to reduce to standard attention).
        use_norm: if False, skip both the per-head RMSNorm and the (1 − λ_init) factor (the paper
            writes them as one operation, ``(1 − λ_init)·LN(head)``).
        eps: RMSNorm epsilon (1e-5 as published).
        norm_affine: learnable RMSNorm weight (ones at init). The brief and notes use the
            non-affine norm (default); some unilm versions have ``elementwise_affine=True``.

    Shapes: x (B, L, d_model) → (B, L, d_model). Parameters: ``q_proj``, ``k_proj``, ``v_proj``
    (d_model → d_model, no bias), ``out_proj`` (d_model → d_model, no bias), ``lambda_q1``,
    ``lambda_k1``, ``lambda_q2``, ``lambda_k2`` (size d, init N(0, 0.1²)).
    """

    def __init__(self, d_model: int, n_heads: int, depth: int, rope: str | None = None,
                 causal: bool = True, lambda_override: float | None = None, use_norm: bool = True,
                 eps: float = 1e-5, norm_affine: bool = False, rope_base: float = 10000.0,
                 dtype: torch.dtype | None = None, device=None):
        super().__init__()
        check_positive_int("d_model", d_model)
        check_positive_int("n_heads", n_heads)
        if d_model % (2 * n_heads) != 0:
            raise ValueError(f"d_model must be divisible by 2*n_heads = {2 * n_heads} "
                             f"(q/k use 2*n_heads heads of size d_model/n_heads/2), got d_model={d_model}")
        if rope is not None:
            check_choice("rope", rope, ("interleaved", "half"))
        self.d_model, self.n_heads, self.depth = d_model, n_heads, depth
        self.head_dim = d_model // n_heads // 2            # d = d_model / n_heads / 2
        if rope is not None and self.head_dim % 2 != 0:
            raise ValueError(f"rope needs an even head_dim d = d_model/n_heads/2, got d={self.head_dim}")
        self.scaling = self.head_dim ** -0.5               # s = 1/sqrt(d): half the usual head dim
        self.lambda_init = lambda_init(depth)
        self.rope, self.rope_base, self.causal = rope, float(rope_base), bool(causal)
        if lambda_override is not None:
            lambda_override = check_scale(lambda_override, "lambda_override")  # a finite number (NaN: NaN output)
        self.lambda_override = lambda_override
        self.use_norm, self.eps = bool(use_norm), float(eps)
        fk = {"dtype": dtype, "device": device}
        self.q_proj = nn.Linear(d_model, d_model, bias=False, **fk)
        self.k_proj = nn.Linear(d_model, d_model, bias=False, **fk)
        self.v_proj = nn.Linear(d_model, d_model, bias=False, **fk)
        self.out_proj = nn.Linear(d_model, d_model, bias=False, **fk)
        d = self.head_dim
        self.lambda_q1 = nn.Parameter(torch.empty(d, **fk).normal_(0.0, 0.1))
        self.lambda_k1 = nn.Parameter(torch.empty(d, **fk).normal_(0.0, 0.1))
        self.lambda_q2 = nn.Parameter(torch.empty(d, **fk).normal_(0.0, 0.1))
        self.lambda_k2 = nn.Parameter(torch.empty(d, **fk).normal_(0.0, 0.1))
        self.norm_weight = nn.Parameter(torch.ones(2 * d, **fk)) if norm_affine else None

    def lambda_full(self) -> torch.Tensor:
        """λ = exp(Σ λ_q1∘λ_k1) − exp(Σ λ_q2∘λ_k2) + λ_init (or ``lambda_override``), a 0-dim tensor."""
        if self.lambda_override is not None:
            return torch.tensor(float(self.lambda_override), dtype=self.lambda_q1.dtype,
                                device=self.lambda_q1.device)
        lam1 = torch.exp(torch.sum(self.lambda_q1 * self.lambda_k1))   # exp(λ_q1·λ_k1)
        lam2 = torch.exp(torch.sum(self.lambda_q2 * self.lambda_k2))   # exp(λ_q2·λ_k2)
        return lam1 - lam2 + self.lambda_init                           # λ = … + λ_init

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None, return_maps: bool = False,
                trace=None):
        """Differential attention of ``x`` (B, L, d_model).

        ``positions`` (L,) or (B, L) integer feed RoPE (default arange(L)); checked, then unused, when ``rope``
        is None.
        ``return_maps=True`` returns ``(out, maps)`` with maps = dict(attn1, attn2 (B, H, L, L) softmax
        maps, lambda (0-dim), lambda_init, diff = attn1 − λ·attn2). ``trace`` receives one step of kind
        ``"diff.layer"`` carrying the same entries plus ``output``.
        """
        check_tensor("x", x, ndim=3)
        b, n, dm = x.shape
        if dm != self.d_model:
            raise ValueError(f"x must have last dim d_model={self.d_model}, got shape {tuple(x.shape)}")
        h, d = self.n_heads, self.head_dim
        q = self.q_proj(x).view(b, n, 2 * h, d).transpose(1, 2)    # (B, 2H, L, d)
        k = self.k_proj(x).view(b, n, 2 * h, d).transpose(1, 2)    # (B, 2H, L, d)
        v = self.v_proj(x).view(b, n, h, 2 * d).transpose(1, 2)    # (B, H, L, 2d)
        if positions is not None:
            _check_positions(positions, b, n)  # checked even without RoPE: a wrong one is never ignored
        if self.rope is not None:
            if positions is None:
                positions = torch.arange(n, device=x.device)
            inv_freq, factor = rope_frequencies(d, base=self.rope_base)
            q = apply_rope(q, positions, inv_freq, pairing=self.rope, attention_factor=factor)
            k = apply_rope(k, positions, inv_freq, pairing=self.rope, attention_factor=factor)
        scores = (q * self.scaling) @ k.transpose(-1, -2)          # Q Kᵀ·s, s = 1/sqrt(d)
        if self.causal:
            keep = causal_mask(n, n, device=x.device)              # key j ≤ query i may attend
            scores = scores.masked_fill(~keep, float("-inf"))
        attn = softmax(scores, dim=-1)                             # (B, 2H, L, L)
        attn = attn.view(b, h, 2, n, n)                            # heads (2i, 2i+1) pair up
        attn1, attn2 = attn[:, :, 0], attn[:, :, 1]
        lam = self.lambda_full().to(attn.dtype)
        diff = attn1 - lam * attn2                                 # A = softmax(Q1K1ᵀs) − λ softmax(Q2K2ᵀs)
        o = diff @ v                                               # (B, H, L, 2d)
        if self.use_norm:
            o = _rms_norm(o, self.eps)                             # RMSNorm over 2d, per head
            if self.norm_weight is not None:
                o = o * self.norm_weight
            o = o * (1.0 - self.lambda_init)                       # × (1 − λ_init)
        out = self.out_proj(o.transpose(1, 2).reshape(b, n, h * 2 * d))
        if trace is not None or return_maps:
            maps = {"attn1": attn1, "attn2": attn2, "lambda": lam, "lambda_init": self.lambda_init,
                    "diff": diff}
            emit(trace, "diff.layer", (self.depth,), **maps, output=out)
            if return_maps:
                return out, maps
        return out
