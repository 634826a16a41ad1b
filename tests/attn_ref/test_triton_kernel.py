"""The Triton FlashAttention-2 kernel against the float64 oracle, on the CPU under Triton's interpreter.

Triton picks interpreter or compiler when a kernel is defined, so the checks run in a subprocess that
sets TRITON_INTERPRET=1 before importing the kernel. Skipped cleanly where Triton is not installed.
"""
import json
import math
import os
import subprocess
import sys

import pytest
import torch

pytest.importorskip("triton")

CASES = [  # (n_q, n_k, head_dim, causal, alignment)
    (20, 20, 16, False, "upper_left"),
    (32, 32, 32, False, "upper_left"),
    (20, 37, 16, True, "upper_left"),
    (37, 37, 16, True, "upper_left"),
    (33, 20, 16, True, "lower_right"),
    (5, 40, 16, True, "lower_right"),
    (40, 5, 16, True, "upper_left"),
]


def _oracle(q, k, v, causal, alignment):
    s = q.double() @ k.double().transpose(-1, -2) / math.sqrt(q.shape[-1])
    n_q, n_k = s.shape[-2:]
    if causal:
        off = 0 if alignment == "upper_left" else n_k - n_q
        keep = torch.arange(n_k)[None, :] <= torch.arange(n_q)[:, None] + off
        s = s.masked_fill(~keep, float("-inf"))
    lse = torch.logsumexp(s, -1)
    p = torch.softmax(s, -1).nan_to_num(0.0)  # rows that see no key give 0
    return p @ v.double(), lse


def _run_cases():
    from attn_ref.kernels import triton_flash_attention

    results = []
    for n_q, n_k, d, causal, alignment in CASES:
        g = torch.Generator().manual_seed(n_q * 1000 + n_k)
        q, k, v = (torch.randn(2, 2, n, d, generator=g) for n in (n_q, n_k, n_k))
        o, lse = triton_flash_attention(q, k, v, causal=causal, causal_alignment=alignment, return_lse=True)
        ro, rlse = _oracle(q, k, v, causal, alignment)
        finite = torch.isfinite(rlse)
        results.append({
            "case": [n_q, n_k, d, causal, alignment],
            "out_err": (o.double() - ro).abs().max().item(),
            "lse_err": (lse.double()[finite] - rlse[finite]).abs().max().item() if finite.any() else 0.0,
            "same_inf": bool(torch.equal(~torch.isfinite(lse), ~finite)),
            "masked_rows": int((~finite).sum()),
        })
    return results


@pytest.fixture(scope="module")
def interpreter_results():
    env = dict(os.environ, TRITON_INTERPRET="1")
    proc = subprocess.run([sys.executable, __file__], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_output_and_lse_match_float64_oracle(interpreter_results):
    assert len(interpreter_results) == len(CASES)
    for r in interpreter_results:
        assert r["out_err"] < 2e-5, r
        assert r["lse_err"] < 2e-5, r


def test_rows_that_see_no_key_give_zero_and_minus_inf_lse(interpreter_results):
    by_case = {tuple(r["case"]): r for r in interpreter_results}
    assert by_case[(40, 5, 16, True, "upper_left")]["masked_rows"] == 0  # upper-left: every row sees key 0
    lower = by_case[(33, 20, 16, True, "lower_right")]
    assert lower["masked_rows"] == 2 * 2 * 13  # rows 0..12 see no key when n_q - n_k = 13
    assert all(r["same_inf"] for r in interpreter_results)


def test_bad_input_is_named():
    from attn_ref.kernels import triton_flash_attention

    q = torch.randn(1, 2, 8, 24)
    with pytest.raises(ValueError, match="head dim"):
        triton_flash_attention(q, q, q)
    with pytest.raises(ValueError, match="causal_alignment"):
        triton_flash_attention(q, q, q, causal_alignment="diagonal")


if __name__ == "__main__":
    print(json.dumps(_run_cases()))
