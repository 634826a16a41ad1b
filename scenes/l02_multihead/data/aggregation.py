"""L02.6 Output aggregation: [h_1 … h_H] W_O equals Σ_i h_i W_O^(i), each head an additive write into the
residual stream (numbers from ``ar.MultiHeadAttention``'s internals, equality with ``forward`` asserted)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from scenes.kit.data_builders import builder

from ._shared import (HEAD_DIM, N_HEADS, SENTENCE, UNTRAINED, Mat, Vec, embed, head_block, internals, running_mha,
                      to_tuple, weights)

TOKEN = "sat"
"""The token whose residual-stream update is drawn as one arrow per head."""


@dataclass(frozen=True)
class HeadWrites:
    tokens: tuple[str, ...]
    head_outputs: tuple[Mat, ...]   # (H, L, d_h): softmax(q kᵀ/√d_h) v per head, from the module's weights
    concat: Mat                     # (L, H·d_h) = [h_1 | h_2]
    o_blocks: tuple[Mat, ...]       # W_O^(i): rows i·d_h … (i+1)·d_h − 1 of W_O
    writes: tuple[Mat, ...]         # (H, L, d_model): h_i W_O^(i)
    concat_project: Mat             # concat · W_O
    sum_of_writes: Mat              # Σ_i h_i W_O^(i)
    forward: Mat                    # ar.MultiHeadAttention.forward
    max_diff_sum_vs_concat: float   # |Σ writes − concat W_O| (max)
    max_diff_sum_vs_forward: float  # |Σ writes − forward| (max)
    token: str
    residual: Vec                   # x of TOKEN (its embedding, the stream before the layer)
    token_writes: Mat               # (H, d_model): each head's arrow for TOKEN
    residual_after: Vec             # x + Σ_i write_i
    swapped_concat: Vec             # TOKEN's [h_2 | h_1]: the heads concatenated in the wrong order
    swapped_output: Vec             # [h_2 | h_1] · W_O: not the layer's output
    max_diff_swapped_vs_forward: float  # |swapped_output − forward[TOKEN]| (max)
    weights_origin: str             # shown with the grids: the running example's weights are untrained


@builder("L02.6")
def head_writes() -> HeadWrites:
    """Concatenate-then-project and project-each-then-sum are one computation: both equal ``forward``."""
    w = weights()
    x = embed(SENTENCE)
    t = internals(running_mha(), x[None])
    fwd = t["output"]
    heads = (t["weights"] @ t["v"])[0]                       # (H, L, d_h)
    concat = heads.transpose(0, 1).reshape(len(SENTENCE), N_HEADS * HEAD_DIM)
    blocks = [head_block(w.w_o, h, rows=True) for h in range(N_HEADS)]
    writes = torch.stack([heads[h] @ blocks[h] for h in range(N_HEADS)])
    total, cp = writes.sum(0), concat @ w.w_o
    t = SENTENCE.index(TOKEN)
    swapped = torch.cat([heads[h, t] for h in reversed(range(N_HEADS))])
    swapped_out = swapped @ w.w_o
    return HeadWrites(
        SENTENCE, to_tuple(heads), to_tuple(concat), tuple(to_tuple(b) for b in blocks), to_tuple(writes),
        to_tuple(cp), to_tuple(total), to_tuple(fwd[0]), float((total - cp).abs().max()),
        float((total - fwd[0]).abs().max()), TOKEN, to_tuple(x[t]), to_tuple(writes[:, t]),
        to_tuple(x[t] + total[t]), to_tuple(swapped), to_tuple(swapped_out),
        float((swapped_out - fwd[0, t]).abs().max()), UNTRAINED)
