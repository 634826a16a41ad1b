"""What the Lecture 3 topic tests share: tensors from builder tuples, the raw lab result (read with json,
independently of the builders' loader), float64 oracles written without attn_ref, and wrong-formula entries."""
from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from scenes.l03_rope import data as d
from scene_checks import with_clauses  # noqa: F401  (re-exported for the topic tests)

ROOT = Path(__file__).resolve().parents[3]
T = d.as_tensor


def raw_result(name: str) -> dict:
    """A committed lab result, straight from its JSON file."""
    return json.loads((ROOT / "results" / "experiments" / f"{name}.json").read_text())


def inv_freq(dim: int, base: float = 10_000.0) -> torch.Tensor:
    """θ_i = base^(−2i/d), i = 0 … d/2 − 1, float64 (closed form, no attn_ref)."""
    return torch.tensor([base ** (-2 * i / dim) for i in range(dim // 2)], dtype=torch.float64)


def rotate_loop(x, pos: int, theta, pairing: str = "half") -> list[float]:
    """RoPE of one vector at one position by a direct loop over the planes (math.cos/sin, no attn_ref)."""
    x = [float(v) for v in x]
    dim, r = len(x), len(theta)
    out = list(x)
    for i in range(r):
        a_i, b_i = (i, i + dim // 2) if pairing == "half" else (2 * i, 2 * i + 1)
        ang = pos * float(theta[i])
        c, s = math.cos(ang), math.sin(ang)
        out[a_i], out[b_i] = x[a_i] * c - x[b_i] * s, x[b_i] * c + x[a_i] * s
    return out


def is_toeplitz(grid, tol: float = 1e-12) -> bool:
    g = [list(row) for row in grid]
    return all(abs(g[i][j] - g[i - 1][j - 1]) <= tol for i in range(1, len(g)) for j in range(1, len(g[0])))


def assert_scene_constructs(cls: str) -> None:
    """Scene ``cls`` runs end to end with no layout finding (``scene_checks.assert_scene_constructs``)."""
    from scene_checks import assert_scene_constructs as check
    check("03", cls)


def assert_one_topic_section(file: str, topic: str) -> None:
    """The scene file opens exactly one section, named as the manifest names ``topic``."""
    from scene_checks import assert_one_topic_section as check
    check("03", file, topic)
