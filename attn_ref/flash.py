"""FlashAttention 1 and 2 as tiled PyTorch loops, their recomputing backward, Flash-Decoding, and the IO model.

These are *reference* implementations: the loops over blocks are Python loops, so each step can be traced
(``trace=``) and animated. They compute exactly what the CUDA kernels compute, not as fast.

Online softmax over key blocks j for one block of query rows (FlashAttention, arXiv:2205.14135, Alg. 1;
FlashAttention-2, arXiv:2307.08691, Alg. 1)::

    S_j   = Q K_jᵀ · s                                  (scores tile, masked entries -inf)
    m_new = max(m, rowmax S_j)
    P̃_j   = exp(S_j − m_new)
    ℓ_new = e^{m − m_new} ℓ + rowsum P̃_j
    O_new = e^{m − m_new} O + P̃_j V_j                  (FA-2: unnormalised; divided by ℓ once at the end)
    LSE   = m + log ℓ

Conventions (docs/conventions.md): layout (B, H, L, D); causal alignment ``upper_left`` (PyTorch ``is_causal``, query i
sees keys j ≤ i) or ``lower_right`` (j ≤ i + Lk − Lq); a fully masked query row gives output 0 and LSE -inf;
LSE is the natural log of the scaled scores.
"""
from __future__ import annotations

import math

import torch

from ._checks import check_choice, check_positive_int, check_scale
from .core import CAUSAL_ALIGNMENTS, _validate_qkv
from .trace import emit

__all__ = [
    "FlashAttentionFunction",
    "attention_io",
    "flash_attention",
    "flash_attention_autograd",
    "flash_decoding",
    "trace_io",
]

_NEG_INF = float("-inf")


# ----------------------------------------------------------------------------------------------- helpers
def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    # Accumulate half precision in float32, as the CUDA kernels do; float64 stays float64.
    return torch.float64 if dtype == torch.float64 else torch.float32


def _scale(scale, d: int) -> float:
    if scale is None:
        return 1.0 / math.sqrt(d)  # s = 1/√d
    return check_scale(scale)  # a finite number


def _causal_offset(causal: bool, alignment: str, n_q: int, n_k: int):
    """Query i may see key j iff j ≤ i + offset; None when not causal."""
    check_choice("causal_alignment", alignment, CAUSAL_ALIGNMENTS)
    if not causal:
        return None
    return 0 if alignment == "upper_left" else n_k - n_q  # upper_left: j ≤ i; lower_right: j ≤ i + Lk − Lq


def _block_skipped(offset, r0: int, r1: int, c0: int) -> bool:
    # The whole tile is masked when its first key is beyond what its last query row may see.
    return offset is not None and c0 > (r1 - 1) + offset


def _score_tile(q_i, k_j, s: float, offset, r0: int, c0: int) -> torch.Tensor:
    """S_ij = Q_i K_jᵀ · s with causal entries (j > i + offset) set to -inf."""
    tile = (q_i @ k_j.transpose(-2, -1)) * s  # S = Q_i K_jᵀ · s
    if offset is not None:
        rows = torch.arange(r0, r0 + q_i.shape[-2], device=q_i.device)[:, None]
        cols = torch.arange(c0, c0 + k_j.shape[-2], device=q_i.device)[None, :]
        tile = tile.masked_fill(cols > rows + offset, _NEG_INF)
    return tile


def _safe(m: torch.Tensor) -> torch.Tensor:
    # Shift -inf row maxima to 0 so exp(S − m) = exp(-inf) = 0 rather than exp(-inf + inf) = NaN.
    return torch.where(torch.isneginf(m), torch.zeros_like(m), m)


def _validate(q, k, v, block_q, block_k):
    _validate_qkv(q, k, v, enable_gqa=False)
    check_positive_int("block_q", block_q)
    check_positive_int("block_k", block_k)


# ------------------------------------------------------------------------------------------------ forward
def flash_attention(q, k, v, block_q=64, block_k=64, causal=False, scale=None, version=2, return_lse=False,
                    trace=None, causal_alignment="upper_left"):
    """Tiled exact attention O = softmax(Q Kᵀ · s) V with online softmax (FlashAttention 1 or 2).

    Args:
        q: (B, H, Lq, D); k: (B, H, Lk, D); v: (B, H, Lk, Dv). Same dtype and device.
        block_q, block_k: query rows (B_r) and key columns (B_c) per tile; need not divide Lq, Lk.
        causal, causal_alignment: ``"upper_left"`` (default, PyTorch ``is_causal``: j ≤ i) or
            ``"lower_right"`` (j ≤ i + Lk − Lq). Tiles that are entirely masked are skipped (not traced).
        scale: s, default 1/√D.
        version: 1 = FA-1 loop order (arXiv:2205.14135, Alg. 1): outer loop over K/V blocks, inner over Q
            blocks; O_i, ℓ_i, m_i are read from and written back to "HBM" every step, and O_i is kept
            normalised: O_i ← diag(ℓ_new)⁻¹ (diag(ℓ_i) e^{m_i − m_new} O_i + e^{m̃ − m_new} P̃ V_j).
            2 = FA-2 loop order (arXiv:2307.08691, Alg. 1): outer loop over Q blocks, inner over K/V; the
            accumulator O is unnormalised and divided by diag(ℓ) once at the end.
        return_lse: also return LSE = m + log ℓ = logsumexp_j S_ij, shape (B, H, Lq), natural log.
        trace: None, list or callable (:mod:`attn_ref.trace`). Per computed tile, a ``"flash.step"`` with
            index (i_block, j_block) and state ``m``, ``l`` (running statistics of the Q block's rows after
            the step, (B, H, rows)), ``O`` (v2: the Q block's unnormalised accumulator; v1: the whole
            written-back normalised O, (B, H, Lq, Dv)), ``S`` (score tile, -inf where masked), ``P`` (the
            exponentiated tile: v2 exp(S − m_new); v1 exp(S − rowmax S) as in FA-1), ``rows``, ``cols``
            (half-open ranges). Then one ``"flash.final"`` with ``O`` (the output) and ``lse``.

    Returns O (B, H, Lq, Dv) in q's dtype, or (O, LSE) with ``return_lse``. Fully masked rows give O = 0 and
    LSE = -inf. Half-precision inputs accumulate in float32.
    """
    _validate(q, k, v, block_q, block_k)
    check_choice("version", version, (1, 2))
    b, h, n_q, d = q.shape
    n_k, d_v = k.shape[-2], v.shape[-1]
    s = _scale(scale, d)
    offset = _causal_offset(causal, causal_alignment, n_q, n_k)
    ct = _compute_dtype(q.dtype)
    qc, kc, vc = q.to(ct), k.to(ct), v.to(ct)
    q_blocks = [(r0, min(r0 + block_q, n_q)) for r0 in range(0, n_q, block_q)]
    k_blocks = [(c0, min(c0 + block_k, n_k)) for c0 in range(0, n_k, block_k)]

    # "HBM" arrays: ℓ = 0, m = -inf, O = 0 (FA-1 Alg. 1 line 2).
    out = torch.zeros(b, h, n_q, d_v, dtype=ct, device=q.device)
    ell = torch.zeros(b, h, n_q, dtype=ct, device=q.device)
    m = torch.full((b, h, n_q), _NEG_INF, dtype=ct, device=q.device)

    if version == 1:
        for j, (c0, c1) in enumerate(k_blocks):  # outer loop: K_j, V_j loaded once
            k_j, v_j = kc[..., c0:c1, :], vc[..., c0:c1, :]
            for i, (r0, r1) in enumerate(q_blocks):  # inner loop: Q_i, O_i, ℓ_i, m_i read from HBM
                if _block_skipped(offset, r0, r1, c0):
                    continue
                s_ij = _score_tile(qc[..., r0:r1, :], k_j, s, offset, r0, c0)
                m_i, l_i, o_i = m[..., r0:r1], ell[..., r0:r1], out[..., r0:r1, :]
                m_tilde = s_ij.amax(dim=-1)  # m̃_ij = rowmax(S_ij)
                p_tilde = torch.exp(s_ij - _safe(m_tilde)[..., None])  # P̃_ij = exp(S_ij − m̃_ij)
                l_tilde = p_tilde.sum(dim=-1)  # ℓ̃_ij = rowsum(P̃_ij)
                m_new = torch.maximum(m_i, m_tilde)  # m_new = max(m_i, m̃_ij)
                alpha = torch.exp(m_i - _safe(m_new))  # e^{m_i − m_new}
                beta = torch.exp(m_tilde - _safe(m_new))  # e^{m̃_ij − m_new}
                l_new = alpha * l_i + beta * l_tilde  # ℓ_new = e^{m_i−m_new} ℓ_i + e^{m̃−m_new} ℓ̃
                num = (l_i * alpha)[..., None] * o_i + beta[..., None] * (p_tilde @ v_j)
                inv = torch.where(l_new > 0, 1.0 / torch.where(l_new > 0, l_new, 1.0), 0.0)
                out[..., r0:r1, :] = inv[..., None] * num  # O_i ← diag(ℓ_new)⁻¹ (…) written back
                m[..., r0:r1], ell[..., r0:r1] = m_new, l_new  # ℓ_i, m_i written back
                emit(trace, "flash.step", (i, j), m=m_new, l=l_new, O=out, S=s_ij, P=p_tilde,
                     rows=(r0, r1), cols=(c0, c1))
    else:
        for i, (r0, r1) in enumerate(q_blocks):  # outer loop: one Q block (one thread block on a GPU)
            q_i = qc[..., r0:r1, :]
            m_i = torch.full((b, h, r1 - r0), _NEG_INF, dtype=ct, device=q.device)
            l_i = torch.zeros(b, h, r1 - r0, dtype=ct, device=q.device)
            acc = torch.zeros(b, h, r1 - r0, d_v, dtype=ct, device=q.device)
            for j, (c0, c1) in enumerate(k_blocks):  # inner loop over K_j, V_j
                if _block_skipped(offset, r0, r1, c0):
                    continue
                s_ij = _score_tile(q_i, kc[..., c0:c1, :], s, offset, r0, c0)
                m_new = torch.maximum(m_i, s_ij.amax(dim=-1))  # m_new = max(m, rowmax S)
                p_tilde = torch.exp(s_ij - _safe(m_new)[..., None])  # P̃ = exp(S − m_new)
                alpha = torch.exp(m_i - _safe(m_new))  # α = e^(m − m_new)
                l_i = alpha * l_i + p_tilde.sum(dim=-1)  # ℓ_new = e^{m−m_new} ℓ + rowsum P̃
                acc = alpha[..., None] * acc + p_tilde @ vc[..., c0:c1, :]  # O_new = e^{m−m_new} O + P̃ V_j
                m_i = m_new
                emit(trace, "flash.step", (i, j), m=m_i, l=l_i, O=acc, S=s_ij, P=p_tilde,
                     rows=(r0, r1), cols=(c0, c1))
            inv = torch.where(l_i > 0, 1.0 / torch.where(l_i > 0, l_i, 1.0), 0.0)
            out[..., r0:r1, :] = inv[..., None] * acc  # O_i = diag(ℓ)⁻¹ O_i, once
            m[..., r0:r1], ell[..., r0:r1] = m_i, l_i

    lse = m + torch.log(ell)  # LSE = m + log ℓ (-inf for a fully masked row)
    out = out.to(q.dtype)
    emit(trace, "flash.final", (), O=out, lse=lse)
    return (out, lse) if return_lse else out


# ----------------------------------------------------------------------------------------------- backward
def _flash_backward(q, k, v, out, lse, d_out, s, offset, block_q, block_k):
    """FA-2 backward (arXiv:2307.08691, Alg. 2): P is recomputed tile by tile from the saved LSE.

    D_i = rowsum(dO_i ∘ O_i); per tile: P = exp(S − LSE); dV_j += Pᵀ dO_i; dP = dO_i V_jᵀ;
    dS = P ∘ (dP − D_i); dQ_i += dS K_j · s; dK_j += dSᵀ Q_i · s.
    """
    ct = _compute_dtype(q.dtype)
    q, k, v, out, d_out, lse = (t.to(ct) for t in (q, k, v, out, d_out, lse))
    n_q, n_k = q.shape[-2], k.shape[-2]
    dq, dk, dv = torch.zeros_like(q), torch.zeros_like(k), torch.zeros_like(v)
    big_d = (d_out * out).sum(dim=-1)  # D = rowsum(dO ∘ O)
    lse_safe = _safe(lse)  # a fully masked row has S = -inf everywhere, so P = 0 there anyway
    for c0 in range(0, n_k, block_k):  # outer loop over K_j, V_j (kept in SRAM), as in FA-2
        c1 = min(c0 + block_k, n_k)
        k_j, v_j = k[..., c0:c1, :], v[..., c0:c1, :]
        for r0 in range(0, n_q, block_q):
            r1 = min(r0 + block_q, n_q)
            if _block_skipped(offset, r0, r1, c0):
                continue
            q_i, do_i = q[..., r0:r1, :], d_out[..., r0:r1, :]
            s_ij = _score_tile(q_i, k_j, s, offset, r0, c0)
            p = torch.exp(s_ij - lse_safe[..., r0:r1, None])  # P = exp(S − LSE)
            dv[..., c0:c1, :] += p.transpose(-2, -1) @ do_i  # dV_j += Pᵀ dO_i
            dp = do_i @ v_j.transpose(-2, -1)  # dP = dO_i V_jᵀ
            ds = p * (dp - big_d[..., r0:r1, None])  # dS = P ∘ (dP − D_i)
            dq[..., r0:r1, :] += (ds @ k_j) * s  # dQ_i += dS K_j · s
            dk[..., c0:c1, :] += (ds.transpose(-2, -1) @ q_i) * s  # dK_j += dSᵀ Q_i · s
    return dq, dk, dv


class FlashAttentionFunction(torch.autograd.Function):
    """Autograd function: forward = :func:`flash_attention` (version 2); backward recomputes P from the LSE.

    Saves q, k, v, O and LSE (O(N) extra memory), never the (Lq, Lk) matrix P (arXiv:2205.14135 §3.1;
    arXiv:2307.08691 §3.1.2). Backward: D = rowsum(dO ∘ O), P = exp(S − LSE), dS = P ∘ (dP − D).
    ``apply(q, k, v, causal, scale, block_q, block_k, causal_alignment)``.
    """

    @staticmethod
    def forward(ctx, q, k, v, causal=False, scale=None, block_q=64, block_k=64, causal_alignment="upper_left"):
        out, lse = flash_attention(q, k, v, block_q=block_q, block_k=block_k, causal=causal, scale=scale,
                                   version=2, return_lse=True, causal_alignment=causal_alignment)
        ctx.save_for_backward(q, k, v, out, lse)
        ctx.s = _scale(scale, q.shape[-1])
        ctx.offset = _causal_offset(causal, causal_alignment, q.shape[-2], k.shape[-2])
        ctx.blocks = (block_q, block_k)
        ctx.mark_non_differentiable(lse)
        return out, lse

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, d_out, d_lse):
        q, k, v, out, lse = ctx.saved_tensors
        dq, dk, dv = _flash_backward(q, k, v, out, lse, d_out, ctx.s, ctx.offset, *ctx.blocks)
        return dq.to(q.dtype), dk.to(k.dtype), dv.to(v.dtype), None, None, None, None, None


def flash_attention_autograd(q, k, v, causal=False, scale=None, block_q=64, block_k=64,
                             causal_alignment="upper_left", return_lse=False):
    """Differentiable FlashAttention-2: O = softmax(Q Kᵀ · s) V with the memory-saving backward.

    See :class:`FlashAttentionFunction` (arXiv:2307.08691, Alg. 1 and 2). Returns O, or (O, LSE).
    """
    out, lse = FlashAttentionFunction.apply(q, k, v, causal, scale, block_q, block_k, causal_alignment)
    return (out, lse) if return_lse else out


# ------------------------------------------------------------------------------------------ flash-decoding
def flash_decoding(q, k, v, n_splits, scale=None, return_lse=False, trace=None):
    """Flash-Decoding (split-K): attention of a few queries over a long K/V, split along the keys.

    Keys are cut into ``n_splits`` contiguous slices of near-equal length (``torch.tensor_split``); each
    split s computes, independently (in parallel on a GPU)::

        lse_s = logsumexp_j S_sj,   O_s = softmax(S_s) V_s,       S_s = Q K_sᵀ · scale
    and the merge rescales by the LSE::

        lse = logsumexp_s lse_s,    O = Σ_s exp(lse_s − lse) · O_s

    (Dao, Haziza, Massa, Sizov 2023, "Flash-Decoding for long-context inference", PyTorch blog; the
    split-KV combine of FlashAttention ≥ 2.2, arXiv:2307.08691 lineage.) No causal mask: every query sees
    every key, as for the newest token in decoding.

    Args: q (B, H, Lq, D) with small Lq (typically 1); k (B, H, Lk, D); v (B, H, Lk, Dv);
    1 ≤ n_splits ≤ Lk. trace: ``"flash_decoding.split"`` per split (index (s,), state ``O_s``, ``lse_s``,
    ``cols``) then ``"flash_decoding.merge"`` (``O``, ``lse``, ``weights`` exp(lse_s − lse) of shape
    (n_splits, B, H, Lq)). Returns O, or (O, LSE).
    """
    _validate_qkv(q, k, v, enable_gqa=False)
    check_positive_int("n_splits", n_splits)
    n_k = k.shape[-2]
    if n_splits > n_k:
        raise ValueError(f"n_splits must be <= the number of keys Lk = {n_k} (k has shape {tuple(k.shape)}), "
                         f"got {n_splits}")
    s = _scale(scale, q.shape[-1])
    ct = _compute_dtype(q.dtype)
    qc, kc, vc = q.to(ct), k.to(ct), v.to(ct)
    bounds = torch.tensor_split(torch.arange(n_k), n_splits)
    outs, lses = [], []
    for idx, cols in enumerate(bounds):
        c0, c1 = int(cols[0]), int(cols[-1]) + 1
        scores = (qc @ kc[..., c0:c1, :].transpose(-2, -1)) * s  # S_s = Q K_sᵀ · scale
        lse_s = torch.logsumexp(scores, dim=-1)  # lse_s = log Σ_j exp(S_sj)
        o_s = torch.exp(scores - lse_s[..., None]) @ vc[..., c0:c1, :]  # O_s = softmax(S_s) V_s
        outs.append(o_s)
        lses.append(lse_s)
        emit(trace, "flash_decoding.split", (idx,), O_s=o_s, lse_s=lse_s, cols=(c0, c1))
    lse_all = torch.stack(lses)  # (n_splits, B, H, Lq)
    lse = torch.logsumexp(lse_all, dim=0)  # lse = logsumexp_s lse_s
    weights = torch.exp(lse_all - lse)  # w_s = exp(lse_s − lse), Σ_s w_s = 1
    out = (weights[..., None] * torch.stack(outs)).sum(dim=0)  # O = Σ_s w_s O_s
    out = out.to(q.dtype)
    emit(trace, "flash_decoding.merge", (), O=out, lse=lse, weights=weights)
    return (out, lse) if return_lse else out


# --------------------------------------------------------------------------------------------- IO model
def attention_io(n, d, sram_bytes, bytes_per_elem=2, method="flash", version=2, block_r=None, block_c=None,
                 breakdown=False):
    """HBM traffic (bytes) of one attention head, N = ``n`` tokens, head dim ``d``, counted line by line.

    All counts are in elements, then multiplied by ``bytes_per_elem``; SRAM holds M = ⌊sram_bytes /
    bytes_per_elem⌋ elements (arXiv:2205.14135, §3.2 and Appendix B/C).

    ``method="standard"`` — FA-1 paper Algorithm 0 (S and P materialised in HBM)::

        1. read Q, K (2Nd), write S (N²)     2. read S (N²), write P (N²)
        3. read P, V (N² + Nd), write O (Nd)           total = 4Nd + 4N² = Θ(Nd + N²)

    ``method="flash"`` — T_c = ⌈N/B_c⌉, T_r = ⌈N/B_r⌉; block sizes (override with ``block_r``/``block_c``):
    version 1 uses FA-1 Alg. 1 line 1, B_c = ⌈M/4d⌉, B_r = min(⌈M/4d⌉, d). FA-2 gives no formula; version 2
    gives the large size to its outer (SRAM-resident) block: B_r = ⌈M/4d⌉, B_c = min(⌈M/4d⌉, d). (With FA-1's
    sizes FA-2 would read K, V N/B_r ≥ N/d times: 2N², no better than standard attention's 4N².)

    * ``version=1`` (FA-1 Alg. 1): init O, ℓ, m in HBM (Nd + 2N writes); per K/V block load K_j, V_j
      (2Nd over all j); per (j, i) read Q_i, O_i, ℓ_i, m_i and write O_i, ℓ_i, m_i::

          total = Nd + 2N  +  2Nd  +  T_c (3Nd + 4N)          (the last term is Θ(N² d² / M))

    * ``version=2`` (FA-2 Alg. 1): per Q block read Q_i once, stream all K_j, V_j, write O_i and LSE_i::

          total = Nd + N + Nd  +  T_r · 2Nd                    (the last term is Θ(N² d² / M))

    The difference that matters for L06.5: FA-1 writes O (and ℓ, m) back after *every* K/V block —
    T_c · T_r O-block writes, T_c · Nd elements of O in total — FA-2 writes each O block once (T_r writes,
    Nd elements) plus the LSE.

    Non-causal, one (batch, head). Returns bytes (int); with ``breakdown=True`` returns (bytes, dict) with
    the per-line element counts, ``"reads"``, ``"writes"``, ``"quadratic"`` (the term that grows as N²,
    in elements), ``"elements"``, the block sizes and, for ``"flash"``, ``"O_block_writes"`` (how many
    (B_r, d) tiles of O are written to HBM), ``"O_write_elems"`` and ``"stat_write_elems"`` (elements of
    ℓ, m or LSE written).
    """
    for name, val in (("n", n), ("d", d), ("sram_bytes", sram_bytes), ("bytes_per_elem", bytes_per_elem)):
        check_positive_int(name, val)
    check_choice("method", method, ("standard", "flash"))
    check_choice("version", version, (1, 2))
    check_positive_int("block_r", block_r, allow_none=True)
    check_positive_int("block_c", block_c, allow_none=True)
    mem = sram_bytes // bytes_per_elem  # M, in elements
    if method == "standard":
        parts = {
            "read_QK": 2 * n * d, "write_S": n * n,  # line 1
            "read_S": n * n, "write_P": n * n,  # line 2
            "read_PV": n * n + n * d, "write_O": n * d,  # line 3
        }
        quadratic = 4 * n * n
        info = {}
    else:
        if mem < 1:
            raise ValueError(f"sram_bytes must hold at least one element of {bytes_per_elem} bytes, "
                             f"got {sram_bytes}")
        big = -(-mem // (4 * d))  # ⌈M / 4d⌉: four (block, d) tiles fit in SRAM
        if version == 1:
            b_c = block_c if block_c is not None else big  # B_c = ⌈M / 4d⌉ (outer, resident K_j, V_j)
            b_r = block_r if block_r is not None else min(big, d)  # B_r = min(⌈M / 4d⌉, d)
        else:
            b_r = block_r if block_r is not None else big  # B_r = ⌈M / 4d⌉ (outer, resident Q_i)
            b_c = block_c if block_c is not None else min(big, d)  # B_c = min(⌈M / 4d⌉, d)
        t_c, t_r = -(-n // b_c), -(-n // b_r)  # T_c = ⌈N/B_c⌉, T_r = ⌈N/B_r⌉
        info = {"block_r": b_r, "block_c": b_c, "T_r": t_r, "T_c": t_c, "M": mem}
        if version == 1:
            parts = {
                "write_init_O_l_m": n * d + 2 * n,  # line 2: O = 0, ℓ = 0, m = -inf in HBM
                "read_KV": 2 * n * d,  # line 6, summed over j
                "read_Q_O_l_m": t_c * (2 * n * d + 2 * n),  # line 8, over all (j, i)
                "write_O_l_m": t_c * (n * d + 2 * n),  # lines 12-13, over all (j, i)
            }
            quadratic = t_c * (3 * n * d + 4 * n)
            # every (j, i) step writes O_i, ℓ_i, m_i back (the init writes are not counted here)
            info.update(O_block_writes=t_c * t_r, O_write_elems=t_c * n * d, stat_write_elems=t_c * 2 * n)
        else:
            parts = {
                "read_Q": n * d,  # once per Q block
                "read_KV": t_r * 2 * n * d,  # every Q block streams all of K and V
                "write_O": n * d,
                "write_LSE": n,
            }
            quadratic = t_r * 2 * n * d
            info.update(O_block_writes=t_r, O_write_elems=n * d, stat_write_elems=n)  # once per Q block
    elements = sum(parts.values())
    total = elements * bytes_per_elem
    if not breakdown:
        return total
    reads = sum(v for key, v in parts.items() if key.startswith("read"))
    detail = dict(parts, reads=reads, writes=elements - reads, quadratic=quadratic, elements=elements,
                  bytes=total, **info)
    return total, detail


def trace_io(trace, d, version, d_v=None):
    """HBM traffic counted from a :func:`flash_attention` trace, step by step, in elements (one batch, head).

    Reads the loop order off the ``"flash.step"`` indices (i, j) and the tile sizes off ``rows``/``cols``;
    ``d`` (and ``d_v``, default ``d``) are the head dims and ``version`` the loop order the trace was run with
    (1: outer loop over K/V blocks j; 2: outer loop over Q blocks i), which the trace does not record.
    Per step, with r = rows of the Q block and c = columns of the K/V block (arXiv:2205.14135 Alg. 1;
    arXiv:2307.08691 Alg. 1)::

        FA-1: new j: read K_j, V_j (c(d + d_v));  every step: read Q_i, O_i, ℓ_i, m_i (r(d + d_v + 2)),
              write O_i, ℓ_i, m_i (r(d_v + 2));  before the loop: O, ℓ, m initialised (N(d_v + 2) writes)
        FA-2: new i: read Q_i (r d);  every step: read K_j, V_j (c(d + d_v));
              last step of a Q block: write O_i, LSE_i (r(d_v + 1))

    Skipped (fully masked) tiles are not in the trace and cost nothing. For a non-causal trace with d_v = d the
    totals equal :func:`attention_io`'s counts for the same block sizes (its ``elements``).

    Returns a dict: per step (lists, one entry per ``flash.step``) ``index``, ``reads``,
    ``writes`` (elements at that step), ``cum_reads``, ``cum_writes``, ``O_block_writes`` (cumulative number of
    O tiles written to HBM); and ``init_writes``, ``reads_total``, ``writes_total``, ``elements``,
    ``O_block_writes_total``.
    """
    check_positive_int("d", d)
    check_positive_int("d_v", d_v, allow_none=True)
    check_choice("version", version, (1, 2))
    d_v = d if d_v is None else d_v
    steps = [s for s in trace if getattr(s, "kind", None) == "flash.step"]
    finals = [s for s in trace if getattr(s, "kind", None) == "flash.final"]
    if not finals:
        raise ValueError("trace must hold a flash_attention run (a 'flash.final' step), got none")
    n_q = finals[-1]["O"].shape[-2]
    idx = [tuple(s.index) for s in steps]
    reads, writes, o_writes = [], [], []
    init = n_q * (d_v + 2) if version == 1 else 0
    n_o = 0
    for k, s in enumerate(steps):
        (r0, r1), (c0, c1) = s["rows"], s["cols"]
        r, c = r1 - r0, c1 - c0
        i, j = idx[k]
        prev = idx[k - 1] if k else None
        nxt = idx[k + 1] if k + 1 < len(idx) else None
        if version == 1:
            rd = (c * (d + d_v) if prev is None or prev[1] != j else 0) + r * (d + d_v + 2)
            wr = r * (d_v + 2)
            n_o += 1
        else:
            rd = (r * d if prev is None or prev[0] != i else 0) + c * (d + d_v)
            last = nxt is None or nxt[0] != i
            wr = r * (d_v + 1) if last else 0
            n_o += int(last)
        reads.append(rd)
        writes.append(wr)
        o_writes.append(n_o)
    cum_r, cum_w, a, b = [], [], 0, init
    for rd, wr in zip(reads, writes):
        a, b = a + rd, b + wr
        cum_r.append(a)
        cum_w.append(b)
    return {"index": idx, "reads": reads, "writes": writes, "cum_reads": cum_r,
            "cum_writes": cum_w, "O_block_writes": o_writes, "init_writes": init, "reads_total": a,
            "writes_total": b, "elements": a + b, "O_block_writes_total": n_o}
