"""What the Lecture 4 topic tests share: the committed lab and benchmark results read straight from their JSON
files (independently of the builders' loaders), closed forms written without attn_ref, a numpy log-log fit,
and wrong-formula registry entries."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from scene_checks import with_clauses  # noqa: F401  (re-exported for the topic tests)

ROOT = Path(__file__).resolve().parents[3]
GIB = 2 ** 30

# Llama-2-7B's shape, written out (HF meta-llama/Llama-2-7b-hf config.json): the closed forms use these
LAYERS, D_MODEL, HEADS, HEAD_DIM, D_FF, VOCAB = 32, 4096, 32, 128, 11008, 32000
P_LAYER = 4 * D_MODEL ** 2 + 3 * D_MODEL * D_FF                 # Q, K, V, O and a SwiGLU MLP
N_PARAMS = LAYERS * (P_LAYER + 2 * D_MODEL) + D_MODEL + 2 * VOCAB * D_MODEL   # + norms, final norm, embed, head
KV_PER_TOKEN = 2 * LAYERS * HEADS * HEAD_DIM * 2                # fp16


def raw_result(name: str = "needle_haystack") -> dict:
    """A committed lab result, straight from its JSON file."""
    return json.loads((ROOT / "results" / "experiments" / f"{name}.json").read_text())


def raw_bench(name: str) -> dict:
    """A committed benchmark result, straight from its JSON file."""
    return json.loads((ROOT / "benchmarks" / "results" / name).read_text())


def polyfit_slope(xs, ys) -> float:
    """Slope of log y on log x by numpy's least squares (not the builders' helper)."""
    return float(np.polyfit(np.log(np.asarray(xs, float)), np.log(np.asarray(ys, float)), 1)[0])


def assert_scene_constructs(cls: str) -> None:
    """Scene ``cls`` runs end to end with no layout finding (``scene_checks.assert_scene_constructs``)."""
    from scene_checks import assert_scene_constructs as check
    check("04", cls)


def assert_one_topic_section(file: str, topic: str) -> None:
    """The scene file opens exactly one section, named as the manifest names ``topic``."""
    from scene_checks import assert_one_topic_section as check
    check("04", file, topic)
