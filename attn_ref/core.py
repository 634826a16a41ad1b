"""Scaled dot-product attention, the safe softmax it relies on, GQA head repetition, and display rounding.

Attention (Vaswani et al. 2017, arXiv:1706.03762, eq. 1)::

    Attention(Q, K, V) = softmax(Q Kᵀ · s + bias) V,      s = 1/√d by default

Queries are rows; softmax runs along each row (over keys). Conventions (docs/conventions.md):

* layout ``(B, H, L, D)`` as in ``torch.nn.functional.scaled_dot_product_attention``;
* bool masks: True = may attend; float masks are additive (0 keep, -inf drop);
* causal alignment is named: ``upper_left`` (PyTorch ``is_causal``) or ``lower_right``
  (FlashAttention >= 2.1, decoding with a KV cache);
* a fully masked query row gives output 0 (not NaN) and finite gradients, like PyTorch's ``_safe_softmax``;
* log-sum-exp is in natural log, of the scaled scores.
"""
from __future__ import annotations

import math

import torch

from ._checks import check_choice, check_positive_int, check_same, check_scale, check_tensor

__all__ = [
    "CAUSAL_ALIGNMENTS",
    "attention_lse",
    "attention_scores",
    "needle_margin",
    "needle_weight",
    "repeat_kv",
    "round_to_sum",
    "sdpa",
    "softmax",
]

CAUSAL_ALIGNMENTS = ("upper_left", "lower_right")


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Numerically stable softmax where a row of all ``-inf`` gives zeros (not NaN).

    softmax(x)_j = exp(x_j − m) / Σ_k exp(x_k − m),   m = max_k x_k   (shift invariance)

    For a row with every entry ``-inf`` we take m = 0, so every exp(x_j − m) = 0 and the row sums to 0;
    dividing by ``max(sum, ·)`` replaced with 1 there gives zeros and zero (finite) gradients. This is
    the behaviour of PyTorch's private ``_safe_softmax`` used by SDPA since 2.5.
    """
    check_tensor("x", x)
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got dtype {x.dtype}")
    if x.dim() and x.shape[dim] == 0:  # nothing to normalise (amax refuses an empty reduction)
        return x.clone()
    m = x.amax(dim=dim, keepdim=True).detach()  # m: any constant works, so no gradient through it
    m = torch.where(torch.isneginf(m), torch.zeros_like(m), m)  # all -inf row: shift by 0, not by -inf
    e = torch.exp(x - m)  # exp(x_j − m) ∈ [0, 1]
    z = e.sum(dim=dim, keepdim=True)  # Σ_k exp(x_k − m); 0 only for an all -inf row
    return e / torch.where(z == 0, torch.ones_like(z), z)


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """Repeat each K/V head ``n_rep`` times: (B, H_kv, L, D) -> (B, H_kv·n_rep, L, D).

    Grouped-query attention (Ainslie et al. 2023, arXiv:2305.13245): query head h reads kv head
    ⌊h / n_rep⌋, i.e. ``repeat_interleave`` on the head axis (HF Llama ``repeat_kv``; SDPA ``enable_gqa``).
    ``n_rep == 1`` returns ``x`` itself.
    """
    check_tensor("x", x, ndim=4)
    check_positive_int("n_rep", n_rep)
    if n_rep == 1:
        return x
    b, h_kv, n, d = x.shape
    # (B, Hkv, 1, L, D) -> (B, Hkv, n_rep, L, D): heads [0,0,..,1,1,..] after the reshape
    return x[:, :, None].expand(b, h_kv, n_rep, n, d).reshape(b, h_kv * n_rep, n, d)


def _causal_bool(n_q: int, n_k: int, alignment: str, device) -> torch.Tensor:
    # upper_left: j <= i;  lower_right: j <= i + (n_k − n_q)
    offset = 0 if alignment == "upper_left" else n_k - n_q
    return torch.ones(n_q, n_k, dtype=torch.bool, device=device).tril(diagonal=offset)


def _validate_qkv(q, k, v, enable_gqa: bool):
    check_tensor("q", q, ndim=4)
    check_tensor("k", k, ndim=4)
    if v is not None:
        check_tensor("v", v, ndim=4)
    if not q.is_floating_point():
        raise TypeError(f"q must be a floating-point tensor, got dtype {q.dtype}")
    tensors = [("k", k)] + ([("v", v)] if v is not None else [])
    for name, t in tensors:
        check_same("q", q.dtype, name, t.dtype, "dtype")
        check_same("q", q.device, name, t.device, "device")
    b, h, _, d = q.shape
    if k.shape[0] != b:
        raise ValueError(f"k batch size must equal q's ({b}): q has shape {tuple(q.shape)}, "
                         f"k has shape {tuple(k.shape)}")
    if k.shape[-1] != d:
        raise ValueError(f"k head dim (last axis) must equal q's ({d}): q has shape {tuple(q.shape)}, "
                         f"k has shape {tuple(k.shape)}")
    if v is not None and v.shape[:3] != k.shape[:3]:
        raise ValueError(f"v must match k in (batch, kv heads, length) {tuple(k.shape[:3])}: "
                         f"k has shape {tuple(k.shape)}, v has shape {tuple(v.shape)}")
    h_kv = k.shape[1]
    if enable_gqa:
        if h % h_kv != 0:
            raise ValueError(f"with enable_gqa, q heads ({h}) must be divisible by k heads ({h_kv}): "
                             f"q has shape {tuple(q.shape)}, k has shape {tuple(k.shape)}")
    elif h_kv != h:
        raise ValueError(f"k heads must equal q heads ({h}) unless enable_gqa=True: q has shape "
                         f"{tuple(q.shape)}, k has shape {tuple(k.shape)}")


def _validate_mask(attn_mask, q: torch.Tensor, n_k: int) -> None:
    check_tensor("attn_mask", attn_mask)
    if attn_mask.dtype != torch.bool:
        if not attn_mask.is_floating_point():
            raise TypeError(f"attn_mask must be bool (True = may attend) or floating (additive), "
                            f"got dtype {attn_mask.dtype}")
        check_same("attn_mask", attn_mask.dtype, "q", q.dtype, "dtype (float masks are added to scores)")
    check_same("attn_mask", attn_mask.device, "q", q.device, "device")
    target = (q.shape[0], q.shape[1], q.shape[2], n_k)
    ok = attn_mask.dim() <= 4
    if ok:
        try:
            ok = tuple(torch.broadcast_shapes(attn_mask.shape, target)) == target
        except RuntimeError:
            ok = False
    if not ok:
        raise ValueError(f"attn_mask of shape {tuple(attn_mask.shape)} must be broadcastable to "
                         f"(B, H, Lq, Lk) = {target}")


def attention_scores(q, k, attn_mask=None, is_causal=False, scale=None, enable_gqa=False,
                     causal_alignment="upper_left") -> torch.Tensor:
    """Scaled, masked attention logits S = Q Kᵀ · s + bias, shape (B, H, Lq, Lk); masked entries are -inf.

    Arguments as in :func:`sdpa`. Bool masks become -inf where False; float masks are added;
    ``is_causal`` is AND-ed with ``attn_mask`` (arXiv:1706.03762, eq. 1).
    """
    _validate_qkv(q, k, None, enable_gqa)
    check_choice("causal_alignment", causal_alignment, CAUSAL_ALIGNMENTS)
    scale = check_scale(scale)
    if attn_mask is not None:
        _validate_mask(attn_mask, q, k.shape[-2])
    if enable_gqa:
        k = repeat_kv(k, q.shape[1] // k.shape[1])
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)  # s = 1/√d
    scores = (q @ k.transpose(-2, -1)) * s  # S_ij = q_i · k_j · s
    if is_causal:
        keep = _causal_bool(q.shape[-2], k.shape[-2], causal_alignment, q.device)
        scores = scores.masked_fill(~keep, float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))  # False = may not attend
        else:
            scores = scores + attn_mask  # additive bias
    return scores


def attention_lse(q, k, attn_mask=None, is_causal=False, scale=None, enable_gqa=False,
                  causal_alignment="upper_left") -> torch.Tensor:
    """Row log-sum-exp of the scaled, masked scores, natural log: LSE_i = log Σ_j exp(S_ij), shape (B, H, Lq).

    This is the statistic FlashAttention stores for its backward pass (arXiv:2205.14135, §3.1);
    a fully masked row gives -inf. Arguments as in :func:`sdpa`.
    """
    scores = attention_scores(q, k, attn_mask, is_causal, scale, enable_gqa, causal_alignment)
    return torch.logsumexp(scores, dim=-1)


def sdpa(q, k, v, attn_mask=None, is_causal=False, scale=None, enable_gqa=False,
         causal_alignment="upper_left", return_weights=False):
    """Scaled dot-product attention, out = softmax(Q Kᵀ · s + bias) V (Vaswani et al., arXiv:1706.03762).

    Args:
        q: (B, H, Lq, D). k: (B, Hkv, Lk, D). v: (B, Hkv, Lk, Dv).
        attn_mask: bool (True = may attend) or float (additive), broadcastable to (B, H, Lq, Lk).
        is_causal: add a causal mask (AND-ed with ``attn_mask`` when both are given; PyTorch's SDPA
            forbids the combination, we allow it).
        scale: s, a finite number (NaN or ±inf is refused); default 1/√D.
        enable_gqa: H must be a multiple of Hkv; query head h reads kv head ⌊h·Hkv/H⌋
            (:func:`repeat_kv`, arXiv:2305.13245).
        causal_alignment: ``"upper_left"`` (query i sees keys j ≤ i; PyTorch ``is_causal``) or
            ``"lower_right"`` (query i sees keys j ≤ i + Lk − Lq; FlashAttention ≥ 2.1, KV-cache decode).
        return_weights: also return P = softmax(S), shape (B, H, Lq, Lk).

    A fully masked query row gives P = 0 and output 0, with finite gradients (safe softmax); so do no keys
    at all (Lk = 0, an empty sum, as in PyTorch's SDPA). Lq = 0 gives an empty output.
    Matches ``torch.nn.functional.scaled_dot_product_attention`` (dropout 0) to float64 rounding.
    """
    _validate_qkv(q, k, v, enable_gqa)
    scores = attention_scores(q, k, attn_mask, is_causal, scale,
                              enable_gqa, causal_alignment)
    if enable_gqa:
        v = repeat_kv(v, q.shape[1] // v.shape[1])
    p = softmax(scores, dim=-1)  # each row sums to 1 (or is all 0)
    out = p @ v                  # out_i = Σ_j P_ij v_j
    return (out, p) if return_weights else out


def round_to_sum(p, decimals: int = 2, dim: int = -1) -> torch.Tensor:
    """Round to ``decimals`` places so that each row's rounded values add up to its rounded sum.

    Largest-remainder (Hamilton) apportionment on integers: with x = p·10^decimals,
    start from ⌊x⌋, then give +1 to the T − Σ⌊x⌋ entries with the largest remainders x − ⌊x⌋,
    where T = round(Σ x). Each value moves by less than one unit in the last place, and a probability
    row shown with two decimals sums to exactly 1.00. Ties go to the lower index (stable sort).
    Returns float64 values (integers / 10^decimals).
    """
    p = torch.as_tensor(p)
    if not (p.is_floating_point() or p.dtype in (torch.int32, torch.int64)):
        raise TypeError(f"p must be a real tensor, got dtype {p.dtype}")
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise ValueError(f"decimals must be an int >= 0, got {decimals!r}")
    if p.dim() == 0:
        raise ValueError("p must have at least one dimension, got a scalar")
    if not torch.isfinite(p).all():
        raise ValueError("p must be finite (no NaN or inf)")
    unit = 10 ** decimals
    x = p.detach().to(torch.float64).movedim(dim, -1)
    scaled = x * unit
    base = torch.floor(scaled)  # ⌊x⌋
    rem = scaled - base  # remainders in [0, 1)
    target = torch.round(scaled.sum(dim=-1))  # T = round(Σ x)
    deficit = (target - base.sum(dim=-1)).to(torch.int64)  # units to hand out, in [0, n]
    order = torch.sort(rem, dim=-1, descending=True, stable=True).indices  # largest remainder first
    rank = torch.empty_like(order)
    rank.scatter_(-1, order, torch.arange(x.shape[-1]).expand_as(order).contiguous())
    bump = (rank < deficit[..., None]).to(torch.int64)
    counts = base.to(torch.int64) + bump  # exact integers, Σ counts = T
    return (counts.to(torch.float64) / unit).movedim(-1, dim)


def _check_real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def needle_weight(delta: float, n_distractors: int) -> float:
    """Softmax dilution: the weight one key gets when its logit exceeds each of ``n_distractors`` equal
    logits by ``delta``::

        p = e^Δ / (e^Δ + N) = softmax([Δ, 0, …, 0])_0 = 1 / (1 + N e^{−Δ})

    With Δ fixed, p → 0 as N grows: attention spreads over the haystack. Computed as 1 / (1 + N·e^{−Δ})
    in float64 (no overflow for large Δ); equals :func:`softmax` of the (N + 1)-vector.
    """
    d = _check_real("delta", delta)
    if isinstance(n_distractors, bool) or not isinstance(n_distractors, int) or n_distractors < 0:
        raise ValueError(f"n_distractors must be an int >= 0, got {n_distractors!r}")
    if n_distractors == 0:
        return 1.0
    return 1.0 / (1.0 + n_distractors * math.exp(-d)) if d > -700.0 else 0.0  # e^{−Δ} overflows: p < 1e-300


def needle_margin(p: float, n_distractors: int) -> float:
    """The logit margin Δ that :func:`needle_weight` needs to give weight ``p`` among ``n_distractors``::

        p = e^Δ / (e^Δ + N)   ⇔   Δ = ln( p·N / (1 − p) )

    — it grows like ln N: keeping the needle's weight fixed as the context grows tenfold costs ln 10 ≈ 2.3
    more logit. 0 < p < 1 and N ≥ 1.
    """
    q = _check_real("p", p)
    if not 0.0 < q < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p!r}")
    if isinstance(n_distractors, bool) or not isinstance(n_distractors, int) or n_distractors < 1:
        raise ValueError(f"n_distractors must be an int >= 1, got {n_distractors!r}")
    return math.log(q * n_distractors / (1.0 - q))
