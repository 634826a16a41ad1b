"""What the Lecture 2 topic tests share: tensors from builder tuples, the raw result files (read with json,
independently of the builders' loader), a torch.nn.MultiheadAttention oracle and wrong-formula entries."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from scenes.l02_multihead import data as d
from scene_checks import with_clauses  # noqa: F401  (re-exported for the topic tests)

ROOT = Path(__file__).resolve().parents[3]
T = d.as_tensor


def raw_result(name: str) -> dict:
    """A committed lab result, straight from its JSON file."""
    return json.loads((ROOT / "results" / "experiments" / f"{name}.json").read_text())


def torch_mha(w_q, w_k, w_v, w_o, n_heads: int) -> torch.nn.MultiheadAttention:
    """torch's own module (float64, no bias) holding x W matrices: the independent oracle for ours."""
    ref = torch.nn.MultiheadAttention(w_q.shape[0], n_heads, bias=False, batch_first=True).double()
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([w_q.T, w_k.T, w_v.T]))
        ref.out_proj.weight.copy_(w_o.T)
    return ref


def torch_attend(ref, x, context=None):
    """(output (L, d), per-head weights (H, L, n_k)) of torch's module, no mask."""
    c = x if context is None else context
    with torch.no_grad():
        out, p = ref(x[None], c[None], c[None], need_weights=True, average_attn_weights=False)
    return out[0], p[0]


def assert_scene_constructs(cls: str) -> None:
    """Scene ``cls`` runs end to end with no layout finding (``scene_checks.assert_scene_constructs``)."""
    from scene_checks import assert_scene_constructs as check
    check("02", cls)


def assert_one_topic_section(file: str, topic: str) -> None:
    """The scene file opens exactly one section, named as the manifest names ``topic``."""
    from scene_checks import assert_one_topic_section as check
    check("02", file, topic)
