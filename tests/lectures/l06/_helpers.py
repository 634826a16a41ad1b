"""What the Lecture 6 topic tests share: the raw GPU files (read with json, independently of the builders'
reader), float64 oracles written without attn_ref (torch's SDPA, plain loops, closed forms), and wrong-formula
entries."""
from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from scenes.l06_flash import data as d
from scene_checks import logsumexp, with_clauses  # noqa: F401  (re-exported for the topic tests)

ROOT = Path(__file__).resolve().parents[3]
T = d.as_tensor


def raw_bench(name: str) -> dict:
    """A committed benchmark result, straight from its JSON file."""
    return json.loads((ROOT / "benchmarks" / "results" / name).read_text())


def raw_kernel_check() -> dict:
    return json.loads((ROOT / "benchmarks" / "gpu-runs" / "h200" / "triton-kernel-check.json").read_text())


def example() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The running example rebuilt here: seed 60, N(0, 1) rounded to 2 decimals, (3, 16, 4)."""
    g = torch.Generator().manual_seed(60)
    x = torch.round(torch.randn((3, 16, 4), generator=g, dtype=torch.float64), decimals=2)
    return x[0], x[1], x[2]


def torch_attention(q, k, v, causal=False):
    """torch's own SDPA (float64) on 2-D inputs: the independent oracle."""
    return torch.nn.functional.scaled_dot_product_attention(q[None], k[None], v[None], is_causal=causal)[0]


def scores(q, k):
    return (q @ k.T) / math.sqrt(q.shape[-1])


def assert_scene_constructs(cls: str) -> None:
    """Scene ``cls`` runs end to end with no layout finding (``scene_checks.assert_scene_constructs``)."""
    from scene_checks import assert_scene_constructs as check
    check("06", cls)


def assert_one_topic_section(file: str, topic: str) -> None:
    """The scene file opens exactly one section, named as the manifest names ``topic``."""
    from scene_checks import assert_one_topic_section as check
    check("06", file, topic)
