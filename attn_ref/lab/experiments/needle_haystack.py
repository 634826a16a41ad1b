"""Needle retrieval over context length x depth beyond the training length, per position scheme."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ...rope import RopeScaling
from ..model import ModelConfig
from ..tasks import IGNORE, NeedleHaystack, make_task
from ..trainer import TrainConfig
from ._common import (
    Experiment,
    _eval_batch,
    _forward,
    _loss_curve,
    _map,
    _quick,
    _small,
    _train,
)
from ._retrieval import _answer_row_maps, _retrieval_eval

# Retrieval models get a one-token shift (token_shift=True): every position also sees its previous token,
# so finding "the value whose key is k" is one content match for attention. Without it the 2-layer model
# did not learn the key match within the CPU budget (prev-token K-composition; see docs/lab.md).
_NEEDLE_TASK = NeedleHaystack(context_len=64, depth=None, n_distractors=3, n_queries=1, filler="repeat",
                              min_period=8, max_period=16)
_NEEDLE_FULL = {
    "seed": 0,
    "model": ModelConfig(vocab_size=_NEEDLE_TASK.vocab_size, d_model=64, n_layers=2, n_heads=4, d_ff=256,
                         token_shift=True).to_dict(),
    "task": _NEEDLE_TASK.to_dict(),
    "train": TrainConfig(steps=800, batch_size=32, lr=3e-3, warmup=50, log_every=50, seed=0).to_dict(),
    "positions": ["rope", "nope", "alibi"],
    "eval": {"lengths": [64, 128, 256], "depths": [0.0, 0.25, 0.5, 0.75, 1.0], "n_eval": 100,
             "schemes": ["rope", "rope_pi", "rope_yarn", "nope", "alibi"], "loss_length": 256, "n_loss": 64,
             "map_length": 32, "map_distractors": 3, "seed": 2024},
}


def _filler_loss_by_position(logits: torch.Tensor, ev) -> list:
    """Mean next-token NLL of the filler (filler → filler transitions) at each position; None where unscored."""
    B, L, V = logits.shape
    nll = F.cross_entropy(logits.reshape(-1, V), ev.targets.reshape(-1), ignore_index=IGNORE,
                          reduction="none").reshape(B, L)
    m = ev.info["filler_mask"].double()
    cnt = m.sum(0)
    mean = (nll.double() * m).sum(0) / cnt.clamp(min=1)
    return [float(x) if c > 0 else None for x, c in zip(mean, cnt)]


def _rope_scaling(scheme: str, length: int, train_len: int):
    if scheme == "rope" or length <= train_len:
        return None
    factor = length / train_len
    if scheme == "rope_pi":
        return RopeScaling("linear", factor)                               # arXiv:2306.15595
    if scheme == "rope_yarn":
        return RopeScaling("yarn", factor, original_max_position=train_len)   # arXiv:2309.00071
    raise ValueError(f"unknown RoPE scheme {scheme!r}")


def _run_needle_haystack(cfg: dict, progress: bool, threads) -> tuple[dict, dict]:
    task = make_task(cfg["task"])
    e = cfg["eval"]
    train_len = task.context_len
    metrics = {"train_length": train_len, "lengths": e["lengths"], "depths": e["depths"], "schemes": {},
               "train": {}}
    out_maps = {}
    for pos_kind in cfg["positions"]:
        mcfg = dict(cfg, model=dict(cfg["model"], positions=pos_kind))
        res = _train(mcfg, task, f"needle[{pos_kind}]", progress, threads)
        model = res.model
        metrics["train"][pos_kind] = {"final_train_loss": res.history[-1]["loss"],
                                      "loss_curve": _loss_curve(res.history), "n_params": model.n_params()}
        schemes = [s for s in e["schemes"] if s == pos_kind or (pos_kind == "rope" and s.startswith("rope_"))]
        for scheme in schemes:
            grid, cells = [], []
            for length in e["lengths"]:
                if pos_kind == "rope":
                    model.set_rope_scaling(_rope_scaling(scheme, length, train_len))
                row, cell_row = [], []
                for k, depth in enumerate(e["depths"]):
                    t = task.with_(context_len=length, depth=depth, n_queries=1)
                    r, _, _ = _retrieval_eval(model, t, e["n_eval"], e["seed"] + 1000 * length + k)
                    row.append(r["accuracy"])
                    cell_row.append(r)
                grid.append(row)
                cells.append(cell_row)
            # filler loss by position at the longest length (random depths)
            lt = task.with_(context_len=e["loss_length"], depth=None, n_queries=1)
            if pos_kind == "rope":
                model.set_rope_scaling(_rope_scaling(scheme, e["loss_length"], train_len))
            ev = _eval_batch(lt, e["n_loss"], e["seed"] + 7)
            logits, _ = _forward(model, ev.tokens)
            lbp = _filler_loss_by_position(logits, ev)
            metrics["schemes"][scheme] = {
                "model": pos_kind,
                "accuracy": grid,                                              # [length][depth]
                "accuracy_by_length": [sum(r) / len(r) for r in grid],
                "needle_mass": [[c["needle_mass"] for c in r] for r in cells],        # retrieval head
                "distractor_mass": [[c["distractor_mass"] for c in r] for r in cells],
                "retrieval_layer_head": [[[c["retrieval_layer"], c["retrieval_head"]] for c in r] for r in cells],
                "loss_by_position": lbp,
            }
            if pos_kind == "rope":
                model.set_rope_scaling(None)
        # the answer position's attention rows (every layer and head) over a short example
        out_maps.update(_answer_row_maps(model, task, e, pos_kind))
    for scheme, m in metrics["schemes"].items():
        out_maps[f"accuracy_{scheme}"] = _map(m["accuracy"], "context length " + str(e["lengths"]),
                                              "needle depth " + str(e["depths"]),
                                              f"{scheme}: retrieval accuracy, trained at {train_len}")
    metrics["optimal_note"] = ("chance = 1/n_values for a random value, 1/(n_distractors+1) for a random "
                               "needle value")
    return metrics, out_maps


EXPERIMENT = Experiment("needle_haystack",
                        "Needle retrieval with distractors over context length x depth, trained at 64 tokens and "
                        "evaluated at 64/128/256 for RoPE, RoPE + position interpolation, RoPE + YaRN, NoPE, ALiBi; "
                        "filler loss by position at 256.",
                        ({"paper": "Kamradt 2023, Needle In A Haystack (gkamradt/LLMTest_NeedleInAHaystack)",
                          "arxiv": "none"},
                         {"paper": "Hsieh et al. 2024, RULER", "arxiv": "2404.06654"},
                         {"paper": "Su et al. 2021, RoFormer (RoPE)", "arxiv": "2104.09864"},
                         {"paper": "Chen et al. 2023, Position Interpolation", "arxiv": "2306.15595"},
                         {"paper": "Peng et al. 2023, YaRN", "arxiv": "2309.00071"},
                         {"paper": "Press et al. 2021, ALiBi", "arxiv": "2108.12409"},
                         {"paper": "Kazemnejad et al. 2023, NoPE length generalisation", "arxiv": "2305.19466"}),
                        _NEEDLE_FULL,
                        _small(_quick(_NEEDLE_FULL, train__steps=4, train__log_every=2, eval__lengths=[64, 96],
                                      eval__depths=[0.0, 1.0], eval__n_eval=4, eval__loss_length=96, eval__n_loss=4),
                               "model"),
                        _run_needle_haystack)
