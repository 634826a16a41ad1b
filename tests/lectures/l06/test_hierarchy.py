"""L06.3 Memory hierarchy: the IO sweep against the closed forms (4Nd + 4N²; Nd + N + Nd + T_r·2Nd + Nd),
the Θ example, recomputation (what autograd saves; P rebuilt from LSE = softmax), the memory suite against the
JSON file, the cited savings; E6.3 (wrong versions fail)."""
from __future__ import annotations

import math

import pytest
import sympy as sp
import torch

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import flash as E
from scenes.l06_flash import data as d
from scenes.l06_flash.data import _shared as sh
from scenes.l06_flash.data import hierarchy as hi

from ._helpers import (assert_one_topic_section, assert_scene_constructs, example, raw_bench, scores,
                       with_clauses)

GPU = raw_bench("gpu-nvidia-h200.json")


def test_io_scaling_closed_forms():
    s = d.io_scaling()
    assert s.lengths == (256, 512, 1024, 2048, 4096, 8192, 16384) and s.d == 64
    assert s.m_elems == (24_576, 49_152, 98_304)
    assert s.standard == tuple((4 * n * 64 + 4 * n * n) * 2 for n in s.lengths)
    for m, row in zip(s.m_elems, s.flash):
        t_r = [math.ceil(n / math.ceil(m / 256)) for n in s.lengths]
        assert row == tuple((2 * n * 64 + n + t * 2 * n * 64) * 2 for n, t in zip(s.lengths, t_r))
        assert all(f < st for f, st in zip(row, s.standard))
    assert all(a > b > c for a, b, c in zip(*s.flash))          # more SRAM, fewer bytes
    assert (s.example_n, s.example_d, s.example_m) == (4096, 64, 98_304)
    assert s.theta_standard == 17_039_360 and round(s.theta_standard / 1e6, 1) == 17.0
    assert s.theta_flash == pytest.approx(4096 ** 2 * 64 ** 2 / 98_304) and round(s.theta_flash / 1e6, 2) == 0.70
    assert s.exact_standard_elems == 4 * s.theta_standard and s.exact_flash_elems == 6_295_552


def test_recomputation_saves_o_of_n():
    r = d.recomputation()
    assert r.saved_shapes == ((1, 1, 16, 4),) * 4 + ((1, 1, 16),) and r.saved_elems == 4 * 64 + 16
    assert not r.quadratic_saved and r.plain_saved_elems > r.saved_elems + 16 * 16 - 1
    q, k, _ = example()
    s = scores(q, k)
    assert torch.allclose(torch.tensor(r.lse, dtype=torch.float64), torch.logsumexp(s, -1), atol=1e-14)
    assert r.tiles_rebuilt == 16 and r.rebuilt_diff < 1e-15
    p = torch.tensor(r.p_rebuilt, dtype=torch.float64)                    # every cell rebuilt, = softmax
    assert p.shape == (16, 16) and torch.allclose(p, torch.softmax(s, -1), atol=1e-15, rtol=0)
    assert r.lse_bytes == tuple(4 * n for n in r.lengths) and r.p_bytes == tuple(2 * n * n for n in r.lengths)


def test_memory_measured_is_the_file():
    m = d.memory_measured()
    recs = [x for x in GPU["records"] if x["suite"] == "memory"]
    assert m.available and m.device == "NVIDIA H200" and (m.batch, m.heads, m.head_dim) == (1, 8, 64)
    assert [s.method for s in m.series] == ["naive", "attn_ref.flash_attention", "torch_sdpa"]
    for s in m.series:
        rows = sorted((x for x in recs if x["method"] == s.method), key=lambda x: x["seqlen"])
        assert s.lengths == (1024, 2048, 4096, 8192, 16384) == tuple(x["seqlen"] for x in rows)
        assert s.peak_extra_mib == tuple(x["peak_extra_bytes"] / 2 ** 20 for x in rows)
    naive, _, sdpa = m.series
    assert naive.peak_extra_mib[0] == 65.0 and naive.peak_extra_mib[-1] == 8208.0
    assert m.score_matrix_mib == tuple(8 * n * n * 2 / 2 ** 20 for n in naive.lengths)
    assert all(a > 2 * s for a, s in zip(naive.peak_extra_mib, m.score_matrix_mib))   # S and P both held
    assert m.output_mib == tuple(8 * n * 64 * 2 / 2 ** 20 for n in naive.lengths)
    assert all(abs(p - o) < 0.01 for p, o in zip(sdpa.peak_extra_mib, m.output_mib))
    assert m.naive_over_tiled[-1] == pytest.approx(8208.0 / sdpa.peak_extra_mib[-1])
    assert "NVIDIA H200" in m.source and GPU["provenance"]["command"] in m.source and "backend" in m.note


def test_memory_cited():
    c = d.memory_cited()
    assert c.readme_savings == ((2048, 10.0), (4096, 20.0)) and "README" in c.readme_source
    assert "Proposition 3" in c.lower_bound_source and "N²d²M⁻¹" in c.lower_bound


def test_without_the_result_file_nothing_is_invented(tmp_path, monkeypatch):
    monkeypatch.setattr(sh, "RESULTS_DIR", tmp_path)
    m = hi.memory_measured.__wrapped__()
    assert not m.available and m.series == () and "not committed" in m.reason and m.source == ""


def test_e6_3_holds_and_wrong_versions_fail():
    assert EQUATIONS["log_sum_exp"].check()
    c1, c2, c3 = EQUATIONS["log_sum_exp"].clauses
    no_m = Clause(E.LSE, sp.log(E.ell))                                    # forgets the max
    with pytest.raises(EquationError):
        with_clauses("log_sum_exp", no_m, c2, c3).check()
    times_ln2 = Clause(E.LSE2, E._mul(E.LSE, sp.log(2)))
    with pytest.raises(EquationError):
        with_clauses("log_sum_exp", c1, c2, times_ln2).check()


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("MemoryHierarchy")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l06_hierarchy.py", "L06.3")
