"""What the Lecture 5 topic tests share: the raw benchmark files (read with json, independently of the builders'
reader), float64 oracles written without attn_ref (torch's SDPA, plain loops, closed forms), the FLOPs of one
TinyDecoder forward counted by hand, and wrong-formula entries."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from scenes.l05_kv_cache import data as d
from scene_checks import logsumexp, with_clauses  # noqa: F401  (re-exported for the topic tests)

ROOT = Path(__file__).resolve().parents[3]
T = d.as_tensor
CFG = d.MODEL
HD = CFG["d_model"] // CFG["n_heads"]


def raw_bench(name: str) -> dict:
    """A committed benchmark result, straight from its JSON file."""
    return json.loads((ROOT / "benchmarks" / "results" / name).read_text())


def forward_flops(n_q: int, n_k: int) -> int:
    """What torch's FlopCounter sees for one TinyDecoder forward of n_q tokens against n_k keys: every matmul,
    the attention's full (masked) score matrix included, and the LM head on every position."""
    dm, h, hkv, ff, v = CFG["d_model"], CFG["n_heads"], CFG["n_kv_heads"], CFG["d_ff"], CFG["vocab_size"]
    per_layer = (2 * n_q * dm * h * HD + 2 * 2 * n_q * dm * hkv * HD + 2 * n_q * h * HD * dm
                 + 4 * n_q * n_k * HD * h + 2 * n_q * 2 * dm * ff)
    return CFG["n_layers"] * per_layer + 2 * n_q * dm * v


def lower_right(n_q: int, n_k: int) -> list[list[bool]]:
    return [[j <= i + n_k - n_q for j in range(n_k)] for i in range(n_q)]


def upper_left(n_q: int, n_k: int) -> list[list[bool]]:
    return [[j <= i for j in range(n_k)] for i in range(n_q)]


def torch_attention(q, k, v, mask=None):
    """torch's own SDPA (float64): the independent oracle for one attention call."""
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)


def assert_scene_constructs(cls: str) -> None:
    """Scene ``cls`` runs end to end with no layout finding (``scene_checks.assert_scene_constructs``)."""
    from scene_checks import assert_scene_constructs as check
    check("05", cls)


def assert_one_topic_section(file: str, topic: str) -> None:
    """The scene file opens exactly one section, named as the manifest names ``topic``."""
    from scene_checks import assert_one_topic_section as check
    check("05", file, topic)
