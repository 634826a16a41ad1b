"""Mixture-of-attention-heads routing with and without the Switch load-balancing loss."""
from __future__ import annotations

import math

import torch

from ..model import ModelConfig
from ..scores import coefficient_of_variation
from ..tasks import IGNORE, RepeatedSequences, make_task
from ..trainer import TrainConfig
from ._common import (
    Experiment,
    _eval_batch,
    _loss_curve,
    _map,
    _quick,
    _small,
    _train,
)

_ROUTING_FULL = {
    "seed": 0,
    "model": ModelConfig(vocab_size=64, d_model=64, n_layers=2, n_heads=4, d_ff=0, attention="moa",
                         positions="sinusoidal", n_experts=8, top_k=2, expert_head_dim=16,
                         token_shift=True).to_dict(),
    "task": RepeatedSequences(vocab_size=64, length=32, min_period=4, max_period=12, max_prefix=8).to_dict(),
    "train": TrainConfig(steps=600, batch_size=32, lr=1e-2, warmup=50, log_every=20, seed=0).to_dict(),
    "aux_loss_coefs": [0.0, 0.01, 0.1],
    "eval": {"n_eval": 256, "seed": 777},
}


# ------------------------------------------------------------------------------------ 4. routing

def _run_routing_balance(cfg: dict, progress: bool, threads) -> tuple[dict, dict]:
    task = make_task(cfg["task"])
    e = cfg["eval"]
    ev = _eval_batch(task, e["n_eval"], e["seed"])
    n_exp = cfg["model"]["n_experts"]
    metrics, out_maps = {"runs": {}, "n_experts": n_exp, "top_k": cfg["model"]["top_k"]}, {}
    for alpha in cfg["aux_loss_coefs"]:
        label = f"alpha_{alpha:g}"
        tcfg = dict(cfg, train=dict(cfg["train"], aux_loss_coef=alpha))
        res = _train(tcfg, task, f"routing[{label}]", progress, threads)
        model = res.model
        hist = [h for h in res.history if "expert_load" in h]
        load_curve = [{"step": h["step"], "load": h["expert_load"],
                       "cv": [coefficient_of_variation(torch.tensor(x)) for x in h["expert_load"]]}
                      for h in hist]
        # final routing on a fixed eval batch
        with torch.no_grad():
            out = model(ev.tokens)
        final_load, final_cv, max_share, starved = [], [], [], []
        for a in out.aux:
            c = torch.bincount(a["expert_index"].reshape(-1), minlength=n_exp).double()
            share = c / c.sum()
            final_load.append(share.tolist())
            final_cv.append(coefficient_of_variation(c))
            max_share.append(float(share.max()))
            starved.append(int((share < 1.0 / (4 * n_exp)).sum()))
        logits = out.logits
        pos = torch.arange(ev.tokens.shape[1])[None]
        predictable = (pos + 1 >= ev.info["start"][:, None] + ev.info["period"][:, None] + 1) & (ev.targets != IGNORE)
        acc = float((logits.argmax(-1) == ev.targets)[predictable].double().mean())
        metrics["runs"][label] = {
            "aux_loss_coef": alpha,
            "final_load": final_load, "final_cv": final_cv, "max_expert_share": max_share,
            "starved_experts": starved,
            "mean_cv_over_training": [sum(x["cv"][layer] for x in load_curve) / len(load_curve)
                                      for layer in range(len(final_cv))],
            "load_curve": load_curve,
            "balancing_loss_curve": [[h["step"], h["aux_loss"]] for h in res.history if h["aux_loss"] is not None],
            "loss_curve": _loss_curve(res.history),
            "repeated_token_accuracy": acc,
            "final_train_loss": res.history[-1]["loss"],
        }
        # load over training of layer 0 as a (steps × experts) map; routing trace of one sample
        rows = [x["load"][0] for x in load_curve][-32:]
        k, every = cfg["model"]["top_k"], cfg["train"]["log_every"]
        out_maps[f"load_over_training_{label}"] = _map(
            torch.tensor(rows), "logged step (oldest first)", "expert",
            f"{label}: layer-0 share of top-{k} assignments per expert, every {every} steps")
        with torch.no_grad():
            o = model(ev.tokens[:1])
        probs = o.aux[0]["router_probs"][:32]
        out_maps[f"router_probs_{label}"] = _map(probs, "token position (sample 0)", "expert",
                                                 f"{label}: layer-0 router probabilities per token",
                                                 ev.tokens[0][:32])
    metrics["uniform_cv"] = 0.0
    metrics["collapsed_cv"] = math.sqrt(n_exp - 1)
    return metrics, out_maps


EXPERIMENT = Experiment("routing_balance",
                        "Mixture-of-attention-heads (8 experts, top-2) trained without the Switch load-balancing loss "
                        "and with it (alpha = 0.01, 0.1): expert load over training, its coefficient of variation, "
                        "collapse onto few experts.",
                        ({"paper": "Fedus et al. 2021, Switch Transformers", "arxiv": "2101.03961"},
                         {"paper": "Zhang et al. 2022, Mixture of Attention Heads", "arxiv": "2210.05144"},
                         {"paper": "Shazeer et al. 2017, Outrageously Large Neural Networks", "arxiv": "1701.06538"}),
                        _ROUTING_FULL,
                        _small(_quick(_ROUTING_FULL, train__steps=6, train__log_every=2, eval__n_eval=8), "model",
                               expert_head_dim=8),
                        _run_routing_balance)
