"""Head-count ablation (L02.1): why one attention head isn't enough (Vaswani et al. 2017, §3.2.2).

Models with the same d_model and the same parameter count, 1, 2 and 4 heads (head dim d_model / H), one
attention-only layer, trained on :class:`~attn_ref.lab.tasks.PairRecall`: the answer is the *ordered*
pair of two values found at two places in the context, so the answer position has to read two tokens and
keep them apart. A softmax row is one distribution: one head cannot put all its mass on both tokens, and an
equal blend of the two values holds the set, not the order. Two conditions:

* ``two_keys`` (the ablation): ``Q ka kb`` asks for (value of ka, value of kb), two different keys;
* ``repeated_key`` (the control that shows the blend): ``Q k`` asks for the values of the two slots of a key
  that appears twice; both match the same query, only position tells them apart.

Measured per model on a fixed evaluation batch: accuracy and loss at the answers, per-component accuracy
(first value, second value, the unordered set) and, per head, the attention mass of the answer position on
the two needed value tokens (also every logged step).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..model import ModelConfig
from ..tasks import PairRecall, make_task
from ..trainer import TrainConfig
from ._common import Experiment, _eval_batch, _forward, _loss_curve, _map, _quick, _round, _train

_CONDITIONS = ("two_keys", "repeated_key")

_FULL = {
    "seed": 0,
    "heads": [1, 2, 4],
    # n_heads is set per run from "heads"; everything else is shared, so the parameter count is the same
    "model": ModelConfig(vocab_size=PairRecall().vocab_size, d_model=64, n_layers=1, n_heads=1, d_ff=0,
                         attention="mha", positions="rope", token_shift=True).to_dict(),
    "tasks": {
        "two_keys": PairRecall(mode="two_keys", n_pairs=8, n_queries=4, n_keys=16, n_values=8).to_dict(),
        "repeated_key": PairRecall(mode="repeated_key", n_pairs=12, n_queries=3, n_keys=16, n_values=8).to_dict(),
    },
    "train": TrainConfig(steps=800, batch_size=32, lr=1e-2, warmup=50, log_every=40, seed=0).to_dict(),
    "eval": {"n_eval": 512, "seed": 12345},
}


def _answers(task: PairRecall, ev, logits: torch.Tensor) -> dict:
    """Accuracy, loss and per-component accuracy at the answer positions."""
    B, M = ev.info["answer_pos"].shape
    pos = ev.info["answer_pos"]
    lg = logits.gather(1, pos[:, :, None].expand(B, M, logits.shape[-1]))            # (B, M, vocab)
    tgt = ev.targets.gather(1, pos)
    nll = F.cross_entropy(lg.reshape(B * M, -1), tgt.reshape(-1))
    pred = lg.argmax(-1)
    V = task.n_values
    is_pair = pred >= task.pair_offset
    p1 = torch.where(is_pair, (pred - task.pair_offset) // V, -1)
    p2 = torch.where(is_pair, (pred - task.pair_offset) % V, -1)
    f, s = ev.info["first_value"], ev.info["second_value"]
    same_set = ((p1 == f) & (p2 == s)) | ((p1 == s) & (p2 == f))
    return {"accuracy": float((pred == tgt).double().mean()), "loss": float(nll),
            "first_accuracy": float((p1 == f).double().mean()), "second_accuracy": float((p2 == s).double().mean()),
            "set_accuracy": float(same_set.double().mean())}


def _masses(ev, att: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per head, the mean attention of the answer position on the first / second needed value token."""
    B, H = att.shape[:2]
    pos = ev.info["answer_pos"]                                                  # (B, M)
    M = pos.shape[1]
    rows = att.gather(2, pos[:, None, :, None].expand(B, H, M, att.shape[-1]))   # (B, H, M, L)
    m1 = rows.gather(3, ev.info["first_pos"][:, None, :, None].expand(B, H, M, 1))[..., 0]
    m2 = rows.gather(3, ev.info["second_pos"][:, None, :, None].expand(B, H, M, 1))[..., 0]
    return m1.mean(dim=(0, 2)), m2.mean(dim=(0, 2))


def _run_one(cfg: dict, condition: str, H: int, progress: bool, threads):
    task = make_task(cfg["tasks"][condition])
    ev = _eval_batch(task, cfg["eval"]["n_eval"], cfg["eval"]["seed"])

    def probe(model, step):
        logits, maps = _forward(model, ev.tokens, maps=True)
        m1, m2 = _masses(ev, maps[0])
        return {"mass_first": _round(m1.tolist()), "mass_second": _round(m2.tolist()),
                "accuracy": _round(_answers(task, ev, logits)["accuracy"])}

    run_cfg = dict(cfg, model=dict(cfg["model"], n_heads=H))
    res = _train(run_cfg, task, f"head_count_{condition}_H{H}", progress, threads, probe)
    model = res.model
    logits, maps = _forward(model, ev.tokens, maps=True)
    m1, m2 = _masses(ev, maps[0])
    out = {
        "n_heads": H,
        "head_dim": model.config.head_dim,
        "n_params": model.n_params(),
        **_answers(task, ev, logits),
        "mass_first": m1.tolist(),
        "mass_second": m2.tolist(),
        "mass_both": (m1 + m2).tolist(),
        "final_train_loss": res.history[-1]["loss"],
        "loss_curve": _loss_curve(res.history),
        "mass_curve": [{"step": h["step"], "mass_first": h["mass_first"], "mass_second": h["mass_second"],
                        "accuracy": h["accuracy"]} for h in res.history],
    }
    return out, maps[0], ev


def _answer_rows(att: torch.Tensor, ev, i: int) -> torch.Tensor:
    """Sample i's answer rows, ordered by question then head: ((M·H), L)."""
    H = att.shape[1]
    pos = ev.info["answer_pos"][i]
    return att[i][:, pos].transpose(0, 1).reshape(pos.shape[0] * H, -1)


def _run_head_count(cfg: dict, progress: bool, threads) -> tuple[dict, dict]:
    heads = list(cfg["heads"])
    runs, best, gaps, out_maps = {}, {}, {}, {}
    for condition in _CONDITIONS:
        runs[condition], atts = {}, {}
        ev = None
        for H in heads:
            runs[condition][str(H)], atts[H], ev = _run_one(cfg, condition, H, progress, threads)
        r = runs[condition]
        multi = [h for h in heads if h > 1]
        b = max(multi, key=lambda h: (r[str(h)]["accuracy"], -r[str(h)]["loss"]))
        best[condition] = b
        gaps[condition] = {"accuracy": r[str(b)]["accuracy"] - r["1"]["accuracy"],
                           "loss": r["1"]["loss"] - r[str(b)]["loss"]}
        i = 0
        firsts, seconds = ev.info["first_pos"][i].tolist(), ev.info["second_pos"][i].tolist()
        answers = ev.info["answer_pos"][i].tolist()
        where = "; ".join(f"question {m}: answer at {a}, first value at {f1}, second at {s1}"
                          for m, (a, f1, s1) in enumerate(zip(answers, firsts, seconds)))
        for H in heads:
            tag = " (the best multi-head model)" if b == H else ""
            out_maps[f"{condition}_heads_{H}"] = _map(
                _answer_rows(atts[H], ev, i), "answer position × head (row = question·H + head)", "key position",
                f"{condition}, {H} head{'s' if H > 1 else ''}{tag}, head dim {r[str(H)]['head_dim']}: attention rows "
                f"of the answer positions of one evaluation sample ({where})", ev.tokens[i])
        out_maps[f"{condition}_mass"] = _map(
            torch.tensor([[v for h in heads for v in r[str(h)][k]] for k in ("mass_first", "mass_second")]),
            "needed token (0 = first value, 1 = second value)",
            "head, grouped by model: " + ", ".join(f"{h} head{'s' if h > 1 else ''}" for h in heads),
            f"{condition}: mean attention mass of the answer position on each needed value token, per head")
    task = make_task(cfg["tasks"]["two_keys"])
    V = task.n_values
    p_same = 1 / V
    metrics = {
        "heads": heads,
        "n_params": {str(h): runs["two_keys"][str(h)]["n_params"] for h in heads},
        "runs": runs,
        "best_multi_head": best,
        "gap_to_one_head": gaps,
        "references": {
            "uniform_loss": math.log(V * V), "uniform_accuracy": 1 / (V * V),
            "one_value_loss": math.log(V), "one_value_accuracy": 1 / V,
            "set_only_loss": (1 - p_same) * math.log(2), "set_only_accuracy": p_same + (1 - p_same) / 2,
        },
    }
    return metrics, out_maps


EXPERIMENT = Experiment(
    "head_count",
    "Head-count ablation at equal parameters: 1-layer attention-only models with d_model 64 and 1, 2 or 4 heads "
    "on ordered-pair recall (the answer needs two tokens kept apart); accuracy, loss and each head's attention "
    "mass on the two needed tokens. Control: both tokens match the same key.",
    ({"paper": "Vaswani et al. 2017, Attention Is All You Need (section 3.2.2; Table 3 row A)",
      "arxiv": "1706.03762"},
     {"paper": "Michel et al. 2019, Are Sixteen Heads Really Better than One?", "arxiv": "1905.10650"}),
    _FULL,
    _quick(_FULL, model__d_model=16, train__steps=6, train__log_every=3, eval__n_eval=16),
    _run_head_count,
)
