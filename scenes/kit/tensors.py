"""Tensor ⇄ plain-value helpers every lecture's data package shares (pure torch, no manim).

Builders return nested tuples of Python floats (exact float64 values, immutable, safe to cache);
:func:`to_tuple` makes them, :func:`as_tensor` turns them back into float64 tensors, and :func:`gaussian`
draws the seeded, rounded matrices whose printed values are exactly the values used.
"""
from __future__ import annotations

import torch

__all__ = ["as_tensor", "gaussian", "to_tuple"]


def to_tuple(x) -> tuple:
    """A tensor (any shape) as nested tuples of Python floats (bools stay bools); a 0-d tensor as a scalar."""
    x = torch.as_tensor(x).detach()
    if x.dim() == 0:
        return x.item()
    return tuple(to_tuple(r) for r in x) if x.dim() > 1 else tuple(x.tolist())


def as_tensor(m) -> torch.Tensor:
    """Nested tuples of floats (as returned by the builders) back to a float64 tensor."""
    return torch.tensor(m, dtype=torch.float64)


def gaussian(shape, seed: int, std: float = 1.0, decimals: int = 2) -> torch.Tensor:
    """Seeded N(0, std²) entries rounded to ``decimals`` places, float64."""
    g = torch.Generator().manual_seed(seed)
    return torch.round(torch.randn(shape, generator=g, dtype=torch.float64) * std, decimals=decimals)
