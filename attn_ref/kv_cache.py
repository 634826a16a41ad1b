"""Key/value cache for autoregressive decoding.

At decode step t a causal layer needs k_j, v_j for every j <= t; recomputing them costs O(t) projections per
step, caching them costs memory instead (the cache of HF ``cache_utils.py``; Pope et al. 2022,
arXiv:2211.05102, quantify the trade-off). Per layer the cache holds K and V of shape
(B, H_kv, n, D), keys stored *after* RoPE. Three flavours:

- dynamic (default): grows by concatenation;
- static (``max_len``): preallocated (B, H_kv, max_len, D), written in place, error when full;
- rolling (``window``): keeps only the last ``window`` tokens; attention through it with the causal
  sliding-window mask (:func:`attn_ref.masks.sliding_window_mask`, Mistral arXiv:2310.06825) equals
  sliding-window attention over the whole sequence, with O(window) memory;
- sink (``window`` and ``n_sink``): keeps the first ``n_sink`` tokens ("attention sinks") plus the last
  ``window`` (StreamingLLM, Xiao et al. 2023, arXiv:2309.17453); attention through it with
  :meth:`KVCache.window_mask` equals attention over the whole sequence under
  :func:`attn_ref.masks.sink_window_mask`. Keys keep the RoPE rotation of their *absolute* position (the
  paper re-rotates cached keys by their slot in the cache instead; that variant is not this one).

Memory: bytes = 2 (K and V) * n_layers * H_kv * D * seq_len * batch * bytes_per_elem (:func:`kv_cache_bytes`).
"""

from __future__ import annotations

import torch

from ._checks import check_positive_int, check_tensor
from .masks import _sink_window_keep

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
    window=None, device=None, n_sink=0)``.

    ``update(k, v)`` appends the new (B, H_kv, L, D) keys/values and returns the keys/values to attend to,
    ``(k_all, v_all)`` of shape (B, H_kv, n, D); their absolute positions are ``arange(len(self) - n,
    len(self))`` (contiguous, ending at the newest token), so a causal mask over them is ``lower_right``.
    For a rolling cache ``k_all`` is the stored window plus the new tokens; afterwards only the last
    ``window`` are kept.

    With ``n_sink`` (needs ``window``) the first ``n_sink`` tokens are kept as well, so the held positions are
    ``[0, n_sink) ∪ [seq_len − window, seq_len)`` and no longer contiguous; ``k_all`` is the held tokens plus
    the new ones, in position order, and :meth:`window_mask` gives the mask to attend with.

    ``len(cache)`` / ``seq_len``: tokens seen so far (the position of the next token);
    ``n_stored``: tokens held; ``positions``: absolute positions of the held tokens (LongTensor);
    ``key_positions``: absolute positions of the keys returned by the last :meth:`update`.
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
        n_sink: int = 0,
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
        if isinstance(n_sink, bool) or not isinstance(n_sink, int) or n_sink < 0:
            raise ValueError(f"n_sink must be an int >= 0, got {n_sink!r}")
        if n_sink and window is None:
            raise ValueError(f"n_sink needs a rolling cache: give window as well, got n_sink={n_sink}, window=None")
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
        self.batch, self.n_kv_heads, self.head_dim = batch, n_kv_heads, head_dim
        self.max_len, self.window, self.dtype, self.n_sink = max_len, window, dtype, n_sink
        self.device = torch.empty(0, device=device).device  # normalised ("cuda" -> cuda:0)
        self.reset()

    @property
    def kind(self) -> str:
        """``"static"``, ``"rolling"``, ``"sink"`` (rolling with attention sinks) or ``"dynamic"``."""
        if self.max_len is not None:
            return "static"
        if self.window is not None:
            return "sink" if self.n_sink else "rolling"
        return "dynamic"

    def reset(self) -> None:
        """Forget every token (a static cache keeps its buffers, zeroed)."""
        self._seen = 0
        shape = (self.batch, self.n_kv_heads, self.max_len or 0, self.head_dim)
        self._k = torch.zeros(shape, dtype=self.dtype, device=self.device)
        self._v = torch.zeros(shape, dtype=self.dtype, device=self.device)
        self._pos = torch.zeros(0, dtype=torch.long, device=self.device)  # held positions (non-static)
        self._key_pos = self._pos  # positions of the keys returned by the last update

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
        """Absolute positions of the held tokens: ``arange(seq_len - n_stored, seq_len)``, or for a sink cache
        the sinks followed by the window."""
        if self.max_len is not None:
            return torch.arange(self._seen, device=self.device)
        return self._pos

    @property
    def key_positions(self) -> torch.Tensor:
        """Absolute positions of the keys returned by the last :meth:`update` (held tokens, then new ones)."""
        return self._key_pos

    def window_mask(self, n_q: int) -> torch.Tensor:
        """Bool (n_q, n_k) mask for the newest ``n_q`` tokens (queries) against the keys of the last
        :meth:`update`: query position p sees key position j iff j ≤ p and (p − window < j or j < n_sink).

        Equals ``sink_window_mask(n_q, n_k, window, n_sink, "lower_right")`` while the key positions are
        contiguous (and ``sliding_window_mask(…, "lower_right")`` for ``n_sink = 0``). Requires ``window``.
        """
        if self.window is None:
            raise ValueError("window_mask needs a rolling cache (window given), got window=None")
        check_positive_int("n_q", n_q)
        if n_q > self._seen:
            raise ValueError(f"n_q must be <= the tokens seen ({self._seen}), got {n_q}")
        q_pos = torch.arange(self._seen - n_q, self._seen, device=self.device)
        return _sink_window_keep(q_pos, self._key_pos, self.window, self.n_sink)

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
            self._key_pos = torch.arange(end, device=self.device)
            return self._k[:, :, :end], self._v[:, :, :end]
        k_all = torch.cat([self._k, k], dim=2)  # dynamic / rolling / sink: concatenate
        v_all = torch.cat([self._v, v], dim=2)
        pos_all = torch.cat([self._pos, torch.arange(self._seen, self._seen + L, device=self.device)])
        self._seen += L
        self._key_pos = pos_all
        if self.window is not None:  # keep the sinks j < n_sink and the last `window` tokens j ≥ seen − window
            keep = (pos_all < self.n_sink) | (pos_all >= self._seen - self.window)
            idx = keep.nonzero().flatten()
            self._k, self._v, self._pos = k_all[:, :, idx], v_all[:, :, idx], pos_all[idx]
        else:
            self._k, self._v, self._pos = k_all, v_all, pos_all
        return k_all, v_all

    def nbytes(self) -> int:
        """Bytes held by K and V (the preallocated buffers for a static cache): numel * element_size."""
        return self._k.numel() * self._k.element_size() + self._v.numel() * self._v.element_size()

    def __repr__(self) -> str:
        return (
            f"KVCache(kind={self.kind!r}, batch={self.batch}, n_kv_heads={self.n_kv_heads}, "
            f"head_dim={self.head_dim}, seq_len={self._seen}, n_stored={self.n_stored}, n_sink={self.n_sink}, "
            f"dtype={self.dtype})"
        )
