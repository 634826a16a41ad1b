"""L06.4 Implementation details. The forward loop of ``attn_ref.flash_attention`` (version 2) as code lines
with the formula each computes (its own comments); the backward of ``ar.FlashAttentionFunction`` on the
running example: D_i = rowsum(dO ∘ O) = Σ_j P_ij dP_ij, gradients equal to autograd through ``ar.sdpa``
(float64) and a gradcheck. Our Triton kernel's source (grid, base-2 exponentials, the LSE it stores) with
the base-2 online softmax replayed in float64 on one row, and its committed correctness run on the H200
against a float64 oracle. The known pitfalls, cited."""
from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass
from pathlib import Path

import torch

import attn_ref as ar
from attn_ref.kernels import triton_flash
from scenes.kit.data_builders import builder
from scenes.kit.references import DAO_2023_FLASH2

from ._shared import BLOCK, D, N, Vec, gaussian, kernel_check, max_abs, qkv, to_tuple

DO_SEED = 64
ROW = 4


@dataclass(frozen=True)
class CodeLine:
    number: int                       # line number in attn_ref/flash.py
    code: str                         # without the trailing comment
    formula: str                      # the comment (empty when the line has none)


@dataclass(frozen=True)
class ForwardCode:
    file: str
    lines: tuple[CodeLine, ...]


def _loop_lines(fn, first: str, last: str) -> tuple[CodeLine, ...]:
    src, start = inspect.getsourcelines(fn)
    a = next(k for k, line in enumerate(src) if first in line)
    b = next(k for k, line in enumerate(src) if k > a and last in line)
    block = src[a:b + 1]
    indent = min(len(x) - len(x.lstrip()) for x in block if x.strip())
    out = []
    for k, line in enumerate(block):
        code, _, comment = line.rstrip("\n")[indent:].partition("  # ")
        out.append(CodeLine(start + a + k, code.rstrip(), comment.strip()))
    return tuple(out)


@builder("L06.4")
def forward_code() -> ForwardCode:
    """The FA-2 branch of ``attn_ref.flash_attention``: outer loop over Q blocks, inner over K/V blocks."""
    return ForwardCode("attn_ref/flash.py", _loop_lines(ar.flash_attention, "# outer loop: one Q block",
                                                        "m[..., r0:r1], ell[..., r0:r1] = m_i, l_i"))


@dataclass(frozen=True)
class Backward:
    n: int
    d: int
    block: int
    steps: tuple[str, ...]            # the backward's formulas, in order
    d_rowsum: Vec                     # D_i = rowsum(dO ∘ O)
    d_from_p: Vec                     # Σ_j P_ij dP_ij with P = softmax(S), dP = dO Vᵀ
    d_diff: float
    dq_diff: float                    # FlashAttentionFunction vs autograd through ar.sdpa
    dk_diff: float
    dv_diff: float
    gradcheck: bool                   # torch.autograd.gradcheck of flash_attention_autograd (float64, N = 6)
    code: tuple[CodeLine, ...]        # the tile loop of the backward in attn_ref/flash.py
    source: str


@builder("L06.4")
def backward() -> Backward:
    q, k, v = (t.clone().requires_grad_() for t in qkv())
    d_out = gaussian((N, D), DO_SEED)[None, None]
    out = ar.flash_attention_autograd(q, k, v, block_q=BLOCK, block_k=BLOCK)
    gq, gk, gv = torch.autograd.grad(out, (q, k, v), d_out)
    ref = ar.sdpa(q, k, v)
    rq, rk, rv = torch.autograd.grad(ref, (q, k, v), d_out)
    o = out.detach()
    p = torch.softmax(q.detach() @ k.detach().transpose(-1, -2) / math.sqrt(D), dim=-1)
    dp = d_out @ v.detach().transpose(-1, -2)
    d_row, d_p = (d_out * o).sum(-1), (p * dp).sum(-1)
    g = gaussian((3, 6, 3), DO_SEED + 1)
    small = [g[i][None, None].clone().requires_grad_() for i in range(3)]
    ok = torch.autograd.gradcheck(lambda a, b, c: ar.flash_attention_autograd(a, b, c, block_q=4, block_k=4),
                                  small)
    return Backward(N, D, BLOCK, ("D = rowsum(dO ∘ O)", "P = exp(S − LSE)", "dV_j += Pᵀ dO_i", "dP = dO_i V_jᵀ",
                                  "dS = P ∘ (dP − D_i)", "dQ_i += dS K_j · s", "dK_j += dSᵀ Q_i · s"),
                    to_tuple(d_row.flatten()), to_tuple(d_p.flatten()), max_abs(d_row, d_p), max_abs(gq, rq),
                    max_abs(gk, rk), max_abs(gv, rv), bool(ok),
                    _loop_lines(ar.flash._flash_backward, "for c0 in range(0, n_k, block_k)",
                                "dk[..., c0:c1, :] +="), f"{DAO_2023_FLASH2.short()}, Algorithm 2")


@dataclass(frozen=True)
class KernelCase:
    dtype: str
    n_q: int
    n_k: int
    d: int
    causal: bool
    alignment: str
    max_err: float                    # vs the float64 oracle
    max_lse_err: float
    torch_sdpa_err: float | None      # the same for torch's SDPA (None where it has no lower-right mask)


@dataclass(frozen=True)
class TritonKernel:
    file: str
    grid_line: str
    scale_line: str
    lse_line: str
    log2e: float                      # 1/ln 2 = 1.44269504…
    row: int
    lse: float                        # ar.flash_attention(return_lse=True), natural log
    m2: float                         # base-2 running max of the row (log2 units), replayed in float64
    l2: float                         # base-2 running sum
    lse2: float                       # m2 + log2 l2 = LSE / ln 2 (what the Triton tutorial stores as M)
    lse_from_base2: float             # (m2 + log2 l2) · ln 2: what our kernel stores (natural log)
    stores_natural_log: bool          # our kernel converts before storing; the tutorial does not
    check_available: bool
    check_reason: str
    cases: tuple[KernelCase, ...]
    check_source: str
    note: str


def _line(text: str, pattern: str) -> str:
    return next(x.strip() for x in text.splitlines() if re.search(pattern, x))


@builder("L06.4")
def triton_kernel() -> TritonKernel:
    """attn_ref/kernels/triton_flash.py read as text (no GPU needed), the base-2 bookkeeping replayed on one row
    of the running example, and benchmarks/gpu-runs/h200/triton-kernel-check.json."""
    path = Path(triton_flash.__file__)
    text = path.read_text()
    q, k, v = qkv()
    _, lse = ar.flash_attention(q, k, v, block_q=BLOCK, block_k=BLOCK, return_lse=True)
    s2 = (q[0, 0, ROW] @ k[0, 0].T) * (1 / math.sqrt(D)) * triton_flash.LOG2E     # S in log2 units
    m2, l2 = float("-inf"), 0.0
    for c0 in range(0, N, BLOCK):
        blk = s2[c0:c0 + BLOCK]
        m_new = max(m2, float(blk.max()))
        l2 = 2.0 ** (m2 - m_new) * l2 + float(torch.exp2(blk - m_new).sum())
        m2 = m_new
    lse2 = m2 + math.log2(l2)
    chk = kernel_check()
    cases = () if chk is None else tuple(
        KernelCase(c["dtype"].replace("torch.", ""), c["n_q"], c["n_k"], c["d"], c["causal"], c["alignment"],
                   c["max_err_vs_fp64"], c["max_lse_err"], c["torch_sdpa_err_vs_fp64"]) for c in chk["cases"])
    src = "" if chk is None else (
        f"Measured: {chk['device']}, torch {chk['provenance']['torch']}, triton {chk['provenance']['triton']}, "
        f"{chk['provenance']['date'][:10]}, attn_ref {chk['provenance']['commit'][:8]}; "
        f"`{chk['provenance']['command']}`")
    return TritonKernel(
        "attn_ref/kernels/triton_flash.py", _line(text, r"grid = \(triton\.cdiv"), _line(text, r"scale \* LOG2E"),
        _line(text, r"lse = tl\.where"), triton_flash.LOG2E, ROW, float(lse[0, 0, ROW]), m2, l2, lse2,
        lse2 * math.log(2.0), "0.6931471805599453" in _line(text, r"lse = tl\.where"), chk is not None,
        "" if chk is not None else "benchmarks/gpu-runs/h200/triton-kernel-check.json is not committed",
        cases, src,
        "one program per (Q block, batch·head): grid (⌈N/BLOCK_M⌉, B·H); the scores are scaled by s·log2 e so "
        "the loop uses exp2; the Triton tutorial stores M = m + log2 ℓ (base 2), our kernel multiplies by ln 2 "
        "before storing, so its LSE is attn_ref's natural log")


@dataclass(frozen=True)
class Pitfall:
    what: str
    where: str


@dataclass(frozen=True)
class Pitfalls:
    items: tuple[Pitfall, ...]


@builder("L06.4")
def pitfalls() -> Pitfalls:
    return Pitfalls((
        Pitfall("the Triton tutorial's backward ignored `causal`", "triton-lang/triton #4541, #5660"),
        Pitfall("the tutorial's backward assumes N_CTX % 128 == 0", "python/tutorials/06-fused-attention.py"),
        Pitfall("block pointers were removed from the tutorial on Triton main: pin the Triton version",
                "triton-lang/triton, python/tutorials/06-fused-attention.py history"),
        Pitfall("flash-attn's causal mask is bottom-right aligned since 2.1; PyTorch's is_causal is top-left",
                "Dao-AILab/flash-attention README (2.1 change log); torch.nn.functional.scaled_dot_product_attention"),
    ))
