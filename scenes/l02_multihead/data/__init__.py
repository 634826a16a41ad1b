"""Lecture 2 data: every number the L02 scenes will draw, computed with ``attn_ref`` or read from committed
lab results, pure and seeded.

One module per topic, named after the scene it feeds, and ``_shared`` for Lecture 1's sentence (by value),
the running example's 2-head projections and the lab source line. Every builder is declared with
``@builder("L02.k")`` (``scenes.kit.data_builders``) and returns a frozen dataclass of plain values;
``cache_clear()`` forgets every builder and shared input. Scenes use ``from scenes.l02_multihead import data``.

=====================  =====  =====================================================================
builder                topic  what it holds
=====================  =====  =====================================================================
convex_hull            L02.1  head 1's 2-D values, one query's output inside their hull as weights sharpen
two_token_query        L02.1  one head blurs 'on' and 'cat' (0.5/0.5, the midpoint); two heads take one each
head_count             L02.1  lab head_count: 1 head 0.134, 2 and 4 heads 1.000, all 32,000 parameters
vaswani_table3         L02.1  Vaswani et al. Table 3 rows (A): cited PPL / BLEU per head count
parameter_counts       L02.2  ar.attention_params: Transformer base, GPT-2 small, Llama-2-7B (and H = 1)
head_slices            L02.2  W_Q, W_K, W_V column blocks and W_O row blocks of the running example
storage_convention     L02.2  nn.Linear (out, in); nn.MultiheadAttention's packed in_proj_weight = ours
split_heads            L02.3  view + transpose = X W_Q^(h); view alone mixes tokens, output differs
cross_attention        L02.3  3 decoder queries × 5 encoder keys per head: a rectangular grid
head_dims              L02.4  d_h = d_model / H for six models; Gemma 2 2B where 8 · 256 ≠ 2304
flop_invariance        L02.4  ar.attention_flops and ar.attention_params equal for H = 1 … 32
scale_sharpness        L02.4  1/√d_h vs 1/√d_model: score std, max weight, entropy
score_grid             L02.5  lab head_specialisation: layer × head previous-token / induction / control
head_maps              L02.5  the clearest previous-token and induction heads' maps (trained weights)
phase_change           L02.5  best induction score and loss per logged step; the jump at step 210
positional_control     L02.5  induction score per period and per offset beside the wrong-period control
cited_redundancy       L02.5  Voita et al. (38 of 48 heads pruned, −0.15 BLEU) and Michel et al., quoted
head_writes            L02.6  concat · W_O = Σ_i h_i W_O^(i) = forward; one token's per-head arrows
batched_heads          L02.7  one batched sdpa over (B, H) = a loop over heads, same FLOPs
head_loop_timing       L02.7  batched vs loop wall time from benchmarks/results (none yet: available False)
tensor_parallel        L02.7  2 devices × 2 heads: partial outputs summed (all-reduce) = full output
references             recap  the papers (kit References), the manifest's Lecture 2 list
=====================  =====  =====================================================================
"""
from __future__ import annotations

from scenes.kit import data_builders

from ._shared import (D_MODEL, HEAD_DIM, N_HEADS, SENTENCE, as_tensor, embed, load_mha, running_mha,
                      weights)
from .aggregation import head_writes  # noqa: F401
from .head_dimension import flop_invariance, head_dims, scale_sharpness  # noqa: F401
from .parallel import batched_heads, head_loop_timing, tensor_parallel  # noqa: F401
from .parameter_matrices import head_slices, parameter_counts, storage_convention  # noqa: F401
from .projections import cross_attention, split_heads  # noqa: F401
from .recap import references  # noqa: F401
from .specialisation import (cited_redundancy, head_maps, phase_change, positional_control,  # noqa: F401
                             score_grid)
from .why_heads import convex_hull, head_count, two_token_query, vaswani_table3  # noqa: F401

LECTURE = "02"
BUILDERS = data_builders.builders(LECTURE)
"""Topic id -> the builders that supply its numbers (the kit registry's view of this lecture)."""


def cache_clear() -> None:
    """Forget every cached result of Lecture 2, shared inputs included."""
    data_builders.cache_clear(LECTURE)


__all__ = ["BUILDERS", "D_MODEL", "HEAD_DIM", "N_HEADS", "SENTENCE", "as_tensor", "cache_clear", "embed",
           "load_mha", "running_mha", "weights"] + [fn.__name__ for fns in BUILDERS.values() for fn in fns]
