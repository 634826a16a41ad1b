"""L02.2 Parameter matrices: W_Q, W_K, W_V, W_O sliced per head, parameter counts of published models from
``ar.attention_params``, and the storage conventions of ``nn.Linear`` and ``nn.MultiheadAttention``."""
from __future__ import annotations

from dataclasses import dataclass

import torch

import attn_ref as ar
from scenes.kit.data_builders import builder

from ._shared import (D_MODEL, HEAD_DIM, N_HEADS, SENTENCE, Mat, embed, head_block, running_mha, to_tuple,
                      weights)


@dataclass(frozen=True)
class ModelParams:
    name: str
    d_model: int
    n_heads: int
    head_dim: int
    bias: bool
    per_matrix: tuple[int, int, int, int]   # W_Q, W_K, W_V, W_O (biases included when bias)
    params: int                             # ar.attention_params, one layer
    params_shown: str                       # "1,048,576"
    params_one_head: int                    # the same d_model with H = 1: the same count
    params_one_head_shown: str
    note: str


@dataclass(frozen=True)
class ParameterCounts:
    models: tuple[ModelParams, ...]


_MODELS = (
    (ar.TRANSFORMER_BASE, False, "the paper writes the projections as matrices W (§3.2.2), no bias"),
    (ar.GPT2_SMALL, True, "biases on every projection (HF gpt2 c_attn, c_proj)"),
    (ar.LLAMA2_7B, False, "no biases"),
)


@builder("L02.2")
def parameter_counts() -> ParameterCounts:
    """Attention parameters per layer: Transformer base 1,048,576, GPT-2 small 2,362,368, Llama-2-7B
    67,108,864 (``ar.attention_params``), the same with one head."""
    rows = []
    for cfg, bias, note in _MODELS:
        d, h = cfg.d_model, cfg.n_heads
        hd = d // h
        qkv = d * h * hd + (h * hd if bias else 0)
        o = h * hd * d + (d if bias else 0)
        total = ar.attention_params(d, h, bias=bias)
        one = ar.attention_params(d, 1, bias=bias)
        rows.append(ModelParams(cfg.name, d, h, cfg.head_dim, bias, (qkv, qkv, qkv, o), total, f"{total:,}",
                                one, f"{one:,}", note))
    return ParameterCounts(tuple(rows))


@dataclass(frozen=True)
class HeadSlices:
    """The running example's matrices and their per-head blocks (2 decimals, the values used)."""
    d_model: int
    n_heads: int
    head_dim: int
    w_q: Mat
    w_k: Mat
    w_v: Mat
    w_o: Mat
    q_blocks: tuple[Mat, ...]     # W_Q^(h): all d_model rows, columns h·d_h … (h+1)·d_h − 1
    k_blocks: tuple[Mat, ...]
    v_blocks: tuple[Mat, ...]
    o_blocks: tuple[Mat, ...]     # W_O^(h): rows h·d_h … (h+1)·d_h − 1, all d_model columns
    block_shape: tuple[int, int]  # (d_model, d_h): every head reads the whole d_model vector


@builder("L02.2")
def head_slices() -> HeadSlices:
    """W_Q, W_K, W_V ∈ R^{d_model × H·d_h} cut into H column blocks, W_O into H row blocks."""
    w = weights()

    def blocks(m, rows=False):
        return tuple(to_tuple(head_block(m, h, rows=rows)) for h in range(N_HEADS))

    return HeadSlices(
        D_MODEL, N_HEADS, HEAD_DIM, to_tuple(w.w_q), to_tuple(w.w_k), to_tuple(w.w_v), to_tuple(w.w_o),
        blocks(w.w_q), blocks(w.w_k), blocks(w.w_v), blocks(w.w_o, rows=True),
        tuple(head_block(w.w_q, 0).shape))


@dataclass(frozen=True)
class StorageConvention:
    """Papers write x W with W (in × out); ``nn.Linear`` stores (out, in) and computes x Wᵀ;
    ``nn.MultiheadAttention`` packs W_Qᵀ, W_Kᵀ, W_Vᵀ into one ``in_proj_weight`` in that order."""
    paper_shape: tuple[int, int]          # W_Q^(1): (d_model, d_h)
    linear_weight_shape: tuple[int, int]  # nn.Linear(d_model, d_h).weight: (d_h, d_model)
    linear_max_diff: float                # |x W − nn.Linear(x)| (max) with weight = Wᵀ
    in_proj_shape: tuple[int, int]        # (3·d_model, d_model)
    in_proj_rows: tuple[tuple[int, int], ...]   # row ranges of q, k, v in in_proj_weight
    slice_max_diff: tuple[float, float, float]  # |in_proj_weight[rows]ᵀ − W_Q|, W_K, W_V (max)
    torch_vs_ours_max_diff: float         # |torch MHA − ar.MultiHeadAttention| on the sentence, same weights
    torch_bool_true_means: str            # torch.nn.MultiheadAttention: True = "masked"
    sdpa_bool_true_means: str             # ar.sdpa: True = "may attend"


@builder("L02.2")
def storage_convention() -> StorageConvention:
    """``nn.Linear``'s (out, in) storage and the packed ``in_proj_weight``, computed: slicing it gives
    W_Q, W_K, W_V and torch's module equals ``ar.MultiHeadAttention`` with the same weights (float64)."""
    w = weights()
    x = embed(SENTENCE)
    wq1 = head_block(w.w_q, 0)
    lin = torch.nn.Linear(D_MODEL, HEAD_DIM, bias=False).double()
    ref = torch.nn.MultiheadAttention(D_MODEL, N_HEADS, bias=False, batch_first=True).double()
    with torch.no_grad():
        lin.weight.copy_(wq1.T)
        lin_diff = float((x @ wq1 - lin(x)).abs().max())
        ref.in_proj_weight.copy_(torch.cat([w.w_q.T, w.w_k.T, w.w_v.T]))
        ref.out_proj.weight.copy_(w.w_o.T)
        rows = tuple((r * D_MODEL, (r + 1) * D_MODEL) for r in range(3))
        slices = tuple(float((ref.in_proj_weight[a:b].T - m).abs().max())
                       for (a, b), m in zip(rows, (w.w_q, w.w_k, w.w_v)))
        theirs, _ = ref(x[None], x[None], x[None], need_weights=False)
        ours = running_mha()(x[None])
        # bool masks: block key 1 for every query in torch's convention, allow all but key 1 in ours
        blocked = torch.zeros(len(SENTENCE), len(SENTENCE), dtype=torch.bool)
        blocked[:, 1] = True
        _, p_t = ref(x[None], x[None], x[None], attn_mask=blocked, need_weights=True)
        _, p_o = ar.sdpa(x[None, None], x[None, None], x[None, None], attn_mask=blocked, return_weights=True)
    return StorageConvention(
        tuple(wq1.shape), tuple(lin.weight.shape), lin_diff, tuple(ref.in_proj_weight.shape), rows, slices,
        float((theirs - ours).abs().max()),
        "masked" if bool((p_t[0, :, 1] == 0).all()) else "may attend",
        "may attend" if bool((p_o[0, 0, :, 1] > 0).all() and (p_o[0, 0, :, 0] == 0).all()) else "masked")
