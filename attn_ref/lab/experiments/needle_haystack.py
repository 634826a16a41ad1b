"""Needle retrieval over context length x depth beyond the training length, per position scheme; a
multi-needle variant (several needles, several questions); a sliding-window model with the needle inside
and beyond its receptive field."""
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
    "positions": ["rope", "nope", "alibi", "sinusoidal", "learned"],
    # a learned table needs a row for every position it is run at: 256 rows, of which training (64 tokens)
    # only ever reads and updates rows 0..63; rows 64..255 keep their N(0, 0.5²) initialisation
    "position_overrides": {"learned": {"max_len": 256}},
    "eval": {"lengths": [64, 128, 256], "depths": [0.0, 0.25, 0.5, 0.75, 1.0], "n_eval": 100,
             "schemes": ["rope", "rope_pi", "rope_yarn", "nope", "alibi", "sinusoidal", "learned"],
             "loss_length": 256, "n_loss": 64, "map_length": 32, "map_distractors": 3, "seed": 2024},
    # every trained model, zero-shot: 8 needles (1 at the depth + 7 at random places), 4 questions
    # "QUERY k v" x 3 then "QUERY k" (the depth needle asked last), every answer scored
    "multi_needle": {"n_needles": 8, "n_queries": 4, "lengths": [64, 128, 256],
                     "depths": [0.0, 0.25, 0.5, 0.75, 1.0], "n_eval": 50, "seed": 3031},
    # a RoPE model whose attention is a causal sliding window of W keys, trained on the same task; evaluated
    # with the needle's value exactly `distance` tokens before the answer position
    "sliding_window": {"window": 16, "positions": "rope", "lengths": [64, 128],
                       "distances": [2, 4, 8, 12, 14, 15, 16, 17, 18, 20, 24, 28, 30, 31, 32, 33, 36, 40, 48, 61,
                                     64, 80, 96, 125],
                       "n_eval": 100, "seed": 5055},
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


def distance_task(task: NeedleHaystack, length: int, distance: int) -> NeedleHaystack:
    """The task at ``length`` tokens (one question) with the needle placed so that its value token sits
    exactly ``distance`` tokens before the answer position L − 1 (value at L − 1 − distance). The needle
    starts at s = L − 3 − distance, expressed as the depth s / (H − 3) (H = L − 2, so round(depth·(H − 3))
    = s). Valid for 2 ≤ distance ≤ L − 3."""
    H = length - 2
    s = length - 3 - distance
    if not 0 <= s <= H - task.NEEDLE_LEN:
        raise ValueError(f"distance must be in [2, {length - 3}] at length {length}, got {distance}")
    return task.with_(context_len=length, n_queries=1, depth=s / (H - task.NEEDLE_LEN))


def _multi_needle_eval(model, task: NeedleHaystack, n: int, seed: int) -> dict:
    """Accuracy at every question of a multi-needle sample: per query (mean over samples), over all, and
    at the last question (the needle at the task's depth)."""
    ev = _eval_batch(task, n, seed)
    logits, _ = _forward(model, ev.tokens)
    qp = ev.info["query_pos"]
    correct = (logits[:, qp].argmax(-1) == ev.info["answers"]).double()           # (n, q)
    return {"accuracy_all": float(correct.mean()), "accuracy_last": float(correct[:, -1].mean()),
            "by_query": correct.mean(0).tolist()}


def _sliding_window(cfg: dict, task: NeedleHaystack, progress: bool, threads) -> tuple[dict, dict]:
    sw = cfg["sliding_window"]
    mcfg = dict(cfg, model=dict(cfg["model"], positions=sw["positions"], window=sw["window"]))
    label = f"{sw['positions']}_window{sw['window']}"
    res = _train(mcfg, task, f"needle[{label}]", progress, threads)
    model = res.model
    mc = model.config
    acc = {}
    for length in sw["lengths"]:
        row = []
        for k, dist in enumerate(sw["distances"]):
            if not 2 <= dist <= length - 3:
                row.append(None)
                continue
            t = distance_task(task, length, dist)
            r, ev, _ = _retrieval_eval(model, t, sw["n_eval"], sw["seed"] + 1000 * length + k, want_mass=False)
            if not bool((ev.info["needle_pos"] == length - 1 - dist).all()):       # the placement is exact
                raise RuntimeError(f"needle not at distance {dist} at length {length}")
            row.append(r["accuracy"])
        acc[str(length)] = row
    reach = mc.reach()
    beyond = [a for row in acc.values() for d, a in zip(sw["distances"], row) if a is not None and d > reach]
    within = [a for row in acc.values() for d, a in zip(sw["distances"], row)
              if a is not None and d <= sw["window"] - 1]
    metrics = {
        "window": sw["window"], "n_layers": mc.n_layers, "token_shift": mc.token_shift,
        "mask": "query i attends to keys i - W < j <= i (W keys, itself included)",
        "reach": reach,
        "reach_note": "logits at the answer position i depend only on tokens j >= i - reach, "
                      "reach = n_layers*(W-1) + 1 (the token shift adds one); a needle whose value is farther "
                      "cannot influence the answer",
        "one_hop_reach": sw["window"] - 1,
        "one_hop_note": "the farthest value token the answer position attends to directly (W-1 tokens back)",
        "distances": sw["distances"], "accuracy": acc,
        "mean_accuracy_within_one_hop": sum(within) / len(within) if within else None,
        "mean_accuracy_beyond_reach": sum(beyond) / len(beyond) if beyond else None,
        "chance": 1 / task.n_values,
        "final_train_loss": res.history[-1]["loss"], "loss_curve": _loss_curve(res.history),
        "n_params": model.n_params(),
    }
    longest = str(max(sw["lengths"]))
    cols = [d for d, a in zip(sw["distances"], acc[longest]) if a is not None]
    maps = {f"accuracy_{label}": _map([a for a in acc[longest] if a is not None],
                                      f"context length {longest}", "needle distance " + str(cols),
                                      f"{label}: retrieval accuracy vs the needle value's distance from the answer "
                                      f"position; one-hop reach {sw['window'] - 1}, receptive field {reach}")}
    maps.update(_answer_row_maps(model, task, cfg["eval"], label, f" (sliding window W={sw['window']})"))
    return metrics, maps


def _run_needle_haystack(cfg: dict, progress: bool, threads) -> tuple[dict, dict]:
    task = make_task(cfg["task"])
    e = cfg["eval"]
    mn = cfg["multi_needle"]
    mn_task = task.with_(n_distractors=mn["n_needles"] - 1, n_queries=mn["n_queries"])
    train_len = task.context_len
    metrics = {"train_length": train_len, "lengths": e["lengths"], "depths": e["depths"], "schemes": {},
               "train": {}, "multi_needle": {"n_needles": mn["n_needles"], "n_queries": mn["n_queries"],
                                             "lengths": mn["lengths"], "depths": mn["depths"], "schemes": {}}}
    out_maps = {}
    for pos_kind in cfg["positions"]:
        over = cfg.get("position_overrides", {}).get(pos_kind, {})
        mcfg = dict(cfg, model=dict(cfg["model"], positions=pos_kind, **over))
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
            # multi-needle variant, zero-shot: 8 needles, 4 questions
            g_all, g_last, by_q = [], [], []
            for length in mn["lengths"]:
                if pos_kind == "rope":
                    model.set_rope_scaling(_rope_scaling(scheme, length, train_len))
                row_all, row_last = [], []
                for k, depth in enumerate(mn["depths"]):
                    r = _multi_needle_eval(model, mn_task.with_(context_len=length, depth=depth), mn["n_eval"],
                                           mn["seed"] + 1000 * length + k)
                    row_all.append(r["accuracy_all"])
                    row_last.append(r["accuracy_last"])
                    by_q.append(r["by_query"])
                g_all.append(row_all)
                g_last.append(row_last)
            metrics["multi_needle"]["schemes"][scheme] = {
                "model": pos_kind,
                "accuracy": g_all,                                             # [length][depth], all answers
                "accuracy_by_length": [sum(r) / len(r) for r in g_all],
                "accuracy_depth_needle": g_last,                               # the last question only
                "accuracy_by_query": [sum(c) / len(by_q) for c in zip(*by_q)],  # question 1..q, over the grid
            }
            if pos_kind == "rope":
                model.set_rope_scaling(None)
        if pos_kind == "learned":
            metrics["train"][pos_kind]["table_rows"] = model.config.max_len
            metrics["train"][pos_kind]["rows_trained"] = train_len
        # the answer position's attention rows (every layer and head) over a short example
        out_maps.update(_answer_row_maps(model, task, e, pos_kind))
    for scheme, m in metrics["schemes"].items():
        out_maps[f"accuracy_{scheme}"] = _map(m["accuracy"], "context length " + str(e["lengths"]),
                                              "needle depth " + str(e["depths"]),
                                              f"{scheme}: retrieval accuracy, trained at {train_len}")
    for scheme, m in metrics["multi_needle"]["schemes"].items():
        out_maps[f"multi_accuracy_{scheme}"] = _map(
            m["accuracy"], "context length " + str(mn["lengths"]),
            "depth of the last-asked needle " + str(mn["depths"]),
            f"{scheme}: multi-needle accuracy over all {mn['n_queries']} answers ({mn['n_needles']} needles), "
            f"trained with {task.n_distractors + 1} needles and {task.n_queries} question(s) at {train_len}")
    sw_metrics, sw_maps = _sliding_window(cfg, task, progress, threads)
    metrics["sliding_window"] = sw_metrics
    out_maps.update(sw_maps)
    metrics["optimal_note"] = ("chance = 1/n_values for a random value, 1/(n_distractors+1) for a random "
                               "needle value")
    return metrics, out_maps


EXPERIMENT = Experiment("needle_haystack",
                        "Needle retrieval with distractors over context length x depth, trained at 64 tokens and "
                        "evaluated at 64/128/256 for RoPE, RoPE + position interpolation, RoPE + YaRN, NoPE, ALiBi, "
                        "sinusoidal and learned absolute positions; filler loss by position at 256; a multi-needle "
                        "variant (8 needles, 4 questions); a sliding-window model evaluated with the needle inside "
                        "and beyond its receptive field.",
                        ({"paper": "Kamradt 2023, Needle In A Haystack (gkamradt/LLMTest_NeedleInAHaystack)",
                          "arxiv": "none"},
                         {"paper": "Hsieh et al. 2024, RULER", "arxiv": "2404.06654"},
                         {"paper": "Su et al. 2021, RoFormer (RoPE)", "arxiv": "2104.09864"},
                         {"paper": "Chen et al. 2023, Position Interpolation", "arxiv": "2306.15595"},
                         {"paper": "Peng et al. 2023, YaRN", "arxiv": "2309.00071"},
                         {"paper": "Press et al. 2021, ALiBi", "arxiv": "2108.12409"},
                         {"paper": "Kazemnejad et al. 2023, NoPE length generalisation", "arxiv": "2305.19466"},
                         {"paper": "Vaswani et al. 2017, Attention Is All You Need (sinusoidal positions)",
                          "arxiv": "1706.03762"},
                         {"paper": "Radford et al. 2019 (GPT-2) / Brown et al. 2020, learned absolute positions",
                          "arxiv": "2005.14165"},
                         {"paper": "Ye et al. 2024, Differential Transformer (multi-needle retrieval)",
                          "arxiv": "2410.05258"},
                         {"paper": "Beltagy et al. 2020, Longformer (sliding-window attention)", "arxiv": "2004.05150"},
                         {"paper": "Jiang et al. 2023, Mistral 7B (sliding window, receptive field)",
                          "arxiv": "2310.06825"}),
                        _NEEDLE_FULL,
                        _small(_quick(_NEEDLE_FULL, train__steps=4, train__log_every=2, eval__lengths=[64, 96],
                                      eval__depths=[0.0, 1.0], eval__n_eval=4, eval__loss_length=96, eval__n_loss=4,
                                      multi_needle__lengths=[64, 96], multi_needle__depths=[0.0, 1.0],
                                      multi_needle__n_eval=4, sliding_window__window=4,
                                      sliding_window__lengths=[32, 64], sliding_window__distances=[2, 3, 7, 8, 40],
                                      sliding_window__n_eval=4),
                               "model"),
                        _run_needle_haystack)
