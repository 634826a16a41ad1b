"""L06.2 Tiling: the one-row online softmax replayed with plain floats, the 4 × 4 tile trace against the
recurrence re-derived here and torch's SDPA, causal tile statuses from the index arithmetic, the paper's block
sizes from the closed form, the ragged N = 18 grid; E6.2 and E6.5 (wrong versions fail)."""
from __future__ import annotations

import math

import pytest
import sympy as sp
import torch

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import flash as E
from scenes.l06_flash import data as d
from scenes.l06_flash.data import tiling as tl

from ._helpers import T, example, logsumexp, scores, torch_attention, with_clauses


def test_online_softmax_row_replayed_with_floats():
    r = d.online_softmax_row()
    q, k, _ = example()
    row = scores(q, k)[r.row].tolist()
    assert r.row == 4 and r.scores == pytest.approx(row, abs=1e-15) and len(r.steps) == 4
    m, ell = -math.inf, 0.0
    for b, st in enumerate(r.steps):
        blk = row[4 * b:4 * b + 4]
        m_new = max(m, max(blk))
        ell_new = math.exp(m - m_new) * ell + sum(math.exp(x - m_new) for x in blk)
        assert st.cols == (4 * b, 4 * b + 4) and st.block_max == pytest.approx(max(blk), abs=1e-15)
        assert (st.m_old, st.m_new, st.grew) == (pytest.approx(m), pytest.approx(m_new), m_new > m)
        assert st.l_new == pytest.approx(ell_new, rel=1e-13) and st.l_old == pytest.approx(ell, rel=1e-13)
        assert st.rescale == pytest.approx(math.exp(m - m_new), rel=1e-13)
        m, ell = m_new, ell_new
    assert [s.grew for s in r.steps] == [True, False, True, True] and r.rescalings == 2
    assert r.m == max(row) and r.l == pytest.approx(ell, rel=1e-13)
    assert math.log(r.l) + r.m == pytest.approx(logsumexp(row), abs=1e-13)
    want = torch.softmax(torch.tensor(row, dtype=torch.float64), 0).tolist()
    assert r.weights == pytest.approx(want, abs=1e-15) and r.softmax == pytest.approx(want, abs=1e-15)
    assert r.max_diff < 1e-15 and "1805.02867" in r.source


def test_tile_trace_follows_the_recurrence_and_ends_at_sdpa():
    t = d.tile_trace()
    q, k, v = example()
    s = scores(q, k)
    assert (t.n, t.d, t.block_q, t.block_k, t.grid) == (16, 4, 4, 4, (4, 4)) and len(t.steps) == 16
    assert T(t.q).equal(q) and T(t.k).equal(k) and T(t.v).equal(v)
    assert [(st.i, st.j) for st in t.steps] == [(i, j) for i in range(4) for j in range(4)]
    for st in t.steps:
        r0, c0 = 4 * st.i, 4 * st.j
        assert st.rows == (r0, r0 + 4) and st.cols == (c0, c0 + 4)
        assert torch.allclose(T(st.scores), s[r0:r0 + 4, c0:c0 + 4], atol=1e-15, rtol=0)
        seen = s[r0:r0 + 4, :c0 + 4]                          # the keys seen so far, recomputed directly
        m = seen.amax(-1)
        p = torch.exp(seen - m[:, None])
        assert torch.allclose(T(st.m), m, atol=1e-15, rtol=0)
        assert torch.allclose(T(st.l), p.sum(-1), rtol=1e-13, atol=0)
        assert torch.allclose(T(st.partial), p @ v[:c0 + 4], rtol=1e-13, atol=1e-14)
        assert torch.allclose(T(st.normalised), torch_attention(q[r0:r0 + 4], k[:c0 + 4], v[:c0 + 4]), atol=1e-13)
        assert st.last == (st.j == 3)
        gap = (torch_attention(q[r0:r0 + 4], k[:c0 + 4], v[:c0 + 4]) - torch_attention(q, k, v)[r0:r0 + 4]).abs()
        assert st.to_out == pytest.approx(float(gap.max()), abs=1e-13) and (st.to_out < 1e-14) == st.last
        if st.j:
            prev = t.steps[t.steps.index(st) - 1]
            assert torch.allclose(T(st.rescale), torch.exp(T(prev.m) - T(st.m)), rtol=1e-14)
        else:
            assert st.rescale == (0.0,) * 4
    ref = torch_attention(q, k, v)
    assert torch.allclose(T(t.out), ref, atol=1e-14, rtol=0) and torch.allclose(T(t.sdpa), ref, atol=1e-14, rtol=0)
    assert t.max_diff < 1e-14 and t.lse_diff < 1e-14
    assert torch.allclose(T(t.lse_torch), torch.logsumexp(s, -1), atol=1e-14) and "2307.08691" in t.source
    assert [T(st.normalised) for st in t.steps if st.last] != [] and all(
        torch.allclose(T(st.normalised), ref[4 * st.i:4 * st.i + 4], atol=1e-14) for st in t.steps if st.last)


def test_causal_tiles_from_index_arithmetic():
    c = d.causal_tiles()
    want = tuple(tuple("skipped" if j > i else "masked" if j == i else "full" for j in range(4)) for i in range(4))
    assert c.status == want and c.grid == (4, 4)
    assert (c.computed, c.skipped, c.masked, c.full) == (10, 6, 4, 6) and c.computed + c.skipped == 16
    assert c.order == tuple((i, j) for i in range(4) for j in range(i + 1))
    assert c.masked_entries == (6,) * 4                         # the strict upper triangle of a 4 × 4 tile
    assert c.out_diff < 1e-14
    assert c.kv_reads_saved == 6 * (4 * 4 + 4 * 4)               # 6 skipped tiles × (K_j + V_j) of 4 × 4


def test_block_sizes_closed_form():
    b = d.block_sizes()
    assert [(r.device[:4], r.d) for r in b.rows] == [("A100", 64), ("A100", 128), ("H100", 64), ("H100", 128)]
    for r in b.rows:
        assert r.m_elems == r.sram_bytes // 2 and r.bytes_per_elem == 2
        assert r.b_c == math.ceil(r.m_elems / (4 * r.d)) and r.b_r == min(r.b_c, r.d)
        assert (r.io_block_c, r.io_block_r) == (r.b_c, r.b_r) and r.tiles_bytes <= r.sram_bytes + 8 * r.d
    assert [(r.b_c, r.b_r) for r in b.rows] == [(384, 64), (192, 128), (456, 64), (228, 128)]
    assert b.rows[0].m_elems == 98_304 and "Algorithm 1 line 1" in b.source and "per SM" in b.rows[0].device


def test_ragged_tiles():
    r = d.ragged_tiles()
    assert r.n == 18 and r.row_blocks == ((0, 4), (4, 8), (8, 12), (12, 16), (16, 18)) == r.col_blocks
    assert r.last_tile_shape == (2, 2) and r.steps == 25 and r.max_diff < 1e-14
    g = torch.Generator().manual_seed(tl.RAGGED_SEED)
    x = torch.round(torch.randn((3, 18, 4), generator=g, dtype=torch.float64), decimals=2)
    import attn_ref as ar
    out = ar.flash_attention(x[0][None, None], x[1][None, None], x[2][None, None], block_q=4, block_k=4)
    assert torch.allclose(out[0, 0], torch_attention(*x), atol=1e-14)


def test_e6_2_and_e6_5_hold_and_wrong_versions_fail():
    assert EQUATIONS["online_softmax_update"].check() and EQUATIONS["flash_block_sizes"].check()
    assert EQUATIONS["softmax_stable"].check()                                  # E6.1, reused
    c_m, c_l, c_o, c_out = EQUATIONS["online_softmax_update"].clauses
    no_rescale = Clause(E.l_j, E._add(E.l_p, E.RowSum(E.p_tile)))              # ℓ not rescaled when m grows
    with pytest.raises(EquationError):
        with_clauses("online_softmax_update", c_m, no_rescale, c_o, c_out).check()
    no_rescale_o = Clause(E.O_j, E._add(E.O_p, E._mul(E.p_tile, E.V_j)))
    with pytest.raises(EquationError):
        with_clauses("online_softmax_update", c_m, c_l, no_rescale_o, c_out).check()
    c_c, c_r = EQUATIONS["flash_block_sizes"].clauses
    floor = Clause(E.B_c, sp.floor(E._mul(E.M_s, sp.Pow(E._mul(4, E.d_s), -1, evaluate=False))))
    with pytest.raises(EquationError):
        with_clauses("flash_block_sizes", floor, c_r).check()
    no_min = Clause(E.B_r, E.big)
    with pytest.raises(EquationError):
        with_clauses("flash_block_sizes", c_c, no_min).check()


def test_scene_constructs_in_a_dry_run():
    from ._helpers import assert_scene_constructs
    assert_scene_constructs("TilingStrategies")


def test_one_topic_section_with_the_outline_title():
    from ._helpers import assert_one_topic_section
    assert_one_topic_section("l06_tiling.py", "L06.2")
