"""Key/value cache for autoregressive decoding.

At decode step t a causal layer needs k_j, v_j for every j <= t; recomputing them costs O(t) projections per
step, caching them costs memory instead (the cache of HF ``cache_utils.py``; Pope et al. 2022,
arXiv:2211.05102, quantify the trade-off). Per layer the cache holds K and V of shape
(B, H_kv, n, D), keys stored *after* RoPE. Three flavours:

- dynamic (default): grows by concatenation;
- static (``max_len``): preallocated (B, H_kv, max_len, D), written in place, error when full;
- rolling (``window``): keeps only the last ``window`` tokens; attention through it with the causal
  sliding-window mask (:func:`attn_ref.masks.sliding_window_mask`, Mistral arXiv:2310.06825) equals
  sliding-window attention over the whole sequence, with O(window) memory.

Memory: bytes = 2 (K and V) * n_layers * H_kv * D * seq_len * batch * bytes_per_elem (:func:`kv_cache_bytes`).
"""

from __future__ import annotations

import torch

from ._checks import check_positive_int, check_tensor

__all__ = ["KVCache", "kv_cache_bytes"]


def kv_cache_bytes(
    n_layers: int, n_kv_heads: int, head_dim: int, seq_len: int, batch: int = 1, bytes_per_elem: int = 2
) -> int:
    """KV-cache size in bytes: ``2 * n_layers * n_kv_heads * head_dim * seq_len * batch * bytes_per_elem``.

    The 2 counts K and V. Llama-2-7B in fp16 (32 layers, 32 KV heads, dim 128): 512 KiB per token;
    Mistral-7B with GQA (8 KV heads): 128 KiB per token (GQA, arXiv:2305.13245).
    """
    for name, value in (
        ("n_layers", n_layers),
        ("n_kv_heads", n_kv_heads),
        ("head_dim", head_dim),
        ("seq_len", seq_len),
        ("batch", batch),
        ("bytes_per_elem", bytes_per_elem),
    ):
        check_positive_int(name, value)
    return 2 * n_layers * n_kv_heads * head_dim * seq_len * batch * bytes_per_elem


class KVCache:
    """One layer's K/V cache: ``KVCache(batch, n_kv_heads, head_dim, max_len=None, dtype=torch.float32,
    window=None, device=None)``.

    ``update(k, v)`` appends the new (B, H_kv, L, D) keys/values and returns the keys/values to attend to,
    ``(k_all, v_all)`` of shape (B, H_kv, n, D); their absolute positions are ``arange(len(self) - n,
    len(self))`` (contiguous, ending at the newest token), so a causal mask over them is ``lower_right``.
    For a rolling cache ``k_all`` is the stored window plus the new tokens; afterwards only the last
    ``window`` are kept.

    ``len(cache)`` / ``seq_len``: tokens seen so far (the position of the next token);
    ``n_stored``: tokens held; ``positions``: absolute positions of the held tokens (LongTensor).
    """

    def __init__(
        self,
        batch: int,
        n_kv_heads: int,
        head_dim: int,
        max_len: int | None = None,
        dtype: torch.dtype = torch.float32,
        window: int | None = None,
        device=None,
    ):
        check_positive_int("batch", batch)
        check_positive_int("n_kv_heads", n_kv_heads)
        check_positive_int("head_dim", head_dim)
        check_positive_int("max_len", max_len, allow_none=True)
        check_positive_int("window", window, allow_none=True)
        if max_len is not None and window is not None:
            raise ValueError(
                f"give max_len (static cache) or window (rolling cache), not both; "
                f"got max_len={max_len}, window={window}"
            )
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
        self.batch, self.n_kv_heads, self.head_dim = batch, n_kv_heads, head_dim
        self.max_len, self.window, self.dtype = max_len, window, dtype
        self.device = torch.empty(0, device=device).device  # normalised ("cuda" -> cuda:0)
        self.reset()

    @property
    def kind(self) -> str:
        """``"static"``, ``"rolling"`` or ``"dynamic"``."""
        return "static" if self.max_len is not None else "rolling" if self.window is not None else "dynamic"

    def reset(self) -> None:
        """Forget every token (a static cache keeps its buffers, zeroed)."""
        self._seen = 0
        shape = (self.batch, self.n_kv_heads, self.max_len or 0, self.head_dim)
        self._k = torch.zeros(shape, dtype=self.dtype, device=self.device)
        self._v = torch.zeros(shape, dtype=self.dtype, device=self.device)

    @property
    def seq_len(self) -> int:
        """Tokens seen so far (= absolute position of the next token)."""
        return self._seen

    def __len__(self) -> int:
        return self._seen

    @property
    def n_stored(self) -> int:
        """Tokens currently held (``min(seq_len, window)`` for a rolling cache)."""
        return self._seen if self.max_len is not None else self._k.shape[2]

    @property
    def positions(self) -> torch.Tensor:
        """Absolute positions of the held tokens, ``arange(seq_len - n_stored, seq_len)``."""
        return torch.arange(self._seen - self.n_stored, self._seen, device=self.device)

    @property
    def keys(self) -> torch.Tensor:
        """Held keys (B, H_kv, n_stored, D)."""
        return self._k[:, :, : self.n_stored]

    @property
    def values(self) -> torch.Tensor:
        """Held values (B, H_kv, n_stored, D)."""
        return self._v[:, :, : self.n_stored]

    def _check(self, name: str, x) -> None:
        check_tensor(name, x, ndim=4)
        want = (self.batch, self.n_kv_heads, self.head_dim)
        got = (x.shape[0], x.shape[1], x.shape[3])
        if got != want:
            raise ValueError(
                f"{name} must have shape (batch, n_kv_heads, L, head_dim) = "
                f"({want[0]}, {want[1]}, L, {want[2]}), got shape {tuple(x.shape)}"
            )
        if x.dtype != self.dtype:
            raise TypeError(f"{name} must have the cache dtype {self.dtype}, got dtype {x.dtype}")
        if x.device != self.device:
            raise ValueError(f"{name} must be on the cache device {self.device}, got device {x.device}")

    def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append k, v (B, H_kv, L, D) and return ``(k_all, v_all)`` to attend to (see the class doc)."""
        self._check("k", k)
        self._check("v", v)
        if k.shape[2] != v.shape[2]:
            raise ValueError(
                f"k and v must have the same length L, got shapes {tuple(k.shape)} and {tuple(v.shape)}"
            )
        L = k.shape[2]
        if self.max_len is not None:  # static: write in place
            end = self._seen + L
            if end > self.max_len:
                raise ValueError(
                    f"static cache is full: max_len={self.max_len}, holds {self._seen} tokens, "
                    f"got {L} more (would need {end})"
                )
            self._k[:, :, self._seen : end] = k
            self._v[:, :, self._seen : end] = v
            self._seen = end
            return self._k[:, :, :end], self._v[:, :, :end]
        k_all = torch.cat([self._k, k], dim=2)  # dynamic / rolling: concatenate
        v_all = torch.cat([self._v, v], dim=2)
        self._seen += L
        if self.window is not None:  # rolling: keep the last `window` tokens
            self._k, self._v = k_all[:, :, -self.window :], v_all[:, :, -self.window :]
        else:
            self._k, self._v = k_all, v_all
        return k_all, v_all

    def nbytes(self) -> int:
        """Bytes held by K and V (the preallocated buffers for a static cache): numel * element_size."""
        return self._k.numel() * self._k.element_size() + self._v.numel() * self._v.element_size()

    def __repr__(self) -> str:
        return (
            f"KVCache(kind={self.kind!r}, batch={self.batch}, n_kv_heads={self.n_kv_heads}, "
            f"head_dim={self.head_dim}, seq_len={self._seen}, n_stored={self.n_stored}, dtype={self.dtype})"
        )
