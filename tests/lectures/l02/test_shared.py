"""Lecture 2's shared inputs: Lecture 1's sentence and embeddings by value, the running example's weights."""
from __future__ import annotations

import torch

from scenes.l01_fundamentals.data import _shared as l01
from scenes.l02_multihead.data import _shared as s


def test_running_example_equals_lecture_1s():
    assert (s.SENTENCE, s.VOCAB, s.D_MODEL, s.EMBED_SEED, s.PAD) == (l01.SENTENCE, l01.VOCAB, l01.D_MODEL,
                                                                      l01.EMBED_SEED, l01.PAD)
    assert torch.equal(s.embed(s.SENTENCE), l01.embed(l01.SENTENCE))


def test_weights_are_two_decimal_and_loaded_transposed():
    w = s.weights()
    for m in (w.w_q, w.w_k, w.w_v, w.w_o):
        assert m.shape == (4, 4) and torch.allclose(m * 100, torch.round(m * 100), atol=1e-9, rtol=0)
    mha = s.running_mha()
    x = s.embed(s.SENTENCE)
    assert torch.equal(mha.q_proj.weight, w.w_q.T) and torch.equal(mha.o_proj.weight, w.w_o.T)
    assert (mha.n_heads, mha.head_dim, mha.causal) == (2, 2, False)
    assert torch.allclose(mha.q_proj(x), x @ w.w_q, atol=1e-12, rtol=0)


def test_head_block_slices_columns_or_rows():
    w = torch.arange(16.0).reshape(4, 4)
    assert torch.equal(s.head_block(w, 1), w[:, 2:4]) and torch.equal(s.head_block(w, 1, rows=True), w[2:4])


def test_unknown_token_is_refused():
    import pytest

    with pytest.raises(ValueError, match="not in the vocabulary"):
        s.embed(["the", "zebra"])
