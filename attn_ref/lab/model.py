"""A tiny decoder-only transformer whose attention layer is switchable, built from ``attn_ref`` modules.

Block (pre-norm, Xiong et al. 2020, arXiv:2002.04745; RMSNorm, arXiv:1910.07467)::

    h = embed(x) [+ sinusoidal(p) | P[p]] [+ W_s embed(x_{t-1})]   positions; token shift (RWKV arXiv:2305.13048,
                                                                H3 arXiv:2212.14052)
    h = h + Attn(RMSNorm(h))                                    the switchable attention (optionally a sliding window)
    h = h + W_2 SiLU(W_1 RMSNorm(h))                            omitted when d_ff == 0 (attention-only)
    logits = W_lm RMSNorm(h)

Attention kinds (``ModelConfig.attention``) and the positions each accepts:

* ``mha`` — :class:`attn_ref.MultiHeadAttention` (arXiv:1706.03762); rope, nope, alibi, sinusoidal, learned
* ``gqa`` — the same with ``n_kv_heads < n_heads`` (arXiv:2305.13245); rope, nope, alibi, sinusoidal, learned
* ``diff`` — :class:`attn_ref.DifferentialAttention` (arXiv:2410.05258); rope, nope, sinusoidal, learned
* ``moa`` — :class:`attn_ref.MixtureOfAttentionHeads` (arXiv:2210.05144); nope, sinusoidal, learned
* ``switchhead`` — :class:`attn_ref.SwitchHeadAttention` (arXiv:2312.07987); nope, sinusoidal, learned
* ``linear`` — :func:`attn_ref.linear_attention` inside q/k/v/o projections (arXiv:2006.16236); nope, sinusoidal,
  learned
* ``s4d`` — not attention: :class:`S4DLayer`, a linear time-invariant diagonal SSM per channel
  (:func:`attn_ref.s4d_kernel` + :func:`attn_ref.ssm_convolution`; S4D arXiv:2206.11893) between input and
  output projections; nope only (the recurrence is causal and position-aware by itself)
* ``mamba`` — not attention: :class:`attn_ref.MambaBlock` (selective SSM, Gu & Dao arXiv:2312.00752) as the
  sequence mixer; nope only

Positions: ``rope`` (arXiv:2104.09864; an eval-time :class:`attn_ref.RopeScaling` such as position
interpolation, arXiv:2306.15595, or YaRN, arXiv:2309.00071, is set with
:meth:`TinyTransformer.set_rope_scaling`), ``nope`` (none; Kazemnejad et al. 2023, arXiv:2305.19466),
``alibi`` (:func:`attn_ref.alibi_bias`, arXiv:2108.12409, passed as the additive mask),
``sinusoidal`` (:func:`attn_ref.sinusoidal_positions` added to the embeddings, arXiv:1706.03762) and
``learned`` (a trained table P of ``max_len`` rows added to the embeddings, GPT-2 style: Radford et al.
2019; arXiv:2005.14165; initialised N(0, 0.5²), half the scale of the N(0, 1) token table as in GPT-2's
code; a sequence longer than ``max_len`` raises ``ValueError``: there is no row for its positions; rows
at positions never trained on keep their initial values).

``window = W`` (mha/gqa only) makes attention causal sliding-window
(:func:`attn_ref.sliding_window_mask`; Longformer arXiv:2004.05150, Mistral arXiv:2310.06825): query i sees
keys i − W < j ≤ i, W keys itself included, so one layer moves information at most W − 1 positions and
the logits at i depend only on tokens j ≥ i − reach with reach = n_layers·(W − 1), plus 1 with
``token_shift`` (:meth:`ModelConfig.reach`).

``forward(tokens, return_maps=True)`` also returns every layer's attention map (B, H, L, L), rows =
queries: the softmax map for mha/gqa/moa/switchhead (for moa: one map per expert), the signed map
A1 − λ·A2 for diff (its two softmax maps are then in ``aux[layer]["attn1"/"attn2"]``), and the
normalised kernel map (φQφKᵀ ∘ M) / row-sum for linear attention. The SSM mixers ``s4d`` and ``mamba``
have no attention map: their entries of ``maps`` are None (``ModelConfig.has_maps`` is False).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import NamedTuple

import torch
from torch import nn

from .._checks import check_choice, check_positive_int, check_tensor
from ..core import sdpa
from ..decoder import RMSNorm
from ..differential import DifferentialAttention
from ..linear import FEATURE_MAPS, linear_attention
from ..masks import sliding_window_mask
from ..moe import MixtureOfAttentionHeads, SwitchHeadAttention
from ..multihead import MultiHeadAttention
from ..positions import alibi_bias, sinusoidal_positions
from ..mamba import MambaBlock
from ..rope import Rope, RopeScaling
from ..ssm import s4d_kernel, ssm_convolution

__all__ = ["ATTENTION_KINDS", "POSITION_KINDS", "LinearAttentionLayer", "ModelConfig", "ModelOutput",
           "S4DLayer", "TinyTransformer"]

ATTENTION_KINDS = ("mha", "gqa", "diff", "moa", "switchhead", "linear", "s4d", "mamba")
POSITION_KINDS = ("rope", "nope", "alibi", "sinusoidal", "learned")
_ALLOWED_POSITIONS = {
    "mha": ("rope", "nope", "alibi", "sinusoidal", "learned"),
    "gqa": ("rope", "nope", "alibi", "sinusoidal", "learned"),
    "diff": ("rope", "nope", "sinusoidal", "learned"),
    "moa": ("nope", "sinusoidal", "learned"),
    "switchhead": ("nope", "sinusoidal", "learned"),
    "linear": ("nope", "sinusoidal", "learned"),
    "s4d": ("nope",),
    "mamba": ("nope",),
}
_SSM_MIXERS = ("s4d", "mamba")                  # sequence mixers without an attention map
_WINDOW_ATTENTION = ("mha", "gqa")              # the kinds that take a sliding-window mask


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters of :class:`TinyTransformer`; every field is JSON-serialisable (:meth:`to_dict`).

    ``n_heads`` is the number of attention heads (for ``diff``: differential heads, each with two
    softmax maps; for ``moa``: ignored, the experts are the heads). ``n_kv_heads`` is used by ``gqa``.
    ``d_ff = 0`` builds an attention-only model. ``n_experts``/``top_k``/``expert_head_dim`` configure
    ``moa`` and ``switchhead`` (``expert_head_dim`` defaults to d_model // n_heads).
    ``moa_capacity_factor``: expert capacity of MoA (None = unlimited). ``feature_map``: φ of linear
    attention. ``token_shift``: add W_s·embed(x_{t−1}) to the input (a one-step shift, no attention).
    ``max_len``: the longest sequence accepted with ``sinusoidal`` / ``learned`` positions (for ``learned``
    also the number of rows of the position table). ``window``: causal sliding-window attention with W
    keys per query (mha/gqa; None = full causal attention); :meth:`to_dict` leaves it out when None, so
    the configurations written before it existed are unchanged.
    """

    vocab_size: int
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int | None = None
    d_ff: int = 256
    attention: str = "mha"
    positions: str = "rope"
    rope_base: float = 10000.0
    rope_pairing: str = "half"
    n_experts: int = 4
    top_k: int = 2
    expert_head_dim: int | None = None
    moa_capacity_factor: float | None = None
    feature_map: str = "elu1"
    token_shift: bool = False
    max_len: int = 4096
    norm_eps: float = 1e-6
    window: int | None = None
    d_state: int | None = None
    expand: int | None = None

    def __post_init__(self):
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "n_experts", "top_k", "max_len"):
            check_positive_int(name, getattr(self, name))
        if isinstance(self.d_ff, bool) or not isinstance(self.d_ff, int) or self.d_ff < 0:
            raise ValueError(f"d_ff must be an int >= 0 (0 = attention-only), got {self.d_ff!r}")
        check_choice("attention", self.attention, ATTENTION_KINDS)
        check_choice("positions", self.positions, POSITION_KINDS)
        if self.positions not in _ALLOWED_POSITIONS[self.attention]:
            raise ValueError(f"positions={self.positions!r} is not supported with attention={self.attention!r}; "
                             f"expected one of {list(_ALLOWED_POSITIONS[self.attention])}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model must be divisible by n_heads, got d_model={self.d_model}, "
                             f"n_heads={self.n_heads}")
        if self.attention == "gqa" and (self.n_kv_heads is None or self.n_kv_heads >= self.n_heads
                                        or self.n_heads % self.n_kv_heads):
            raise ValueError(f"attention='gqa' needs n_kv_heads < n_heads dividing it, got "
                             f"n_heads={self.n_heads}, n_kv_heads={self.n_kv_heads}")
        if self.attention == "mha" and self.n_kv_heads not in (None, self.n_heads):
            raise ValueError(f"attention='mha' needs n_kv_heads None or == n_heads={self.n_heads}, "
                             f"got {self.n_kv_heads} (use attention='gqa')")
        if self.attention == "diff" and self.d_model % (2 * self.n_heads):
            raise ValueError(f"attention='diff' needs d_model divisible by 2*n_heads, got d_model={self.d_model}, "
                             f"n_heads={self.n_heads}")
        if self.top_k > self.n_experts:
            raise ValueError(f"top_k must be <= n_experts={self.n_experts}, got {self.top_k}")
        if self.feature_map not in FEATURE_MAPS:
            raise ValueError(f"feature_map must be one of {sorted(FEATURE_MAPS)}, got {self.feature_map!r}")
        check_choice("rope_pairing", self.rope_pairing, ("half", "interleaved"))
        if self.window is not None:
            if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 1:
                raise ValueError(f"window must be an int >= 1 (keys per query, itself included) or None, "
                                 f"got {self.window!r}")
            if self.attention not in _WINDOW_ATTENTION:
                raise ValueError(f"window is supported with attention in {list(_WINDOW_ATTENTION)}, "
                                 f"got attention={self.attention!r}")
        for name in ("d_state", "expand"):
            v = getattr(self, name)
            if v is None:
                continue
            if self.attention not in _SSM_MIXERS:
                raise ValueError(f"{name} is used by the SSM mixers {list(_SSM_MIXERS)}, got attention="
                                 f"{self.attention!r}")
            check_positive_int(name, v)
        if self.attention == "s4d" and self.d_state is not None and self.d_state % 2:
            raise ValueError(f"attention='s4d' keeps d_state/2 conjugate pairs; d_state must be even, "
                             f"got {self.d_state}")

    @property
    def has_maps(self) -> bool:
        """False for the SSM mixers (``s4d``, ``mamba``): ``forward(return_maps=True)`` gives None maps."""
        return self.attention not in _SSM_MIXERS

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def reach(self) -> int | None:
        """How far back the logits at position i can depend on the input: tokens j with i − j ≤ reach.
        None for full attention (everything before i). With ``window = W`` each layer moves information
        at most W − 1 positions (query i sees i − W < j ≤ i), the MLPs and norms are per position, and
        the token shift adds one: reach = n_layers·(W − 1) + (1 if token_shift else 0)."""
        if self.window is None:
            return None
        return self.n_layers * (self.window - 1) + (1 if self.token_shift else 0)

    def to_dict(self) -> dict:
        d = asdict(self)
        for late in ("window", "d_state", "expand"):     # fields added later are omitted at their default
            if d[late] is None:
                del d[late]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown ModelConfig fields {sorted(unknown)}; expected a subset of {sorted(names)}")
        return cls(**d)


class ModelOutput(NamedTuple):
    """``logits`` (B, L, vocab); ``maps``: per layer (B, H, L, L) or None; ``aux``: per layer dict."""

    logits: torch.Tensor
    maps: list | None
    aux: list


class LinearAttentionLayer(nn.Module):
    """Causal linear attention layer (Katharopoulos et al. 2020, arXiv:2006.16236) around
    :func:`attn_ref.linear_attention`::

        Q, K, V = x W_q, x W_k, x W_v  (per head d_h),   y_i = φ(q_i)ᵀ S_i / (φ(q_i)ᵀ z_i + eps),
        S_i = Σ_{j≤i} φ(k_j) v_jᵀ (a d_h × d_h state per head),   out = concat_h(y) W_o

    The attention map it implies, (φQφKᵀ ∘ M)_ij / Σ_j (…), is obtained by running the same function on
    V = I (each output row is then the row of weights), so the map is the module's own computation.
    """

    def __init__(self, d_model: int, n_heads: int, feature_map: str = "elu1"):
        super().__init__()
        self.d_model, self.n_heads, self.head_dim = d_model, n_heads, d_model // n_heads
        self.feature_map = feature_map
        self.q_proj = nn.Linear(d_model, d_model, bias=False)
        self.k_proj = nn.Linear(d_model, d_model, bias=False)
        self.v_proj = nn.Linear(d_model, d_model, bias=False)
        self.o_proj = nn.Linear(d_model, d_model, bias=False)

    def state_elems(self) -> int:
        """Recurrent state per sequence: H·(d_h·d_h + d_h) numbers (S and z), whatever the length."""
        return self.n_heads * (self.head_dim * self.head_dim + self.head_dim)

    def forward(self, x: torch.Tensor, return_weights: bool = False):
        B, L, _ = x.shape
        H, hd = self.n_heads, self.head_dim
        q, k, v = (p(x).view(B, L, H, hd).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        y = linear_attention(q, k, v, feature_map=self.feature_map, causal=True, form="parallel")
        out = self.o_proj(y.transpose(1, 2).reshape(B, L, H * hd))
        if not return_weights:
            return out
        eye = torch.eye(L, dtype=x.dtype, device=x.device).expand(B, H, L, L)
        w = linear_attention(q.detach(), k.detach(), eye, feature_map=self.feature_map, causal=True,
                             form="parallel")
        return out, w


def _softmax_map(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Causal softmax map softmax(qkᵀ/√d) of (B, H, L, d) q and (B, H_k, L, d) k, via :func:`attn_ref.sdpa`."""
    v = torch.zeros(k.shape[0], k.shape[1], k.shape[2], 1, dtype=q.dtype, device=q.device)
    _, w = sdpa(q, k, v, is_causal=True, enable_gqa=True, return_weights=True)
    return w


class _Block(nn.Module):
    def __init__(self, cfg: ModelConfig, depth: int):
        super().__init__()
        self.kind = cfg.attention
        self.attn_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        hd = cfg.head_dim
        ehd = cfg.expert_head_dim or hd
        if cfg.attention in ("mha", "gqa"):
            rope = Rope(hd, cfg.rope_base, None, cfg.rope_pairing) if cfg.positions == "rope" else None
            self.attn = MultiHeadAttention(cfg.d_model, cfg.n_heads, cfg.n_kv_heads, bias=False, rope=rope,
                                           causal=True)
        elif cfg.attention == "diff":
            self.attn = DifferentialAttention(cfg.d_model, cfg.n_heads, depth,
                                              rope=cfg.rope_pairing if cfg.positions == "rope" else None,
                                              causal=True, rope_base=cfg.rope_base)
        elif cfg.attention == "moa":
            self.attn = MixtureOfAttentionHeads(cfg.d_model, cfg.n_experts, cfg.top_k, ehd, causal=True,
                                                capacity_factor=cfg.moa_capacity_factor)
        elif cfg.attention == "switchhead":
            self.attn = SwitchHeadAttention(cfg.d_model, cfg.n_heads, cfg.n_experts, cfg.top_k, ehd, causal=True)
        elif cfg.attention == "s4d":
            self.attn = S4DLayer(cfg.d_model, cfg.d_state or 64, cfg.expand or 2)
        elif cfg.attention == "mamba":
            self.attn = MambaBlock(cfg.d_model, d_state=cfg.d_state or 16, expand=cfg.expand or 2)
        else:
            self.attn = LinearAttentionLayer(cfg.d_model, cfg.n_heads, cfg.feature_map)
        if cfg.d_ff:
            self.mlp_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
            self.up = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
            self.down = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)
        else:
            self.mlp_norm = self.up = self.down = None

    def _attend(self, u: torch.Tensor, bias: torch.Tensor | None, want_map: bool):
        """(y, map or None, aux dict) for the normalised input u (B, L, d)."""
        a = self.attn
        if self.kind in ("mha", "gqa"):
            if want_map:
                y, w = a(u, attn_mask=bias, return_weights=True)
                return y, w, {}
            return a(u, attn_mask=bias), None, {}
        if self.kind == "diff":
            y, maps = a(u, return_maps=True)
            aux = {"lambda": maps["lambda"].detach()}
            if want_map:                                            # the two softmax maps behind A1 − λ·A2
                aux.update(attn1=maps["attn1"].detach(), attn2=maps["attn2"].detach())
            return y, (maps["diff"] if want_map else None), aux
        if self.kind == "moa":
            y, aux = a(u, return_aux=True)
            w = None
            if want_map:
                with torch.no_grad():
                    q = torch.einsum("bld,edh->belh", u, a.w_q)             # each expert's query
                    w = _softmax_map(q, a.k_proj(u)[:, None])               # (B, E, L, L), shared K
            return y, w, aux
        if self.kind == "switchhead":
            y, aux = a(u, return_aux=True)
            w = None
            if want_map:
                with torch.no_grad():
                    B, L, _ = u.shape
                    q = a.q_proj(u).view(B, L, a.n_heads, a.head_dim).transpose(1, 2)
                    k = a.k_proj(u).view(B, L, a.n_heads, a.head_dim).transpose(1, 2)
                    w = _softmax_map(q, k)
            return y, w, aux
        if self.kind in _SSM_MIXERS:                               # no attention map
            return a(u), None, {}
        if want_map:
            y, w = a(u, return_weights=True)
            return y, w, {}
        return a(u), None, {}

    def forward(self, h, bias, want_map):
        y, w, aux = self._attend(self.attn_norm(h), bias, want_map)
        h = h + y
        if self.up is not None:
            h = h + self.down(nn.functional.silu(self.up(self.mlp_norm(h))))
        return h, w, aux


class TinyTransformer(nn.Module):
    """Tiny decoder-only transformer with a switchable attention kind (see the module docstring).

    ``TinyTransformer(config)`` draws its weights from the global torch RNG (seed it with
    ``torch.manual_seed`` first; :func:`attn_ref.lab.train` does). ``forward(tokens (B, L) long,
    return_maps=False) -> ModelOutput(logits, maps, aux)``.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        if not isinstance(config, ModelConfig):
            raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        # learned absolute positions (GPT-2): one row per position, drawn N(0, 0.5²), half the scale of the
        # token table's N(0, 1) as GPT-2's code draws wpe ~ N(0, 0.01²) against wte ~ N(0, 0.02²)
        self.pos_embed = None
        if config.positions == "learned":
            self.pos_embed = nn.Embedding(config.max_len, config.d_model)
            nn.init.normal_(self.pos_embed.weight, std=0.5)
        self.shift = nn.Linear(config.d_model, config.d_model, bias=False) if config.token_shift else None
        self.blocks = nn.ModuleList(_Block(config, i) for i in range(config.n_layers))
        self.norm = RMSNorm(config.d_model, config.norm_eps)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.rope_scaling: RopeScaling | None = None

    def set_rope_scaling(self, scaling: RopeScaling | None) -> None:
        """Use RoPE with ``scaling`` (e.g. ``RopeScaling("linear", 4)`` = position interpolation,
        arXiv:2306.15595; ``RopeScaling("yarn", 4, original_max_position=64)``, arXiv:2309.00071) in
        every attention layer from now on; ``None`` restores plain RoPE. No weights change."""
        cfg = self.config
        if cfg.positions != "rope" or cfg.attention not in ("mha", "gqa"):
            raise ValueError(f"set_rope_scaling needs attention 'mha'/'gqa' with positions='rope', got "
                             f"attention={cfg.attention!r}, positions={cfg.positions!r}")
        if scaling is not None and not isinstance(scaling, RopeScaling):
            raise TypeError(f"scaling must be a RopeScaling or None, got {type(scaling).__name__}")
        for block in self.blocks:
            block.attn.rope = Rope(cfg.head_dim, cfg.rope_base, scaling, cfg.rope_pairing)
        self.rope_scaling = scaling

    def forward(self, tokens: torch.Tensor, return_maps: bool = False) -> ModelOutput:
        check_tensor("tokens", tokens, ndim=2)
        if tokens.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"tokens must be an integer tensor, got dtype {tokens.dtype}")
        L = tokens.shape[1]
        cfg = self.config
        h = self.embed(tokens)
        if self.shift is not None:                                  # h_t += W_s e_{t-1}  (e_{-1} = 0)
            prev = torch.nn.functional.pad(h, (0, 0, 1, 0))[:, :-1]
            h = h + self.shift(prev)
        if cfg.positions == "sinusoidal":
            if tokens.shape[1] > cfg.max_len:
                raise ValueError(f"tokens has length {L} > max_len={cfg.max_len}")
            h = h + sinusoidal_positions(L, cfg.d_model, dtype=h.dtype).to(h.device)
        elif cfg.positions == "learned":
            if tokens.shape[1] > cfg.max_len:
                raise ValueError(f"tokens has length {L} > max_len={cfg.max_len}: learned positions have a table of "
                                 f"{cfg.max_len} rows and no embedding for position {cfg.max_len} or later")
            h = h + self.pos_embed.weight[:L]
        bias = None
        if cfg.positions == "alibi":                                # -m_h (i - j), added to the scores
            bias = alibi_bias(cfg.n_heads, L, L, dtype=h.dtype).to(h.device)
        if cfg.window is not None:                                  # keep i − W < j ≤ i
            keep = sliding_window_mask(L, L, cfg.window, device=h.device)
            bias = keep if bias is None else bias.masked_fill(~keep, float("-inf"))
        maps, auxes = ([] if return_maps else None), []
        for block in self.blocks:
            h, w, aux = block(h, bias, return_maps)
            if return_maps:
                maps.append(w)
            auxes.append(aux)
        return ModelOutput(self.lm_head(self.norm(h)), maps, auxes)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def expected_uniform_loss(vocab: int) -> float:
    """ln(vocab): the cross-entropy of a uniform guess, a reference line for loss curves."""
    return math.log(vocab)


class S4DLayer(nn.Module):
    """A linear time-invariant (LTI) diagonal SSM layer, S4D (Gu et al. 2022, arXiv:2206.11893), without a
    gate::

        u = x W_in                                  (B, L, H),  H = expand · d_model channels
        K_c = s4d_kernel(A_c, 1, C_c, Δ_c, L, conj_pairs=True)      per channel c, N/2 complex modes
        y_c = ssm_convolution(u_c, K_c) + D_c u_c   (:func:`attn_ref.ssm_convolution`: causal, via FFT)
        out = GELU(y) W_out

    Init S4D-Lin: ``A_n = −1/2 + iπn`` (n = 0..N/2−1), ``C ~ N(0, 1/2)`` complex (B folded into C, as in
    S4D's code), log Δ uniform in [log 1e-3, log 1e-1], ``D ~ N(0, 1)``. ``A``'s real part is kept negative
    as ``−exp(log_A_real)``. The kernel depends on the parameters only, never on the input: the same
    filter is applied at every position and for every sequence (time-invariant), so the layer cannot
    choose what to keep by content. The convolution equals the step-by-step recurrence
    :func:`attn_ref.ssm_recurrence` with ``Ā, B̄`` from :func:`attn_ref.discretize_zoh` (tested).
    """

    def __init__(self, d_model: int, d_state: int = 64, expand: int = 2, dt_min: float = 1e-3,
                 dt_max: float = 1e-1):
        super().__init__()
        check_positive_int("d_model", d_model)
        check_positive_int("d_state", d_state)
        check_positive_int("expand", expand)
        if d_state % 2:
            raise ValueError(f"d_state must be even (d_state/2 conjugate pairs), got {d_state}")
        H, N2 = expand * d_model, d_state // 2
        self.d_model, self.d_state, self.d_inner = d_model, d_state, H
        self.in_proj = nn.Linear(d_model, H, bias=False)
        self.out_proj = nn.Linear(H, d_model, bias=False)
        log_dt = torch.rand(H) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min)
        self.log_dt = nn.Parameter(log_dt)
        self.log_A_real = nn.Parameter(torch.log(0.5 * torch.ones(H, N2)))
        self.A_imag = nn.Parameter(math.pi * torch.arange(N2, dtype=torch.float32).repeat(H, 1))
        self.C = nn.Parameter(torch.view_as_real(torch.randn(H, N2, dtype=torch.cfloat)))   # (H, N/2, 2)
        self.D = nn.Parameter(torch.randn(H))

    def ssm_params(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(A (H, N/2) complex, C (H, N/2) complex, Δ (H,))."""
        A = torch.complex(-torch.exp(self.log_A_real), self.A_imag)
        return A, torch.view_as_complex(self.C), torch.exp(self.log_dt)

    def kernel(self, length: int) -> torch.Tensor:
        """The convolution kernel (H, length): ``K_l = 2·Re Σ_n C_n B̄_n Ā_n^l`` with B = 1 (ZOH)."""
        A, C, dt = self.ssm_params()
        return s4d_kernel(A, torch.ones_like(A), C, dt, length, conj_pairs=True)

    def _mix(self, x: torch.Tensor) -> torch.Tensor:
        """u (B, L, H) → y (B, L, H) = K * u + D u."""
        u = x.transpose(1, 2)                                       # (B, H, L)
        y = ssm_convolution(u, self.kernel(u.shape[-1])) + self.D[:, None] * u
        return y.transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out_proj(nn.functional.gelu(self._mix(self.in_proj(x))))
