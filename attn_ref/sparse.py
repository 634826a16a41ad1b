"""Sparse attention computed sparsely: a banded sliding window and a block-sparse layout.

Both equal dense :func:`attn_ref.core.sdpa` under the matching mask from :mod:`attn_ref.masks`
(tested), but never build the (Lq, Lk) score matrix: the sliding window holds (Lq, W) scores and the
block-sparse path holds, per query block, only the scores against its kept key blocks.
"""
from __future__ import annotations

import math

import torch

from ._checks import check_positive_int, check_scale, check_tensor
from .core import _validate_qkv, repeat_kv, softmax

__all__ = ["block_sparse_attention", "sliding_window_attention"]


def _scale(q: torch.Tensor, scale) -> float:
    scale = check_scale(scale)  # a finite number or None
    return 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale


def _empty_sum(q, k, v) -> torch.Tensor:
    """Σ over no keys: zeros of shape (B, H, Lq, Dv) whose gradients (zero) reach q, k and v."""
    return (q @ k[..., :0, :].transpose(-2, -1)) @ v[..., :0, :]


def sliding_window_attention(q, k, v, window: int, scale=None, enable_gqa: bool = False,
                             chunk: int | None = None) -> torch.Tensor:
    """Causal sliding-window attention in O(Lq·W) work and memory (Mistral 7B, arXiv:2310.06825;
    Longformer, arXiv:2004.05150).

    Query i, at absolute position p_i = i + Lk − Lq (lower-right aligned; p_i = i when Lq == Lk), attends to
    the keys p_i − W < j ≤ p_i (itself and the W − 1 before it):

        out_i = Σ_{p_i−W < j ≤ p_i} softmax_j(q_i · k_j · s) v_j

    Queries are processed in chunks of C (default C = W): chunk [c, c + C) needs only the keys
    [p_c − W + 1, p_c + C), so each step scores a C × (C + W − 1) band tile and the peak extra memory is
    O(B·H·W²), independent of the length — never the L × L score matrix, nor an (L, W, D) gather.
    Equals ``sdpa(q, k, v, sliding_window_mask(Lq, Lk, W, "lower_right"))``. Requires Lq ≤ Lk;
    Lq = 0 gives the empty output.
    """
    _validate_qkv(q, k, v, enable_gqa)
    check_positive_int("window", window)
    check_positive_int("chunk", chunk, allow_none=True)
    n_q, n_k = q.shape[-2], k.shape[-2]
    if n_q > n_k:
        raise ValueError(f"q length ({n_q}) must be <= k length ({n_k}) for lower-right sliding window: "
                         f"q has shape {tuple(q.shape)}, k has shape {tuple(k.shape)}")
    s = _scale(q, scale)
    if enable_gqa:
        k = repeat_kv(k, q.shape[1] // k.shape[1])
        v = repeat_kv(v, q.shape[1] // v.shape[1])
    if n_q == 0:  # no queries: an empty output, still connected to q, k, v
        return _empty_sum(q, k, v)
    w, off = window, n_k - n_q
    c = chunk or w
    outs = []
    for c0 in range(0, n_q, c):
        c1 = min(c0 + c, n_q)
        k0, k1 = max(0, c0 + off - w + 1), c1 + off  # the keys any query of this chunk can see
        pos_q = torch.arange(c0 + off, c1 + off, device=q.device)[:, None]
        pos_k = torch.arange(k0, k1, device=q.device)[None, :]
        keep = (pos_k <= pos_q) & (pos_k > pos_q - w)  # p_i − W < j ≤ p_i
        scores = (q[:, :, c0:c1] @ k[:, :, k0:k1].transpose(-1, -2)) * s  # S_ij = q_i · k_j · s
        p = softmax(scores.masked_fill(~keep, float("-inf")), dim=-1)
        outs.append(p @ v[:, :, k0:k1])
    return torch.cat(outs, dim=-2)


def block_sparse_attention(q, k, v, layout, block: int, scale=None, enable_gqa: bool = False,
                           is_causal: bool = False) -> torch.Tensor:
    """Block-sparse attention: only kept (query block, key block) pairs are computed.

    Sparse Transformer / BigBird (Child et al., arXiv:1904.10509; Zaheer et al., arXiv:2007.14062): for
    query block a with kept key blocks K_a = {b : layout[a, b]},

        out_i = softmax_j(q_i · k_j · s, j ∈ ⋃_{b∈K_a} block b) V,   i ∈ block a

    Loops over query blocks and gathers their kept key blocks, so memory is O(block · |K_a| · block)
    per step. ``layout`` is bool (Lq/block, Lk/block), shared by batch and heads; Lq and Lk must be
    multiples of ``block``. ``is_causal`` additionally keeps only keys j ≤ i (upper-left). A query row
    with nothing kept gives 0. Equals ``sdpa`` with ``block_layout_to_mask(layout, block)`` as mask.
    """
    _validate_qkv(q, k, v, enable_gqa)
    check_tensor("layout", layout, ndim=2)
    if layout.dtype != torch.bool:
        raise TypeError(f"layout must be bool (True = block kept), got dtype {layout.dtype}")
    check_positive_int("block", block)
    n_q, n_k = q.shape[-2], k.shape[-2]
    if n_q % block:
        raise ValueError(f"q length ({n_q}) must be a multiple of block ({block}): q has shape {tuple(q.shape)}")
    if n_k % block:
        raise ValueError(f"k length ({n_k}) must be a multiple of block ({block}): k has shape {tuple(k.shape)}")
    nb_q, nb_k = n_q // block, n_k // block
    if tuple(layout.shape) != (nb_q, nb_k):
        raise ValueError(f"layout must have shape (Lq/block, Lk/block) = {(nb_q, nb_k)}, "
                         f"got {tuple(layout.shape)}")
    s = _scale(q, scale)
    if enable_gqa:
        k = repeat_kv(k, q.shape[1] // k.shape[1])
        v = repeat_kv(v, q.shape[1] // v.shape[1])
    b, h = q.shape[:2]
    k_blocks = k.reshape(b, h, nb_k, block, k.shape[-1])
    v_blocks = v.reshape(b, h, nb_k, block, v.shape[-1])
    if nb_q == 0:  # no queries: an empty output
        return _empty_sum(q, k, v)
    layout = layout.to(q.device)
    outs = []
    for a in range(nb_q):
        q_a = q[:, :, a * block:(a + 1) * block]  # (B, H, block, D)
        kept = layout[a].nonzero().flatten()  # K_a
        if kept.numel() == 0:
            outs.append(_empty_sum(q_a, k, v))  # no key kept: an empty sum, 0
            continue
        k_a = k_blocks[:, :, kept].reshape(b, h, -1, k.shape[-1])  # (B, H, |K_a|·block, D)
        v_a = v_blocks[:, :, kept].reshape(b, h, -1, v.shape[-1])
        scores = (q_a @ k_a.transpose(-2, -1)) * s  # (B, H, block, |K_a|·block)
        if is_causal:
            i = torch.arange(a * block, (a + 1) * block, device=q.device)[:, None]
            j = (kept[:, None] * block + torch.arange(block, device=q.device)).flatten()[None, :]
            scores = scores.masked_fill(j > i, float("-inf"))
        outs.append(softmax(scores, dim=-1) @ v_a)
    return torch.cat(outs, dim=-2)
