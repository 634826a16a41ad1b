"""L01.2 Evolution: a real RNN, the seq2seq bottleneck and Bahdanau's alignment, and the scene's dry run."""
from __future__ import annotations

import math

import torch

import attn_ref as ar
from scenes.kit.equations import EQUATIONS
from scenes.l01_fundamentals import data as d

from ._helpers import T, assert_one_topic_section, assert_rows_sum_to_one_shown, assert_scene_constructs

FILE, SCENE, TOPIC = "l01_evolution.py", "Evolution", "L01.2"


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs(SCENE)


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section(FILE, TOPIC)


# ------------------------------------------------------------------------------------------ data


def test_rnn_states_follow_the_elman_recurrence():
    r = d.rnn_states()
    assert len(r.states) == len(r.tokens) == len(d.SENTENCE) and all(len(h) == 4 for h in r.states)
    h = torch.zeros(4, dtype=torch.float64)
    for x, want in zip(T(r.inputs), T(r.states), strict=True):
        h = torch.tanh(T(r.w_ih) @ x + T(r.b_ih) + T(r.w_hh) @ h + T(r.b_hh))
        assert torch.allclose(h, want, atol=1e-12)


def test_bottleneck_vectors_have_equal_size():
    b = d.seq2seq_bottleneck()
    assert b.lengths[0] != b.lengths[1]
    assert len(b.final_states[0]) == len(b.final_states[1]) == b.state_size == 4
    assert b.input_numbers == tuple(n * 4 for n in b.lengths)
    assert b.final_states[0] == d.rnn_states().states[-1]
    assert all(s[-1] == f for s, f in zip(b.states, b.final_states, strict=True))


def test_bahdanau_alignment():
    a = d.bahdanau_alignment()
    h, s = T(a.encoder_states), T(a.decoder_state)
    e = torch.tanh(T(a.w) @ s + h @ T(a.u).T) @ T(a.v)
    assert torch.allclose(e, T(a.scores), atol=1e-12)
    assert torch.allclose(T(a.weights), torch.softmax(e, -1), atol=1e-12)
    assert math.isclose(sum(a.weights), 1.0, abs_tol=1e-12)
    assert_rows_sum_to_one_shown([a.weights_shown])
    assert torch.allclose(T(a.context), T(a.weights) @ h, atol=1e-12)
    assert 0.3 < max(a.weights) < 0.9  # a visible but not one-hot alignment


def test_bahdanau_context_equation_matches_the_data():
    """The registry's c_i = Σ_j α_ij h_j holds (its claim) and reproduces the scene's context vector."""
    assert EQUATIONS["bahdanau_context"].check()
    a = d.bahdanau_alignment()
    alpha, h = d.as_tensor(a.weights), d.as_tensor(a.encoder_states)
    assert torch.allclose(alpha, ar.softmax(d.as_tensor(a.scores)))
    assert torch.allclose((alpha[:, None] * h).sum(0), d.as_tensor(a.context), atol=1e-12)
