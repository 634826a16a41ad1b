"""Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs", arXiv:2006.16236).

Softmax similarity ``exp(q·k)`` is replaced by a kernel ``φ(q)·φ(k)`` with a positive feature map
``φ``, so attention can be computed right to left: ``φ(Q) (φ(K)ᵀ V)``. Causal linear attention is then
an RNN whose state ``(S, z)`` has a fixed size ``d_k × d_v + d_k`` per head, whatever the length.

Three forms compute the same numbers (tests check they agree to 1e-12 in float64):

* ``"parallel"``  — the masked quadratic form ``((φQ φKᵀ) ∘ M) V / ((φQ φKᵀ) ∘ M) 1``;
* ``"recurrent"`` — the RNN ``S_t = S_{t−1} + φ(k_t) v_tᵀ``, ``z_t = z_{t−1} + φ(k_t)``;
* ``"chunked"``   — quadratic inside a chunk, the recurrent state between chunks.

Layout ``(B, H, L, D)`` like ``torch.nn.functional.scaled_dot_product_attention``. There is no
``1/sqrt(d)`` scaling: the feature map replaces the softmax.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._checks import check_choice, check_positive_int, check_same, check_scale, check_tensor
from .trace import emit

__all__ = [
    "FEATURE_MAPS",
    "get_feature_map",
    "linear_attention",
    "linear_attention_state_elems",
    "softmax_kv_cache_elems",
]


def _elu1(x: torch.Tensor) -> torch.Tensor:
    return F.elu(x) + 1.0  # φ(x) = elu(x) + 1  (arXiv:2006.16236 eq. 7), always > 0


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


#: Named feature maps φ. ``"elu1"`` is the paper's choice; ``"relu"`` can give an all-zero row
#: (output 0 thanks to ``eps``); ``"identity"`` is not positive, so the normaliser can vanish or
#: change sign — use it only on inputs you know are positive.
FEATURE_MAPS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "elu1": _elu1,
    "relu": F.relu,
    "identity": _identity,
}

_FORMS = ("parallel", "recurrent", "chunked")


def get_feature_map(feature_map: str | Callable[[torch.Tensor], torch.Tensor]):
    """Return the callable φ for a name in :data:`FEATURE_MAPS`, or ``feature_map`` itself if callable."""
    if callable(feature_map):
        return feature_map
    if not isinstance(feature_map, str) or feature_map not in FEATURE_MAPS:
        raise ValueError(
            f"feature_map must be one of {sorted(FEATURE_MAPS)} or a callable, got {feature_map!r}"
        )
    return FEATURE_MAPS[feature_map]


def _check_qkv(q, k, v, causal: bool) -> None:
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_tensor(name, t, ndim=4)
    check_same("q.dtype", q.dtype, "k.dtype", k.dtype, "dtype")
    check_same("q.dtype", q.dtype, "v.dtype", v.dtype, "dtype")
    check_same("q.device", q.device, "k.device", k.device, "device")
    check_same("q.device", q.device, "v.device", v.device, "device")
    if q.shape[:2] != k.shape[:2] or k.shape[:2] != v.shape[:2]:
        raise ValueError(
            "q, k, v must share (batch, heads) in layout (B, H, L, D), got "
            f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same head dim, got q {tuple(q.shape)} and k {tuple(k.shape)}")
    if k.shape[2] != v.shape[2]:
        raise ValueError(f"k and v must have the same length, got k {tuple(k.shape)} and v {tuple(v.shape)}")
    if causal and q.shape[2] != k.shape[2]:
        raise ValueError(
            f"causal linear attention needs q and k of the same length, got q {tuple(q.shape)} and k {tuple(k.shape)}"
        )


def linear_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    feature_map: str | Callable[[torch.Tensor], torch.Tensor] = "elu1",
    causal: bool = True,
    form: str = "parallel",
    chunk: int = 64,
    eps: float = 1e-6,
    trace=None,
    return_state: bool = False,
):
    """Linear attention of Katharopoulos et al. 2020 (arXiv:2006.16236, eqs. 4-9).

    Args:
        q: ``(B, H, Lq, Dk)``; k: ``(B, H, Lk, Dk)``; v: ``(B, H, Lk, Dv)``. Causal needs ``Lq == Lk``.
        feature_map: a name in :data:`FEATURE_MAPS` (``"elu1"``, ``"relu"``, ``"identity"``) or a callable.
        causal: query ``i`` sees keys ``j ≤ i`` (mask ``M = tril``); otherwise all keys.
        form: ``"parallel"``, ``"recurrent"`` or ``"chunked"`` — same result, different algorithm.
        chunk: chunk length for ``form="chunked"`` (need not divide the length).
        eps: added to the normaliser, ``y = num / (den + eps)`` (as in fast-transformers).
        trace: ``None``, a list or a callable (see :mod:`attn_ref.trace`). The recurrent form emits
            ``"linear.step"`` per token with ``S`` ``(B,H,Dk,Dv)``, ``z`` ``(B,H,Dk)`` and, when causal,
            the output ``y`` ``(B,H,Dv)`` of that token; non-causal it then emits one ``"linear.output"``
            with all outputs. The chunked form emits ``"linear.chunk"`` with the state after each chunk.
        return_state: also return the final state ``(S, z)`` = ``(Σ_j φ(k_j) v_jᵀ, Σ_j φ(k_j))``.

    Returns:
        ``y`` ``(B, H, Lq, Dv)``, or ``(y, (S, z))`` when ``return_state``.

    The normalised output, for every form::

        y_i = φ(q_i)ᵀ S_i / (φ(q_i)ᵀ z_i + eps),   S_i = Σ_{j∈M(i)} φ(k_j) v_jᵀ,   z_i = Σ_{j∈M(i)} φ(k_j)
    """
    _check_qkv(q, k, v, causal)
    phi = get_feature_map(feature_map)
    check_choice("form", form, _FORMS)
    check_positive_int("chunk", chunk)
    if check_scale(eps, "eps") is None or eps < 0:
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    fq, fk = phi(q), phi(k)
    if fq.shape != q.shape or fk.shape != k.shape:
        raise ValueError(f"feature_map must keep the shape, got {tuple(fq.shape)} from q {tuple(q.shape)}")
    if form == "parallel":
        y = _parallel(fq, fk, v, causal, eps)
    elif form == "recurrent":
        y = _recurrent(fq, fk, v, causal, eps, trace)
    else:
        y = _chunked(fq, fk, v, causal, eps, chunk, trace)
    if not return_state:
        return y
    S = torch.einsum("bhld,bhle->bhde", fk, v)  # S = Σ_j φ(k_j) v_jᵀ
    z = fk.sum(dim=2)  # z = Σ_j φ(k_j)
    return y, (S, z)


def _parallel(fq, fk, v, causal, eps):
    scores = fq @ fk.transpose(-1, -2)  # A = φ(Q) φ(K)ᵀ   (B, H, Lq, Lk)
    if causal:
        L = scores.shape[-1]
        mask = torch.ones(L, L, dtype=torch.bool, device=scores.device).tril()
        scores = scores.masked_fill(~mask, 0.0)  # A ∘ M
    num = scores @ v  # (A ∘ M) V
    den = scores.sum(dim=-1, keepdim=True)  # (A ∘ M) 1
    return num / (den + eps)


def _recurrent(fq, fk, v, causal, eps, trace):
    B, H, L, Dk = fk.shape
    Dv = v.shape[-1]
    S = fk.new_zeros(B, H, Dk, Dv)
    z = fk.new_zeros(B, H, Dk)
    ys = []
    for t in range(L):
        S = S + fk[:, :, t, :, None] * v[:, :, t, None, :]  # S_t = S_{t−1} + φ(k_t) v_tᵀ
        z = z + fk[:, :, t]  # z_t = z_{t−1} + φ(k_t)
        if causal:
            num = torch.einsum("bhd,bhde->bhe", fq[:, :, t], S)  # φ(q_t)ᵀ S_t
            den = (fq[:, :, t] * z).sum(-1, keepdim=True)  # φ(q_t)ᵀ z_t
            y_t = num / (den + eps)
            ys.append(y_t)
            emit(trace, "linear.step", (t,), S=S, z=z, y=y_t)
        else:
            emit(trace, "linear.step", (t,), S=S, z=z)
    if causal:
        return torch.stack(ys, dim=2) if ys else fq @ S  # L = 0: the empty (B, H, 0, Dv)
    num = torch.einsum("bhld,bhde->bhle", fq, S)  # φ(Q) S_L
    den = torch.einsum("bhld,bhd->bhl", fq, z)[..., None]  # φ(Q) z_L
    y = num / (den + eps)
    emit(trace, "linear.output", (), S=S, z=z, y=y)
    return y


def _chunked(fq, fk, v, causal, eps, chunk, trace):
    B, H, Lk, Dk = fk.shape
    Lq = fq.shape[2]
    Dv = v.shape[-1]
    S = fk.new_zeros(B, H, Dk, Dv)
    z = fk.new_zeros(B, H, Dk)
    if not causal:
        # State over all key chunks, then every query reads it: y = φ(Q) S / (φ(Q) z + eps).
        for c, s in enumerate(range(0, Lk, chunk)):
            S = S + fk[:, :, s:s + chunk].transpose(-1, -2) @ v[:, :, s:s + chunk]  # S += φ(K_c)ᵀ V_c
            z = z + fk[:, :, s:s + chunk].sum(dim=2)  # z += Σ φ(K_c)
            emit(trace, "linear.chunk", (c,), S=S, z=z)
        ys = []
        for s in range(0, Lq, chunk):
            qc = fq[:, :, s:s + chunk]
            ys.append((qc @ S) / ((qc @ z[..., None]) + eps))
        return torch.cat(ys, dim=2) if ys else fq @ S  # Lq = 0: the empty (B, H, 0, Dv)
    ys = []
    for c, s in enumerate(range(0, Lk, chunk)):
        qc, kc, vc = fq[:, :, s:s + chunk], fk[:, :, s:s + chunk], v[:, :, s:s + chunk]
        n = kc.shape[2]
        intra = (qc @ kc.transpose(-1, -2)).masked_fill(
            ~torch.ones(n, n, dtype=torch.bool, device=fq.device).tril(), 0.0
        )  # (φQ_c φK_cᵀ) ∘ tril   — inside the chunk
        num = intra @ vc + qc @ S  # intra-chunk + φQ_c S_{c−1}  (state of all earlier chunks)
        den = intra.sum(-1, keepdim=True) + qc @ z[..., None]
        y_c = num / (den + eps)
        ys.append(y_c)
        S = S + kc.transpose(-1, -2) @ vc  # S_c = S_{c−1} + φ(K_c)ᵀ V_c
        z = z + kc.sum(dim=2)  # z_c = z_{c−1} + Σ φ(K_c)
        emit(trace, "linear.chunk", (c,), S=S, z=z, y=y_c)
    return torch.cat(ys, dim=2) if ys else fq @ S  # L = 0: the empty (B, H, 0, Dv)


def linear_attention_state_elems(d_k: int, d_v: int, n_heads: int) -> int:
    """Elements of the linear-attention recurrent state per sequence and layer:
    ``n_heads · (d_k·d_v + d_k)`` (``S`` and ``z``) — independent of the sequence length."""
    for name, val in (("d_k", d_k), ("d_v", d_v), ("n_heads", n_heads)):
        check_positive_int(name, val)
    return n_heads * (d_k * d_v + d_k)


def softmax_kv_cache_elems(seq_len: int, d_k: int, d_v: int, n_heads: int) -> int:
    """Elements of a softmax-attention KV cache per sequence and layer, for comparison:
    ``seq_len · n_heads · (d_k + d_v)`` — grows linearly with the length."""
    for name, val in (("seq_len", seq_len), ("d_k", d_k), ("d_v", d_v), ("n_heads", n_heads)):
        check_positive_int(name, val)
    return seq_len * n_heads * (d_k + d_v)
