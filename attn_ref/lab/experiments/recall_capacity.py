"""Softmax vs linear attention on multi-query associative recall (Arora et al. 2023)."""
from __future__ import annotations

import torch

from ...linear import linear_attention_state_elems, softmax_kv_cache_elems
from ..model import ModelConfig
from ..scores import retrieval_accuracy
from ..tasks import AssociativeRecall, make_task
from ..trainer import TrainConfig
from ._common import (
    Experiment,
    _forward,
    _loss_curve,
    _map,
    _quick,
    _small,
    _train,
)

_RECALL_TASK = AssociativeRecall(n_pairs=(4, 8, 16, 32, 64), n_queries=16, n_keys=128, n_values=64)
_RECALL_FULL = {
    "seed": 0,
    "model_softmax": ModelConfig(vocab_size=_RECALL_TASK.vocab_size, d_model=64, n_layers=2, n_heads=4, d_ff=128,
                                 attention="mha", positions="nope", token_shift=True).to_dict(),
    "model_linear": ModelConfig(vocab_size=_RECALL_TASK.vocab_size, d_model=64, n_layers=2, n_heads=4, d_ff=128,
                                attention="linear", positions="nope", token_shift=True).to_dict(),
    "task": _RECALL_TASK.to_dict(),
    "train": TrainConfig(steps=1000, batch_size=32, lr=3e-3, warmup=50, log_every=50, seed=0).to_dict(),
    "eval": {"n_eval": 256, "seed": 999},
}


# ------------------------------------------------------------------------------------ 5. recall

def _run_recall_capacity(cfg: dict, progress: bool, threads) -> tuple[dict, dict]:
    task = make_task(cfg["task"])
    e = cfg["eval"]
    pairs = list(task.n_pairs) if isinstance(task.n_pairs, tuple) else [task.n_pairs]
    metrics = {"pairs": pairs, "models": {}}
    acc_rows, labels = [], []
    for label, key in (("softmax", "model_softmax"), ("linear", "model_linear")):
        mc = ModelConfig(**cfg[key])
        res = _train(cfg, task, f"recall[{label}]", progress, threads, key=key)
        model = res.model
        accs = []
        for k, n in enumerate(pairs):
            g = torch.Generator().manual_seed(e["seed"] + k)
            b = task.sample(e["n_eval"], g, n_pairs=n)
            logits, _ = _forward(model, b.tokens)
            m = b.info["query_mask"]
            accs.append(retrieval_accuracy(logits[m], b.targets[m]))
        hd = mc.d_model // mc.n_heads
        if mc.attention == "linear":
            state = [linear_attention_state_elems(hd, hd, mc.n_heads) for _ in pairs]
        else:
            state = [softmax_kv_cache_elems(2 * n + task.n_queries, hd, hd, mc.n_heads) for n in pairs]
        metrics["models"][label] = {"attention": mc.attention, "accuracy": accs,
                                    "state_elems_per_layer": state, "n_params": model.n_params(),
                                    "final_train_loss": res.history[-1]["loss"],
                                    "loss_curve": _loss_curve(res.history)}
        acc_rows.append(accs)
        labels.append(label)
    maps = {"accuracy": _map(torch.tensor(acc_rows), f"model {labels}", f"key-value pairs {pairs}",
                             "associative-recall accuracy (queries answered exactly)")}
    metrics["chance"] = 1.0 / task.n_values
    return metrics, maps


EXPERIMENT = Experiment("recall_capacity",
                        "Softmax vs linear attention on multi-query associative recall as the number of key-value "
                        "pairs grows; the linear model's state is fixed (H·(d_h²+d_h) per layer) while the softmax KV "
                        "cache grows with the sequence.",
                        ({"paper": "Arora et al. 2023, Zoology", "arxiv": "2312.04927"},
                         {"paper": "Katharopoulos et al. 2020, Transformers are RNNs", "arxiv": "2006.16236"}),
                        _RECALL_FULL,
                        _small(_quick(_RECALL_FULL, train__steps=4, train__log_every=2, eval__n_eval=8,
                                      task__n_pairs=[4, 8]), "model_softmax", "model_linear"),
                        _run_recall_capacity)
