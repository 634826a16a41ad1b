"""L02.3 Linear projections: the head split against numpy-style reshapes and torch's module, the wrong view,
and cross-attention's rectangular grid."""
from __future__ import annotations

import pytest
import torch

from scenes.l02_multihead import data as d

from ._helpers import T, assert_one_topic_section, assert_scene_constructs, torch_attend, torch_mha


def test_each_head_is_x_times_its_column_block():
    s, w, x = d.split_heads(), d.weights(), d.embed(d.SENTENCE)
    assert torch.equal(T(s.x), x) and torch.equal(T(s.w_q), w.w_q)
    assert torch.allclose(T(s.q), x @ w.w_q, atol=1e-12, rtol=0)
    for h in range(2):  # the product shown beside each head: X times its column block alone
        assert torch.allclose(T(s.block_products[h]), x @ w.w_q[:, 2 * h:2 * h + 2], atol=1e-12, rtol=0)
        assert torch.allclose(T(s.block_products[h]), T(s.heads[h]), atol=1e-12, rtol=0)
    for h in range(2):
        assert torch.allclose(T(s.heads[h]), x @ w.w_q[:, 2 * h:2 * h + 2], atol=1e-12, rtol=0)
    assert s.head_equals_block_max_diff < 1e-12
    assert s.memory_order[:4] == ("t0 h0 d0", "t0 h0 d1", "t0 h1 d0", "t0 h1 d1") and len(s.memory_order) == 20


def test_view_without_transpose_cuts_the_buffer_in_halves():
    s = d.split_heads()
    flat = T(s.q).reshape(-1)  # row-major buffer of (L, H·d_h)
    assert torch.equal(T(s.wrong_heads), flat.reshape(2, 5, 2))
    assert s.wrong_head_tokens == (("the", "the", "cat", "cat", "sat"), ("sat", "on", "on", "mats", "mats"))
    assert s.wrong_head_mixes_heads
    assert s.wrong_head_sources[1][0] == ("t2 h1 d0", "t2 h1 d1")


def test_wrong_split_gives_a_wrong_output_and_the_right_one_equals_torch():
    s, w, x = d.split_heads(), d.weights(), d.embed(d.SENTENCE)
    _, p = torch_attend(torch_mha(w.w_q, w.w_k, w.w_v, w.w_o, 2), x)
    assert torch.allclose(T(s.weights), p, atol=1e-12, rtol=0)
    assert s.output_max_diff > 0.5 and s.weights_max_diff > 0.1
    q, k = ((x @ m).reshape(2, 5, 2) for m in (w.w_q, w.w_k))  # the wrong split, by hand
    wrong = torch.softmax(q @ k.transpose(-1, -2) / 2 ** 0.5, dim=-1)
    assert torch.allclose(T(s.wrong_weights), wrong, atol=1e-12, rtol=0)
    assert float((wrong - p).abs().max()) == pytest.approx(s.weights_max_diff, abs=1e-12)


def test_cross_attention_is_rectangular_and_equals_torch():
    c, w = d.cross_attention(), d.weights()
    dec, enc = d.embed(c.queries), d.embed(c.keys)
    _, p = torch_attend(torch_mha(w.w_q, w.w_k, w.w_v, w.w_o, 2), dec, context=enc)
    assert c.grid_shape == (3, 5) and c.output_shape == (3, 4) and len(c.queries) != len(c.keys)
    assert torch.allclose(T(c.weights), p, atol=1e-12, rtol=0)
    shown = T(c.shown_weights)
    assert torch.allclose(shown.sum(-1), torch.ones(2, 3, dtype=torch.float64), atol=1e-9)
    assert float((shown - p).abs().max()) <= 0.01 + 1e-9


def test_grids_from_untrained_weights_say_so():
    for origin in (d.split_heads().weights_origin, d.cross_attention().weights_origin,
                   d.convex_hull().weights_origin, d.two_token_query().weights_origin):
        assert origin.startswith("untrained")


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("Projections")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l02_projections.py", "L02.3")
