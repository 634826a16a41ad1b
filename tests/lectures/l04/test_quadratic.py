"""L04.1 Quadratic scaling: the grid counts against closed forms, the score counter against n² and the
K/V strip against 2·h·d_h·n, and the FLOPs per token of the Llama-2-7B layer written out by hand."""
from __future__ import annotations

import pytest
import sympy as sp

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import context as eqc
from scenes.l04_context import data as d

from ._helpers import D_MODEL, HEAD_DIM, HEADS, P_LAYER, assert_one_topic_section, assert_scene_constructs, with_clauses


def test_score_grids():
    g = d.score_grids()
    assert [r.n for r in g.rows] == [8, 16, 32, 64, 128]
    for r in g.rows:
        kept = sum(1 for i in range(r.n) for j in range(r.n) if j <= i)     # a direct loop over the grid
        assert (r.cells, r.kept, r.masked, r.mask_kept_check) == (r.n ** 2, kept, r.n ** 2 - kept, kept)


def test_score_counter():
    c = d.score_counter()
    assert (c.batch, c.n_heads, c.head_dim) == (1, 32, 128)
    for r in c.rows:
        assert r.score_elements == HEADS * r.n ** 2 and r.score_bytes == 2 * r.score_elements
        assert r.kv_elements == 2 * HEADS * HEAD_DIM * r.n and r.kv_bytes == 2 * r.kv_elements
        assert r.ratio == pytest.approx(r.n / (2 * HEAD_DIM)) and r.score_mib == r.score_bytes / 2 ** 20
    assert c.gib_at_16k == 16.0 and c.kv_equals_scores_at == 256
    by = {r.n: r for r in c.rows}
    assert by[256 * 4].ratio == 4 and by[131072].score_bytes == 2 ** 40        # 1 TiB per layer at 128K


def test_flops_per_token_by_hand():
    f = d.flops_per_token()
    assert P_LAYER == 202_375_168 == f.p_layer
    for r in f.rows:
        assert r.dense == 2 * P_LAYER
        assert r.attention == 4 * r.n * D_MODEL and r.attention_causal == 2 * r.n * D_MODEL
        assert r.attention_share == pytest.approx(r.attention / (r.attention + r.dense))
    assert f.crossover == 2 * P_LAYER / (4 * D_MODEL) == 24_704
    assert f.crossover_causal == P_LAYER / D_MODEL == 49_408
    assert (f.gpt_rule_d, f.gpt_rule_crossover, f.gpt_rule_crossover_causal) == (768, 6 * 768, 12 * 768)
    by = {r.n: r for r in f.rows}
    assert by[16384].attention < by[16384].dense < by[32768].attention        # non-causal crossover between
    assert by[32768].attention_causal < by[32768].dense < by[65536].attention_causal
    assert by[4096].attention_share == pytest.approx(4 * 4096 / (4 * 4096 + 2 * P_LAYER / D_MODEL))


def test_equations_fail_when_wrong():
    (sb,) = EQUATIONS["score_bytes"].clauses
    with pytest.raises(EquationError):
        with_clauses("score_bytes", Clause(sb.lhs, eqc._mul(eqc.b, eqc.h, eqc.n, eqc.beta_elem))).check()
    full, causal, tri = EQUATIONS["attention_flops_causal"].clauses
    with pytest.raises(EquationError):
        with_clauses("attention_flops_causal", Clause(full.lhs, eqc._mul(2, eqc.b, eqc.h, eqc.n_q, eqc.n_k, eqc.d)),
                     causal, tri).check()
    with pytest.raises(EquationError):
        with_clauses("attention_flops_causal", full, causal, Clause(tri.lhs, eqc.n ** 2 / 2)).check()
    bal, solved, rule = EQUATIONS["attention_mlp_crossover"].clauses
    with pytest.raises(EquationError):
        with_clauses("attention_mlp_crossover", bal, Clause(solved.lhs, eqc.P_layer / eqc.d), rule).check()
    with pytest.raises(EquationError):
        wrong_rule = Clause(rule.lhs, sp.Eq(eqc.n_star, eqc._mul(12, eqc.d), evaluate=False), r"\Rightarrow")
        with_clauses("attention_mlp_crossover", bal, solved, wrong_rule).check()


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("QuadraticScaling")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l04_quadratic.py", "L04.1")
