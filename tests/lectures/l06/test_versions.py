"""L06.5 FA-1 vs FA-2: loop orders, per-step HBM counters recounted here from the algorithms' lines (closed
forms for N = 16, d = 4, blocks of 4), same output as torch's SDPA, launch counts; E6.7 (wrong versions fail)."""
from __future__ import annotations

import pytest

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import flash as E
from scenes.l06_flash import data as d

from ._helpers import T, example, torch_attention, with_clauses


def test_loop_orders_and_counters_by_hand():
    lo = d.loop_orders()
    n, dd, b = 16, 4, 4
    fa1, fa2 = lo.fa1, lo.fa2
    assert (lo.n, lo.d, lo.block) == (n, dd, b) and (fa1.outer, fa2.outer) == ("K/V blocks", "Q blocks")
    assert [(s.i, s.j) for s in fa1.steps] == [(i, j) for j in range(4) for i in range(4)]
    assert [(s.i, s.j) for s in fa2.steps] == [(i, j) for i in range(4) for j in range(4)]
    # FA-1: K_j, V_j (2·4·4 = 32) on a new j; every step Q_i, O_i (16 + 16), ℓ_i, m_i (4 + 4) read; O, ℓ, m written
    assert [s.reads for s in fa1.steps] == [(32 if i == 0 else 0) + 40 for j in range(4) for i in range(4)]
    assert all(s.writes == 24 for s in fa1.steps) and fa1.init_writes == n * (dd + 2) == 96
    assert fa1.reads == 4 * 32 + 16 * 40 == 768 and fa1.writes == 96 + 16 * 24 == 480
    assert [s.o_tile_writes for s in fa1.steps] == list(range(1, 17)) and fa1.o_tile_writes == 16
    assert fa1.normalisations == 16 and all(s.normalised for s in fa1.steps)
    assert [s.cum_normalisations for s in fa1.steps] == list(range(1, 17))
    assert [s.cum_normalisations for s in fa2.steps] == [s.o_tile_writes for s in fa2.steps]
    # FA-2: Q_i (16) on a new i; every step K_j, V_j (32); O_i + LSE_i (16 + 4) once, after the last K/V block
    assert [s.reads for s in fa2.steps] == [(16 if j == 0 else 0) + 32 for i in range(4) for j in range(4)]
    assert [s.writes for s in fa2.steps] == [20 if j == 3 else 0 for i in range(4) for j in range(4)]
    assert (fa2.reads, fa2.writes, fa2.init_writes) == (4 * 16 + 16 * 32, 4 * 20, 0) == (576, 80, 0)
    assert [s.o_tile_writes for s in fa2.steps] == [i + (j == 3) for i in range(4) for j in range(4)]
    assert fa2.o_tile_writes == 4 and fa2.normalisations == 4
    for o in (fa1, fa2):
        assert o.io_elements == o.reads + o.writes and o.io_o_block_writes == o.o_tile_writes
        assert o.steps[-1].cum_reads == o.reads and o.steps[-1].cum_writes == o.writes
    assert (fa1.io_elements, fa2.io_elements) == (1248, 656)
    q, k, v = example()
    ref = torch_attention(q, k, v)
    assert lo.same_output < 1e-14 and lo.vs_sdpa < 1e-14
    assert (T(fa1.out) - ref).abs().max() < 1e-14 and (T(fa2.out) - ref).abs().max() < 1e-14
    assert "2205.14135" in lo.source_fa1 and "2307.08691" in lo.source_fa2


def test_parallelism_counts():
    p = d.parallelism()
    assert p.sm_counts == (("A100", 108), ("H100 SXM", 132)) and len(p.cases) == 4
    for c in p.cases:
        assert c.fa1_blocks == c.batch * c.heads and c.fa2_blocks == c.batch * c.heads * -(-c.n // 128)
        assert c.fa1_fill == pytest.approx(min(1, c.fa1_blocks / c.sms)) and c.fa2_fill == 1.0
    long = p.cases[1]
    assert (long.fa1_blocks, long.fa2_blocks, long.sms) == (16, 2048, 132) and long.fa1_fill < 0.13
    assert "no shared-memory reduction" in p.split_q and "§3.2" in p.source
    assert f"{p.warps} warps" in p.split_q


def test_versions_cited():
    c = d.versions_cited()
    assert (c.a100_matmul_tflops, c.a100_nonmatmul_tflops, c.ratio) == (312.0, 19.5, 16.0) and "16×" in c.ratio_quote
    assert any("2×" in x for x in c.fa2_claims) and any("225" in x and "72%" in x for x in c.fa2_claims)
    assert any("740" in x and "75%" in x for x in c.fa3_claims) and any("1.2 PF" in x for x in c.fa3_claims)
    assert f"around {c.fa2_speedup:g}×" in c.fa2_claims[0]
    assert f"{c.fa2_peak_low:g}–{c.fa2_peak_high:g}%" in c.fa2_claims[1]
    assert f"{c.fa2_tflops:g} TFLOPs/s" in c.fa2_claims[2] and f"{c.fa2_mfu:g}%" in c.fa2_claims[2]
    assert f"{c.fa3_fp16_tflops:g} TFLOPs/s ({c.fa3_fp16_util:g}%" in c.fa3_claims[1]
    assert f"{c.fa3_fp8_pflops:g} PFLOPs/s" in c.fa3_claims[2]
    assert any("TMA" in x for x in c.fa3_features) and "2407.08608" in c.fa3_source and "§3.1" in c.fa2_source


def test_e6_7_holds_and_wrong_versions_fail():
    assert EQUATIONS["fa1_output_update"].check()
    unnormalised = Clause(E.O_i1, E._add(E._mul(E.Diag(E.ell_i), E.sp.exp(E._sub(E.m_i1, E.m_new1)), E.O_i1),
                                         E._mul(E.sp.exp(E._sub(E.m_t, E.m_new1)), E.P_t, E.V_j1)), r"\leftarrow")
    with pytest.raises(EquationError):
        with_clauses("fa1_output_update", unnormalised).check()
    no_old_l = Clause(E.O_i1, E._mul(E.sp.Pow(E.Diag(E.ell_new), -1, evaluate=False),
                                     E._add(E._mul(E.sp.exp(E._sub(E.m_i1, E.m_new1)), E.O_i1),
                                            E._mul(E.sp.exp(E._sub(E.m_t, E.m_new1)), E.P_t, E.V_j1))), r"\leftarrow")
    with pytest.raises(EquationError):
        with_clauses("fa1_output_update", no_old_l).check()


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("FlashVersions")


def test_one_topic_section_with_the_outline_title():
    from ._helpers import assert_one_topic_section
    assert_one_topic_section("l06_versions.py", "L06.5")
