"""Lecture 6's shared inputs: the seeded running example, the traced runner, the GPU files' source lines."""
from __future__ import annotations

import torch

from scenes.l06_flash import data as d
from scenes.l06_flash.data import _shared as sh

from ._helpers import example, raw_bench, raw_kernel_check, torch_attention


def test_running_example_is_seeded_and_rebuilt_independently():
    q, k, v = d.qkv()
    assert q.shape == (1, 1, 16, 4) and q.dtype == torch.float64 and (d.N, d.D, d.BLOCK) == (16, 4, 4)
    eq, ek, ev = example()
    assert torch.equal(q[0, 0], eq) and torch.equal(k[0, 0], ek) and torch.equal(v[0, 0], ev)
    d.cache_clear()
    assert d.qkv() is not None and torch.equal(d.qkv()[0][0, 0], eq)


def test_run_returns_the_trace_and_the_output():
    q, k, v = d.qkv()
    out, lse, steps, final = sh.run(q, k, v)
    assert len(steps) == 16 and torch.equal(final["O"], out) and lse.shape == (1, 1, 16)
    assert torch.allclose(out[0, 0], torch_attention(q[0, 0], k[0, 0], v[0, 0]), atol=1e-12, rtol=0)
    _, _, steps1, _ = sh.run(q, k, v, version=1)
    assert [s.index for s in steps1][:2] == [(0, 0), (1, 0)] and [s.index for s in steps][:2] == [(0, 0), (0, 1)]


def test_bench_source_names_the_machine_the_sms_and_the_command():
    r = raw_bench(sh.GPU_RESULT)
    line = sh.bench_source(r, "prefill")
    assert "NVIDIA H200" in line and "float16" in line and "132 SMs" in line and "triton 3.6.0" in line
    assert r["provenance"]["command"] in line and "prefill rerun at attn_ref" not in line
    assert "splitk rerun at attn_ref b3ff0484" in sh.bench_source(r, "splitk")
    assert sh.kernel_check() == raw_kernel_check()
