"""L01.9 extras: one padded sentence of the batch, seen with and without its key-padding mask.

``padding_masking()`` holds the whole batch; the masking scene zooms in on its shortest sentence, and
needs that sentence's mask as a full (queries × keys) attention mask, the rounded weights both ways, and
how much weight leaks to the pads when the mask is forgotten. All of it from ``attn_ref``.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

import attn_ref as ar

from .data_common import PAD, Mat, Vec, to_tuple
from .data_masking import BoolMat, _bools, padding_masking


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


@functools.cache
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
