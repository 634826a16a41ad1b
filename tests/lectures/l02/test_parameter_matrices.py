"""L02.2 Parameter matrices: counts against real modules and the closed form, the per-head blocks, and the
storage conventions against torch's own modules."""
from __future__ import annotations

import pytest
import sympy as sp
import torch

import attn_ref as ar
from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import multihead as mh
from scenes.l02_multihead import data as d

from ._helpers import (T, assert_one_topic_section, assert_scene_constructs, torch_attend, torch_mha,
                       with_clauses)


def _module_params(d_model, n_heads, bias):
    with torch.device("meta"):  # counts without allocating Llama-sized weights
        return sum(p.numel() for p in ar.MultiHeadAttention(d_model, n_heads, bias=bias).parameters())


def test_counts_are_the_plans_and_equal_a_real_modules():
    rows = {m.name: m for m in d.parameter_counts().models}
    assert {n: m.params for n, m in rows.items()} == {
        "Transformer base": 1_048_576, "GPT-2 small": 2_362_368, "Llama-2-7B": 67_108_864}
    assert rows["GPT-2 small"].params_shown == "2,362,368"
    assert all(m.params_one_head_shown == m.params_shown for m in rows.values())
    for m in rows.values():
        assert m.params == _module_params(m.d_model, m.n_heads, m.bias)
        assert m.params == 4 * m.d_model ** 2 + (4 * m.d_model if m.bias else 0)
        assert sum(m.per_matrix) == m.params and m.params_one_head == m.params
        assert m.head_dim * m.n_heads == m.d_model


def test_head_blocks_tile_the_matrices_and_read_all_of_d_model():
    s, w = d.head_slices(), d.weights()
    assert torch.equal(torch.cat([T(b) for b in s.q_blocks], 1), w.w_q)
    assert torch.equal(torch.cat([T(b) for b in s.v_blocks], 1), w.w_v)
    assert torch.equal(torch.cat([T(b) for b in s.o_blocks], 0), w.w_o)
    assert s.block_shape == (s.d_model, s.head_dim) == (4, 2)
    assert all(T(b).shape == (4, 2) for b in s.k_blocks)  # every head sees the whole d_model vector


def test_storage_convention_against_torch():
    c = d.storage_convention()
    assert c.paper_shape == (4, 2) and c.linear_weight_shape == (2, 4) and c.linear_max_diff < 1e-12
    assert c.in_proj_shape == (12, 4) and c.in_proj_rows == ((0, 4), (4, 8), (8, 12))
    assert max(c.slice_max_diff) == 0.0 and c.torch_vs_ours_max_diff < 1e-12
    assert (c.torch_bool_true_means, c.sdpa_bool_true_means) == ("masked", "may attend")


def test_running_module_equals_torchs_per_head_weights():
    w, x = d.weights(), d.embed(d.SENTENCE)
    out, p = torch_attend(torch_mha(w.w_q, w.w_k, w.w_v, w.w_o, 2), x)
    with torch.no_grad():
        ours, p_ours = d.running_mha()(x[None], return_weights=True)
    assert torch.allclose(ours[0], out, atol=1e-12, rtol=0) and torch.allclose(p_ours[0], p, atol=1e-12, rtol=0)


def test_parameter_equation_fails_with_three_matrices():
    plain, with_bias = EQUATIONS["attention_params"].clauses
    with pytest.raises(EquationError):
        with_clauses("attention_params", Clause(plain.lhs, 3 * mh.d_model ** 2), with_bias).check()
    with pytest.raises(EquationError):
        with_clauses("attention_params", plain, Clause(with_bias.lhs, sp.Add(4 * mh.d_model ** 2, mh.d_model,
                                                                             evaluate=False))).check()


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("ParameterMatrices")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l02_parameter_matrices.py", "L02.2")
