"""Lecture 4's shared inputs: the running model is Llama-2-7B's shape, the loaders read the committed files,
the log-log slope agrees with numpy's fit."""
from __future__ import annotations

import pytest

import attn_ref as ar
from scenes.l04_context import data as d
from scenes.l04_context.data import _shared as sh

from ._helpers import KV_PER_TOKEN, N_PARAMS, polyfit_slope, raw_bench, raw_result


def test_running_model_and_devices():
    m = d.MODEL
    assert (m.n_layers, m.d_model, m.n_heads, m.n_kv_heads, m.head_dim, m.d_ff) == (32, 4096, 32, 32, 128, 11008)
    assert m.n_params() == N_PARAMS and m.kv_bytes_per_token() == KV_PER_TOKEN
    assert d.DEVICES == (ar.H100_SXM, ar.H200) and d.FP16 == 2


def test_loaders_read_the_committed_files():
    assert sh.lab() == raw_result()
    assert sh.bench(sh.GPU_FILE) == raw_bench(sh.GPU_FILE)
    assert sh.bench("no-such-file.json") is None
    line = sh.lab_source(raw_result())
    assert "needle_haystack" in line and "scripts/experiments.py run needle_haystack" in line
    assert "NVIDIA H200" in sh.bench_source(raw_bench(sh.GPU_FILE))
    recs = sh.records(raw_bench(sh.CPU_FILE), "prefill")
    assert recs and all("skipped" not in r and r["suite"] == "prefill" for r in recs)
    assert len(recs) < sum(r["suite"] == "prefill" for r in raw_bench(sh.CPU_FILE)["records"])   # skips dropped


@pytest.mark.parametrize("power", [1.0, 2.0, 0.5])
def test_loglog_slope(power):
    xs = [1, 2, 4, 8, 16]
    ys = [3 * x ** power * (1.01 if i % 2 else 0.99) for i, x in enumerate(xs)]
    assert d.loglog_slope(xs, ys) == pytest.approx(polyfit_slope(xs, ys), abs=1e-12)
    assert d.loglog_slope(xs, [x ** power for x in xs]) == pytest.approx(power, abs=1e-12)
