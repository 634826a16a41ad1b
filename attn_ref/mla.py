"""Multi-head Latent Attention (MLA) of DeepSeek-V2 (arXiv:2405.04434, §2.1), with a latent KV cache.

Per token t (h_t ∈ R^{d_model}; n_h heads; d_h = ``head_dim`` (no-RoPE part), d_h^R = ``rope_head_dim``)::

    c_t^{KV} = RMSNorm(W^{DKV} h_t)              ∈ R^{d_c}          (cached)
    k_t^R    = RoPE(W^{KR} h_t)                  ∈ R^{d_h^R}        (cached; ONE vector shared by all heads)
    k_{t,i}^C = (W^{UK} c_t^{KV})_i,   v_{t,i}^C = (W^{UV} c_t^{KV})_i
    c_t^Q    = RMSNorm(W^{DQ} h_t)               ∈ R^{d'_c}         (or h_t itself when q_lora_rank is None)
    q_{t,i}^C = (W^{UQ} c_t^Q)_i,      q_{t,i}^R = RoPE((W^{QR} c_t^Q)_i)
    q_{t,i} = [q^C_{t,i}; q^R_{t,i}],  k_{t,i} = [k^C_{t,i}; k^R_t]
    o_{t,i} = Σ_{j≤t} softmax_j(q_{t,i}ᵀ k_{j,i} / √(d_h + d_h^R)) v^C_{j,i}
    u_t     = W^O [o_{t,1}; …; o_{t,n_h}]

The cache holds c^{KV} and k^R only: d_c + d_h^R numbers per token per layer (576 for DeepSeek-V2) instead of
2 n_h d_h (32,768) for multi-head attention. RoPE pairing is ``interleaved``, as in DeepSeek checkpoints.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ._checks import check_choice, check_floating, check_positive_int, check_same, check_tensor
from .core import attention_scores, softmax
from .rope import RopeScaling, _check_positions, apply_rope, rope_frequencies
from .trace import emit

__all__ = [
    "DEEPSEEK_V2",
    "MLACache",
    "MLAConfig",
    "MultiHeadLatentAttention",
    "mha_cache_elems_per_token",
    "mla_cache_elems_per_token",
]


@dataclass(frozen=True)
class MLAConfig:
    """Dimensions of one MLA layer (DeepSeek-V2, arXiv:2405.04434, §2.1; names as in the paper / HF config).

    d_model: hidden size. n_heads: n_h. head_dim: d_h, the per-head query/key part without RoPE
    (``qk_nope_head_dim``). kv_lora_rank: d_c. q_lora_rank: d'_c, or None for no query compression
    (DeepSeek-V2-Lite). rope_head_dim: d_h^R (``qk_rope_head_dim``, even). v_head_dim: per-head value size
    (default ``head_dim``). rope_base, rope_scaling: see :func:`attn_ref.rope.rope_frequencies`.
    softmax_scale: default 1/√(d_h + d_h^R); DeepSeek with YaRN multiplies it by mscale² — pass it here.
    rms_eps: ε of the two RMSNorms.
    """

    d_model: int
    n_heads: int
    head_dim: int
    kv_lora_rank: int
    q_lora_rank: int | None
    rope_head_dim: int
    v_head_dim: int | None = None
    rope_base: float = 10000.0
    rope_scaling: RopeScaling | None = None
    softmax_scale: float | None = None
    rms_eps: float = 1e-6

    def __post_init__(self):
        for name in ("d_model", "n_heads", "head_dim", "kv_lora_rank", "rope_head_dim"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("q_lora_rank", self.q_lora_rank, allow_none=True)
        check_positive_int("v_head_dim", self.v_head_dim, allow_none=True)
        if self.rope_head_dim % 2:
            raise ValueError(f"rope_head_dim must be even (RoPE rotates channel pairs), got {self.rope_head_dim}")
        for name in ("kv_lora_rank", "q_lora_rank"):
            rank = getattr(self, name)
            if rank is not None and rank > self.d_model:
                raise ValueError(f"{name} must be <= d_model = {self.d_model} (a low-rank compression), "
                                 f"got {rank}")
        if not self.rope_base > 0:
            raise ValueError(f"rope_base must be > 0, got {self.rope_base!r}")
        if self.softmax_scale is not None and not self.softmax_scale > 0:
            raise ValueError(f"softmax_scale must be > 0 or None, got {self.softmax_scale!r}")
        if not self.rms_eps > 0:
            raise ValueError(f"rms_eps must be > 0, got {self.rms_eps!r}")
        rope_frequencies(self.rope_head_dim, self.rope_base, self.rope_scaling)  # validates the scaling

    @property
    def v_dim(self) -> int:
        """Per-head value size: ``v_head_dim`` or ``head_dim``."""
        return self.head_dim if self.v_head_dim is None else self.v_head_dim

    @property
    def scale(self) -> float:
        """Softmax scale s = 1/√(d_h + d_h^R) unless ``softmax_scale`` is given."""
        if self.softmax_scale is not None:
            return float(self.softmax_scale)
        return 1.0 / math.sqrt(self.head_dim + self.rope_head_dim)


# DeepSeek-V2 (arXiv:2405.04434, §2.1.4 and Appendix; HF config deepseek-ai/DeepSeek-V2: hidden_size 5120,
# num_attention_heads 128, qk_nope_head_dim 128, qk_rope_head_dim 64, v_head_dim 128, kv_lora_rank 512,
# q_lora_rank 1536). Its YaRN long-context scaling is not included here.
DEEPSEEK_V2 = MLAConfig(d_model=5120, n_heads=128, head_dim=128, kv_lora_rank=512, q_lora_rank=1536,
                        rope_head_dim=64, v_head_dim=128)


def mla_cache_elems_per_token(config: MLAConfig) -> int:
    """MLA cache per token per layer: d_c + d_h^R (arXiv:2405.04434, Table 1) — 576 for DeepSeek-V2."""
    return config.kv_lora_rank + config.rope_head_dim


def mha_cache_elems_per_token(n_heads: int, head_dim: int) -> int:
    """Multi-head attention cache per token per layer: 2 n_h d_h (K and V) — 32,768 for 128 × 128."""
    check_positive_int("n_heads", n_heads)
    check_positive_int("head_dim", head_dim)
    return 2 * n_heads * head_dim


class MLACache:
    """Latent KV cache of one MLA layer: c^{KV} (B, L, d_c) and the shared RoPE key k^R (B, L, d_h^R).

    Exactly d_c + d_h^R numbers per token (:meth:`elems_per_token`); per-head keys and values are never
    stored. Call :meth:`append` with the new tokens' entries; it returns the whole cache.
    """

    def __init__(self):
        self.c_kv: torch.Tensor | None = None
        self.k_rope: torch.Tensor | None = None

    @property
    def length(self) -> int:
        """Number of cached tokens."""
        return 0 if self.c_kv is None else self.c_kv.shape[1]

    def append(self, c_kv: torch.Tensor, k_rope: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Concatenate new c^{KV} (B, T, d_c) and k^R (B, T, d_h^R) along the sequence; return the full cache.

        Both must share one floating dtype and device with each other and with what is cached (no silent
        promotion), and agree in (B, T)."""
        check_tensor("c_kv", c_kv, ndim=3)
        check_tensor("k_rope", k_rope, ndim=3)
        check_floating("c_kv", c_kv)
        check_same("c_kv", c_kv.dtype, "k_rope", k_rope.dtype, "dtype")
        check_same("c_kv", c_kv.device, "k_rope", k_rope.device, "device")
        if k_rope.shape[:2] != c_kv.shape[:2]:
            raise ValueError(f"k_rope must match c_kv in (B, T) = {tuple(c_kv.shape[:2])}, "
                             f"got shape {tuple(k_rope.shape)}")
        if self.c_kv is None:
            self.c_kv, self.k_rope = c_kv, k_rope
        else:
            # a cache holds one dtype and device: torch.cat would silently promote float32 + float64
            check_same("c_kv", c_kv.dtype, "the cache", self.c_kv.dtype, "dtype")
            check_same("c_kv", c_kv.device, "the cache", self.c_kv.device, "device")
            if c_kv.shape[0] != self.c_kv.shape[0] or c_kv.shape[2] != self.c_kv.shape[2]:
                raise ValueError(f"c_kv of shape {tuple(c_kv.shape)} does not match the cache's "
                                 f"(B, L, d_c) = {tuple(self.c_kv.shape)}")
            if k_rope.shape[2] != self.k_rope.shape[2]:
                raise ValueError(f"k_rope of shape {tuple(k_rope.shape)} does not match the cache's "
                                 f"(B, L, d_h^R) = {tuple(self.k_rope.shape)}")
            self.c_kv = torch.cat([self.c_kv, c_kv], dim=1)
            self.k_rope = torch.cat([self.k_rope, k_rope], dim=1)
        return self.c_kv, self.k_rope

    def elems_per_token(self) -> int:
        """Numbers stored per token: d_c + d_h^R (0 while empty)."""
        if self.c_kv is None:
            return 0
        return self.c_kv.shape[-1] + self.k_rope.shape[-1]

    def numel(self) -> int:
        """Total numbers stored (B · L · (d_c + d_h^R))."""
        return 0 if self.c_kv is None else self.c_kv.numel() + self.k_rope.numel()


class _RMSNorm(nn.Module):
    """RMSNorm(x) = x / √(mean(x²) + ε) ∘ g (Zhang & Sennrich 2019, arXiv:1910.07467)."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps) * self.weight


class MultiHeadLatentAttention(nn.Module):
    """Causal MLA layer (DeepSeek-V2, arXiv:2405.04434, eqs. 9–19) with a naive and an absorbed path.

    Projections (no biases, like DeepSeek): ``W_DQ`` (d_model → d'_c) + ``q_norm``, ``W_UQ`` (→ n_h d_h),
    ``W_QR`` (→ n_h d_h^R); ``W_DKV`` (d_model → d_c) + ``kv_norm``, ``W_UK`` (d_c → n_h d_h),
    ``W_UV`` (d_c → n_h d_v), ``W_KR`` (d_model → d_h^R: one RoPE key for all heads); ``W_O`` (n_h d_v → d_model).
    Without query compression (q_lora_rank None) ``W_UQ``/``W_QR`` read h_t directly.

    ``forward(x, cache=None, positions=None, mode="naive", trace=None)``:

    * x (B, T, d_model). With a :class:`MLACache` the new tokens' c^{KV}, k^R are appended first and the
      queries attend to the whole cache with lower-right causal alignment (query t sits at absolute
      position L − T + t). ``positions`` (T,) or (B, T) integer RoPE positions, default
      ``cache.length + arange(T)``; the causal mask always follows the cache order.
    * ``mode="naive"``: up-project the latent to per-head K = [W^{UK} c; k^R], V = W^{UV} c (:meth:`expand_kv`).
    * ``mode="absorbed"`` (DeepSeek-V3 ``attn_impl="absorb"``): fold W^{UK} into the query,
      q̂_i = W_{UK,i}ᵀ q^C_i ∈ R^{d_c}, score q̂_iᵀ c_j + q^R_iᵀ k^R_j against the latent directly (one shared
      "KV head" of size d_c + d_h^R), average the latents, then apply W^{UV} (and W^O) after the softmax.
      Both modes compute the same function.
    * trace: one ``"mla.step"`` per call, index (start position,), state ``mode``; ``c_KV`` (B, L, d_c) and
      ``k_R`` (B, L, d_h^R) (the cache contents used); ``q_C`` (B, n_h, T, d_h) and ``q_R`` (B, n_h, T, d_h^R)
      (after RoPE); ``scores`` (B, n_h, T, L) (scaled, masked with -inf; in absorbed mode computed from the
      latent); ``weights`` = softmax(scores); ``heads`` (B, n_h, T, d_v) the per-head outputs o_i before W^O;
      ``output`` (the returned tensor). Naive mode adds the up-projected ``K`` (B, n_h, L, d_h + d_h^R) and
      ``V`` (B, n_h, L, d_v); absorbed mode adds ``q_absorbed`` = q̂ (B, n_h, T, d_c) and ``o_latent`` =
      Σ_j P_ij c_j (B, n_h, T, d_c), so that ``heads`` = W^{UV}_i ``o_latent``.
    """

    def __init__(self, config: MLAConfig):
        super().__init__()
        if not isinstance(config, MLAConfig):
            raise TypeError(f"config must be an MLAConfig, got {type(config).__name__}")
        self.config = c = config
        n_h = c.n_heads
        if c.q_lora_rank is not None:
            self.W_DQ = nn.Linear(c.d_model, c.q_lora_rank, bias=False)
            self.q_norm = _RMSNorm(c.q_lora_rank, c.rms_eps)
            q_in = c.q_lora_rank
        else:
            self.W_DQ, self.q_norm, q_in = None, None, c.d_model
        self.W_UQ = nn.Linear(q_in, n_h * c.head_dim, bias=False)
        self.W_QR = nn.Linear(q_in, n_h * c.rope_head_dim, bias=False)
        self.W_DKV = nn.Linear(c.d_model, c.kv_lora_rank, bias=False)
        self.kv_norm = _RMSNorm(c.kv_lora_rank, c.rms_eps)
        self.W_UK = nn.Linear(c.kv_lora_rank, n_h * c.head_dim, bias=False)
        self.W_UV = nn.Linear(c.kv_lora_rank, n_h * c.v_dim, bias=False)
        self.W_KR = nn.Linear(c.d_model, c.rope_head_dim, bias=False)
        self.W_O = nn.Linear(n_h * c.v_dim, c.d_model, bias=False)

    # -- pieces ------------------------------------------------------------------------------------------
    def _heads(self, y: torch.Tensor, d: int) -> torch.Tensor:
        b, t, _ = y.shape
        return y.view(b, t, self.config.n_heads, d).transpose(1, 2)  # (B, T, n_h·d) -> (B, n_h, T, d)

    def _rope(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        c = self.config
        max_pos = int(positions.max()) + 1 if positions.numel() else None
        inv_freq, factor = rope_frequencies(c.rope_head_dim, c.rope_base, c.rope_scaling, max_pos)
        return apply_rope(x, positions, inv_freq, pairing="interleaved", attention_factor=factor)

    def compress_kv(self, x: torch.Tensor, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Cache entries of x (B, T, d_model): c^{KV} = RMSNorm(W^{DKV} x), k^R = RoPE(W^{KR} x), shared by heads."""
        c_kv = self.kv_norm(self.W_DKV(x))  # c^{KV} = RMSNorm(W^{DKV} h)
        k_rope = self._rope(self.W_KR(x)[:, None], positions)[:, 0]  # k^R = RoPE(W^{KR} h), (B, T, d_h^R)
        return c_kv, k_rope

    def queries(self, x: torch.Tensor, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q^C (B, n_h, T, d_h) and RoPE'd q^R (B, n_h, T, d_h^R) from x (B, T, d_model)."""
        c = self.config
        c_q = self.q_norm(self.W_DQ(x)) if self.W_DQ is not None else x  # c^Q = RMSNorm(W^{DQ} h)
        q_nope = self._heads(self.W_UQ(c_q), c.head_dim)  # q^C = W^{UQ} c^Q
        q_rope = self._rope(self._heads(self.W_QR(c_q), c.rope_head_dim), positions)  # q^R = RoPE(W^{QR} c^Q)
        return q_nope, q_rope

    def expand_kv(self, c_kv: torch.Tensor, k_rope: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-head K = [W^{UK} c^{KV}; k^R] (B, n_h, L, d_h + d_h^R) and V = W^{UV} c^{KV} (B, n_h, L, d_v).

        The same k^R is copied into every head (decoupled RoPE key, arXiv:2405.04434 eq. 15).
        """
        c = self.config
        k_nope = self._heads(self.W_UK(c_kv), c.head_dim)  # k^C = W^{UK} c^{KV}
        k_r = k_rope[:, None].expand(-1, c.n_heads, -1, -1)  # k^R_t shared by all heads
        v = self._heads(self.W_UV(c_kv), c.v_dim)  # v^C = W^{UV} c^{KV}
        return torch.cat([k_nope, k_r], dim=-1), v

    # -- forward -----------------------------------------------------------------------------------------
    def forward(self, x, cache: MLACache | None = None, positions=None, mode: str = "naive", trace=None):
        """u = W^O [o_1; …; o_{n_h}] for x (B, T, d_model); see the class docstring."""
        c = self.config
        check_tensor("x", x, ndim=3)
        if x.shape[-1] != c.d_model:
            raise ValueError(f"x must have last dim d_model = {c.d_model}, got shape {tuple(x.shape)}")
        check_choice("mode", mode, ("naive", "absorbed"))
        if cache is not None and not isinstance(cache, MLACache):
            raise TypeError(f"cache must be an MLACache or None, got {type(cache).__name__}")
        b, t, _ = x.shape
        start = cache.length if cache is not None else 0
        if positions is None:
            positions = torch.arange(start, start + t, device=x.device)
        _check_positions(positions, b, t)

        q_nope, q_rope = self.queries(x, positions)
        c_kv, k_rope = self.compress_kv(x, positions)
        if cache is not None:
            c_kv, k_rope = cache.append(c_kv, k_rope)

        if mode == "naive":
            k, v = self.expand_kv(c_kv, k_rope)
            q = torch.cat([q_nope, q_rope], dim=-1)  # q_i = [q^C_i; q^R_i]
            scores = attention_scores(q, k, is_causal=True, scale=c.scale, causal_alignment="lower_right")
            weights = softmax(scores)
            o = weights @ v  # o_i = Σ_j softmax_j(q_iᵀ k_j · s) v_j, (B, n_h, T, d_v)
            extra = {"K": k, "V": v}
        else:
            w_uk = self.W_UK.weight.view(c.n_heads, c.head_dim, c.kv_lora_rank)  # W^{UK}_i: d_c -> d_h
            w_uv = self.W_UV.weight.view(c.n_heads, c.v_dim, c.kv_lora_rank)  # W^{UV}_i: d_c -> d_v
            q_abs = torch.einsum("bhtd,hdc->bhtc", q_nope, w_uk)  # q̂_i = W^{UK}_iᵀ q^C_i ∈ R^{d_c}
            q_lat = torch.cat([q_abs, q_rope], dim=-1)  # (B, n_h, T, d_c + d_h^R)
            k_lat = torch.cat([c_kv, k_rope], dim=-1)[:, None]  # one shared key head [c^{KV}; k^R]
            # q̂_iᵀ c_j + q^R_iᵀ k^R_j  =  q^C_iᵀ (W^{UK}_i c_j) + q^R_iᵀ k^R_j   (same scores as naive)
            scores = attention_scores(q_lat, k_lat, is_causal=True, scale=c.scale, enable_gqa=True,
                                      causal_alignment="lower_right")
            weights = softmax(scores)
            o_lat = weights @ c_kv[:, None]  # Σ_j P_ij c_j, (B, n_h, T, d_c)
            o = torch.einsum("bhtc,hdc->bhtd", o_lat, w_uv)  # o_i = W^{UV}_i Σ_j P_ij c_j
            extra = {"q_absorbed": q_abs, "o_latent": o_lat}
        out = self.W_O(o.transpose(1, 2).reshape(b, t, c.n_heads * c.v_dim))  # u = W^O [o_1; …; o_{n_h}]
        if trace is not None:
            emit(trace, "mla.step", (start,), mode=mode, c_KV=c_kv, k_R=k_rope, q_C=q_nope, q_R=q_rope,
                 scores=scores, weights=weights, heads=o, output=out, **extra)
        return out
