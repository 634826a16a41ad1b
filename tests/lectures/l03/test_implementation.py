"""L03.3 Implementation details: the pairings and HF's conversion permutation, the wrong-pairing pitfall,
bf16 angles, partial rotary, cached keys and left-padding positions — against direct loops and torch."""
from __future__ import annotations

import math

import pytest
import torch

from scenes.kit.equations import EQUATIONS, Clause, EquationError
from scenes.kit.equations import rope as eqr
from scenes.l03_rope import data as d
from scenes.l03_rope.data import implementation as im

from ._helpers import (T, assert_one_topic_section, assert_scene_constructs, inv_freq, is_toeplitz, rotate_loop,
                       with_clauses)


def test_pairings_and_the_hf_permutation():
    p = d.pairings()
    assert p.half_pairs == ((0, 4), (1, 5), (2, 6), (3, 7))
    assert p.interleaved_pairs == ((0, 1), (2, 3), (4, 5), (6, 7))
    hf = torch.arange(8).view(4, 2).transpose(0, 1).reshape(8).tolist()   # convert_llama_weights_to_hf, one head
    assert list(p.permutation) == hf == [0, 2, 4, 6, 1, 3, 5, 7]
    x, th = p.x, inv_freq(8)
    px = [x[i] for i in p.permutation]
    assert p.half_of_px == pytest.approx(rotate_loop(px, p.position, th, "half"), abs=1e-12)
    inter = rotate_loop(x, p.position, th, "interleaved")
    assert p.p_of_interleaved == pytest.approx([inter[i] for i in p.permutation], abs=1e-12)
    assert p.max_difference < 1e-12 and "GPT-NeoX" in p.half_users and "GPT-J" in p.interleaved_users


def _map_by_hand(q, k, pq, pk, n, dim):
    th = inv_freq(dim)
    qs = torch.tensor([rotate_loop(q, m, th, pq) for m in range(n)], dtype=torch.float64)
    ks = torch.tensor([rotate_loop(k, m, th, pk) for m in range(n)], dtype=torch.float64)
    s = qs @ ks.T / math.sqrt(dim)
    s = s.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf"))
    return s, torch.softmax(s, -1)


def test_wrong_pairing_moves_the_map_without_an_error():
    w = d.wrong_pairing()
    q = (im.gaussian((im.PIT_DIM,), im.PIT_SEED).abs() * im.PIT_SHARPNESS).tolist()
    k = rotate_loop(q, 1, inv_freq(im.PIT_DIM), "interleaved")          # the designed key: R_1 q
    maps = {}
    for name, pq, pk in (("correct", "interleaved", "interleaved"), ("wrong", "half", "half"),
                         ("mixed", "half", "interleaved")):
        s, p = _map_by_hand(q, k, pq, pk, w.n, w.head_dim)
        maps[name] = (s, p)
        assert torch.allclose(T(getattr(w, f"{name}_map")), p, atol=1e-12)
        prev = float(torch.stack([p[i, i - 1] for i in range(1, w.n)]).mean())
        assert getattr(w, f"{name}_prev_mass") == pytest.approx(prev, abs=1e-12)
    assert w.correct_prev_mass > 0.8 > 0.5 > w.wrong_prev_mass and w.correct_peak_offset == -1
    assert w.wrong_peak_offset != -1 and w.max_map_difference > 0.3 and not w.raised
    # consistent pairing (right or wrong) keeps the score grid Toeplitz; mixing pairings between q and k does not
    tri = lambda s: [[float(s[i, j]) if j <= i else 0.0 for j in range(w.n)] for i in range(w.n)]  # noqa: E731
    assert is_toeplitz(tri(maps["correct"][0])) and is_toeplitz(tri(maps["wrong"][0]))
    assert not is_toeplitz(tri(maps["mixed"][0]), 1e-3)
    assert w.correct_deviation < 1e-12 and w.wrong_deviation < 1e-12 and w.mixed_deviation > 0.5
    assert "huggingface/transformers#25199" in w.issues and "untrained" in w.caption


def test_bf16_angles():
    b = d.bf16_angles()
    assert b.positions == (1000, 4000) and b.spacing == (4.0, 16.0)     # 8 significant bits: 2^(9−7), 2^(11−7)
    assert b.exact_in_bf16 == (True, True) and b.fastest_error_at == (0.0, 0.0)
    assert b.fastest_max_error_near == (2.0, 8.0)                        # half the spacing, in radians (θ_0 = 1)
    assert b.largest_exact_integer_run == 256 == 2 ** b.significant_bits and b.significant_bits == 8
    assert torch.tensor(257.0).to(torch.bfloat16).item() != 257 and torch.tensor(256.0).to(torch.bfloat16).item() == 256
    th = inv_freq(128)
    for p, worst, plane in zip(b.positions, b.worst_plane_error_at, b.worst_plane):
        ang = (torch.tensor(float(p)).to(torch.bfloat16) * th.to(torch.bfloat16)).double()
        err = (ang - p * th).abs()
        assert worst == pytest.approx(float(err.max()), abs=1e-12) and plane == int(err.argmax())
    assert b.worst_plane_error_at[1] > 8
    sp = b.spacing[0]
    assert b.near_positions == tuple(range(b.positions[0], b.positions[0] + 2 * int(sp) + 1))
    assert b.near_in_bf16 == tuple(sp * round(p / sp) for p in b.near_positions)   # nearest, ties to even
    assert max(abs(r - p) for p, r in zip(b.near_positions, b.near_in_bf16)) == b.fastest_max_error_near[0]


def test_partial_rotary_passes_the_rest_through():
    pr = d.partial_rotary()
    assert (pr.head_dim, pr.rotary_pct, pr.rotary_dim, pr.passthrough_dim) == (96, 0.25, 24, 72)
    assert pr.passthrough_unchanged and pr.rotated_changed and "rotary_pct 0.25" in pr.note


def test_cached_keys_and_left_padding():
    c = d.cached_keys()
    assert c.steps == 6 and c.max_score_difference < 1e-12
    mask = torch.tensor(c.pad_mask)
    assert c.positions_from_mask == tuple((mask.cumsum(0) - 1).masked_fill(mask == 0, 1).tolist()) == (1, 1, 0, 1, 2)
    assert c.naive_positions == (0, 1, 2, 3, 4) and c.rope_scores_equal_under_shift


def test_wrong_formulas_fail_their_claims():
    (cl,) = EQUATIONS["rope_pairing"].clauses
    no_p = Clause(cl.lhs, eqr.RopeOp(eqr.x_vec, eqr.m_pos, "interleaved"))   # forgetting P on the right
    with pytest.raises(EquationError):
        with_clauses("rope_pairing", no_p).check()
    same = Clause(cl.lhs, eqr.RopeOp(eqr.sp.MatMul(eqr.P_mat, eqr.x_vec), eqr.m_pos, "interleaved"))
    with pytest.raises(EquationError):
        with_clauses("rope_pairing", same).check()


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs("RopeImplementation")


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section("l03_implementation.py", "L03.3")
