"""Attention masks as dense bool matrices (True = may attend), rows = queries, columns = keys.

Every mask here is defined by an index rule on (query i, key j), written in each docstring; the
tests check each against a brute-force double loop. Feed them to :func:`attn_ref.core.sdpa`
(or ``torch.nn.functional.scaled_dot_product_attention``) as ``attn_mask``.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from ._checks import check_choice, check_positive_int, check_tensor
from .core import CAUSAL_ALIGNMENTS

__all__ = [
    "additive_to_bool",
    "bigbird_layout",
    "bigbird_mask",
    "block_layout_to_mask",
    "bool_to_additive",
    "causal_mask",
    "fixed_mask",
    "key_padding_to_attn_mask",
    "longformer_mask",
    "padding_mask",
    "sink_window_mask",
    "sliding_window_mask",
    "strided_mask",
]


def _check_size(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _offset(n_q: int, n_k: int, alignment: str) -> int:
    check_choice("alignment", alignment, CAUSAL_ALIGNMENTS)
    return 0 if alignment == "upper_left" else n_k - n_q


def causal_mask(n_q: int, n_k: int, alignment: str = "upper_left", device=None) -> torch.Tensor:
    """Causal mask, bool (n_q, n_k) (autoregressive decoder, Vaswani et al., arXiv:1706.03762).

    ``upper_left``: query i sees keys j ≤ i (PyTorch ``is_causal``, ``torch.tril(ones)``).
    ``lower_right``: query i sees keys j ≤ i + n_k − n_q (query i sits at absolute position
    n_k − n_q + i, as when decoding with a KV cache; FlashAttention ≥ 2.1).
    For (3, 4): upper_left = [[1,0,0,0],[1,1,0,0],[1,1,1,0]], lower_right = [[1,1,0,0],[1,1,1,0],[1,1,1,1]].
    """
    _check_size("n_q", n_q)
    _check_size("n_k", n_k)
    off = _offset(n_q, n_k, alignment)
    i = torch.arange(n_q, device=device)[:, None]
    j = torch.arange(n_k, device=device)[None, :]
    return j <= i + off


def padding_mask(lengths, n: int, side: str = "right", device=None) -> torch.Tensor:
    """Key/query padding mask, bool (B, n): True = real token, False = padding.

    ``side="right"``: token t of sequence b is real iff t < lengths[b] (padding at the end);
    ``side="left"``: real iff t ≥ n − lengths[b] (padding at the start, as for batched generation).
    """
    _check_size("n", n)
    check_choice("side", side, ("right", "left"))
    lengths = torch.as_tensor(lengths, device=device)
    if lengths.numel() == 0 and lengths.dim() == 1:  # no sequences: [] reads as float32, it holds no float
        lengths = lengths.long()
    if lengths.dim() != 1 or lengths.is_floating_point() or lengths.dtype == torch.bool:
        raise ValueError(f"lengths must be a 1-D sequence of ints, got shape {tuple(lengths.shape)} "
                         f"and dtype {lengths.dtype}")
    if ((lengths < 0) | (lengths > n)).any():
        raise ValueError(f"lengths must lie in [0, n={n}], got {lengths.tolist()}")
    t = torch.arange(n, device=lengths.device)[None, :]
    if side == "right":
        return t < lengths[:, None]
    return t >= n - lengths[:, None]


def key_padding_to_attn_mask(pad_mask: torch.Tensor) -> torch.Tensor:
    """(B, n) bool key padding mask (True = real) -> (B, 1, 1, n), broadcastable to (B, H, Lq, n)."""
    check_tensor("pad_mask", pad_mask, ndim=2)
    if pad_mask.dtype != torch.bool:
        raise TypeError(f"pad_mask must be bool (True = real token), got dtype {pad_mask.dtype}")
    return pad_mask[:, None, None, :]


def bool_to_additive(mask: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Bool mask -> additive bias: True -> 0, False -> -inf (SDPA semantics)."""
    check_tensor("mask", mask)
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be bool, got dtype {mask.dtype}")
    if not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating dtype, got {dtype}")
    zero = torch.zeros((), dtype=dtype, device=mask.device)
    return torch.where(mask, zero, torch.full((), float("-inf"), dtype=dtype, device=mask.device))


def additive_to_bool(bias: torch.Tensor) -> torch.Tensor:
    """Additive bias -> bool mask: True where bias > -inf. Finite bias values (e.g. ALiBi) are dropped."""
    check_tensor("bias", bias)
    if not bias.is_floating_point():
        raise TypeError(f"bias must be floating, got dtype {bias.dtype}")
    return ~torch.isneginf(bias)


def sliding_window_mask(n_q: int, n_k: int, window: int, alignment: str = "upper_left",
                        device=None) -> torch.Tensor:
    """Causal sliding-window mask, bool (n_q, n_k) (Mistral 7B, arXiv:2310.06825; Longformer arXiv:2004.05150).

    With p_i = i (upper_left) or i + n_k − n_q (lower_right), query i sees keys j with
    p_i − window < j ≤ p_i: exactly ``window`` keys, itself included, fewer at the start
    (min(p_i + 1, window) when p_i < n_k). Same as HF ``sliding_window_overlay(window)`` AND causal,
    and flash-attn ``window_size=(window − 1, 0)``.
    """
    _check_size("n_q", n_q)
    _check_size("n_k", n_k)
    check_positive_int("window", window)
    off = _offset(n_q, n_k, alignment)
    p = torch.arange(n_q, device=device)[:, None] + off
    j = torch.arange(n_k, device=device)[None, :]
    return (j <= p) & (j > p - window)


def _sink_window_keep(q_pos: torch.Tensor, k_pos: torch.Tensor, window: int, n_sink: int) -> torch.Tensor:
    """keep[i, j] = k_j ≤ q_i and (q_i − window < k_j or k_j < n_sink), for absolute positions q_pos, k_pos."""
    q = q_pos[:, None]
    k = k_pos[None, :]
    return (k <= q) & ((k > q - window) | (k < n_sink))


def sink_window_mask(n_q: int, n_k: int, window: int, n_sink: int, alignment: str = "upper_left",
                     device=None) -> torch.Tensor:
    """Attention sinks plus a causal sliding window, bool (n_q, n_k) (StreamingLLM, Xiao et al. 2023,
    arXiv:2309.17453, §3.2).

    With p_i = i (upper_left) or i + n_k − n_q (lower_right), query i sees key j iff

        j ≤ p_i  and  (p_i − window < j  or  j < n_sink)

    i.e. the ``window`` most recent keys (itself included, as in :func:`sliding_window_mask`) plus the first
    ``n_sink`` tokens of the sequence (the paper keeps 4). A row sees min(p_i + 1, window + n_sink) keys.
    ``n_sink = 0`` is :func:`sliding_window_mask`. :class:`attn_ref.kv_cache.KVCache` with ``window`` and
    ``n_sink`` keeps exactly the keys this mask can reach.
    """
    _check_size("n_q", n_q)
    _check_size("n_k", n_k)
    check_positive_int("window", window)
    _check_size("n_sink", n_sink)
    off = _offset(n_q, n_k, alignment)
    q_pos = torch.arange(n_q, device=device) + off
    return _sink_window_keep(q_pos, torch.arange(n_k, device=device), window, n_sink)


def _check_part(part) -> None:
    if part is not None and (isinstance(part, bool) or part not in (1, 2)):
        raise ValueError(f"part must be None (the union), 1 (A^(1)) or 2 (A^(2)), got {part!r}")


def strided_mask(n: int, stride: int, part: int | None = None, device=None) -> torch.Tensor:
    """Strided pattern of the Sparse Transformer, causal, bool (n, n) (Child et al. 2019, arXiv:1904.10509, §4.2).

    With stride l, the two factorised heads are

        A^(1)_i = {j : max(0, i − l) ≤ j ≤ i}             (the previous l positions and itself)
        A^(2)_i = {j : j ≤ i, (i − j) mod l = 0}           (every l-th position back)

    ``part=1`` / ``part=2`` returns one of them; the default returns their union (the "merged head",
    arXiv:1904.10509 §5.2). Row counts: |A^(1)_i| = min(i, l) + 1, |A^(2)_i| = ⌊i/l⌋ + 1, and they share
    i and, when i ≥ l, i − l. Two hops (A^(1) then A^(2)) reach every j ≤ i. With l ≈ √n each row keeps
    O(√n) keys.
    """
    _check_size("n", n)
    check_positive_int("stride", stride)
    _check_part(part)
    i = torch.arange(n, device=device)[:, None]
    j = torch.arange(n, device=device)[None, :]
    causal = j <= i
    local = causal & (j >= i - stride)  # A^(1): t = max(0, i − l) ≤ j ≤ i
    strided = causal & ((i - j) % stride == 0)  # A^(2): (i − j) mod l = 0
    return local if part == 1 else strided if part == 2 else local | strided


def fixed_mask(n: int, stride: int, c: int, part: int | None = None, device=None) -> torch.Tensor:
    """Fixed pattern of the Sparse Transformer, causal, bool (n, n) (Child et al. 2019, arXiv:1904.10509, §4.2).

    With block length l = ``stride`` and c "summary" cells per block (1 ≤ c ≤ l):

        A^(1)_i = {j ≤ i : ⌊j/l⌋ = ⌊i/l⌋}                  (its own block, up to itself)
        A^(2)_i = {j ≤ i : j mod l ∈ {l − c, …, l − 1}}     (the last c cells of every block)

    ``part=1`` / ``part=2`` returns one of them; the default is their union. |A^(1)_i| = (i mod l) + 1;
    |A^(2)_i| = c·⌊i/l⌋ + max(0, (i mod l) − (l − c) + 1). The paper uses c ∈ {8, 16, 32} for l ∈ {128, 256}.
    """
    _check_size("n", n)
    check_positive_int("stride", stride)
    check_positive_int("c", c)
    if c > stride:
        raise ValueError(f"c must be <= stride ({stride}): the summary cells are the last c of each block, "
                         f"got c={c}")
    _check_part(part)
    i = torch.arange(n, device=device)[:, None]
    j = torch.arange(n, device=device)[None, :]
    causal = j <= i
    block = causal & (j // stride == i // stride)  # A^(1): same block
    summary = causal & (j % stride >= stride - c)  # A^(2): j mod l ∈ {l − c, …, l − 1}
    return block if part == 1 else summary if part == 2 else block | summary


def longformer_mask(n: int, window: int, global_tokens: Sequence[int] = (), dilation: int = 1,
                    device=None) -> torch.Tensor:
    """Longformer attention pattern, bool (n, n) (Beltagy et al., arXiv:2004.05150, §3.1).

    ``window`` is the *total* window w as in the paper and the HF config ``attention_window`` (must be
    even); each token sees w/2 positions on each side (allenai's one-sided window). With dilation d:

        local(i, j)  ⇔  |i − j| ≤ (w/2)·d  and  (i − j) ≡ 0 (mod d)

    so an interior row has w + 1 local keys (itself and w/2 each side) spanning w·d + 1 positions.
    Global tokens g (ITC-style, symmetric): row g is all True and column g is all True.
    """
    _check_size("n", n)
    check_positive_int("window", window)
    if window % 2:
        raise ValueError(f"window must be even (total window, w/2 keys each side), got {window}")
    check_positive_int("dilation", dilation)
    glob = torch.as_tensor(list(global_tokens), dtype=torch.int64, device=device)
    if glob.numel() and ((glob < 0) | (glob >= n)).any():
        raise ValueError(f"global_tokens must be indices in [0, n={n}), got {glob.tolist()}")
    i = torch.arange(n, device=device)[:, None]
    j = torch.arange(n, device=device)[None, :]
    diff = i - j
    mask = (diff.abs() <= (window // 2) * dilation) & (diff % dilation == 0)
    if glob.numel():
        mask[glob, :] = True  # global tokens attend to every token
        mask[:, glob] = True  # every token attends to the global tokens
    return mask


def bigbird_layout(num_blocks: int, window_blocks: int = 3, global_blocks: int = 2, random_blocks: int = 3,
                   seed: int = 0) -> torch.Tensor:
    """BigBird ITC block layout, bool (nb, nb) (Zaheer et al., arXiv:2007.14062, §2 and App. D).

    Block rows are query blocks, columns key blocks. Kept (qb, kb) pairs:

    * window: |qb − kb| ≤ window_blocks // 2 (3 blocks: itself ± 1; ``window_blocks`` must be odd);
    * global: the first ⌈g/2⌉ and last ⌊g/2⌋ blocks (g = ``global_blocks``; 2 = first and last, as in
      HF ITC) attend to every block and are attended by every block;
    * random: each non-global query block gets ``random_blocks`` more key blocks drawn uniformly without
      replacement from those not already kept by window or global (fewer if fewer remain), with a
      ``torch.Generator`` seeded by ``seed`` (deterministic).

    An interior non-global query block therefore keeps window_blocks + global_blocks + random_blocks blocks.
    """
    check_positive_int("num_blocks", num_blocks)
    check_positive_int("window_blocks", window_blocks)
    if window_blocks % 2 == 0:
        raise ValueError(f"window_blocks must be odd (itself ± window_blocks // 2), got {window_blocks}")
    _check_size("global_blocks", global_blocks)
    _check_size("random_blocks", random_blocks)
    if global_blocks > num_blocks:
        raise ValueError(f"global_blocks ({global_blocks}) must be <= num_blocks ({num_blocks})")
    nb = num_blocks
    qb = torch.arange(nb)[:, None]
    kb = torch.arange(nb)[None, :]
    layout = (qb - kb).abs() <= window_blocks // 2
    n_first = global_blocks - global_blocks // 2
    is_global = torch.zeros(nb, dtype=torch.bool)
    is_global[:n_first] = True
    is_global[nb - global_blocks // 2:] = True  # empty slice when global_blocks // 2 == 0
    layout[is_global, :] = True
    layout[:, is_global] = True
    gen = torch.Generator().manual_seed(seed)
    for r in range(nb):
        if is_global[r] or random_blocks == 0:
            continue
        free = (~layout[r]).nonzero().flatten()
        pick = free[torch.randperm(free.numel(), generator=gen)[:random_blocks]]
        layout[r, pick] = True
    return layout


def block_layout_to_mask(layout: torch.Tensor, block: int) -> torch.Tensor:
    """Expand a block layout (..., nb_q, nb_k) to a token mask (..., nb_q·block, nb_k·block).

    mask[i, j] = layout[⌊i / block⌋, ⌊j / block⌋] (block-sparse attention, Child et al., arXiv:1904.10509).
    """
    check_tensor("layout", layout)
    if layout.dim() < 2:
        raise ValueError(f"layout must have at least 2 dimensions (nb_q, nb_k), got shape {tuple(layout.shape)}")
    if layout.dtype != torch.bool:
        raise TypeError(f"layout must be bool (True = block kept), got dtype {layout.dtype}")
    check_positive_int("block", block)
    return layout.repeat_interleave(block, dim=-2).repeat_interleave(block, dim=-1)


def bigbird_mask(n: int, block: int, window_blocks: int = 3, global_blocks: int = 2, random_blocks: int = 3,
                 seed: int = 0) -> torch.Tensor:
    """BigBird ITC token mask, bool (n, n): :func:`bigbird_layout` expanded by :func:`block_layout_to_mask`.

    ``n`` must be a multiple of ``block`` (arXiv:2007.14062).
    """
    _check_size("n", n)
    check_positive_int("block", block)
    if n == 0 or n % block:
        raise ValueError(f"n ({n}) must be a positive multiple of block ({block})")
    layout = bigbird_layout(n // block, window_blocks, global_blocks, random_blocks, seed)
    return block_layout_to_mask(layout, block)
