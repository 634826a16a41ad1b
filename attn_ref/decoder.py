"""A tiny pre-norm decoder-only transformer and seeded autoregressive generation with a KV cache.

Block (pre-norm, as in GPT-2 / Llama; Xiong et al. 2020, arXiv:2002.04745)::

    h = h + Attn(RMSNorm(h))          causal GQA self-attention with RoPE (attn_ref.multihead)
    h = h + MLP(RMSNorm(h))           MLP(u) = W_2 SiLU(W_1 u)
    logits = W_lm RMSNorm(h)

RMSNorm (Zhang & Sennrich 2019, arXiv:1910.07467): y = x / sqrt(mean(x²) + eps) · g.
Decoding (Radford et al. 2019; the KV cache of attn_ref.kv_cache) feeds the prompt once (prefill), then one
token per step; with left-padded prompts RoPE positions come from ``cumsum(mask) - 1`` so each row sees the
positions it would see unpadded.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import torch
from torch import nn

from ._checks import check_positive_int, check_tensor
from .kv_cache import KVCache
from .multihead import MultiHeadAttention
from .rope import Rope, RopeScaling
from .trace import emit

__all__ = ["DecoderConfig", "TinyDecoder", "generate", "positions_from_mask", "sampling_distribution"]


@dataclass
class DecoderConfig:
    """Hyper-parameters of :class:`TinyDecoder` (defaults: a 2-layer GQA toy that runs in milliseconds)."""

    vocab_size: int = 64
    d_model: int = 32
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int | None = 2
    d_ff: int = 64
    max_len: int = 128
    rope_base: float = 10000.0
    rope_scaling: RopeScaling | None = None
    rope_pairing: str = "half"
    norm_eps: float = 1e-6
    seed: int = 0

    def __post_init__(self):
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "d_ff", "max_len"):
            check_positive_int(name, getattr(self, name))


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x²) + eps) · g (arXiv:1910.07467)."""

    def __init__(self, d: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class _Block(nn.Module):
    def __init__(self, cfg: DecoderConfig):
        super().__init__()
        hd = cfg.d_model // cfg.n_heads if cfg.d_model % cfg.n_heads == 0 else None
        rope = Rope(hd, cfg.rope_base, cfg.rope_scaling, cfg.rope_pairing) if hd else None
        self.attn_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.attn = MultiHeadAttention(
            cfg.d_model, cfg.n_heads, cfg.n_kv_heads, bias=False, rope=rope, causal=True
        )
        self.mlp_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.up = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.down = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)

    def forward(self, h, cache, positions, attn_mask, trace=None):
        h = h + self.attn(self.attn_norm(h), cache=cache, positions=positions, attn_mask=attn_mask, trace=trace)
        return h + self.down(nn.functional.silu(self.up(self.mlp_norm(h))))


class TinyDecoder(nn.Module):
    """Pre-norm decoder-only transformer: embedding, n_layers x (RoPE GQA attention + MLP), RMSNorm, LM head.

    Weights are initialised from ``config.seed`` without touching the global RNG.
    """

    def __init__(self, config: DecoderConfig):
        super().__init__()
        if not isinstance(config, DecoderConfig):
            raise TypeError(f"config must be a DecoderConfig, got {type(config).__name__}")
        self.config = config
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.embed = nn.Embedding(config.vocab_size, config.d_model)
            self.blocks = nn.ModuleList(_Block(config) for _ in range(config.n_layers))
            self.norm = RMSNorm(config.d_model, config.norm_eps)
            self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)

    def new_caches(self, batch: int, static: bool = False, window: int | None = None,
                   n_sink: int = 0) -> list[KVCache]:
        """One empty :class:`KVCache` per layer (dynamic; ``static=True`` preallocates ``config.max_len``;
        ``window`` makes it rolling, ``n_sink`` keeps that many first tokens too — StreamingLLM)."""
        w = self.embed.weight
        a = self.blocks[0].attn
        return [
            KVCache(
                batch,
                a.n_kv_heads,
                a.head_dim,
                self.config.max_len if static else None,
                dtype=w.dtype,
                window=window,
                device=w.device,
                n_sink=n_sink,
            )
            for _ in self.blocks
        ]

    def forward(
        self,
        tokens: torch.Tensor,
        caches: list[KVCache] | None = None,
        positions: torch.Tensor | None = None,
        attn_mask: torch.Tensor | None = None,
        trace=None,
    ) -> torch.Tensor:
        """tokens (B, L) -> logits (B, L, vocab).

        caches: from :meth:`new_caches` (updated in place). positions: (L,) or (B, L), default
        ``len(cache) + arange(L)``. attn_mask: bool (B, len(cache) + L) key padding over all tokens so far
        (True = real token), or a mask broadcastable to (B, H, L, n_k) passed to every layer as is.
        trace: each layer's attention emits ``"mha.forward"`` (see :class:`MultiHeadAttention`) with index
        (layer,).
        """
        check_tensor("tokens", tokens, ndim=2)
        _check_token_ids("tokens", tokens, self.config.vocab_size)
        B, L = tokens.shape
        if caches is not None and len(caches) != len(self.blocks):
            raise ValueError(
                f"caches must hold one KVCache per layer ({len(self.blocks)}), got {len(caches)}"
            )
        past = len(caches[0]) if caches else 0
        held = caches[0].positions if caches else torch.zeros(0, dtype=torch.long, device=tokens.device)
        if positions is None:
            positions = torch.arange(past, past + L, device=tokens.device)
        mask = attn_mask
        if attn_mask is not None and attn_mask.dim() == 2:
            if attn_mask.shape != (B, past + L):
                raise ValueError(
                    f"attn_mask (key padding) must have shape (B, len(cache) + L) = ({B}, {past + L}), "
                    f"got shape {tuple(attn_mask.shape)}"
                )
            key_pos = torch.cat([held.to(attn_mask.device), torch.arange(past, past + L, device=attn_mask.device)])
            mask = attn_mask.bool()[:, key_pos][:, None, None, :]  # the keys the layers attend to
        h = self.embed(tokens)
        for i, block in enumerate(self.blocks):
            layer_trace = None
            if trace is not None:  # re-emit each layer's step with the layer index
                def layer_trace(step, i=i):
                    emit(trace, step.kind, (i, *step.index), **step.state)
            h = block(h, caches[i] if caches else None, positions, mask, layer_trace)
        return self.lm_head(self.norm(h))


def positions_from_mask(mask: torch.Tensor) -> torch.Tensor:
    """RoPE positions for a left-padded batch: ``cumsum(mask) - 1``, pads clamped to 0 (bool mask (B, T))."""
    return (mask.long().cumsum(-1) - 1).clamp(min=0)


def _check_token_ids(name: str, tokens: torch.Tensor, vocab_size: int) -> None:
    """Raise unless ``tokens`` is an integer (not bool) tensor with every id in [0, vocab_size)."""
    if tokens.is_floating_point() or tokens.is_complex() or tokens.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer token ids, got dtype {tokens.dtype}")
    if tokens.numel():
        lo, hi = int(tokens.min()), int(tokens.max())
        if lo < 0 or hi >= vocab_size:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{name} token ids must be in [0, vocab_size) = [0, {vocab_size}), got {bad}")


def _prepare_prompt(prompt, attention_mask, pad_id: int, vocab_size: int):
    if isinstance(prompt, torch.Tensor):
        tokens = prompt if prompt.dim() == 2 else prompt[None]
        check_tensor("prompt", tokens, ndim=2)
        _check_token_ids("prompt", tokens, vocab_size)
        if tokens.shape[1] == 0:
            raise ValueError(f"prompt must hold at least one token per row, got shape {tuple(tokens.shape)}")
        if attention_mask is not None:
            check_tensor("attention_mask", attention_mask)
        mask = torch.ones_like(tokens, dtype=torch.bool) if attention_mask is None else attention_mask.bool()
        if mask.shape != tokens.shape:
            raise ValueError(
                f"attention_mask must have the prompt's shape {tuple(tokens.shape)}, "
                f"got shape {tuple(mask.shape)}"
            )
        return tokens.long(), mask
    if isinstance(prompt, (str, bytes)) or not hasattr(prompt, "__iter__"):
        raise TypeError(f"prompt must be a (B, L) tensor or a list of token lists, got {type(prompt).__name__}")
    seqs = [list(s) for s in prompt]  # list of token lists: left-pad to the longest
    if not seqs or any(len(s) == 0 for s in seqs):
        raise ValueError("prompt must be a (B, L) tensor or a non-empty list of non-empty token lists")
    for s in seqs:
        for t in s:
            if isinstance(t, bool) or not isinstance(t, numbers.Integral):
                raise TypeError(f"prompt token ids must be ints, got {type(t).__name__} {t!r}")
            if not 0 <= t < vocab_size:
                raise ValueError(f"prompt token ids must be in [0, vocab_size) = [0, {vocab_size}), got {t}")
    T = max(len(s) for s in seqs)
    if any(len(s) < T for s in seqs) and (
        isinstance(pad_id, bool) or not isinstance(pad_id, numbers.Integral) or not 0 <= pad_id < vocab_size
    ):
        raise ValueError(f"pad_id must be an int in [0, vocab_size) = [0, {vocab_size}), got {pad_id!r}")
    tokens = torch.tensor([[pad_id] * (T - len(s)) + s for s in seqs], dtype=torch.long)
    mask = torch.tensor([[False] * (T - len(s)) + [True] * len(s) for s in seqs])
    return tokens, mask


def sampling_distribution(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                          top_p: float | None = None) -> torch.Tensor:
    """The distribution :func:`generate` draws the next token from, float64, shape of ``logits`` (..., V).

    Applied in this order (as HF ``generate``'s logits warpers):

        z = logits / T                                               temperature T > 0
        z_v = −inf  unless  z_v ≥ (k-th largest z)                   top-k (ties with the k-th are kept)
        p = softmax(z);  keep the most likely tokens whose mass before them is < top_p, renormalise
                                                                     top-p / nucleus (Holtzman et al. 2019,
                                                                     arXiv:1904.09751)

    so top-p keeps the smallest prefix (by probability) whose mass reaches ``top_p``. T = 0 is greedy:
    one-hot on the argmax (first index on ties), the limit of T → 0. ``logits`` with NaN or +inf, or a row
    that is all −inf, are refused (ValueError): there is no distribution to return.
    """
    check_tensor("logits", logits)
    if not logits.is_floating_point():
        raise TypeError(f"logits must be a floating-point tensor, got dtype {logits.dtype}")
    if logits.dim() == 0:
        raise ValueError("logits must have at least one dimension (the vocabulary), got a scalar")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature >= 0:
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
    check_positive_int("top_k", top_k, allow_none=True)
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float))
                              or not 0 < top_p <= 1):
        raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
    if logits.shape[-1] == 0:
        raise ValueError(f"logits must have a non-empty vocabulary (last axis), got shape {tuple(logits.shape)}")
    if torch.isnan(logits).any() or torch.isposinf(logits).any():
        raise ValueError("logits must not contain NaN or +inf (no distribution can be formed)")
    if torch.isneginf(logits).all(dim=-1).any():
        raise ValueError("logits: every entry of a row is -inf, so no token can be drawn from it")
    logits = logits.to(torch.float64)
    if temperature == 0:
        return nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).to(torch.float64)
    z = logits / temperature  # z = logits / T
    if top_k is not None and top_k < z.shape[-1]:
        kth = torch.topk(z, top_k, dim=-1).values[..., -1:]  # k-th largest
        z = z.masked_fill(z < kth, float("-inf"))
    probs = torch.softmax(z, dim=-1)
    if top_p is not None and top_p < 1:
        sorted_p, idx = torch.sort(probs, dim=-1, descending=True)
        before = sorted_p.cumsum(-1) - sorted_p  # mass of strictly more likely tokens
        keep_sorted = before < top_p  # the token crossing top_p stays
        keep = torch.zeros_like(keep_sorted).scatter(-1, idx, keep_sorted)
        probs = probs * keep
        probs = probs / probs.sum(-1, keepdim=True)  # renormalise the nucleus
    return probs


@torch.no_grad()
def generate(
    model: TinyDecoder,
    prompt,
    max_new_tokens: int,
    use_cache: bool = True,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int = 0,
    trace=None,
    attention_mask: torch.Tensor | None = None,
    pad_id: int = 0,
) -> torch.Tensor:
    """Autoregressive sampling; returns the (B, T + max_new_tokens) token tensor (left padding kept).

    prompt: (B, T) integer tensor, T ≥ 1 (with an optional bool ``attention_mask``, True = real, for left
    padding) or a list of non-empty int token lists, left-padded with ``pad_id``; every id in [0, vocab_size)
    (float, bool or out-of-range ids are refused, never rounded or clamped). Each step draws x_{t+1} ~ p(· | x_≤t) from
    :func:`sampling_distribution` (temperature, top-k, top-p; temperature 0 = greedy) with a ``torch.Generator``
    seeded by ``seed``. With ``use_cache`` the prompt is prefilled once and each step feeds one token;
    without, the whole sequence is recomputed (same tokens, O(T²) more work).
    trace: one ``"decode.step"`` per token, index (step,), with ``cache_len`` (tokens in the KV cache after the
    step, 0 without cache), ``context_len`` (tokens before the new one), the attention of every layer for the
    newest position — ``query`` (n_layers, B, H, d_h) after RoPE, ``keys`` and ``values`` (n_layers, B, H_kv,
    n_k, d_h) the cache contents attended to (after RoPE, left padding included; the same tensors with or
    without a cache), ``weights`` (n_layers, B, H, n_k) — then ``logits`` (B, V), ``probs`` (the distribution
    sampled from, :func:`sampling_distribution`) and ``token`` (B,). The last step's ``token`` is the last
    column of the output.
    """
    if not isinstance(model, TinyDecoder):
        raise TypeError(f"model must be a TinyDecoder, got {type(model).__name__}")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
    sampling_distribution(torch.zeros(1), temperature, top_k, top_p)  # validates the sampling arguments
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    tokens, mask = _prepare_prompt(prompt, attention_mask, pad_id, model.config.vocab_size)
    device = model.embed.weight.device
    tokens, mask = tokens.to(device), mask.to(device)
    B, T = tokens.shape
    if T + max_new_tokens > model.config.max_len:
        raise ValueError(
            f"prompt length + max_new_tokens must be <= max_len={model.config.max_len}, "
            f"got {T} + {max_new_tokens}"
        )
    gen = torch.Generator(device="cpu").manual_seed(seed)
    was_training = model.training
    model.eval()
    caches = model.new_caches(B) if use_cache else None
    step_tokens, step_pos = tokens, positions_from_mask(mask)
    for step in range(max_new_tokens):
        layers = [] if trace is not None else None  # "mha.forward" of every layer, this step
        if use_cache:
            logits = model(step_tokens, caches=caches, positions=step_pos, attn_mask=mask, trace=layers)[:, -1]
        else:
            logits = model(tokens, positions=positions_from_mask(mask), attn_mask=mask, trace=layers)[:, -1]
        probs = sampling_distribution(logits, temperature, top_k, top_p)
        if temperature == 0:
            nxt = probs.argmax(-1)
        else:
            nxt = torch.multinomial(probs.cpu(), 1, generator=gen)[:, 0].to(device)
        if trace is not None:
            emit(
                trace,
                "decode.step",
                (step,),
                cache_len=len(caches[0]) if use_cache else 0,
                context_len=tokens.shape[1],
                query=torch.stack([s["q"][:, :, -1] for s in layers]),  # newest position's query
                keys=torch.stack([s["k"] for s in layers]),
                values=torch.stack([s["v"] for s in layers]),
                weights=torch.stack([s["weights"][:, :, -1] for s in layers]),
                logits=logits,
                probs=probs,
                token=nxt,
            )
        tokens = torch.cat([tokens, nxt[:, None]], dim=1)
        mask = torch.cat([mask, torch.ones(B, 1, dtype=torch.bool, device=device)], dim=1)
        step_tokens, step_pos = nxt[:, None], step_pos[:, -1:] + 1
    model.train(was_training)
    return tokens
