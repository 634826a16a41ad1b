"""FlashAttention-2 forward pass as a Triton kernel (Dao 2023, arXiv:2307.08691).

One program owns a block of ``BLOCK_M`` queries of one (batch, head) and streams the keys and values
in blocks of ``BLOCK_N`` through on-chip memory with the online softmax (Milakov & Gimelshein 2018,
arXiv:1805.02867), in base 2 (``exp2``) as GPUs prefer:

    m_new = max(m, rowmax(S_j))                  running row maximum (log2 units)
    l_new = 2^(m - m_new) · l + rowsum(2^(S_j - m_new))
    acc   = 2^(m - m_new) · acc + 2^(S_j - m_new) · V_j
    O     = acc / l,      LSE = (m + log2 l) · ln 2   (natural log of the scaled scores)

Causal attention splits the key loop in two: the blocks entirely below the diagonal run without a
mask, only the blocks that straddle it are masked. Masks follow ``attn_ref.sdpa``: ``upper_left``
(PyTorch ``is_causal``) or ``lower_right`` (query i sees keys j <= i + n_k - n_q). A query row that
sees no key gives output 0 and LSE -inf, as ``attn_ref.sdpa`` does.
"""
from __future__ import annotations

import math
import os

import torch

from .._checks import check_choice, check_tensor

LN2 = math.log(2.0)
LOG2E = 1.0 / LN2

try:  # Triton is optional: the library works without it.
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - exercised where Triton is absent
    triton = None
    tl = None


def triton_available() -> bool:
    """True when Triton imports and can run here: a CUDA GPU, or the interpreter (TRITON_INTERPRET=1)."""
    if triton is None:
        return False
    return torch.cuda.is_available() or os.environ.get("TRITON_INTERPRET") == "1"


if triton is not None:

    @triton.jit
    def _attn_fwd_inner(acc, l_i, m_i, q, k_base, v_base, stride_kn, stride_kd, stride_vn, stride_vd,
                        offs_m, offs_d, lo, hi, N_K, causal_offset, qk_scale,
                        HEAD_DIM: tl.constexpr, BLOCK_N: tl.constexpr, MASKED: tl.constexpr,
                        EVEN_N: tl.constexpr):
        offs_n = tl.arange(0, BLOCK_N)
        for start_n in range(lo, hi, BLOCK_N):
            cols = start_n + offs_n
            k_ptrs = k_base + cols[None, :] * stride_kn + offs_d[:, None] * stride_kd
            v_ptrs = v_base + cols[:, None] * stride_vn + offs_d[None, :] * stride_vd
            if EVEN_N:
                k = tl.load(k_ptrs)
                v = tl.load(v_ptrs)
            else:
                k = tl.load(k_ptrs, mask=cols[None, :] < N_K, other=0.0)
                v = tl.load(v_ptrs, mask=cols[:, None] < N_K, other=0.0)
            qk = tl.dot(q, k) * qk_scale                     # S_j in log2 units
            if MASKED:
                keep = (cols[None, :] <= offs_m[:, None] + causal_offset) & (cols[None, :] < N_K)
                qk = tl.where(keep, qk, float("-inf"))
            elif not EVEN_N:
                qk = tl.where(cols[None, :] < N_K, qk, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(qk, 1))          # m_new = max(m, rowmax S_j)
            m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)  # rows that saw no key yet
            alpha = tl.exp2(m_i - m_safe)                    # 2^(m - m_new)
            p = tl.exp2(qk - m_safe[:, None])                # 2^(S_j - m_new)
            l_i = l_i * alpha + tl.sum(p, 1)
            acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)
            m_i = m_new
        return acc, l_i, m_i

    @triton.jit
    def _attn_fwd(Q, K, V, O, LSE, qk_scale,
                  stride_qz, stride_qh, stride_qm, stride_qd,
                  stride_kz, stride_kh, stride_kn, stride_kd,
                  stride_vz, stride_vh, stride_vn, stride_vd,
                  stride_oz, stride_oh, stride_om, stride_od,
                  H, N_Q, N_K, causal_offset,
                  HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                  CAUSAL: tl.constexpr, EVEN_N: tl.constexpr):
        start_m = tl.program_id(0)
        off_zh = tl.program_id(1)
        off_z = off_zh // H
        off_h = off_zh % H
        offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_d = tl.arange(0, HEAD_DIM)
        q_ptrs = (Q + off_z * stride_qz + off_h * stride_qh
                  + offs_m[:, None] * stride_qm + offs_d[None, :] * stride_qd)
        q = tl.load(q_ptrs, mask=offs_m[:, None] < N_Q, other=0.0)
        k_base = K + off_z * stride_kz + off_h * stride_kh
        v_base = V + off_z * stride_vz + off_h * stride_vh
        m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
        l_i = tl.zeros([BLOCK_M], tl.float32)
        acc = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)
        if CAUSAL:
            # keys j <= start_m*BLOCK_M + causal_offset are visible to every row of this block
            first_row_last_key = start_m * BLOCK_M + causal_offset
            lo = tl.maximum(tl.minimum(((first_row_last_key + 1) // BLOCK_N) * BLOCK_N, N_K), 0)
            if not EVEN_N:  # a partial last block must go through the masked loop
                lo = tl.minimum(lo, (N_K // BLOCK_N) * BLOCK_N)
            hi = tl.maximum(tl.minimum(start_m * BLOCK_M + BLOCK_M + causal_offset, N_K), 0)
            acc, l_i, m_i = _attn_fwd_inner(acc, l_i, m_i, q, k_base, v_base, stride_kn, stride_kd,
                                            stride_vn, stride_vd, offs_m, offs_d, 0, lo, N_K,
                                            causal_offset, qk_scale, HEAD_DIM, BLOCK_N, False, True)
            acc, l_i, m_i = _attn_fwd_inner(acc, l_i, m_i, q, k_base, v_base, stride_kn, stride_kd,
                                            stride_vn, stride_vd, offs_m, offs_d, lo, hi, N_K,
                                            causal_offset, qk_scale, HEAD_DIM, BLOCK_N, True, False)
        else:
            acc, l_i, m_i = _attn_fwd_inner(acc, l_i, m_i, q, k_base, v_base, stride_kn, stride_kd,
                                            stride_vn, stride_vd, offs_m, offs_d, 0, N_K, N_K,
                                            causal_offset, qk_scale, HEAD_DIM, BLOCK_N, False, EVEN_N)
        l_safe = tl.where(l_i == 0.0, 1.0, l_i)
        out = acc / l_safe[:, None]                           # O = acc / l
        lse = tl.where(l_i == 0.0, float("-inf"), (m_i + tl.log2(l_safe)) * 0.6931471805599453)
        o_ptrs = (O + off_z * stride_oz + off_h * stride_oh
                  + offs_m[:, None] * stride_om + offs_d[None, :] * stride_od)
        tl.store(o_ptrs, out.to(O.dtype.element_ty), mask=offs_m[:, None] < N_Q)
        tl.store(LSE + off_zh * N_Q + offs_m, lse, mask=offs_m < N_Q)

    _AUTOTUNE_CONFIGS = [
        triton.Config({"BLOCK_M": bm, "BLOCK_N": bn}, num_stages=s, num_warps=w)
        for bm, bn, s, w in [(128, 64, 3, 8), (128, 128, 3, 8), (128, 64, 4, 4), (64, 64, 4, 4),
                             (128, 32, 4, 4), (64, 32, 3, 4)]
    ]
    _attn_fwd_tuned = triton.autotune(configs=_AUTOTUNE_CONFIGS,
                                      key=["N_Q", "N_K", "HEAD_DIM", "CAUSAL"])(_attn_fwd)


def triton_flash_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False,
                           scale: float | None = None, causal_alignment: str = "upper_left",
                           return_lse: bool = False, block_m: int | None = None,
                           block_n: int | None = None):
    """softmax(q kᵀ · scale [+ causal mask]) v with the FlashAttention-2 forward kernel.

    q: (B, H, Lq, D), k and v: (B, H, Lk, D) with D in {16, 32, 64, 128}; fp16, bf16 or fp32 on CUDA
    (fp32 only under the CPU interpreter). Block sizes are autotuned on the GPU unless ``block_m``
    and ``block_n`` are given (the interpreter uses 16 × 16). Returns O, or (O, LSE) with LSE of shape
    (B, H, Lq) in natural log of the scaled scores.
    """
    if triton is None:
        raise RuntimeError("triton_flash_attention needs Triton: pip install triton")
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_tensor(name, t, ndim=4)
    check_choice("causal_alignment", causal_alignment, ("upper_left", "lower_right"))
    B, H, n_q, d = q.shape
    if k.shape[:2] != (B, H) or v.shape != k.shape or k.shape[-1] != d:
        raise ValueError(f"k and v must have shape (B={B}, H={H}, Lk, D={d}) like q {tuple(q.shape)}, "
                         f"got k {tuple(k.shape)} and v {tuple(v.shape)}")
    if d not in (16, 32, 64, 128):
        raise ValueError(f"head dim must be one of 16, 32, 64, 128, got q of shape {tuple(q.shape)}")
    if not (q.dtype == k.dtype == v.dtype):
        raise ValueError(f"q, k, v must share a dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    interpreting = os.environ.get("TRITON_INTERPRET") == "1"
    if not q.is_cuda and not interpreting:
        raise ValueError("triton_flash_attention runs on CUDA tensors (or on the CPU with TRITON_INTERPRET=1)")
    n_k = k.shape[2]
    scale = 1.0 / math.sqrt(d) if scale is None else float(scale)
    causal_offset = 0 if causal_alignment == "upper_left" else n_k - n_q
    q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
    o = torch.empty_like(q)
    lse = torch.empty((B, H, n_q), device=q.device, dtype=torch.float32)
    args = (q, k, v, o, lse, scale * LOG2E,
            *q.stride(), *k.stride(), *v.stride(), *o.stride(),
            H, n_q, n_k, causal_offset)
    if block_m is None and block_n is None and not interpreting:
        def grid(meta):
            return (triton.cdiv(n_q, meta["BLOCK_M"]), B * H)
        # EVEN_N depends on the tuned BLOCK_N, so it is passed for the largest candidate
        even = all(n_k % c.kwargs["BLOCK_N"] == 0 for c in _AUTOTUNE_CONFIGS)
        _attn_fwd_tuned[grid](*args, HEAD_DIM=d, CAUSAL=bool(causal), EVEN_N=even)
    else:
        bm = block_m or 16
        bn = block_n or 16
        grid = (triton.cdiv(n_q, bm), B * H)
        _attn_fwd[grid](*args, HEAD_DIM=d, BLOCK_M=bm, BLOCK_N=bn, CAUSAL=bool(causal),
                        EVEN_N=(n_k % bn == 0))
    return (o, lse) if return_lse else o
