"""L01.4: a Python dict lookup vs attention's soft lookup, and the Q/K/V projections of the sentence."""
from __future__ import annotations

from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder

from ._shared import Mat, Vec, batched, shared, to_tuple



@dataclass(frozen=True)
class SoftDictionary:
    """A Python dict lookup vs attention's similarity-weighted blend.

    Exact: d[key] returns one value, or misses. Soft: w = softmax(q · k_j), answer = Σ_j w_j v_j.
    """

    keys: tuple[str, ...]
    key_vectors: Mat  # k_j, 2-D so they can be drawn as arrows
    values: Vec  # v_j (the animal's number of legs)
    value_name: str
    exact_query: str  # a key that exists: the lookup returns its value …
    exact_weights: Vec  # … i.e. one-hot weights
    exact_value: float
    soft_query: str  # a key that does not exist: the dict lookup misses …
    exact_miss: bool
    query_vector: Vec  # … but its vector is close to some keys
    scores: Vec  # q · k_j
    weights: Vec  # softmax(q · k_j)
    weights_shown: Vec
    blended_value: float  # Σ_j w_j v_j, from ar.sdpa with scale 1


@builder("L01.4")
def soft_dictionary() -> SoftDictionary:
    """Four animals as keys (2-D vectors) with their number of legs as values; the query "kitten"."""
    names = ("cat", "bird", "spider", "fish")
    key_vecs = torch.tensor([[1.0, 0.2], [0.3, 1.0], [-1.0, 0.4], [-0.2, -1.0]], dtype=torch.float64)
    legs = torch.tensor([4.0, 2.0, 8.0, 0.0], dtype=torch.float64)
    table = dict(zip(names, legs.tolist()))
    exact_query, soft_query = "cat", "kitten"
    q = torch.tensor([2.0, 0.5], dtype=torch.float64)  # near "cat", a little towards "bird"
    out, p = ar.sdpa(batched(q[None]), batched(key_vecs), batched(legs[:, None]), scale=1.0, return_weights=True)
    p = p[0, 0, 0]
    return SoftDictionary(
        names, to_tuple(key_vecs), to_tuple(legs), "legs", exact_query,
        tuple(float(n == exact_query) for n in names), table[exact_query], soft_query, soft_query not in table,
        to_tuple(q), to_tuple(key_vecs @ q), to_tuple(p), to_tuple(ar.round_to_sum(p)), out.item())


@dataclass(frozen=True)
class QkvProjections:
    """Q = X W_Q, K = X W_K, V = X W_V for the running sentence (d_model = d_k = d_v = 4).

    X, W_Q, W_K, W_V hold exactly two decimals (what the screen shows is what is used); Q, K, V are
    exact products, shown rounded to 2 decimals.
    """

    tokens: tuple[str, ...]
    x: Mat
    w_q: Mat
    w_k: Mat
    w_v: Mat
    q: Mat
    k: Mat
    v: Mat
    seed: int


@builder("L01.4")
def qkv_projections() -> QkvProjections:
    """The running example's embeddings and projections (see ``_shared.shared``)."""
    s = shared()
    return QkvProjections(s.tokens, to_tuple(s.x), to_tuple(s.w_q), to_tuple(s.w_k), to_tuple(s.w_v),
                          to_tuple(s.q), to_tuple(s.k), to_tuple(s.v), s.seed)
