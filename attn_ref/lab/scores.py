"""Exact scorers for the lab's tasks and attention maps. Maps are (..., L, L) with rows = queries.

* :func:`previous_token_score` — mean attention from position i to i − 1 (i ≥ 1).
* :func:`induction_score` — mean attention from each token of the second copy of a repeated segment to
  the token *after* its earlier occurrence (the "prefix-matching" score of Olsson et al. 2022,
  arXiv:2209.11895, §"Induction heads"; Elhage et al. 2021's induction pattern).
* :func:`span_mass` — attention mass a query row puts on sets of key positions (answer, distractors).
* :func:`retrieval_accuracy` — exact-match accuracy of predicted tokens.
* :func:`coefficient_of_variation` — std / mean of an expert-load vector (population std).
"""
from __future__ import annotations

import torch

from .._checks import check_tensor

__all__ = ["coefficient_of_variation", "induction_score", "previous_token_score", "retrieval_accuracy",
           "span_mass"]


def _check_map(attn: torch.Tensor) -> None:
    check_tensor("attn", attn)
    if attn.dim() < 2 or attn.shape[-1] != attn.shape[-2]:
        raise ValueError(f"attn must have shape (..., L, L) (queries × keys), got shape {tuple(attn.shape)}")
    if attn.shape[-1] < 2:
        raise ValueError(f"attn needs L >= 2 to have a previous token, got shape {tuple(attn.shape)}")


def previous_token_score(attn: torch.Tensor) -> torch.Tensor:
    """score = mean_{i=1..L−1} A[i, i−1], over the last two axes; returns shape ``attn.shape[:-2]``.

    A perfect previous-token head (A[i, i−1] = 1) scores 1.0; uniform causal attention scores
    mean_i 1/(i+1).
    """
    _check_map(attn)
    return attn.diagonal(offset=-1, dim1=-2, dim2=-1).mean(-1)


def induction_score(attn: torch.Tensor, period: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
    """Prefix-matching score of maps ``attn`` (B, ..., L, L) on :class:`~attn_ref.lab.tasks.RepeatedSequences`.

    For each sample b with period P and first copy starting at a, the second copy occupies positions
    i ∈ [a + P, a + 2P); the earlier occurrence of token i is at i − P and the token after it at
    i − P + 1. score_b = mean_i A[i, i − P + 1]; the result is the mean over samples, shape
    ``attn.shape[1:-2]`` (e.g. (H,) for (B, H, L, L)). A perfect induction head scores 1.0.
    """
    _check_map(attn)
    B, L = attn.shape[0], attn.shape[-1]
    period, start = torch.as_tensor(period).long(), torch.as_tensor(start).long()
    if period.shape != (B,) or start.shape != (B,):
        raise ValueError(f"period and start must have shape (B,) = ({B},), got {tuple(period.shape)} "
                         f"and {tuple(start.shape)}")
    if bool(((start + 2 * period) > L).any()) or bool((period < 1).any()) or bool((start < 0).any()):
        raise ValueError(f"need 0 <= start, 1 <= period and start + 2*period <= L={L}")
    pos = torch.arange(L)
    total = attn.new_zeros(attn.shape[1:-2])
    for b in range(B):
        p, a = int(period[b]), int(start[b])
        i = pos[a + p:a + 2 * p]                                   # second copy
        total = total + attn[b][..., i, i - p + 1].mean(-1)        # A[i, i − P + 1]
    return total / B


def span_mass(row: torch.Tensor, positions) -> torch.Tensor:
    """Σ_{j ∈ positions} row[..., j] — the attention mass of query rows (..., L) on a set of keys.

    ``positions``: a bool mask (..., L) or a list/tensor of indices (shared by all rows).
    For a differential map (A1 − λA2) the mass can be negative; divide by the row sum to compare shares.
    """
    check_tensor("row", row)
    if isinstance(positions, torch.Tensor) and positions.dtype == torch.bool:
        if positions.shape[-1] != row.shape[-1]:
            raise ValueError(f"positions mask must end with L={row.shape[-1]}, got shape {tuple(positions.shape)}")
        return (row * positions.to(row.dtype)).sum(-1)
    idx = torch.as_tensor(positions, dtype=torch.long)
    return row[..., idx].sum(-1)


def retrieval_accuracy(predictions: torch.Tensor, answers: torch.Tensor) -> float:
    """Fraction of exact matches: mean(predictions == answers). ``predictions`` may be token ids (B,) or
    logits (B, V) (argmax is taken)."""
    check_tensor("predictions", predictions)
    check_tensor("answers", answers)
    if predictions.is_floating_point():
        predictions = predictions.argmax(-1)
    if predictions.shape != answers.shape:
        raise ValueError(f"predictions and answers must have the same shape, got {tuple(predictions.shape)} "
                         f"and {tuple(answers.shape)}")
    if answers.numel() == 0:
        raise ValueError("answers is empty")
    return float((predictions == answers).double().mean())


def coefficient_of_variation(load: torch.Tensor) -> float:
    """CV = σ / μ of a load vector (population std over experts). Uniform load gives 0; all load on one
    of N experts gives sqrt(N − 1)."""
    check_tensor("load", load, ndim=1)
    load = load.double()
    mu = load.mean()
    if mu <= 0:
        raise ValueError("load must have a positive mean")
    return float(load.std(unbiased=False) / mu)
