"""Previous-token and induction heads in a 2-layer attention-only model (Olsson et al. 2022).

The repeat period P (4–12) and the offset a (a random prefix of 0–8 tokens) vary per sample, so a head that
attends at a fixed distance or to fixed positions cannot score; the result shows this three ways: the positional
control (the same score with the wrong period P − 1) next to the real score at every logged step, the best
induction head's score broken down by period and by offset, and the score curves logged every 10 steps with the
step at which the best induction score first crosses 0.5 (the phase change).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..model import ModelConfig
from ..scores import induction_score, previous_token_score
from ..tasks import IGNORE, RepeatedSequences, make_task
from ..trainer import TrainConfig
from ._common import (
    Experiment,
    _best,
    _eval_batch,
    _forward,
    _loss_curve,
    _map,
    _quick,
    _round,
    _small,
    _train,
)

_HEAD_FULL = {
    "seed": 0,
    "model": ModelConfig(vocab_size=64, d_model=64, n_layers=2, n_heads=4, d_ff=0, attention="mha",
                         positions="rope").to_dict(),
    "task": RepeatedSequences(vocab_size=64, length=32, min_period=4, max_period=12, max_prefix=8).to_dict(),
    "train": TrainConfig(steps=800, batch_size=32, lr=1e-2, warmup=50, log_every=10, seed=0).to_dict(),
    "eval": {"n_eval": 256, "seed": 12345},
}


# ------------------------------------------------------------------------------ 1. head specialisation

_PHASE_THRESHOLDS = (0.2, 0.5, 0.8)


def _breakdown(w: torch.Tensor, period: torch.Tensor, start: torch.Tensor, by: str) -> dict:
    """Induction score and positional control of one head's maps ``w`` (B, L, L), per value of the period
    (``by="period"``) or of the offset = start of the first copy (``by="offset"``): the same scorer
    (:func:`induction_score`) on the samples with that value; ``n`` = number of samples."""
    key = period if by == "period" else start
    values = sorted({int(v) for v in key})
    out = {by: values, "n": [], "induction": [], "control": []}
    for v in values:
        sel = key == v
        out["n"].append(int(sel.sum()))
        out["induction"].append(float(induction_score(w[sel], period[sel], start[sel])))
        out["control"].append(float(induction_score(w[sel], period[sel] - 1, start[sel])))
    return out


def _phase_change(curve: list) -> dict:
    """From the logged score curve: the best induction score (max over heads) per logged step, and the first
    logged step at which it reaches each threshold (None if never); ``step`` is the one for 0.5."""
    best = [(h["step"], max(max(row) for row in h["induction"])) for h in curve]
    first = {}
    for t in _PHASE_THRESHOLDS:
        first[str(t)] = next((s for s, b in best if b >= t), None)
    s50 = first["0.5"]
    k = next((i for i, (s, _) in enumerate(best) if s == s50), None)
    return {
        "threshold": 0.5,
        "step": s50,
        "previous_logged_step": best[k - 1][0] if k else None,
        "best_induction_before": best[k - 1][1] if k else None,
        "best_induction_at": best[k][1] if k is not None else None,
        "first_step_at_or_above": first,
        "best_induction_curve": [[s, b] for s, b in best],
    }

def _run_head_specialisation(cfg: dict, progress: bool, threads) -> tuple[dict, dict]:
    task = make_task(cfg["task"])
    ev = _eval_batch(task, cfg["eval"]["n_eval"], cfg["eval"]["seed"])
    period, start = ev.info["period"], ev.info["start"]

    def scores(maps):
        pt = [previous_token_score(w).mean(0) for w in maps]                # (H,) per layer
        ind = [induction_score(w, period, start) for w in maps]
        ctrl = [induction_score(w, period - 1, start) for w in maps]        # wrong period: positional control
        return torch.stack(pt), torch.stack(ind), torch.stack(ctrl)

    def probe(model, step):
        _, maps = _forward(model, ev.tokens, maps=True)
        pt, ind, ctrl = scores(maps)
        return {"prev_token": _round(pt.tolist()), "induction": _round(ind.tolist()),
                "induction_control": _round(ctrl.tolist())}

    res = _train(cfg, task, "head_specialisation", progress, threads, probe)
    model = res.model
    logits, maps = _forward(model, ev.tokens, maps=True)
    pt, ind, ctrl = scores(maps)
    # in-context accuracy: positions whose target lies in a repeated copy (predictable by induction)
    B, L = ev.tokens.shape
    pos = torch.arange(L)[None]
    predictable = (pos + 1 >= start[:, None] + period[:, None] + 1) & (ev.targets != IGNORE)
    first_copy = (pos + 1 < start[:, None] + period[:, None]) & (ev.targets != IGNORE)
    pred = logits.argmax(-1)
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ev.targets.reshape(-1), ignore_index=IGNORE,
                          reduction="none").reshape(B, L)
    best_pt, best_ind = _best(pt.tolist()), _best(ind.tolist())
    metrics = {
        "prev_token_score": pt.tolist(),
        "induction_score": ind.tolist(),
        "induction_control_score": ctrl.tolist(),
        "best_prev_token_head": best_pt,
        "best_induction_head": best_ind,
        "repeated_token_accuracy": float((pred == ev.targets)[predictable].double().mean()),
        "repeated_token_loss": float(nll[predictable].mean()),
        "first_copy_loss": float(nll[first_copy].mean()),
        "uniform_loss": math.log(task.vocab_size),
        "final_train_loss": res.history[-1]["loss"],
        "loss_curve": _loss_curve(res.history),
        "score_curve": [{"step": h["step"], "prev_token": h["prev_token"], "induction": h["induction"],
                         "induction_control": h["induction_control"]} for h in res.history],
        "n_params": model.n_params(),
        "train_wall_time_s": None,
    }
    metrics.pop("train_wall_time_s")
    li, hi = best_ind["layer"], best_ind["head"]
    w = maps[li][:, hi]                                                      # (B, L, L) of the best induction head
    metrics["phase_change"] = _phase_change(metrics["score_curve"])
    metrics["induction_by_period"] = {"layer": li, "head": hi, **_breakdown(w, period, start, "period")}
    metrics["induction_by_offset"] = {"layer": li, "head": hi, **_breakdown(w, period, start, "offset")}
    # the example maps: sample 0, and the first sample whose period differs from it by >= 3
    i0 = 0
    i1 = next((i for i in range(1, B) if abs(int(period[i]) - int(period[i0])) >= 3), 1)
    lp, hp = best_pt["layer"], best_pt["head"]
    out_maps = {
        "prev_token_head": _map(maps[lp][i0, hp], "query position", "key position",
                                f"layer {lp} head {hp}, the clearest previous-token head; sample period "
                                f"{int(period[i0])}, copy starts at {int(start[i0])}", ev.tokens[i0]),
        "induction_head": _map(maps[li][i0, hi], "query position", "key position",
                               f"layer {li} head {hi}, the clearest induction head; period {int(period[i0])}, "
                               f"first copy starts at {int(start[i0])} (stripe at offset period − 1)",
                               ev.tokens[i0]),
        "induction_head_other_period": _map(maps[li][i1, hi], "query position", "key position",
                                            f"layer {li} head {hi} on a sample with period {int(period[i1])}, "
                                            f"first copy at {int(start[i1])}: the stripe moves with the content",
                                            ev.tokens[i1]),
        "prev_token_scores": _map(pt, "layer", "head", "previous-token score per head (mean A[i, i-1])"),
        "induction_scores": _map(ind, "layer", "head",
                                 "induction score per head (mean attention to the token after the earlier "
                                 "occurrence, second copy)"),
    }
    for by in ("period", "offset"):
        t = metrics[f"induction_by_{by}"]
        out_maps[f"induction_by_{by}"] = _map(torch.tensor([t["induction"], t["control"]]),
                                              "score (row 0), positional control (row 1)",
                                              f"{by} = {t[by]}",
                                              f"layer {li} head {hi}: induction score per {by} of the sample; "
                                              f"row 1 the same with the wrong period (P − 1)")
    return metrics, out_maps


EXPERIMENT = Experiment("head_specialisation",
                        "2-layer attention-only transformer on repeated random sequences: previous-token heads "
                        "(layer 0) and induction heads (layer 1) emerge; scores per head and per logged step (with a "
                        "positional control), the phase-change step, and the score by repeat period and offset.",
                        ({"paper": "Olsson et al. 2022, In-context Learning and Induction Heads",
                          "arxiv": "2209.11895"},
                         {"paper": "Elhage et al. 2021, A Mathematical Framework for Transformer Circuits",
                          "arxiv": "none (transformer-circuits.pub/2021/framework)"}),
                        _HEAD_FULL,
                        _small(_quick(_HEAD_FULL, train__steps=6, train__log_every=3, eval__n_eval=8), "model"),
                        _run_head_specialisation)
