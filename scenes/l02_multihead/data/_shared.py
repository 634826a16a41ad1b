"""Shared inputs of Lecture 2: Lecture 1's sentence and embeddings, now read by H = 2 heads.

The sentence, vocabulary, embedding width and embedding seed equal Lecture 1's on purpose (same tokens,
same vectors, same colours on screen); no lecture imports another, so the constants are repeated here by
value and a test compares them with Lecture 1's. The multi-head projections are seeded Gaussians rounded
to two decimals, written in the papers' convention (x W, W ∈ R^{d_model × H·d_h}); :func:`running_mha`
loads them into ``attn_ref.MultiHeadAttention``, whose ``nn.Linear`` layers store Wᵀ.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import shared_input
from scenes.kit.tensors import as_tensor, gaussian, to_tuple  # noqa: F401  (re-exported to the topics)

Vec = tuple[float, ...]
Mat = tuple[Vec, ...]

# --- equal to Lecture 1's constants on purpose (tests/lectures/l02/test_shared.py compares them) ---------
SENTENCE: tuple[str, ...] = ("the", "cat", "sat", "on", "mats")
PAD = "<pad>"
VOCAB: tuple[str, ...] = ("the", "cat", "sat", "on", "mats", "a", "dog", "slept", "warm", "all", "day",
                          "down", PAD)
D_MODEL = 4
EMBED_SEED = 0
# --- Lecture 2's own ------------------------------------------------------------------------------------
N_HEADS = 2
"""Heads of the running example: d_h = D_MODEL / N_HEADS = 2, so each head's values are points in a plane."""
HEAD_DIM = D_MODEL // N_HEADS
MHA_SEED = 2
"""Seed of the running example's W_Q, W_K, W_V, W_O (N(0, 0.5²), rounded to 2 decimals)."""
MHA_STD = 0.5
UNTRAINED = "untrained: seeded random weights"
"""What a grid drawn from the running example's weights must say on screen (they hold no learned pattern)."""
DESIGNED = "untrained: W_Q, W_K set by hand so each head reads one token"


@shared_input
def _embedding_table() -> torch.Tensor:
    table = gaussian((len(VOCAB), D_MODEL), EMBED_SEED)
    table[VOCAB.index(PAD)] = 0.0
    return table


def embed(tokens) -> torch.Tensor:
    """Embeddings (len(tokens), d_model), one row per token, from the seeded table (Lecture 1's)."""
    unknown = [t for t in tokens if t not in VOCAB]
    if unknown:
        raise ValueError(f"tokens not in the vocabulary: {unknown}; known: {VOCAB}")
    table = _embedding_table()
    return table[[VOCAB.index(t) for t in tokens]].clone()


@dataclass(frozen=True)
class Weights:
    """W_Q, W_K, W_V (d_model × H·d_h) and W_O (H·d_h × d_model), float64, papers' convention (x W)."""

    w_q: torch.Tensor
    w_k: torch.Tensor
    w_v: torch.Tensor
    w_o: torch.Tensor


@shared_input
def weights() -> Weights:
    """The running example's projections: seeded N(0, 0.5²) rounded to 2 decimals."""
    w = gaussian((4, D_MODEL, D_MODEL), MHA_SEED, MHA_STD)
    return Weights(w[0], w[1], w[2], w[3])


def load_mha(w_q, w_k, w_v, w_o, n_heads: int, causal: bool = False) -> ar.MultiHeadAttention:
    """An ``attn_ref.MultiHeadAttention`` (float64, no bias) holding W_Q, W_K, W_V, W_O given as x W
    matrices; ``nn.Linear`` stores each transposed, (out, in)."""
    d = w_q.shape[0]
    mha = ar.MultiHeadAttention(d, n_heads, causal=causal).double()
    with torch.no_grad():
        for lin, w in ((mha.q_proj, w_q), (mha.k_proj, w_k), (mha.v_proj, w_v), (mha.o_proj, w_o)):
            lin.weight.copy_(w.T)
    return mha


def running_mha() -> ar.MultiHeadAttention:
    """The running example's module: d_model 4, 2 heads, no mask (every token sees every token)."""
    w = weights()
    return load_mha(w.w_q, w.w_k, w.w_v, w.w_o, N_HEADS)


def internals(mha: ar.MultiHeadAttention, x: torch.Tensor, context: torch.Tensor | None = None) -> dict:
    """One forward's traced tensors (``trace=``, the module's public record): ``q`` (B, H, L, d_h), ``k``, ``v``
    (B, H, n_k, d_h), ``weights`` (B, H, L, n_k) and ``output`` (B, L, d_model)."""
    steps: list = []
    with torch.no_grad():
        mha(x, context=context, trace=steps.append)
    return steps[-1].state


def head_block(w: torch.Tensor, h: int, head_dim: int = HEAD_DIM, rows: bool = False) -> torch.Tensor:
    """Head h's block of a projection: columns h·d_h … (h+1)·d_h − 1 of W_Q/W_K/W_V, or those rows of W_O."""
    sl = slice(h * head_dim, (h + 1) * head_dim)
    return w[sl] if rows else w[:, sl]


def lab_source(result: dict) -> str:
    """The source line under a lab figure: experiment, seed, library versions, date and the command."""
    p = result["provenance"]
    return (f"Lab experiment {result['name']} (seed {result['seed']}): attn_ref {p['attn_ref_version']}, "
            f"torch {p['torch_version']}, CPU, {p['date'][:10]}; `{p['command']}`")
