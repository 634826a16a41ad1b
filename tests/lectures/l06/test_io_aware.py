"""L06.1 IO-aware attention: the cited pyramid and Fig. 2 as the plan quotes them, Algorithm 0's byte counters
recounted by hand (4Nd + 4N² elements), the fused count from the FA-2 loop structure, the roofline of each pass
from FLOPs / bytes and the H100's datasheet ridge; E6.4 (wrong versions fail)."""
from __future__ import annotations

import math

import pytest

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import flash as E
from scenes.l06_flash import data as d

from ._helpers import assert_one_topic_section, assert_scene_constructs, with_clauses


def test_memory_pyramid_cited_and_datasheet():
    p = d.memory_pyramid()
    assert [(lv.name, lv.bandwidth, lv.capacity) for lv in p.a100] == [
        ("SRAM", "19 TB/s", "20 MB"), ("HBM", "1.5 TB/s", "40 GB"), ("CPU DRAM", "12.8 GB/s", "> 1 TB")]
    assert "2205.14135" in p.a100_source and "Figure 1" in p.a100_source
    assert (p.h100_hbm_bytes_per_s, p.h100_hbm_bytes, p.h100_l2_bytes) == (3.35e12, 80e9, 50e6)
    assert (p.h100_smem_per_sm_bytes, p.h100_sms) == (228 * 1024, 132)
    assert p.h100_smem_total_bytes == 228 * 1024 * 132 and round(p.h100_smem_total_bytes / 1e6, 1) == 30.8
    assert "summed over all SMs" in p.note and "3.35 TB/s" in p.h100_source


def test_standard_vs_fused_counted_by_hand():
    s = d.standard_vs_fused()
    n, dd, b = 1024, 64, 2
    assert (s.n, s.d, s.sram_bytes, s.bytes_per_elem) == (n, dd, 192 * 1024, b)
    hand = [(2 * n * dd, n * n), (n * n, n * n), (n * n + n * dd, n * dd)]     # Algorithm 0, lines 1-3
    assert [(x.reads, x.writes) for x in s.standard] == [(r * b, w * b) for r, w in hand]
    assert s.standard[-1].cum_bytes == s.standard_bytes == (4 * n * dd + 4 * n * n) * b == 8_912_896
    # FA-2 with M = 98,304 elements: B_r = ⌈M/4d⌉ = 384, T_r = ⌈1024/384⌉ = 3 passes over K and V
    assert (s.block_r, s.block_c) == (384, 64)
    t_r = math.ceil(n / 384)
    assert s.kv_passes == t_r == 3
    assert [(x.reads, x.writes) for x in s.fused] == [(n * dd * b, 0), (t_r * 2 * n * dd * b, 0), (0, (n * dd + n) * b)]
    assert s.fused[-1].cum_bytes == s.fused_bytes == (2 * n * dd + t_r * 2 * n * dd + n) * b == 1_050_624
    assert s.ratio == pytest.approx(8_912_896 / 1_050_624) and round(s.ratio, 1) == 8.5
    assert s.score_matrix_bytes == n * n * b and "Algorithm 0" in s.source


def test_memory_bound_passes_on_the_h100():
    m = d.memory_bound()
    assert m.ridge_point == pytest.approx(989.4e12 / 3.35e12) and round(m.ridge_point) == 295
    assert (m.peak_flops, m.bandwidth) == (989.4e12, 3.35e12) and m.peak_flops / m.bandwidth == m.ridge_point
    n, dd = 1024, 64
    by = {p.name: p for p in m.passes}
    assert by["S = QKᵀ"].flops == 2 * n * n * dd and by["S = QKᵀ"].bytes == (2 * n * dd + n * n) * 2
    assert by["S = QKᵀ"].intensity == pytest.approx(2 * n * n * dd / ((2 * n * dd + n * n) * 2))
    assert by["softmax"].intensity == pytest.approx(5 / 4) and by["mask"].intensity == pytest.approx(1 / 4)
    assert all(p.bound == "memory" and p.intensity < m.ridge_point for p in m.passes)
    for p in m.passes:
        assert p.time_us == pytest.approx(max(p.flops / 989.4e12, p.bytes / 3.35e12) * 1e6)


def test_fig2_cited_as_quoted():
    f = d.fig2_cited()
    assert (f.gflops, f.hbm_gb, f.runtime_ms) == ((66.6, 75.2), (40.3, 4.4), (41.7, 7.3))
    assert "35.3 GB" in f.earlier_version and "35.1 vs 11.7" in f.earlier_version
    assert any("7.6×" in c for c in f.claims) and any("15%" in c for c in f.claims) and "Figure 2" in f.source


def test_e6_4_holds_and_wrong_versions_fail():
    assert EQUATIONS["attention_hbm_io"].check()
    std, fl = EQUATIONS["attention_hbm_io"].clauses
    linear = Clause(E.HBM_flash, E.Theta(E._mul(E.N_s ** 2, E.d_s, E.sp.Pow(E.M_s, -1, evaluate=False))))  # d, not d²
    with pytest.raises(EquationError):
        with_clauses("attention_hbm_io", std, linear).check()
    no_square = Clause(E.HBM_std, E.Theta(E._mul(E.N_s, E.d_s)))
    with pytest.raises(EquationError):
        with_clauses("attention_hbm_io", no_square, fl).check()


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("IOAwareAttention")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l06_io_aware.py", "L06.1")
