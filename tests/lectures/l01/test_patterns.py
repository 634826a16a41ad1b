"""L01.8 Attention patterns: the heat map and arcs of the worked example and four canonical patterns from
real q, k, and the scene's dry run."""
from __future__ import annotations

import torch

import attn_ref as ar
from scenes.l01_fundamentals import data as d

from ._helpers import T, assert_one_topic_section, assert_rows_sum_to_one_shown, assert_scene_constructs, batched

FILE, SCENE, TOPIC = "l01_patterns.py", "AttentionPatterns", "L01.8"


def test_scene_constructs_in_a_dry_run():
    assert_scene_constructs(SCENE)


def test_one_topic_section_with_the_outline_title():
    assert_one_topic_section(FILE, TOPIC)


# ------------------------------------------------------------------------------------------ data


def test_attention_patterns():
    pt = d.attention_patterns()
    n = len(pt.tokens)
    assert len(pt.arcs) == n * n and [a[2] for a in pt.arcs] == sorted((a[2] for a in pt.arcs), reverse=True)
    by = {p.name: p for p in pt.canonical}
    assert list(by) == ["diagonal", "previous token", "first token", "broad"]
    for p in pt.canonical:
        _, ref = ar.sdpa(batched(p.q), batched(p.k), batched(p.q), scale=p.scale, return_weights=True)
        assert torch.allclose(T(p.weights), ref[0, 0], atol=1e-12)
        assert_rows_sum_to_one_shown(p.weights_shown)
        assert p.description
    arg = {name: T(p.weights).argmax(-1).tolist() for name, p in by.items()}
    assert arg["diagonal"] == list(range(n))
    assert arg["previous token"][1:] == list(range(n - 1))
    assert arg["first token"] == [0] * n
    assert (T(by["broad"].weights) - 1 / n).abs().max() < 0.05
    for name in ("diagonal", "previous token", "first token"):
        assert T(by[name].weights).max(-1).values[1:].min() > 0.8  # sharp


def test_numbers_the_scene_speaks():
    """Facts the narration states in words (not as numbers) hold for the data."""
    p = d.attention_patterns()
    broad = d.as_tensor(p.canonical[3].weights)
    assert (broad - 1 / broad.shape[-1]).abs().max() < 0.05  # "close to uniform"
    first = d.as_tensor(p.canonical[2].weights)
    assert (first[:, 0] > 0.95).all()  # "nearly all of its weight on the first token"
