"""Lecture 1 data: every number the L01 scenes draw, computed with ``attn_ref``, pure and seeded.

One builder per topic, each returning a frozen dataclass of tuples of Python floats (exact float64
values; ``as_tensor`` turns a matrix back into a tensor). Builders are cached, so scenes may call them
freely; ``cache_clear()`` forgets everything (the tests use it to check determinism).

=========================  =====  =================================================================
builder                    topic  what it holds
=========================  =====  =================================================================
history                    L01.1  the timeline FFN → RNN → LSTM → seq2seq → attention → Transformer
rnn_states                 L01.2  a real tanh RNN (hidden 4) over the sentence, h_t after each token
seq2seq_bottleneck         L01.2  two sentences (5 and 9 tokens) → one 4-number vector each
bahdanau_alignment         L01.2  e_j = vᵀ tanh(W s + U h_j), α = softmax(e), c = Σ α_j h_j
path_lengths               L01.3  |i − j| steps for an RNN, 1 for attention
gradient_vs_distance       L01.3  measured ‖∂y_T/∂x_t‖ for RNN, LSTM and attention, distance 1…32
soft_dictionary            L01.4  exact dict lookup vs softmax-weighted blend
qkv_projections            L01.4  X, W_Q, W_K, W_V, Q, K, V of the sentence
dot_product_walkthrough    L01.5  Q Kᵀ shapes, one cell product by product, the grid, P_i V
softmax_walkthrough        L01.6  exp, sum, divide for one row
temperature_rows           L01.6  softmax(s / T), T = 0.5, 1, 2, 5
dot_product_variance       L01.6  Var(q · k) ≈ d_k measured, ≈ 1 after ÷√d_k
saturation                 L01.6  max weight and softmax Jacobian norm, unscaled vs scaled
stable_softmax_demo        L01.6  (1000, 1001, 1002): float32 NaN vs max-subtracted softmax
worked_example             L01.7  the full computation, equal to one ar.sdpa call
attention_patterns         L01.8  heat map, arcs, four canonical patterns
causal_masking             L01.9  −∞ scores → zero weights
padding_masking            L01.9  ragged batch of 3 with a key-padding mask
alignment_demo             L01.9  upper_left vs lower_right when decoding 2 tokens against 5 keys
references                 recap  papers with arXiv ids or journals
=========================  =====  =================================================================
"""
from __future__ import annotations

from . import data_common
from .data_attention import (  # noqa: F401
    KEY_TOKEN,
    QUERY_TOKEN,
    attention_patterns,
    dot_product_walkthrough,
    qkv_projections,
    soft_dictionary,
    worked_example,
)
from .data_common import D_MODEL, SENTENCE, as_tensor, instructive, projection_seed  # noqa: F401
from .data_history import (
    bahdanau_alignment,
    gradient_vs_distance,
    history,
    path_lengths,
    references,
    rnn_states,
    seq2seq_bottleneck,
)
from .data_masking import alignment_demo, causal_masking, padding_masking
from .data_softmax import (
    dot_product_variance,
    saturation,
    softmax_walkthrough,
    stable_softmax_demo,
    temperature_rows,
)

BUILDERS = {
    "L01.1": (history,),
    "L01.2": (rnn_states, seq2seq_bottleneck, bahdanau_alignment),
    "L01.3": (path_lengths, gradient_vs_distance),
    "L01.4": (soft_dictionary, qkv_projections),
    "L01.5": (dot_product_walkthrough,),
    "L01.6": (softmax_walkthrough, temperature_rows, dot_product_variance, saturation, stable_softmax_demo),
    "L01.7": (worked_example,),
    "L01.8": (attention_patterns,),
    "L01.9": (causal_masking, padding_masking, alignment_demo),
    "recap": (references,),
}
"""Topic id -> the builders that supply its numbers."""


def cache_clear() -> None:
    """Forget every cached result, shared inputs included."""
    data_common.cache_clear()
    for fns in BUILDERS.values():
        for fn in fns:
            fn.cache_clear()


__all__ = ["BUILDERS", "D_MODEL", "SENTENCE", "as_tensor", "cache_clear"] + [
    fn.__name__ for fns in BUILDERS.values() for fn in fns]
