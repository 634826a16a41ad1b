"""Shared inputs of Lecture 3: the toy sentences and their seeded embeddings and projections, the frequency
configurations every topic plots (d = 128, base 10⁴; Llama 3.1's base 5·10⁵), the lab source line, and two
small helpers: rotating one vector at many positions with ``attn_ref.apply_rope`` and measuring how far a
grid is from Toeplitz (constant along its diagonals).

Plane index convention: the code's 0-based ``i`` (``inv_freq[i] = base^(−2i/d)``); the RoFormer paper's
θ_i is 1-based (θ_i = base^(−2(i−1)/d)). Every builder that names a plane uses the code's index.
"""
from __future__ import annotations

import math

import torch

import attn_ref as ar
from scenes.kit.data_builders import shared_input
from scenes.kit.tensors import as_tensor, gaussian, to_tuple  # noqa: F401  (re-exported to the topics)

Vec = tuple[float, ...]
Mat = tuple[Vec, ...]

HEAD_DIM = 128
"""The head width of the frequency plots (Llama 2 / Llama 3: 128)."""
BASE = 10_000.0
"""RoPE's base b (RoFormer, Llama 2)."""
LLAMA3_BASE = 500_000.0
"""Llama 3 / 3.1's rope_theta."""
VOCAB: tuple[str, ...] = ("dog", "bites", "man", "the", "a")
EMBED_DIM = 4
EMBED_SEED = 3
"""Seed of Lecture 3's toy embeddings (N(0, 1), rounded to 2 decimals)."""
PROJ_SEED = 30
"""Seed of the toy W_Q, W_K, W_V (d × d, N(0, 0.5²), rounded to 2 decimals)."""
PROJ_STD = 0.5
GRID_DIM = 8
"""Head width of the (m, n) score grids: four rotation planes."""
GRID_N = 12
"""Positions 0 … 11 in the score grids."""
CONTENT_SEED = 31
"""Seed of the fixed-content q, k of the score grids (N(0, 1), rounded to 2 decimals)."""
UNTRAINED = "untrained: seeded random vectors"
DESIGNED = "untrained: k set by hand so the head attends to the previous token"


@shared_input
def _embedding_table() -> torch.Tensor:
    return gaussian((len(VOCAB), EMBED_DIM), EMBED_SEED)


def embed(tokens) -> torch.Tensor:
    """Embeddings (len(tokens), EMBED_DIM) from the seeded table; no position information at all."""
    unknown = [t for t in tokens if t not in VOCAB]
    if unknown:
        raise ValueError(f"tokens not in the vocabulary: {unknown}; known: {VOCAB}")
    table = _embedding_table()
    return table[[VOCAB.index(t) for t in tokens]].clone()


@shared_input
def projections() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """W_Q, W_K, W_V (EMBED_DIM × EMBED_DIM, x W convention), seeded N(0, 0.5²) rounded to 2 decimals."""
    w = gaussian((3, EMBED_DIM, EMBED_DIM), PROJ_SEED, PROJ_STD)
    return w[0], w[1], w[2]


@shared_input
def content() -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed content q, k (GRID_DIM,) of the score grids: the same vectors at every position."""
    w = gaussian((2, GRID_DIM), CONTENT_SEED)
    return w[0], w[1]


def rotate(x: torch.Tensor, positions, inv_freq: torch.Tensor, pairing: str = "half",
           attention_factor: float = 1.0) -> torch.Tensor:
    """``x`` (D,) rotated by ``ar.apply_rope`` at each of ``positions``: (len(positions), D), float64."""
    pos = torch.as_tensor(positions, dtype=torch.long)
    xs = x.to(torch.float64).expand(1, 1, len(pos), x.shape[-1]).clone()
    return ar.apply_rope(xs, pos, inv_freq, pairing, attention_factor)[0, 0]


def toeplitz_deviation(grid: torch.Tensor) -> float:
    """max over diagonals of (max − min) along the diagonal: 0 for a Toeplitz grid (entry depends on i − j only)."""
    n_q, n_k = grid.shape
    return max(float(torch.diagonal(grid, o).max() - torch.diagonal(grid, o).min())
               for o in range(-(n_q - 1), n_k))


def wavelengths(inv_freq: torch.Tensor) -> torch.Tensor:
    """λ_i = 2π / θ_i: tokens per full turn of plane i."""
    return 2 * math.pi / inv_freq


def lab_source(result: dict) -> str:
    """The source line under a lab figure: experiment, seed, library versions, date and the command."""
    p = result["provenance"]
    return (f"Lab experiment {result['name']} (seed {result['seed']}): attn_ref {p['attn_ref_version']}, "
            f"torch {p['torch_version']}, CPU, {p['date'][:10]}; `{p['command']}`")
