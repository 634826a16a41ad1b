"""The lab's named experiments, one module each: a configured, seeded run whose result is one JSON file.

``run_experiment(name, quick=False)`` trains what the configuration says, evaluates it and returns the
result dict (schema in :mod:`attn_ref.lab.results`); ``write=True`` also writes it to
``results/experiments/<name>.json`` (quick runs never overwrite the committed files). ``quick=True``
swaps in a shortened configuration (seconds) used by the tests.

=======================  ====================================================================================
name                     what it shows
=======================  ====================================================================================
``head_count``           1 vs 2 vs 4 heads at the same d_model and parameter count on a two-look-up recall
                         task: one head cannot keep two tokens apart (Vaswani et al. 2017 §3.2.2)
``head_specialisation``  2-layer attention-only model on repeated random sequences: previous-token and
                         induction heads emerge (Olsson et al. 2022, arXiv:2209.11895)
``needle_haystack``      needle retrieval over context length × depth, trained at 64, evaluated beyond it,
                         for RoPE, RoPE + PI / YaRN (eval time), NoPE, ALiBi, sinusoidal and learned positions;
                         a multi-needle grid; a sliding-window model against needle distance; filler loss
``gqa_uptraining``       an MHA model converted to GQA/MQA by mean-pooling, first-head or random K/V heads,
                         then uptrained: quality against uptraining steps (Ainslie et al. 2023, arXiv:2305.13245)
``attention_noise``      standard vs differential attention on retrieval with distractors: accuracy and
                         attention mass on the answer vs distractors (Ye et al. 2024, arXiv:2410.05258)
``routing_balance``      MoA attention with and without the Switch load-balancing loss: expert load over
                         training and its coefficient of variation (Fedus et al. 2021, arXiv:2101.03961)
``recall_capacity``      softmax vs linear attention on multi-query associative recall as the number of
                         pairs grows against a fixed state (Arora et al. 2023, "Zoology", arXiv:2312.04927)
=======================  ====================================================================================

Adding one: a module here that defines ``EXPERIMENT`` (an :class:`Experiment` with its full and quick
configuration and its run function), named in ``_MODULES`` below.
"""
from __future__ import annotations

import copy
import importlib
import time
from pathlib import Path

from ..provenance import provenance
from ..results import SCHEMA, result_path, validate_result, write_result
from ._common import _CHECKPOINTS, Experiment, _round

__all__ = ["EXPERIMENTS", "Experiment", "experiment_config", "list_experiments", "run_experiment"]

# One module per experiment, each defining ``EXPERIMENT``; this order is the order of ``list_experiments()``.
_MODULES = (
    "head_count",
    "head_specialisation",
    "needle_haystack",
    "gqa_uptraining",
    "attention_noise",
    "routing_balance",
    "recall_capacity",
)
EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in (importlib.import_module(f".{m}", __name__).EXPERIMENT for m in _MODULES)
}


def list_experiments() -> list[str]:
    return list(EXPERIMENTS)


def experiment_config(name: str, quick: bool = False) -> dict:
    """A copy of the configuration of experiment ``name`` (full or quick)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; expected one of {list_experiments()}")
    e = EXPERIMENTS[name]
    return copy.deepcopy(e.quick if quick else e.full)


def run_experiment(name: str, quick: bool = False, *, progress: bool = False, threads: int | None = None,
                   write: bool = False, path: str | Path | None = None, command: str | None = None,
                   checkpoint_dir: str | Path | None = None) -> dict:
    """Run experiment ``name`` and return its validated result dict.

    ``quick``: the shortened configuration. ``threads``: override the configured intra-op thread count
    (recorded in the provenance; results are identical for 1 and 2 threads). ``write``: write the JSON to
    ``path`` (default :func:`attn_ref.lab.result_path` for full runs; a quick run needs an explicit path).
    ``checkpoint_dir``: checkpoint every model's training there (every 100 steps); rerunning after an
    interruption resumes each training and gives the same result.
    """
    cfg = experiment_config(name, quick)
    exp = EXPERIMENTS[name]
    if write and path is None:
        if quick:
            raise ValueError("a quick run is not written to the committed result path; pass path=")
        path = result_path(name)
    t0 = time.perf_counter()
    if checkpoint_dir is not None:
        Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
    _CHECKPOINTS["dir"] = None if checkpoint_dir is None else str(Path(checkpoint_dir) / name)
    if checkpoint_dir is not None:
        Path(_CHECKPOINTS["dir"]).mkdir(parents=True, exist_ok=True)
    try:
        metrics, maps = exp.run(cfg, progress, threads)
    finally:
        _CHECKPOINTS["dir"] = None
    wall = time.perf_counter() - t0
    n_threads = threads if threads is not None else cfg["train"]["threads"]
    result = {
        "schema": SCHEMA,
        "name": name,
        "description": exp.description,
        "quick": quick,
        "seed": cfg["seed"],
        "config": cfg,
        "metrics": _round(metrics),
        "maps": maps,
        "citations": [dict(c) for c in exp.citations],
        "provenance": provenance(n_threads, wall, command),
    }
    validate_result(result, f"experiment {name}")
    if write:
        write_result(result, path)
    return result
