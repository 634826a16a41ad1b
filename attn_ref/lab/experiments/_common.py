"""Helpers shared by the lab experiments: rounding, maps, chunked forwards, training with checkpoints,
the :class:`Experiment` record and the quick-configuration builders."""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from ..model import ModelConfig, TinyTransformer
from ..trainer import TrainConfig, train

__all__ = ["Experiment"]

# ----------------------------------------------------------------------------------------------- helpers

def _round(obj, nd: int = 6):
    """Round every float in a nested structure (JSON numbers are compared exactly across runs)."""
    if isinstance(obj, float):
        r = round(obj, nd)
        return 0.0 if r == 0 else r
    if isinstance(obj, dict):
        return {k: _round(v, nd) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round(v, nd) for v in obj]
    if isinstance(obj, torch.Tensor):
        return _round(obj.tolist(), nd)
    return obj


def _map(values: torch.Tensor, rows: str, cols: str, caption: str, tokens=None) -> dict:
    v = torch.as_tensor(values, dtype=torch.float64)
    if v.dim() == 1:
        v = v[None]
    if v.dim() != 2 or v.shape[0] > 32 or v.shape[1] > 32:
        raise ValueError(f"maps are 2-D and at most 32×32, got shape {tuple(v.shape)}")
    m = {"values": _round(v.tolist(), 4), "rows": rows, "cols": cols, "caption": caption}
    if tokens is not None:
        m["tokens"] = [int(t) for t in tokens]
    return m


def _eval_batch(task, n: int, seed: int):
    return task.sample(n, torch.Generator().manual_seed(seed))


@torch.no_grad()
def _forward(model: TinyTransformer, tokens: torch.Tensor, maps: bool = False, chunk: int = 64):
    """Forward in chunks of ``chunk`` sequences; returns (logits, maps or None)."""
    logits, all_maps = [], []
    for i in range(0, tokens.shape[0], chunk):
        out = model(tokens[i:i + chunk], return_maps=maps)
        logits.append(out.logits)
        if maps:
            all_maps.append(out.maps)
    lg = torch.cat(logits)
    if not maps:
        return lg, None
    return lg, [None if all_maps[0][layer] is None else torch.cat([m[layer] for m in all_maps])
                for layer in range(len(all_maps[0]))]            # None: a layer without a map (SSM mixers)


_CHECKPOINTS: dict = {"dir": None, "every": 100}


def _train(cfg: dict, task, label: str, progress: bool, threads, probe=None, key: str = "model"):
    """Train model ``cfg[key]`` with ``cfg["train"]``: :func:`_train_model` from an experiment's config."""
    return _train_model(ModelConfig(**cfg[key]), TrainConfig(**cfg["train"]), task, label, progress, threads, probe)


def _train_model(mc: ModelConfig, tc: TrainConfig, task, label: str, progress: bool, threads, probe=None,
                 init_state: dict | None = None):
    """Train one model of an experiment (from ``init_state`` when given); with a checkpoint folder set
    (``run_experiment(checkpoint_dir=)``) it checkpoints every 100 steps to ``<dir>/<label>.pt`` and
    resumes from there."""
    path = None
    if _CHECKPOINTS["dir"] is not None:
        tc = replace(tc, checkpoint_every=_CHECKPOINTS["every"])
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in label)
        path = str(Path(_CHECKPOINTS["dir"]) / f"{safe}.pt")
    return train(mc, task, tc, probe=probe, progress=progress, label=label, threads=threads, checkpoint_path=path,
                 init_state=init_state)


def _loss_curve(history) -> list:
    return [[h["step"], h["loss"]] for h in history if h["loss"] is not None]


def _best(table) -> dict:
    """(layer, head, score) of the largest entry of a layer × head table."""
    t = torch.as_tensor(table)
    idx = int(t.argmax())
    layer, head = divmod(idx, t.shape[1])
    return {"layer": layer, "head": head, "score": float(t[layer, head])}


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    citations: tuple
    full: dict
    quick: dict
    run: Callable[[dict, bool, int | None], tuple[dict, dict]]


def _quick(full: dict, **over) -> dict:
    q = copy.deepcopy(full)
    for path, value in over.items():
        keys = path.split("__")
        d = q
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value
    return q

_SMALL = {"d_model": 16, "d_ff": 16}


def _small(cfg: dict, *keys: str, **model_over) -> dict:
    for k in keys:
        cfg[k] = dict(cfg[k], **_SMALL, **model_over)
    return cfg
