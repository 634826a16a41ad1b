"""L01.7: softmax(Q Kᵀ / √d_k) V step by step on the running sentence, checked against one ``ar.sdpa`` call."""
from __future__ import annotations

from dataclasses import dataclass

import attn_ref as ar
from scenes.kit.data_builders import builder

from ._shared import Mat, batched, qualname, shared, to_tuple



@dataclass(frozen=True)
class WorkedExample:
    """The whole of softmax(Q Kᵀ / √d_k) V step by step on the running sentence, and one ar.sdpa call."""

    tokens: tuple[str, ...]
    x: Mat
    w_q: Mat
    w_k: Mat
    w_v: Mat
    q: Mat
    k: Mat
    v: Mat
    scores: Mat  # Q Kᵀ
    scale: float  # 1/√d_k = 0.5
    scaled: Mat  # Q Kᵀ / √d_k
    weights: Mat  # softmax along each row (queries are rows)
    weights_shown: Mat  # two decimals, each row adds up to 1.00
    output: Mat  # P V, step by step
    sdpa_output: Mat  # one call of ar.sdpa(Q, K, V)
    max_abs_diff: float
    code_ref: str  # "attn_ref.core.sdpa"
    seed: int


@builder("L01.7")
def worked_example() -> WorkedExample:
    """Embeddings → Q, K, V → scores → ÷√d_k → softmax → P V, checked against ``ar.sdpa``."""
    s = shared()
    scores = s.q @ s.k.T  # S = Q Kᵀ
    scale = s.q.shape[-1] ** -0.5  # 1/√d_k
    scaled = scores * scale
    p = ar.softmax(scaled, dim=-1)  # rows sum to 1
    out = p @ s.v  # out_i = Σ_j P_ij v_j
    ref = ar.sdpa(batched(s.q), batched(s.k), batched(s.v))[0, 0]
    return WorkedExample(
        s.tokens, to_tuple(s.x), to_tuple(s.w_q), to_tuple(s.w_k), to_tuple(s.w_v), to_tuple(s.q),
        to_tuple(s.k), to_tuple(s.v), to_tuple(scores), scale, to_tuple(scaled), to_tuple(p),
        to_tuple(ar.round_to_sum(p)), to_tuple(out), to_tuple(ref), (out - ref).abs().max().item(),
        qualname(ar.sdpa), s.seed)
