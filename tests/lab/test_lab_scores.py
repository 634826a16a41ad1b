"""Scorers on hand-made attention maps and outputs."""
import math

import pytest
import torch

from attn_ref.lab import (coefficient_of_variation, induction_score, previous_token_score, retrieval_accuracy,
                          span_mass)


def _prev_token_map(L):
    a = torch.zeros(L, L)
    a[0, 0] = 1.0
    for i in range(1, L):
        a[i, i - 1] = 1.0
    return a


def test_perfect_previous_token_head_scores_one():
    a = _prev_token_map(8)
    assert previous_token_score(a).item() == 1.0
    batch = torch.stack([a, a])[:, None].expand(2, 3, 8, 8)       # (B, H, L, L)
    assert torch.equal(previous_token_score(batch), torch.ones(2, 3))


def test_uniform_causal_map_previous_token_score():
    L = 6
    a = torch.tril(torch.ones(L, L))
    a = a / a.sum(-1, keepdim=True)
    expected = sum(1 / (i + 1) for i in range(1, L)) / (L - 1)
    assert previous_token_score(a).item() == pytest.approx(expected)


def test_perfect_induction_head_scores_one():
    # sample 0: period 3, copy starts at 1; sample 1: period 2, copy starts at 0; L = 8
    L = 8
    period, start = torch.tensor([3, 2]), torch.tensor([1, 0])
    maps = torch.zeros(2, 1, L, L)
    for b in range(2):
        p = int(period[b])
        for i in range(L):
            j = i - p + 1 if i >= int(start[b]) + p else i          # induction target, else self
            maps[b, 0, i, j] = 1.0
    assert induction_score(maps, period, start).tolist() == [1.0]
    # a previous-token head scores 0 on the induction score (period > 2 offsets differ)
    prev = _prev_token_map(L)[None, None].expand(2, 1, L, L)
    assert induction_score(prev, torch.tensor([3, 4]), torch.tensor([1, 0])).tolist() == [0.0]


def test_induction_score_checks_arguments():
    with pytest.raises(ValueError, match="start \\+ 2\\*period"):
        induction_score(torch.zeros(1, 1, 4, 4), torch.tensor([3]), torch.tensor([0]))
    with pytest.raises(ValueError, match="shape \\(B,\\)"):
        induction_score(torch.zeros(2, 1, 8, 8), torch.tensor([3]), torch.tensor([0]))
    with pytest.raises(ValueError, match=r"\(\.\.\., L, L\)"):
        previous_token_score(torch.zeros(3, 4))


def test_span_mass_and_shares():
    row = torch.tensor([[0.1, 0.2, 0.3, 0.4]])
    assert span_mass(row, [1, 3]).item() == pytest.approx(0.6)
    mask = torch.tensor([[True, False, False, True]])
    assert span_mass(row, mask).item() == pytest.approx(0.5)
    signed = torch.tensor([0.5, -0.1, 0.4])                         # a differential row, sum 0.8
    assert span_mass(signed, [0]).item() / signed.sum().item() == pytest.approx(0.625)


def test_retrieval_accuracy_on_known_outputs():
    answers = torch.tensor([5, 7, 9, 11])
    assert retrieval_accuracy(torch.tensor([5, 7, 0, 11]), answers) == 0.75
    logits = torch.zeros(4, 16)
    logits[torch.arange(4), torch.tensor([5, 1, 9, 2])] = 3.0
    assert retrieval_accuracy(logits, answers) == 0.5
    with pytest.raises(ValueError, match="same shape"):
        retrieval_accuracy(torch.tensor([1, 2]), answers)


def test_coefficient_of_variation():
    assert coefficient_of_variation(torch.full((8,), 3.0)) == 0.0
    collapsed = torch.zeros(8)
    collapsed[2] = 100.0
    assert coefficient_of_variation(collapsed) == pytest.approx(math.sqrt(7))
    assert coefficient_of_variation(torch.tensor([1.0, 3.0])) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="positive mean"):
        coefficient_of_variation(torch.zeros(4))
