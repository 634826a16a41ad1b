"""Multi-head attention with grouped-query (GQA) and multi-query (MQA) variants, RoPE and a KV cache.

Multi-head attention (Vaswani et al. 2017, arXiv:1706.03762, §3.2.2)::

    head_h = softmax(Q_h K_hᵀ / √d_h) V_h,   Q_h = x W_q^h,  K_h = c W_k^h,  V_h = c W_v^h
    MHA(x, c) = concat(head_1, ..., head_H) W_o                       (c = x for self-attention)

GQA (Ainslie et al. 2023, arXiv:2305.13245) shares each K/V head among a group of n_heads / n_kv_heads
consecutive query heads (query head h reads KV head ⌊h / group⌋, :func:`attn_ref.core.repeat_kv`);
n_kv_heads = 1 is MQA (Shazeer 2019, arXiv:1911.02150), n_kv_heads = n_heads is MHA.
Only the K/V projections and the KV cache shrink, by the factor n_heads / n_kv_heads.
"""

from __future__ import annotations

import torch
from torch import nn

from ._checks import check_choice, check_positive_int, check_tensor
from .core import sdpa
from .kv_cache import KVCache
from .rope import Rope, _check_positions
from .trace import emit

__all__ = ["MultiHeadAttention", "attention_flops", "attention_params", "mha_to_gqa"]


def _head_config(d_model: int, n_heads: int, n_kv_heads: int | None) -> tuple[int, int]:
    """Validate the head layout; return (n_kv_heads, head_dim)."""
    check_positive_int("d_model", d_model)
    check_positive_int("n_heads", n_heads)
    n_kv_heads = n_heads if n_kv_heads is None else n_kv_heads
    check_positive_int("n_kv_heads", n_kv_heads)
    if d_model % n_heads:
        raise ValueError(
            f"d_model must be divisible by n_heads, got d_model={d_model}, n_heads={n_heads} "
            f"(expected a multiple of {n_heads})"
        )
    if n_heads % n_kv_heads:
        raise ValueError(
            f"n_heads must be divisible by n_kv_heads, got n_heads={n_heads}, "
            f"n_kv_heads={n_kv_heads} (expected a divisor of {n_heads})"
        )
    return n_kv_heads, d_model // n_heads


def attention_params(d_model: int, n_heads: int, n_kv_heads: int | None = None, bias: bool = False) -> int:
    """Parameters of the Q, K, V, O projections, with d_h = d_model / n_heads::

        Q: d·H·d_h (+ H·d_h)   K, V: d·H_kv·d_h (+ H_kv·d_h) each   O: H·d_h·d (+ d)

    MHA without bias: 4·d²; GQA saves 2·d·(H - H_kv)·d_h (arXiv:2305.13245).
    """
    n_kv_heads, hd = _head_config(d_model, n_heads, n_kv_heads)
    q = d_model * n_heads * hd + (n_heads * hd if bias else 0)
    kv = 2 * (d_model * n_kv_heads * hd + (n_kv_heads * hd if bias else 0))
    o = n_heads * hd * d_model + (d_model if bias else 0)
    return q + kv + o


def attention_flops(batch: int, n_heads: int, n_q: int, n_k: int, head_dim: int, causal: bool = False) -> int:
    """FLOPs of the attention core softmax(QKᵀ)V, by the FlashAttention benchmark convention
    (Dao et al., arXiv:2205.14135 / arXiv:2307.08691)::

        4 · b · h · n_q · n_k · d     (QKᵀ: 2·n_q·n_k·d multiply-adds, PV: the same)

    halved when ``causal`` (about half the score matrix is masked; the convention ignores the diagonal).
    Softmax, scaling and projections are not counted.
    """
    for name, value in (
        ("batch", batch),
        ("n_heads", n_heads),
        ("n_q", n_q),
        ("n_k", n_k),
        ("head_dim", head_dim),
    ):
        check_positive_int(name, value)
    flops = 4 * batch * n_heads * n_q * n_k * head_dim
    return flops // 2 if causal else flops


class MultiHeadAttention(nn.Module):
    """Multi-head / grouped-query / multi-query attention (arXiv:1706.03762, arXiv:2305.13245).

    ``MultiHeadAttention(d_model, n_heads, n_kv_heads=None, bias=False, rope=None, causal=True)``;
    projections ``q_proj`` (d → H·d_h), ``k_proj``, ``v_proj`` (d → H_kv·d_h), ``o_proj`` (H·d_h → d).
    ``rope``: a :class:`~attn_ref.rope.Rope` applied to queries and keys of self-attention.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        n_kv_heads: int | None = None,
        bias: bool = False,
        rope: Rope | None = None,
        causal: bool = True,
    ):
        super().__init__()
        n_kv_heads, hd = _head_config(d_model, n_heads, n_kv_heads)
        if rope is not None:
            if not isinstance(rope, Rope):
                raise TypeError(f"rope must be a Rope or None, got {type(rope).__name__}")
            if rope.head_dim > hd:
                raise ValueError(
                    f"rope.head_dim must be <= head_dim={hd} (d_model // n_heads), "
                    f"got rope.head_dim={rope.head_dim}"
                )
        self.d_model, self.n_heads, self.n_kv_heads, self.head_dim = d_model, n_heads, n_kv_heads, hd
        self.bias, self.rope, self.causal = bias, rope, causal
        self.q_proj = nn.Linear(d_model, n_heads * hd, bias=bias)
        self.k_proj = nn.Linear(d_model, n_kv_heads * hd, bias=bias)
        self.v_proj = nn.Linear(d_model, n_kv_heads * hd, bias=bias)
        self.o_proj = nn.Linear(n_heads * hd, d_model, bias=bias)

    def _split(self, y: torch.Tensor, n: int) -> torch.Tensor:
        B, L, _ = y.shape  # (B, L, n·d_h) -> (B, n, L, d_h)
        return y.view(B, L, n, self.head_dim).transpose(1, 2)

    def _check_input(self, name: str, t) -> None:
        check_tensor(name, t, ndim=3)
        if t.shape[-1] != self.d_model:
            raise ValueError(
                f"{name} must have shape (B, L, d_model={self.d_model}), got shape {tuple(t.shape)}"
            )

    def forward(
        self,
        x: torch.Tensor,
        context: torch.Tensor | None = None,
        cache: KVCache | None = None,
        positions: torch.Tensor | None = None,
        attn_mask: torch.Tensor | None = None,
        return_weights: bool = False,
        trace=None,
    ):
        """x (B, L, d_model) -> out (B, L, d_model), or (out, weights (B, H, L, n_k)).

        Self-attention (``context=None``): q, k, v from x; RoPE at ``positions`` ((L,) or (B, L); default
        ``len(cache) + arange(L)``); with ``cache`` the new K/V (after RoPE) are appended and queries attend
        to everything cached, causal mask aligned ``lower_right`` (query i sits at position n_k - L + i);
        a rolling cache (``cache.window``) adds its window mask (:meth:`KVCache.window_mask`, sinks included).
        ``positions`` is checked even when the module has no RoPE (a wrong one is an error, never ignored).
        Cross-attention (``context`` (B, S, d_model)): k, v from context, no causal mask, no RoPE (so
        ``positions`` must be None); a given
        cache is filled with the context K/V on first use and reused afterwards (it never grows).
        ``attn_mask``: bool (True = may attend) or additive, broadcastable to (B, H, L, n_k).
        ``trace``: one ``"mha.forward"`` step with ``q`` (B, H, L, d_h) after RoPE, ``k``, ``v`` (B, H_kv, n_k,
        d_h) the keys/values attended to (cache included), ``weights`` (B, H, L, n_k) and ``output``.
        """
        self._check_input("x", x)
        B, L, _ = x.shape
        q = self._split(self.q_proj(x), self.n_heads)
        if cache is not None and not isinstance(cache, KVCache):
            raise TypeError(f"cache must be a KVCache or None, got {type(cache).__name__}")
        is_causal = False
        if context is not None:  # cross-attention
            if positions is not None:
                raise ValueError("positions must be None for cross-attention (context given): it has no RoPE")
            self._check_input("context", context)
            if context.shape[0] != B:
                raise ValueError(f"context batch must equal x batch {B}, got shape {tuple(context.shape)}")
            if cache is not None and len(cache) > 0:
                k, v = cache.keys, cache.values  # encoder K/V computed once
            else:
                k = self._split(self.k_proj(context), self.n_kv_heads)
                v = self._split(self.v_proj(context), self.n_kv_heads)
                if cache is not None:
                    k, v = cache.update(k, v)
        else:  # self-attention
            k = self._split(self.k_proj(x), self.n_kv_heads)
            v = self._split(self.v_proj(x), self.n_kv_heads)
            past = len(cache) if cache is not None else 0
            if positions is None:
                positions = torch.arange(past, past + L, device=x.device)
            else:
                _check_positions(positions, B, L)  # checked even without RoPE: a wrong one is never ignored
            if self.rope is not None:
                q, k = self.rope(q, positions), self.rope(k, positions)  # rotate before caching
            if cache is not None:
                k, v = cache.update(k, v)  # (B, H_kv, n_k, d_h), n_k >= L
                if cache.window is not None:  # rolling cache: p - window < j <= p (or j < n_sink)
                    window = cache.window_mask(L)
                    if attn_mask is None:
                        attn_mask = window
                    elif attn_mask.dtype == torch.bool:
                        attn_mask = attn_mask & window
                    else:
                        attn_mask = attn_mask.masked_fill(~window, float("-inf"))
            is_causal = self.causal
        # softmax(q kᵀ/√d_h + mask) v per head, K/V heads shared by groups (repeat_interleave)
        res = sdpa(
            q,
            k,
            v,
            attn_mask=attn_mask,
            is_causal=is_causal,
            enable_gqa=True,
            causal_alignment="lower_right",
            return_weights=return_weights or trace is not None,
        )
        out, weights = res if (return_weights or trace is not None) else (res, None)
        out = self.o_proj(
            out.transpose(1, 2).reshape(B, L, self.n_heads * self.head_dim)
        )  # concat heads, W_o
        emit(trace, "mha.forward", (), q=q, k=k, v=v, weights=weights, output=out)
        return (out, weights) if return_weights else out

    def extra_repr(self) -> str:
        return (
            f"d_model={self.d_model}, n_heads={self.n_heads}, n_kv_heads={self.n_kv_heads}, "
            f"head_dim={self.head_dim}, bias={self.bias}, causal={self.causal}, rope={self.rope!r}"
        )


@torch.no_grad()
def mha_to_gqa(
    mha: MultiHeadAttention,
    n_kv_heads: int,
    method: str = "mean",
    generator: torch.Generator | None = None,
) -> MultiHeadAttention:
    """Convert a checkpoint to GQA with ``n_kv_heads`` K/V heads (arXiv:2305.13245 §2.1, Fig. 4).

    Group g holds the old K/V heads g·G .. g·G + G - 1, G = H_kv_old / H_kv. ``method``:

    * ``"mean"`` (the paper's choice) — mean-pool each group: W_k^g = (1/G) Σ_{h in group g} W_k^h;
    * ``"first"`` — keep the first head of each group: W_k^g = W_k^{g·G};
    * ``"random"`` — discard the K/V heads and draw fresh ones, U(−1/√d_model, 1/√d_model) like
      ``nn.Linear``'s default, from ``generator`` (the global RNG when None).

    The same for W_v and the biases; Q and O are copied. The paper then uptrains ~5% of pre-training steps
    and finds mean > first > random. With G = 1, ``"mean"`` and ``"first"`` return a copy equal to ``mha``.
    Returns a new module on ``mha``'s device and dtype.
    """
    if not isinstance(mha, MultiHeadAttention):
        raise TypeError(f"mha must be a MultiHeadAttention, got {type(mha).__name__}")
    check_positive_int("n_kv_heads", n_kv_heads)
    check_choice("method", method, ("mean", "first", "random"))
    if mha.n_kv_heads % n_kv_heads:
        raise ValueError(
            f"n_kv_heads must divide mha.n_kv_heads={mha.n_kv_heads}, got n_kv_heads={n_kv_heads}"
        )
    w = mha.q_proj.weight
    new = MultiHeadAttention(mha.d_model, mha.n_heads, n_kv_heads, mha.bias, mha.rope, mha.causal)
    new = new.to(device=w.device, dtype=w.dtype)
    G, hd = mha.n_kv_heads // n_kv_heads, mha.head_dim
    for name in ("q_proj", "o_proj"):
        getattr(new, name).load_state_dict(getattr(mha, name).state_dict())
    bound = mha.d_model**-0.5
    for name in ("k_proj", "v_proj"):
        old, dst = getattr(mha, name), getattr(new, name)
        params = [(old.weight, dst.weight, (n_kv_heads, G, hd, mha.d_model))]
        if mha.bias:
            params.append((old.bias, dst.bias, (n_kv_heads, G, hd)))
        for src, out, shape in params:
            if method == "mean":
                val = src.view(shape).mean(1)
            elif method == "first":
                val = src.view(shape)[:, 0]
            else:
                val = torch.empty(out.shape, dtype=torch.float32).uniform_(-bound, bound, generator=generator)
            out.copy_(val.reshape_as(out))
    return new
