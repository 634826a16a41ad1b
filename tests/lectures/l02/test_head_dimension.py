"""L02.4 Head dimension: the table against modules and presets, FLOPs against torch's FLOP counter, and the
1/√d_h scale's effect recomputed by hand."""
from __future__ import annotations

import math

import pytest
import sympy as sp
import torch
from torch.utils.flop_counter import FlopCounterMode

import attn_ref as ar
from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import multihead as mh
from scenes.l02_multihead import data as d
from scenes.l02_multihead.data import head_dimension as hd

from ._helpers import assert_one_topic_section, assert_scene_constructs, with_clauses

PLAN = {"Transformer base": 64, "Transformer big": 64, "GPT-2 small": 64, "GPT-3 175B": 128, "Llama-2-7B": 128,
        "Llama-2-70B": 128}


def test_head_dims_are_the_plans_and_ar_builds_them():
    t = d.head_dims()
    assert {r.name: r.head_dim for r in t.rows} == PLAN and [r.name for r in t.rows] == list(PLAN)
    for r in t.rows:
        assert r.tiles and r.ratio == r.head_dim and r.q_proj_shape == (r.d_model, r.d_model)
        with torch.device("meta"):
            assert ar.MultiHeadAttention(r.d_model, r.n_heads).head_dim == r.head_dim
    presets = {c.name: c for c in ar.PRESETS.values()}
    for r in t.rows:
        if r.name in presets:
            assert (presets[r.name].d_model, presets[r.name].n_heads) == (r.d_model, r.n_heads)
            assert r.source.startswith("attn_ref preset")
        else:
            assert "arXiv:" in r.source


def test_the_counter_example_does_not_tile():
    c = d.head_dims().counter_example
    assert (c.d_model, c.n_heads, c.head_dim) == (2304, 8, 256)
    assert not c.tiles and c.q_proj_shape == (2304, 2048) and c.ratio == 288
    with torch.device("meta"):  # our module derives d_h = d_model / H, so it cannot hold this shape
        assert ar.MultiHeadAttention(2304, 8).head_dim != c.head_dim
    assert d.head_dims().fused_max_head_dim == 256 and "2307.08691" in d.head_dims().fused_source


def test_flops_and_params_do_not_depend_on_heads():
    f = d.flop_invariance()
    assert f.heads == (1, 2, 4, 8, 16, 32) and all(h * w == f.d_model for h, w in zip(f.heads, f.head_dims))
    assert set(f.flops) == {f.closed_form} == {4 * f.batch * f.n ** 2 * f.d_model} == {2_147_483_648}
    assert set(f.params) == {4 * f.d_model ** 2}
    assert f.flops_shown == "2,147,483,648"
    for heads, width, flops in zip(f.heads, f.head_dims, f.flops):  # torch's own count of QKᵀ and PV
        q = torch.empty(f.batch, heads, f.n, width, device="meta")
        with FlopCounterMode(display=False) as counter:
            (q @ q.transpose(-1, -2)) @ q
        assert counter.get_total_flops() == flops


def test_scale_uses_the_head_width():
    s = d.scale_sharpness()
    right, wrong = s.rows
    assert (s.head_dim, right.scale) == (64, 1 / 8) and wrong.scale == pytest.approx(1 / math.sqrt(512), rel=1e-15)
    assert s.std_ratio == pytest.approx(math.sqrt(s.n_heads), rel=1e-12)
    assert abs(right.score_std - 1) < 0.1 and abs(wrong.score_std - 1 / math.sqrt(8)) < 0.05
    assert wrong.mean_max_weight < right.mean_max_weight and right.mean_entropy < wrong.mean_entropy < s.uniform_entropy
    g = torch.Generator().manual_seed(hd.SCALE_SHAPE["seed"])
    q, k = (torch.randn(1, 1, s.n, s.head_dim, generator=g, dtype=torch.float64) for _ in range(2))
    for row in (right, wrong):
        p = torch.softmax(q @ k.transpose(-1, -2) * row.scale, dim=-1)
        assert row.mean_max_weight == pytest.approx(float(p.max(-1).values.mean()), rel=1e-12)
        assert row.mean_entropy == pytest.approx(float(-(p * p.log()).sum(-1).mean()), rel=1e-12)
    assert s.max_weight_row[0] > s.max_weight_row_wrong[0] > s.uniform_weight


def test_wrong_head_dim_flops_and_rank_equations_fail():
    (hdim,) = EQUATIONS["head_dim"].clauses
    with pytest.raises(EquationError):
        with_clauses("head_dim", Clause(hdim.lhs, mh.d_model / (2 * mh.H))).check()
    (fl,) = EQUATIONS["attention_flops_heads"].clauses
    with pytest.raises(EquationError):
        with_clauses("attention_flops_heads", Clause(fl.lhs, sp.Mul(2, mh.b, mh.n ** 2, mh.d_model,
                                                                    evaluate=False))).check()
    (rk,) = EQUATIONS["score_rank"].clauses
    with pytest.raises(EquationError):
        with_clauses("score_rank", Clause(rk.lhs, mh.d_h - 1, rel=r"\le")).check()


def test_each_row_cites_its_sources_authors():
    t = d.head_dims()
    for r in (*t.rows, t.counter_example):
        assert r.cite and r.cite in r.source and r.cite[-4:].isdigit()
    assert [r.cite for r in t.rows][:2] == ["Vaswani et al. 2017"] * 2 and t.counter_example.cite == "Gemma Team 2024"


def test_table_strings_are_the_counts():
    f = d.flop_invariance()
    assert [int(s.replace(",", "")) for s in f.flops_each_shown] == list(f.flops)
    assert [int(s.replace(",", "")) for s in f.params_each_shown] == list(f.params)
    assert f.flops_each_shown[0] == f.flops_shown


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("HeadDimension")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l02_head_dimension.py", "L02.4")
