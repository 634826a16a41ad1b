"""L02.6 Output aggregation: per-head writes sum to torch's module output; the equation fails when wrong."""
from __future__ import annotations

import pytest
import sympy as sp
import torch

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import multihead as mh
from scenes.l02_multihead import data as d

from ._helpers import (T, assert_one_topic_section, assert_scene_constructs, torch_attend, torch_mha,
                       with_clauses)


def test_sum_of_head_writes_equals_torchs_output():
    a, w, x = d.head_writes(), d.weights(), d.embed(d.SENTENCE)
    out, p = torch_attend(torch_mha(w.w_q, w.w_k, w.w_v, w.w_o, 2), x)
    v = (x @ w.w_v).reshape(5, 2, 2).transpose(0, 1)  # (H, L, d_h)
    assert torch.allclose(T(a.head_outputs), p @ v, atol=1e-12, rtol=0)
    assert torch.allclose(T(a.sum_of_writes), out, atol=1e-12, rtol=0)
    assert torch.allclose(T(a.forward), out, atol=1e-12, rtol=0)
    assert torch.allclose(T(a.concat_project), T(a.concat) @ w.w_o, atol=1e-12, rtol=0)
    assert a.max_diff_sum_vs_concat < 1e-12 and a.max_diff_sum_vs_forward < 1e-12


def test_each_write_goes_through_its_row_block():
    a, w = d.head_writes(), d.weights()
    for h in range(2):
        assert torch.equal(T(a.o_blocks[h]), w.w_o[2 * h:2 * h + 2])
        assert torch.allclose(T(a.writes[h]), T(a.head_outputs[h]) @ w.w_o[2 * h:2 * h + 2], atol=1e-12, rtol=0)
    assert torch.equal(T(a.concat), torch.cat([T(a.head_outputs[0]), T(a.head_outputs[1])], 1))
    assert float((T(a.writes[0]) - T(a.writes[1])).abs().max()) > 0.1  # two different writers


def test_one_tokens_arrows_add_up_in_the_residual_stream():
    a = d.head_writes()
    t = d.SENTENCE.index(a.token)
    assert torch.equal(T(a.residual), d.embed([a.token])[0])
    assert torch.allclose(T(a.token_writes).sum(0), T(a.forward)[t], atol=1e-12, rtol=0)
    assert torch.allclose(T(a.residual_after), T(a.residual) + T(a.forward)[t], atol=1e-12, rtol=0)


def test_concat_sum_equation_fails_with_a_wrong_block():
    (cl,) = EQUATIONS["concat_project_sum"].clauses
    wrong = Clause(cl.lhs, mh.HeadSum(sp.MatMul(2, mh.head_i, mh.W_Oi)))
    with pytest.raises(EquationError):
        with_clauses("concat_project_sum", wrong).check()


def test_concat_order_must_match_w_os_row_blocks():
    a, w = d.head_writes(), d.weights()
    t = d.SENTENCE.index(a.token)
    heads = T(a.head_outputs)
    assert torch.equal(T(a.swapped_concat), torch.cat([heads[1, t], heads[0, t]]))
    assert torch.allclose(T(a.swapped_output), T(a.swapped_concat) @ w.w_o, atol=1e-12, rtol=0)
    diff = float((T(a.swapped_output) - T(a.forward)[t]).abs().max())
    assert a.max_diff_swapped_vs_forward == diff and diff > 0.5  # visibly not the layer's output


def test_grids_say_their_weights_are_untrained():
    from scenes.l02_multihead.data._shared import UNTRAINED
    assert d.head_writes().weights_origin == UNTRAINED


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("Aggregation")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l02_aggregation.py", "L02.6")
