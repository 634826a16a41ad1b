#!/usr/bin/env python
"""Correctness of the Triton kernel on a CUDA GPU against a float64 oracle (fp16 and bf16 inputs).

  python scripts/gpu_check.py [--out FILE]     # prints a JSON list of cases with their max errors

The file carries the provenance every result file has (``attn_ref.bench.provenance``: GPU, driver,
CUDA, torch, triton, date, command, commit), so a slide can show its source line.
"""
import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from attn_ref.bench.provenance import provenance
from attn_ref.kernels import triton_flash_attention

SCHEMA = "attn_ref.kernel_check/1"


def oracle(q, k, v, causal, alignment):
    s = q.double() @ k.double().transpose(-1, -2) / math.sqrt(q.shape[-1])
    n_q, n_k = s.shape[-2:]
    if causal:
        off = 0 if alignment == "upper_left" else n_k - n_q
        keep = torch.arange(n_k, device=q.device)[None, :] <= torch.arange(n_q, device=q.device)[:, None] + off
        s = s.masked_fill(~keep, float("-inf"))
    return torch.softmax(s, -1).nan_to_num(0.0) @ v.double(), torch.logsumexp(s, -1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    args = ap.parse_args()
    cases = []
    for dtype in (torch.float16, torch.bfloat16):
        for n_q, n_k, d, causal, align in [(1024, 1024, 64, False, "upper_left"), (1024, 1024, 128, True, "upper_left"),
                                           (1000, 1000, 128, False, "upper_left"), (777, 1500, 64, True, "lower_right"),
                                           (300, 300, 64, True, "upper_left"), (4096, 4096, 128, True, "upper_left")]:
            g = torch.Generator(device="cuda").manual_seed(n_q + n_k + d)
            q, k, v = (torch.randn(2, 4, n, d, device="cuda", generator=g).to(dtype) for n in (n_q, n_k, n_k))
            o, lse = triton_flash_attention(q, k, v, causal=causal, causal_alignment=align, return_lse=True)
            ro, rl = oracle(q, k, v, causal, align)
            fin = torch.isfinite(rl)
            ref_torch = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal) \
                if align == "upper_left" else None
            cases.append({"dtype": str(dtype), "n_q": n_q, "n_k": n_k, "d": d, "causal": causal, "alignment": align,
                          "max_err_vs_fp64": (o.double() - ro).abs().max().item(),
                          "max_lse_err": (lse.double()[fin] - rl[fin]).abs().max().item(),
                          "torch_sdpa_err_vs_fp64": (ref_torch.double() - ro).abs().max().item()
                          if ref_torch is not None else None})
    text = json.dumps({"schema": SCHEMA, "provenance": provenance("cuda"), "device": torch.cuda.get_device_name(),
                       "torch": torch.__version__, "cases": cases}, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    bad = [c for c in cases if c["max_err_vs_fp64"] > 2e-2 or c["max_lse_err"] > 2e-2]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
