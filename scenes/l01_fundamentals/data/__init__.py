"""Lecture 1 data: every number the L01 scenes draw, computed with ``attn_ref``, pure and seeded.

One module per topic, named after its scene (``history`` L01.1 … ``masking`` L01.9, ``recap``), and
``_shared`` for the sentence, embeddings and projections every topic reuses. Every builder is declared
with ``@builder("L01.k")`` (``scenes.kit.data_builders``): it returns a frozen dataclass (or a tuple of
them) of tuples of Python floats (exact float64 values; ``as_tensor`` turns a matrix back into a tensor),
is cached, and is listed in ``BUILDERS``; ``cache_clear()`` forgets every builder and shared input.
Scenes use ``from scenes.l01_fundamentals import data`` and ``data.<builder>()``.

=========================  =====  =================================================================
builder                    topic  what it holds
=========================  =====  =================================================================
history                    L01.1  the timeline FFN → RNN → LSTM → seq2seq → attention → Transformer
timeline_facts             L01.1  first and last year, gaps between milestones
rnn_states                 L01.2  a real tanh RNN (hidden 4) over the sentence, h_t after each token
seq2seq_bottleneck         L01.2  two sentences (5 and 9 tokens) → one 4-number vector each
bahdanau_alignment         L01.2  e_j = vᵀ tanh(W s + U h_j), α = softmax(e), c = Σ α_j h_j
path_lengths               L01.3  |i − j| steps for an RNN, 1 for attention
gradient_vs_distance       L01.3  measured ‖∂y_T/∂x_t‖ for RNN, LSTM and attention, distance 1…32
gradient_summary           L01.3  the curves' end values (shown and spoken), ratios, axis decades
soft_dictionary            L01.4  exact dict lookup vs softmax-weighted blend
qkv_projections            L01.4  X, W_Q, W_K, W_V, Q, K, V of the sentence
dot_product_walkthrough    L01.5  Q Kᵀ shapes, one cell product by product, the grid, P_i V
score_grid_extra           L01.5  Kᵀ, the row's extremes, weighted values rounded to add up
softmax_walkthrough        L01.6  exp, sum, divide for one row
temperature_rows           L01.6  softmax(s / T), T = 0.5, 1, 2, 5
dot_product_variance       L01.6  Var(q · k) ≈ d_k measured, ≈ 1 after ÷√d_k
saturation                 L01.6  max weight and softmax Jacobian norm, unscaled vs scaled
stable_softmax_demo        L01.6  (1000, 1001, 1002): float32 NaN vs max-subtracted softmax
softmax_extra              L01.6  exponentials rounded to add up to their rounded sums
worked_example             L01.7  the full computation, equal to one ar.sdpa call
attention_patterns         L01.8  heat map, arcs, four canonical patterns
causal_masking             L01.9  −∞ scores → zero weights
padding_masking            L01.9  ragged batch of 3 with a key-padding mask
padding_view               L01.9  the batch's shortest sentence with and without its mask
alignment_demo             L01.9  upper_left vs lower_right when decoding 2 tokens against 5 keys
references                 recap  the papers (kit References), the manifest's Lecture 1 list
=========================  =====  =================================================================
"""
from __future__ import annotations

from scenes.kit import data_builders
from scenes.kit.format import power_of_ten  # the L01.3 axis labels, through the façade

from ._shared import (D_MODEL, KEY_TOKEN, PAD, QUERY_TOKEN, SENTENCE, as_tensor, embed,
                      instructive, project, projection_seed, shared)
from .direct_connections import gradient_summary, gradient_vs_distance, path_lengths  # noqa: F401
from .dot_product import dot_product_walkthrough, score_grid_extra  # noqa: F401
from .evolution import bahdanau_alignment, rnn_states, seq2seq_bottleneck  # noqa: F401
from .history import history, timeline_facts  # noqa: F401
from .masking import alignment_demo, causal_masking, padding_masking, padding_view  # noqa: F401
from .patterns import attention_patterns  # noqa: F401
from .qkv import qkv_projections, soft_dictionary  # noqa: F401
from .recap import references  # noqa: F401
from .softmax_scaling import (dot_product_variance, saturation, softmax_extra,  # noqa: F401
                              softmax_walkthrough, stable_softmax_demo, temperature_rows)
from .worked_example import worked_example  # noqa: F401

LECTURE = "01"
BUILDERS = data_builders.builders(LECTURE)
"""Topic id -> the builders that supply its numbers (the kit registry's view of this lecture)."""


def cache_clear() -> None:
    """Forget every cached result of Lecture 1, shared inputs included."""
    data_builders.cache_clear(LECTURE)


__all__ = ["BUILDERS", "D_MODEL", "KEY_TOKEN", "PAD", "QUERY_TOKEN", "SENTENCE", "as_tensor", "cache_clear",
           "embed", "instructive", "power_of_ten", "project", "projection_seed", "shared"] + [
    fn.__name__ for fns in BUILDERS.values() for fn in fns]
