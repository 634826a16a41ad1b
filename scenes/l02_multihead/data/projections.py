"""L02.3 Linear projections: X W_Q → (L, H·d_h) → view (B, L, H, d_h) → transpose (B, H, L, d_h), the
``view`` without the transpose going wrong (computed), and cross-attention's rectangular grid."""
from __future__ import annotations

from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder

from ._shared import (D_MODEL, HEAD_DIM, N_HEADS, SENTENCE, UNTRAINED, Mat, embed, head_block, running_mha,
                      to_tuple, weights)

DECODER_TOKENS = ("a", "dog", "slept")
"""Cross-attention: 3 decoder queries reading the 5-token sentence as the encoder's keys and values."""


def _labels(shape: tuple[int, ...], names: str) -> tuple[str, ...]:
    """Row-major labels of every element, e.g. 't2 h1 d0' for (token 2, head 1, dim 0)."""
    idx = torch.cartesian_prod(*(torch.arange(s) for s in shape))
    return tuple(" ".join(f"{n}{int(i)}" for n, i in zip(names, row)) for row in idx.reshape(-1, len(shape)))


@dataclass(frozen=True)
class SplitHeads:
    """Q = X W_Q (L × H·d_h) split into heads, the right way and the wrong way."""
    tokens: tuple[str, ...]
    x: Mat                          # (L, d_model): the sentence's embeddings (2 decimals, the values used)
    w_q: Mat                        # (d_model, H·d_h), papers' convention
    q: Mat                          # (L, H·d_h) = X W_Q
    memory_order: tuple[str, ...]   # labels (token t, head h, dim d) of Q's buffer, row-major (L, H, d_h)
    heads: tuple[Mat, ...]          # view(B, L, H, d_h).transpose(1, 2)[0, h]: (L, d_h) per head
    block_products: tuple[Mat, ...]     # X W_Q^(h) per head, (L, d_h), computed from the column block alone
    head_equals_block_max_diff: float   # |heads[h] − X W_Q^(h)| (max over heads)
    wrong_heads: tuple[Mat, ...]    # view(B, H, L, d_h)[0, h] without the transpose
    wrong_head_sources: tuple[tuple[tuple[str, ...], ...], ...]  # (H, L, d_h): the (t, h, d) each entry holds
    wrong_head_tokens: tuple[tuple[str, ...], ...]  # (H, L): the token(s) behind each row of a wrong "head"
    wrong_head_mixes_heads: bool    # a wrong "head" holds slices of both real heads
    weights: tuple[Mat, ...]        # (H, L, L) attention of ar.MultiHeadAttention
    wrong_weights: tuple[Mat, ...]  # the same computed from the wrong split of Q, K, V
    output_max_diff: float          # |wrong output − ar.MultiHeadAttention.forward| (max): not 0
    weights_max_diff: float
    weights_origin: str             # the grids come from untrained weights: say so on screen


@builder("L02.3")
def split_heads() -> SplitHeads:
    """The reshape needs the transpose: with it head h's slice equals X W_Q^(h); ``view(B, H, L, d_h)``
    alone makes 'heads' that mix tokens, and the output differs from ``ar.MultiHeadAttention``."""
    w = weights()
    x = embed(SENTENCE)[None]                    # (B=1, L, d_model)
    B, L, _ = x.shape
    mha = running_mha()
    with torch.no_grad():
        q, k, v = x @ w.w_q, x @ w.w_k, x @ w.w_v
        right = q.view(B, L, N_HEADS, HEAD_DIM).transpose(1, 2)
        products = [x[0] @ head_block(w.w_q, h) for h in range(N_HEADS)]
        block_diff = max(float((right[0, h] - products[h]).abs().max()) for h in range(N_HEADS))
        wrong = [t.view(B, N_HEADS, L, HEAD_DIM) for t in (q, k, v)]
        out_w, p_w = ar.sdpa(*wrong, return_weights=True)
        out_wrong = out_w.transpose(1, 2).reshape(B, L, D_MODEL) @ w.w_o
        out, p = mha(x, return_weights=True)
    labels = _labels((L, N_HEADS, HEAD_DIM), "thd")
    wrong_src = tuple(tuple(tuple(labels[(h * L + i) * HEAD_DIM:(h * L + i + 1) * HEAD_DIM]) for i in range(L))
                      for h in range(N_HEADS))
    wrong_tokens = tuple(tuple("+".join(dict.fromkeys(SENTENCE[int(lab.split()[0][1:])] for lab in row))
                               for row in head) for head in wrong_src)
    mixes = any(len({lab.split()[1] for row in head for lab in row}) > 1 for head in wrong_src)
    return SplitHeads(
        SENTENCE, to_tuple(x[0]), to_tuple(w.w_q), to_tuple(q[0]), labels, to_tuple(right[0]),
        tuple(to_tuple(b) for b in products), block_diff, to_tuple(wrong[0][0]), wrong_src,
        wrong_tokens, mixes, to_tuple(p[0]), to_tuple(p_w[0]), float((out_wrong - out).abs().max()),
        float((p_w - p).abs().max()), UNTRAINED)


@dataclass(frozen=True)
class CrossAttention:
    """Q from 3 decoder tokens, K and V from the 5-token sentence: an (H, 3, 5) grid."""
    queries: tuple[str, ...]
    keys: tuple[str, ...]
    weights: tuple[Mat, ...]        # (H, n_q, n_k)
    shown_weights: tuple[Mat, ...]  # rounded rows adding up to 1.00
    grid_shape: tuple[int, int]
    output_shape: tuple[int, int]   # (n_q, d_model)
    weights_origin: str


@builder("L02.3")
def cross_attention() -> CrossAttention:
    """``MultiHeadAttention.forward(x, context=c)`` with n_q = 3 ≠ n_k = 5: the grid is rectangular."""
    mha = running_mha()
    with torch.no_grad():
        out, p = mha(embed(DECODER_TOKENS)[None], context=embed(SENTENCE)[None], return_weights=True)
    return CrossAttention(DECODER_TOKENS, SENTENCE, to_tuple(p[0]), to_tuple(ar.round_to_sum(p[0], 2)),
                          tuple(p.shape[-2:]), tuple(out.shape[1:]), UNTRAINED)
