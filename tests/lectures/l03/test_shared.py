"""Lecture 3's shared inputs and helpers: seeded, rounded, and the helpers agree with direct loops."""
from __future__ import annotations

import pytest
import torch

from scenes.l03_rope import data as d
from scenes.l03_rope.data import _shared as sh

from ._helpers import inv_freq, is_toeplitz, rotate_loop


def test_embeddings_and_projections_are_seeded_and_rounded():
    x = d.embed(["dog", "bites", "man"])
    assert x.shape == (3, sh.EMBED_DIM) and torch.equal(x, torch.round(x, decimals=2))
    w_q, w_k, w_v = d.projections()
    assert all(w.shape == (4, 4) and torch.equal(w, torch.round(w, decimals=2)) for w in (w_q, w_k, w_v))
    d.cache_clear()
    assert torch.equal(d.embed(["dog"]), x[:1])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        d.embed(["cat"])


def test_rotate_is_a_direct_loop_per_position_and_pairing():
    x = torch.arange(1.0, 9.0, dtype=torch.float64)
    th = inv_freq(8)
    for pairing in ("half", "interleaved"):
        got = d.rotate(x, [0, 3, 100], th, pairing)
        for row, p in zip(got, (0, 3, 100)):
            assert row.tolist() == pytest.approx(rotate_loop(x, p, th, pairing), abs=1e-12)


def test_toeplitz_deviation():
    g = torch.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, 2.0], [-1.0, 0.0, 1.0]])
    assert d.toeplitz_deviation(g) == 0 and is_toeplitz(g.tolist())
    g[2, 2] = 1.5
    assert d.toeplitz_deviation(g) == pytest.approx(0.5) and not is_toeplitz(g.tolist())


def test_lab_source_names_the_experiment_and_command():
    from ._helpers import raw_result
    line = sh.lab_source(raw_result("needle_haystack"))
    assert "needle_haystack" in line and "scripts/experiments.py run needle_haystack" in line
