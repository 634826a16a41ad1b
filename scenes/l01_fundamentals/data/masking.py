"""L01.9: causal masks (−∞ before softmax, exact zeros after), padding masks for a ragged batch and a
zoom on its shortest sentence, and upper-left vs lower-right causal alignment when decoding with a cache.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder

from ._shared import PAD, Mat, Vec, batched, project, qualname, shared, to_tuple

PADDED_BATCH: tuple[tuple[str, ...], ...] = (
    ("the", "cat", "sat", "on", "mats"),
    ("a", "dog", "slept"),
    ("the", "dog", "sat", "down"),
)
N_NEW = 2
"""Queries in the decoding demo: the last 2 tokens of the sentence, decoded against a cache of all 5."""

BoolMat = tuple[tuple[bool, ...], ...]


def _bools(m: torch.Tensor) -> BoolMat:
    return tuple(tuple(bool(v) for v in row) for row in m.tolist())


@dataclass(frozen=True)
class CausalMasking:
    """Causal self-attention on the running sentence: S + M with M_ij = −∞ for j > i, then softmax → P_ij = 0."""

    tokens: tuple[str, ...]
    mask: BoolMat  # ar.causal_mask(5, 5): True = may attend
    additive: Mat  # ar.bool_to_additive(mask): 0 or −inf
    scaled: Mat  # Q Kᵀ / √d_k, unmasked
    masked_scores: Mat  # with −inf above the diagonal (ar.attention_scores, is_causal=True)
    weights: Mat  # exact zeros above the diagonal
    weights_shown: Mat
    output: Mat
    code_ref: str


@builder("L01.9")
def causal_masking() -> CausalMasking:
    """The worked example with a causal mask, from ``ar.causal_mask``, ``ar.attention_scores`` and ``ar.sdpa``."""
    s = shared()
    n = len(s.tokens)
    mask = ar.causal_mask(n, n)
    scaled = ar.attention_scores(batched(s.q), batched(s.k))[0, 0]
    masked = ar.attention_scores(batched(s.q), batched(s.k), is_causal=True)[0, 0]
    out, p = ar.sdpa(batched(s.q), batched(s.k), batched(s.v), is_causal=True, return_weights=True)
    p = p[0, 0]
    return CausalMasking(s.tokens, _bools(mask), to_tuple(ar.bool_to_additive(mask)), to_tuple(scaled),
                         to_tuple(masked), to_tuple(p), to_tuple(ar.round_to_sum(p)), to_tuple(out[0, 0]),
                         qualname(ar.causal_mask))


@dataclass(frozen=True)
class PaddingMasking:
    """A batch of 3 sentences padded to length 5; pad keys get −∞ scores and weight exactly 0."""

    sentences: tuple[tuple[str, ...], ...]
    padded: tuple[tuple[str, ...], ...]  # each sentence followed by "<pad>" up to length 5
    lengths: tuple[int, ...]
    pad_mask: BoolMat  # ar.padding_mask(lengths, 5): (3, 5), True = real token
    weights: tuple[Mat, ...]  # (3, 5, 5) from ar.sdpa with the key-padding mask
    weights_shown: tuple[Mat, ...]
    weights_unmasked: tuple[Mat, ...]  # the same batch without the mask: pad keys (zero vectors) take weight
    code_ref: str


@builder("L01.9")
def padding_masking() -> PaddingMasking:
    """Each sentence's tokens through the running example's W_Q, W_K, W_V, batched with a key-padding mask."""
    n = max(len(t) for t in PADDED_BATCH)
    padded = tuple(t + (PAD,) * (n - len(t)) for t in PADDED_BATCH)
    lengths = tuple(len(t) for t in PADDED_BATCH)
    qkv = [project(t) for t in padded]
    q, k, v = (torch.stack([x[i] for x in qkv])[:, None] for i in range(3))  # (B, 1, n, d)
    pad = ar.padding_mask(list(lengths), n)
    _, p = ar.sdpa(q, k, v, attn_mask=ar.key_padding_to_attn_mask(pad), return_weights=True)
    _, p_raw = ar.sdpa(q, k, v, return_weights=True)
    p = p[:, 0]
    return PaddingMasking(PADDED_BATCH, padded, lengths, _bools(pad), to_tuple(p), to_tuple(ar.round_to_sum(p)),
                          to_tuple(p_raw[:, 0]), qualname(ar.padding_mask))


@dataclass(frozen=True)
class AlignmentDemo:
    """Decoding the last 2 tokens against a cache of 5 keys: which causal alignment is right?

    upper_left: query i sees keys j ≤ i (PyTorch ``is_causal``); lower_right: j ≤ i + n_k − n_q (the
    queries sit at the end, positions 3 and 4). The full causal run over all 5 tokens is the truth.
    """

    tokens: tuple[str, ...]
    query_tokens: tuple[str, ...]
    n_q: int
    n_k: int
    upper_left: BoolMat
    lower_right: BoolMat
    visible_upper_left: tuple[int, ...]  # keys each new query may see
    visible_lower_right: tuple[int, ...]
    weights_upper_left: Mat
    weights_lower_right: Mat
    weights_full: Mat  # the last 2 rows of the full causal run
    output_upper_left: Mat
    output_lower_right: Mat
    output_full: Mat
    max_diff_upper_left: float  # vs the full run: large
    max_diff_lower_right: float  # vs the full run: rounding only


@builder("L01.9")
def alignment_demo() -> AlignmentDemo:
    """ar.causal_mask(2, 5) both ways vs the last 2 rows of ``ar.sdpa(..., is_causal=True)`` on all 5 tokens."""
    s = shared()
    n_k, n_q = len(s.tokens), N_NEW
    out_full, p_full = ar.sdpa(batched(s.q), batched(s.k), batched(s.v), is_causal=True, return_weights=True)
    out_full, p_full = out_full[0, 0, -n_q:], p_full[0, 0, -n_q:]
    q_new = s.q[-n_q:]
    res = {}
    for name in ar.CAUSAL_ALIGNMENTS:
        mask = ar.causal_mask(n_q, n_k, name)
        out, p = ar.sdpa(batched(q_new), batched(s.k), batched(s.v), attn_mask=mask, return_weights=True)
        res[name] = (mask, p[0, 0], out[0, 0], (out[0, 0] - out_full).abs().max().item())
    ul, lr = res["upper_left"], res["lower_right"]
    return AlignmentDemo(
        s.tokens, s.tokens[-n_q:], n_q, n_k, _bools(ul[0]), _bools(lr[0]), tuple(ul[0].sum(-1).tolist()),
        tuple(lr[0].sum(-1).tolist()), to_tuple(ul[1]), to_tuple(lr[1]), to_tuple(p_full), to_tuple(ul[2]),
        to_tuple(lr[2]), to_tuple(out_full), ul[3], lr[3])


@dataclass(frozen=True)
class PaddingView:
    """The batch's shortest sentence (most pads): its weights without and with the key-padding mask.

    ``mask`` is ``ar.key_padding_to_attn_mask`` of its row of ``pad_mask``, broadcast to (n, n) (True = may
    attend). ``pad_leak[i]`` = Σ over pad keys j of the unmasked P_ij: the attention query i wastes on padding.
    """

    index: int  # which sentence of the batch
    tokens: tuple[str, ...]  # padded to the batch length
    n_real: int
    mask: BoolMat
    weights_unmasked: Mat
    weights_unmasked_shown: Mat
    weights_masked: Mat
    weights_masked_shown: Mat
    pad_leak: Vec
    pad_mass_masked: Vec  # the same sum with the mask: exactly 0


@builder("L01.9")
def padding_view() -> PaddingView:
    """Zoom on the shortest sentence of ``padding_masking()``'s batch."""
    pm = padding_masking()
    b = min(range(len(pm.lengths)), key=lambda i: pm.lengths[i])
    n = len(pm.padded[b])
    pad = torch.tensor(pm.pad_mask[b])[None]  # (1, n), True = real token
    mask = ar.key_padding_to_attn_mask(pad)[0, 0].expand(n, n)  # (n, n)
    raw = torch.tensor(pm.weights_unmasked[b], dtype=torch.float64)
    masked = torch.tensor(pm.weights[b], dtype=torch.float64)
    is_pad = torch.tensor([t == PAD for t in pm.padded[b]])
    return PaddingView(b, pm.padded[b], pm.lengths[b], _bools(mask), to_tuple(raw), to_tuple(ar.round_to_sum(raw)),
                       to_tuple(masked), to_tuple(ar.round_to_sum(masked)), to_tuple(raw[:, is_pad].sum(-1)),
                       to_tuple(masked[:, is_pad].sum(-1)))
