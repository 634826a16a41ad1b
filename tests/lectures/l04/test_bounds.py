"""L04.2 Memory and computation bounds: bars against closed forms, the roofline against datasheet arithmetic,
the measured memory and prefill series against the benchmark file read with json (slopes by numpy), the
decode floor by hand."""
from __future__ import annotations

import pytest
import sympy as sp

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import context as eqc
from scenes.l04_context import data as d

from ._helpers import (GIB, HEAD_DIM, HEADS, KV_PER_TOKEN, N_PARAMS, assert_one_topic_section, assert_scene_constructs,
                       polyfit_slope, raw_bench, with_clauses)

GPU = raw_bench("gpu-nvidia-h200.json")


def test_memory_bars():
    m = d.memory_bars()
    assert [b.n for b in m.bars] == [4096, 16384, 32768, 131072]
    for b in m.bars:
        assert b.scores_gib == HEADS * b.n ** 2 * 2 / GIB and b.scores_and_probs_gib == 2 * b.scores_gib
        assert b.kv_cache_gib == KV_PER_TOKEN * b.n / GIB and b.weights_gib == 2 * N_PARAMS / GIB
    by = {b.n: b for b in m.bars}
    assert by[16384].scores_gib == 16 and by[131072].kv_cache_gib == 64 and by[4096].kv_cache_gib == 2
    assert m.kv_bytes_per_token == 512 * 1024 and m.weights_bytes == 13_476_831_232
    assert m.device_memory_gib == pytest.approx(80e9 / GIB)


def test_roofline_points():
    r = d.roofline()
    h100, h200 = r.devices
    assert h100.ridge == pytest.approx(989.4 / 3.35, rel=1e-12) and round(h100.ridge) == 295
    assert h200.ridge == pytest.approx(989.4 / 4.8, rel=1e-12) and round(h200.ridge) == 206
    for dev, peak, bw in ((h100, 989.4e12, 3.35e12), (h200, 989.4e12, 4.8e12)):
        pre1k, pre16k, mha, gqa = dev.points
        for p, n in ((pre1k, 1024), (pre16k, 16384)):
            assert p.flops == 4 * n * n * HEAD_DIM and p.bytes == 8 * n * HEAD_DIM and p.intensity == n / 2
            assert p.bound == "compute" and p.time_s == pytest.approx(p.flops / peak)
            assert p.n == n and p.intensity == p.n / 2 and f"{n:,}" in p.short
        for p, g in ((mha, 1), (gqa, 8)):
            assert p.flops == 4 * 4096 * HEAD_DIM * g and p.bytes == 4 * 4096 * HEAD_DIM and p.intensity == g
            assert p.bound == "memory" and p.time_s == pytest.approx(p.bytes / bw)
            assert p.group == g == p.intensity and p.n == 4096 and p.short.startswith("decode")


def test_measured_memory_is_the_file():
    m = d.measured_memory()
    recs = [r for r in GPU["records"] if r["suite"] == "memory"]
    assert m.available and (m.batch, m.heads, m.head_dim, m.dtype) == (1, 8, 64, "float16")
    by = {s.method: s for s in m.series}
    assert set(by) == {r["method"] for r in recs}
    for s in m.series:
        pts = sorted((r["seqlen"], r["peak_extra_bytes"]) for r in recs if r["method"] == s.method)
        assert s.seqlens == tuple(n for n, _ in pts) and s.peak_mib == tuple(b / 2 ** 20 for _, b in pts)
        fit = [(n, b) for n, b in pts if n >= 2048]
        assert s.slope == pytest.approx(polyfit_slope(*zip(*fit)), abs=1e-9)
    assert by["naive"].slope == pytest.approx(2.0, abs=0.05)                  # materialised: n²
    assert by["attn_ref.flash_attention"].slope == pytest.approx(1.0, abs=0.05)   # tiled: n
    assert by["torch_sdpa"].slope == pytest.approx(1.0, abs=0.05)
    assert m.score_matrix_mib == tuple(8 * n * n * 2 / 2 ** 20 for n in sorted({r["seqlen"] for r in recs}))
    assert "3 of 8 readings" in m.cpu_note and "H200" in m.source


def test_measured_prefill_is_the_file():
    p = d.measured_prefill()
    recs = [r for r in GPU["records"] if r["suite"] == "prefill" and r["head_dim"] == 128 and not r["causal"]
            and "skipped" not in r]
    assert p.available and p.tokens_per_call == 16384 and p.heads == 16
    assert {r["batch"] * r["seqlen"] for r in recs} == {16384}
    for s in p.series:
        pts = sorted((r["seqlen"], r["batch"], r["time_ms"]) for r in recs if r["method"] == s.method)
        assert s.time_ms == tuple(t for _, _, t in pts) and s.batch == tuple(b for _, b, _ in pts)
        per_seq = [t / b for _, b, t in pts]
        assert s.time_per_seq_ms == pytest.approx(per_seq)
        assert s.slope_per_seq == pytest.approx(polyfit_slope([n for n, _, _ in pts], per_seq), abs=1e-9)
    by = {s.method: s for s in p.series}
    assert 1.8 < by["torch_sdpa[flash_attention]"].slope_per_seq < 2.1 and 1.8 < by["naive"].slope_per_seq < 2.2
    assert all(a > b for a, b in zip(by["naive"].time_ms, by["torch_sdpa[flash_attention]"].time_ms))
    cpu = raw_bench("cpu-amd-epyc.json")
    crecs = [r for r in cpu["records"] if r["suite"] == "prefill" and r["head_dim"] == 64 and not r["causal"]
             and "skipped" not in r]
    assert p.cpu_head_dim == 64 and p.cpu_load == cpu["provenance"]["load_average_1m"] and "AMD EPYC" in p.cpu_source
    for s in p.cpu_series:
        pts = sorted((r["seqlen"], r["batch"], r["time_ms"]) for r in crecs if r["method"] == s.method)
        assert s.time_ms == tuple(t for _, _, t in pts)
        assert s.slope_per_seq == pytest.approx(polyfit_slope([n for n, _, _ in pts], [t / b for _, b, t in pts]),
                                                abs=1e-9)


def test_decode_floor():
    f = d.decode_floor()
    w = 2 * N_PARAMS
    assert f.weights_bytes == w and f.weights_ms_h100 == pytest.approx(1e3 * w / 3.35e12)
    assert f.weights_ms_h200 == pytest.approx(1e3 * w / 4.8e12)
    assert f.kv_4k_gib == 2.0 and f.kv_4k_ms_h100 == pytest.approx(1e3 * 2 * GIB / 3.35e12)
    assert round(f.kv_4k_ms_h100, 2) == 0.64 and round(f.weights_ms_h100, 2) == 4.02
    for r in f.rows:
        assert r.kv_bytes == KV_PER_TOKEN * r.context
        assert r.total_ms_h100 == pytest.approx(1e3 * (w + r.kv_bytes) / 3.35e12)
        assert r.total_ms_h200 == pytest.approx(1e3 * (w + r.kv_bytes) / 4.8e12)


def test_equations_fail_when_wrong():
    pre, dec = EQUATIONS["attention_intensity"].clauses
    with pytest.raises(EquationError):
        with_clauses("attention_intensity", Clause(pre.lhs, eqc.n), dec).check()
    with pytest.raises(EquationError):
        with_clauses("attention_intensity", pre, Clause(dec.lhs, sp.Integer(1))).check()
    bound, ridge = EQUATIONS["roofline_bound"].clauses
    with pytest.raises(EquationError):
        with_clauses("roofline_bound", Clause(bound.lhs, eqc._frac(eqc.F_sym, eqc.peak), r"\geq"), ridge).check()
    with pytest.raises(EquationError):
        with_clauses("roofline_bound", bound, Clause(ridge.lhs, eqc._frac(eqc.bw, eqc.peak))).check()
    (kv,) = EQUATIONS["kv_cache_bytes"].clauses
    with pytest.raises(EquationError):
        with_clauses("kv_cache_bytes", Clause(kv.lhs, eqc._mul(eqc.L, eqc.H_kv, eqc.d_h, eqc.n, eqc.b,
                                                                eqc.beta_elem))).check()


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("MemoryComputeBounds")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l04_bounds.py", "L04.2")
