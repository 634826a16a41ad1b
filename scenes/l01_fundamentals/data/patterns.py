"""L01.8: the worked example's weights as a heat map and arcs, and four canonical patterns from real q, k."""
from __future__ import annotations

from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder

from ._shared import Mat, as_tensor, batched, shared, to_tuple
from .worked_example import worked_example



@dataclass(frozen=True)
class Pattern:
    """One attention pattern: the q, k that produce it and P from ``ar.sdpa(..., return_weights=True)``."""

    name: str
    description: str
    q: Mat
    k: Mat
    scale: float
    weights: Mat
    weights_shown: Mat


@dataclass(frozen=True)
class Patterns:
    """The worked example's weights as a heat map and arcs, and four canonical patterns."""

    tokens: tuple[str, ...]
    heatmap: Mat  # worked example P (rows = queries)
    heatmap_shown: Mat
    arcs: tuple[tuple[int, int, float], ...]  # (query i, key j, P_ij), every pair, largest first
    canonical: tuple[Pattern, ...]  # diagonal, previous token, first token, broad


def _pattern(name, description, q, k, v, scale) -> Pattern:
    _, p = ar.sdpa(batched(q), batched(k), batched(v), scale=scale, return_weights=True)
    p = p[0, 0]
    return Pattern(name, description, to_tuple(q), to_tuple(k), scale, to_tuple(p), to_tuple(ar.round_to_sum(p)))


@builder("L01.8")
def attention_patterns() -> Patterns:
    """Heat-map and arc data of the worked example, and four patterns built from real q, k.

    * diagonal: q_i = k_i = 3 x_i/‖x_i‖, so q_i · k_j = 9 cos θ_ij is largest at j = i;
    * previous token: k_j = PE(j + 1), q_i = PE(i) (sinusoidal table of width 4, base 10, arXiv:1706.03762
      §3.5), so q_i · k_j = Σ_m cos(ω_m (i − j − 1)) is largest at j = i − 1 (scale 5 sharpens it);
    * first token: every query shares a component m; k_0 = 3 m/‖m‖, the other keys are orthogonal to m;
    * broad: q = 0.02 x, so every score is near 0 and every row near uniform.
    """
    s = shared()
    n = len(s.tokens)
    w = worked_example()
    p = as_tensor(w.weights)
    arcs = sorted(((i, j, p[i, j].item()) for i in range(n) for j in range(n)), key=lambda a: -a[2])

    unit = s.x / s.x.norm(dim=-1, keepdim=True)
    diagonal = _pattern("diagonal", "each token attends to itself: keys equal queries, scaled up",
                        3 * unit, 3 * unit, s.v, 1.0)

    pe = ar.sinusoidal_positions(n + 1, 4, base=10.0)
    previous = _pattern("previous token",
                        "each token attends to the one before it (the first, having none, to itself): "
                        "keys are positions shifted by one",
                        pe[:n], pe[1:], s.v, 5.0)

    m = torch.tensor([1.0, 1.0, 1.0, 1.0], dtype=torch.float64)
    m_hat = m / m.norm()
    rest = s.x - (s.x @ m_hat)[:, None] * m_hat  # remove the shared direction
    q_first = m + 0.3 * rest
    k_first = rest.clone()
    k_first[0] = 3 * m_hat
    first = _pattern("first token", "every token attends to the first: its key holds the component all "
                     "queries share", q_first, k_first, s.v, 1.0)

    broad = _pattern("broad", "every token averages over all tokens: scores near zero give near-uniform rows",
                     0.02 * s.x, s.x, s.v, 1.0)
    return Patterns(s.tokens, w.weights, w.weights_shown, tuple(arcs), (diagonal, previous, first, broad))
